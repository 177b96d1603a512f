package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioList;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.dm.DmMapio;
import dev.rescuer.storage.dm.DmTargetException;
import dev.rescuer.storage.dm.Target;
import dev.rescuer.storage.dm.TargetArgs;
import dev.rescuer.storage.dm.TargetContext;
import dev.rescuer.storage.dm.TargetType;
import dev.rescuer.storage.dm.kcopyd.KcopydClient;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code snapshot} target ({@code struct dm_snapshot}, {@code drivers/md/dm-snap.c}). Table
 * arguments: {@code <origin> <COW device> <P|N> <chunk size>}.
 *
 * <p><b>What it models.</b> {@code snapshot_ctr}: the devices, the exception store
 * ({@link PersistentStore} or {@link TransientStore}), a kcopyd client with its own
 * {@code MEM_RECLAIM} queue, the COW throttle the module parameter selects, reading the store's
 * metadata, and {@code register_snapshot} under {@code _origins_lock} for write; the snapshot starts
 * taking part in origin writes at resume ({@code s->active}). {@code snapshot_map}: reads of a chunk
 * with an exception go to the COW device, other reads to the origin; writes wait for the throttle,
 * then go to the COW chunk, first copying the origin chunk there if that was not done, except that a
 * write covering a whole chunk not yet started is written there without a copy
 * ({@code io_overlaps_chunk} → {@code start_full_bio}, its completion going through kcopyd's
 * callback list like a copy's). The copy:
 * {@code start_copy} → kcopyd → {@code copy_callback} (in completion order, the out-of-order tree)
 * → {@code commit_exception} → {@code pending_complete}, which inserts the exception, submits the
 * waiting snapshot bios and retries the waiting origin bios through {@code do_origin(limit=false)}.
 *
 * <p><b>Left out on purpose:</b> merging ({@code snapshot-merge}), exception handover between tables,
 * tracking of snapshot reads against a
 * concurrent {@code pending_complete} ({@code track_chunk}), discards, overflow reporting to
 * userspace, the pending-exception mempool (pending exceptions are plain objects), the per-bucket
 * exception table locks (one {@link #tableLock} per snapshot stands for them) and the destructor.
 *
 * <p><b>Locking legend.</b> {@link #lock} ({@code s->lock}) is read-held around table work and
 * write-held to invalidate; {@link #tableLock} ({@code dm_exception_table_lock}) guards {@link #complete},
 * {@link #pending} and every pending exception's bio lists. The completion sequence and the
 * out-of-order tree belong to kcopyd's single worker ({@code copy_callback}).
 */
public final class DmSnapshot implements Target {

    /** The parsed table arguments. */
    public record Args(String origin, String cow, boolean persistent, int chunkSize) {
    }

    /** The {@code snapshot} target type; its targets share their device-mapper's {@link SnapshotModule}. */
    public static final TargetType<Args> TYPE = new TargetType<>() {
            @Override
            public String name() {
                return "snapshot";
            }

            @Override
            public Args parse(TargetArgs a) {
                if (a.argc() < 4) {
                    throw a.error("requires 4 or more arguments");
                }
                if (a.argc() > 4) {
                    throw a.error("Invalid number of arguments (feature arguments are not modelled)");
                }
                String origin = a.deviceArg(0, "Cannot get origin device");
                if (a.arg(1).equals(origin)) {
                    throw a.error("COW device cannot be the same as origin device");
                }
                String cow = a.deviceArg(1, "Cannot get COW device");
                String p = a.arg(2).toUpperCase(java.util.Locale.ROOT);
                if (!p.equals("P") && !p.equals("N")) {
                    throw a.error("Couldn't create exception store (Exception store type is not P or N)");
                }
                long chunk;
                try {
                    chunk = Long.parseLong(a.arg(3));
                } catch (NumberFormatException e) {
                    throw a.error("Couldn't create exception store (Invalid chunk size)");
                }
                if (chunk <= 0) {
                    throw a.error("Chunk size not set");
                }
                if (Long.bitCount(chunk) != 1) {
                    throw a.error("Couldn't create exception store (Chunk size is not a power of 2)");
                }
                if (chunk % 8 != 0) {
                    throw a.error("Couldn't create exception store (Chunk size is not a multiple of device blocksize)");
                }
                if (chunk > (1 << 20)) {
                    throw a.error("Couldn't create exception store (Chunk size is too high)");
                }
                a.requireArea(origin, 0, a.len()); // snapshot_iterate_devices: the origin
                long cowSectors = a.deviceSectors(cow);
                if (cowSectors >= 0 && cowSectors < 2 * chunk) {
                    throw a.error(smallCow(cow));
                }
                return new Args(origin, cow, p.equals("P"), (int) chunk);
            }

            @Override
            public Target construct(TargetContext ti, Args args) {
                return new DmSnapshot(ti.dm().snapshotModule(), ti, args);
            }
        };

    /** What {@code __origin_write} did with one snapshot, under its locks. */
    record OriginWriteStep(boolean submitted, boolean tookBio, PendingException startNow, PendingException startLast) {
    }

    private final SnapshotModule module;
    private final TargetContext ti;
    private final BlockDevice origin;
    private final BlockDevice cow;
    private final ExceptionStore store;
    private final int chunkSize;
    private final RwSemaphore lock;
    private final SpinLock tableLock;
    private final KcopydClient kcopyd;
    private final CowThrottle throttle;
    /** Completed exceptions. Guarded by {@link #tableLock}. */
    private final ExceptionTable complete = new ExceptionTable();
    /** Chunks being copied. Guarded by {@link #tableLock}. */
    private final Map<Long, PendingException> pending = new HashMap<>();
    /** Guarded by {@link #tableLock}. */
    private long exceptionStartSequence;
    /** Owned by kcopyd's worker. */
    private long exceptionCompleteSequence;
    /** Owned by kcopyd's worker. */
    private final TreeMap<Long, PendingException> outOfOrder = new TreeMap<>();
    private volatile boolean valid = true;
    private volatile boolean active;
    /** Set under {@link #tableLock} when the COW device filled; acted on outside it. */
    private volatile boolean full;
    /** Copies started; lock-free (an increment in {@link #startCopy}), read for reports and tests. */
    private final java.util.concurrent.atomic.AtomicLong chunksCopied = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Declares who waits on whom: a write to the snapshot, and any origin write to a chunk this
     * snapshot has not copied ({@code __origin_write}, through the origin's pending exceptions), wait
     * for kcopyd's copy; kcopyd's items wait for reads of the origin and writes of the COW device;
     * the persistent store's metadata items write the COW device.
     */
    private void declareWaits(String name, String originDev) {
        WaitGraph g = module.dm().waitGraph();
        g.queue(kcopyd.workqueue());
        g.waitsOn(name, kcopyd.workqueue().name(), "snapshot_map -> start_copy: the write waits for the COW copy");
        String pending = SnapshotModule.pendingExceptionsPoint(originDev);
        g.node(pending, WaitGraph.NodeKind.POINT);
        g.waitsOn(pending, kcopyd.workqueue().name(), "__origin_write: the origin bio waits on this snapshot's pending exception");
        g.waitsOn(kcopyd.workqueue().name(), originDev, "kcopyd reads the chunk from the origin");
        g.waitsOn(kcopyd.workqueue().name(), cow.name(), "kcopyd writes the chunk to the COW device");
        if (store instanceof PersistentStore ps) {
            g.queue(ps.metadataWorkqueue());
            g.flushes(kcopyd.workqueue().name(), ps.metadataWorkqueue().name(),
                    "copy_callback -> persistent_commit_exception -> chunk_io: flush_workqueue(ps->metadata_wq)");
            g.waitsOn(ps.metadataWorkqueue().name(), cow.name(), "do_metadata writes the COW device");
        }
    }

    /** The refusal of a COW device without room for the header chunk and one data chunk. */
    private static String smallCow(String cow) {
        return "Couldn't create exception store (COW device " + cow + " is smaller than two chunks)";
    }

    private DmSnapshot(SnapshotModule module, TargetContext ti, Args args) {
        this.module = module;
        this.ti = ti;
        this.origin = ti.getDevice(args.origin(), ti.len(), "Cannot get origin device");
        this.cow = ti.getDevice(args.cow(), 0, "Cannot get COW device");
        this.chunkSize = args.chunkSize();
        String name = ti.deviceName();
        this.lock = new RwSemaphore(module.platform(), name + "/lock", "&s->lock");
        this.tableLock = new SpinLock(module.platform(), name + "/exception_table_lock", "dm_exception_table_lock");
        this.store = args.persistent()
                ? new PersistentStore(module.dm().system(), name, cow, chunkSize)
                : new TransientStore(chunkSize, cow.capacitySectors());
        if (cow.capacitySectors() < 2L * chunkSize) {
            throw new DmTargetException("snapshot", smallCow(cow.name()));
        }
        this.throttle = module.newThrottle(name);
        this.kcopyd = new KcopydClient(module.dm().system(), name);
        // Who releases the throttle (kcopyd's work, which ups it as each copy ends) is not declared: the
        // hang report learns it from the run's signallers, since a copy ends before any writer can hang.
        declareWaits(name, args.origin());
        module.registerSnapshot(this); // exceptions are not triggered until resume
        boolean ok = store.readMetadata((oldChunk, newChunk) -> {
            tableLock.lock();
            try {
                complete.insert(oldChunk, newChunk); // dm_add_exception
            } finally {
                tableLock.unlock();
            }
        });
        if (!ok) {
            valid = false; // "Snapshot is marked invalid."
        }
    }

    /** The snapshot's device name. */
    public String name() {
        return ti.deviceName();
    }

    /** The origin device. */
    public BlockDevice origin() {
        return origin;
    }

    /** The COW device. */
    public BlockDevice cow() {
        return cow;
    }

    /** Chunk size in sectors. */
    public int chunkSize() {
        return chunkSize;
    }

    /** The snapshot's length in sectors ({@code dm_table_get_size}). */
    long len() {
        return ti.len();
    }

    /** Whether the snapshot is still usable ({@code s->valid}). */
    public boolean isValid() {
        return valid;
    }

    boolean isActive() {
        return active;
    }

    /** Copies started ({@code start_copy}): chunks read from the origin, not those written whole ({@code start_full_bio}). */
    public long chunksCopied() {
        return chunksCopied.get();
    }

    /** The number of origin chunks with a completed exception. */
    public long exceptionChunks() {
        tableLock.lock();
        try {
            return complete.chunks();
        } finally {
            tableLock.unlock();
        }
    }

    CowThrottle throttle() {
        return throttle;
    }

    long sectorToChunk(long sector) {
        return sector / chunkSize;
    }

    /** {@code snapshot_resume}: origin writes now trigger exceptions. */
    @Override
    public void resume() {
        active = true;
    }

    /** {@code ti->max_io_len = chunk_size}: a clone never crosses a chunk. */
    @Override
    public long maxIoLen(long offset) {
        return chunkSize;
    }

    /** {@code snapshot_map}. */
    @Override
    public DmMapio map(Bio bio) {
        if (bio.op() == BioOp.FLUSH) {
            bio.setDevice(cow);
            return DmMapio.REMAPPED;
        }
        if (!valid) {
            return DmMapio.KILL;
        }
        long sector = ti.targetOffset(bio.sector());
        long chunk = sectorToChunk(sector);
        if (bio.op() == BioOp.WRITE) {
            while (!throttle.waitForInProgress(null)) {
                // wait_for_in_progress() has slept
            }
        }
        PendingException startNow = null;
        PendingException startFull = null;
        DmMapio r;
        lock.downRead();
        try {
            tableLock.lock();
            try {
                if (!valid) {
                    return DmMapio.KILL;
                }
                DmException e = complete.lookup(chunk);
                if (e != null) {
                    remapException(e.remap(chunk), bio, sector);
                    return DmMapio.REMAPPED;
                }
                if (bio.op() != BioOp.WRITE) {
                    bio.setDevice(origin);
                    bio.setSector(sector);
                    return DmMapio.REMAPPED;
                }
                PendingException pe = pending.get(chunk);
                if (pe == null) {
                    pe = insertPendingLocked(chunk);
                }
                if (pe == null) {
                    r = DmMapio.KILL;
                } else {
                    remapException(pe.newChunk, bio, sector);
                    r = DmMapio.SUBMITTED;
                    if (!pe.started && overlapsChunk(bio)) {
                        pe.started = true;
                        startFull = pe;
                    } else {
                        pe.snapshotBios.add(bio);
                        bio.handTo(pe); // ends after the copy (pending_complete)
                        if (!pe.started) {
                            pe.started = true;
                            startNow = pe;
                        }
                    }
                }
            } finally {
                tableLock.unlock();
            }
        } finally {
            lock.upRead();
        }
        invalidateIfFull();
        if (startNow != null) {
            startCopy(startNow);
        }
        if (startFull != null) {
            startFullBio(startFull, bio);
        }
        return r;
    }

    /** {@code io_overlaps_chunk}: the (remapped) write covers exactly one whole chunk. */
    private boolean overlapsChunk(Bio bio) {
        return bio.sectors() == chunkSize && bio.sector() % chunkSize == 0;
    }

    /**
     * {@code start_full_bio}: the write is the chunk's new content, so it goes to the COW chunk at once
     * with no copy; its end-io ({@code full_bio_end_io}) hands the result to kcopyd's callback list
     * ({@code dm_kcopyd_do_callback}), and {@code copy_callback} completes the exception as after a copy.
     * Accounted by the throttle like a copy.
     */
    private void startFullBio(PendingException pe, Bio bio) {
        pe.fullBio = bio;
        pe.fullBioEndIo = bio.endIo();
        throttle.accountStartCopy();
        HandedOnEvent callback = kcopyd.prepareCallback((readErr, writeErr) -> copyCallback(pe, readErr || writeErr), bio);
        pe.copy = callback;
        bio.setEndIo(b -> kcopyd.doCallback(callback, false, b.status() != BlkStatus.OK));
        BlockLayer.submitBioNoacct(bio);
    }

    /** {@code remap_exception}. */
    private void remapException(long newChunk, Bio bio, long sector) {
        bio.setDevice(cow);
        bio.setSector(newChunk * chunkSize + sector % chunkSize);
    }

    /** One snapshot's part of {@code __origin_write}, under {@code s->lock} for read and the table lock. */
    OriginWriteStep originWriteStep(long chunk, Bio bio) {
        OriginWriteStep step = new OriginWriteStep(false, false, null, null);
        lock.downRead();
        try {
            tableLock.lock();
            try {
                if (!valid || !active) {
                    return step;
                }
                PendingException pe = pending.get(chunk);
                if (pe == null) {
                    if (complete.lookup(chunk) != null) {
                        return step;
                    }
                    pe = insertPendingLocked(chunk);
                    if (pe == null) {
                        return step;
                    }
                }
                PendingException startNow = null;
                PendingException startLast = null;
                if (bio != null) {
                    pe.originBios.add(bio);
                    bio.handTo(pe); // ends after the copy (pending_complete)
                    if (!pe.started) {
                        pe.started = true;
                        startLast = pe;
                    }
                }
                if (!pe.started) {
                    pe.started = true;
                    startNow = pe;
                }
                step = new OriginWriteStep(true, bio != null, startNow, startLast);
            } finally {
                tableLock.unlock();
            }
        } finally {
            lock.upRead();
        }
        invalidateIfFull();
        return step;
    }

    /** {@code __insert_pending_exception}: reserves a COW chunk; null (and {@link #full}) if there is none. Under the table lock. */
    private PendingException insertPendingLocked(long chunk) {
        PendingException pe = new PendingException(this, chunk);
        if (!store.prepareException(pe)) {
            full = true;
            return null;
        }
        pe.exceptionSequence = exceptionStartSequence++;
        pending.put(chunk, pe);
        return pe;
    }

    /** {@code invalidate_snapshot(s, -ENOMEM)} after a failed prepare, with no lock held. */
    private void invalidateIfFull() {
        if (full && valid) {
            invalidate();
        }
    }

    /** {@code __invalidate_snapshot} under {@code s->lock} for write. */
    private void invalidate() {
        lock.downWrite();
        try {
            valid = false;
        } finally {
            lock.upWrite();
        }
    }

    /** {@code start_copy}: accounts the copy (the 2019 throttle may sleep here) and hands it to kcopyd. */
    void startCopy(PendingException pe) {
        long src = pe.oldChunk * chunkSize;
        int count = (int) Math.min(chunkSize, origin.capacitySectors() - src);
        throttle.accountStartCopy();
        chunksCopied.incrementAndGet();
        pe.copy = kcopyd.copy(new KcopydClient.Region(origin, src, count),
                new KcopydClient.Region(cow, pe.newChunk * chunkSize, count),
                (readErr, writeErr) -> copyCallback(pe, readErr || writeErr));
    }

    /** {@code copy_callback}: in kcopyd's worker; completes exceptions in the order they were started. */
    private void copyCallback(PendingException pe, boolean copyError) {
        pe.copyError = copyError;
        if (pe.exceptionSequence == exceptionCompleteSequence) {
            exceptionCompleteSequence++;
            completeException(pe);
            while (!outOfOrder.isEmpty() && outOfOrder.firstKey() == exceptionCompleteSequence) {
                PendingException next = outOfOrder.pollFirstEntry().getValue();
                exceptionCompleteSequence++;
                completeException(next);
            }
        } else {
            outOfOrder.put(pe.exceptionSequence, pe);
        }
        throttle.accountEndCopy();
    }

    /** {@code complete_exception}. */
    private void completeException(PendingException pe) {
        store.commitException(pe, !pe.copyError, success -> pendingComplete(pe, success));
    }

    /** {@code pending_complete}. */
    private void pendingComplete(PendingException pe, boolean success) {
        boolean error = !success;
        if (error) {
            invalidate(); // read/write error: the snapshot is unusable
        }
        BioList snapshotBios = new BioList();
        BioList originBios = new BioList();
        lock.downRead();
        try {
            tableLock.lock();
            try {
                if (!valid) {
                    error = true;
                }
                if (!error) {
                    complete.insert(pe.oldChunk, pe.newChunk);
                }
                pending.remove(pe.oldChunk);
                snapshotBios.merge(pe.snapshotBios);
                originBios.merge(pe.originBios);
            } finally {
                tableLock.unlock();
            }
        } finally {
            lock.upRead();
        }
        Bio full = pe.fullBio;
        if (full != null) {
            full.setEndIo(pe.fullBioEndIo);
            full.reopen();
            if (error) {
                full.endio(BlkStatus.IOERR); // bio_io_error(full_bio)
            } else {
                full.endio();
            }
        }
        for (Bio b; (b = snapshotBios.pop()) != null; ) {
            if (error) {
                b.endio(BlkStatus.IOERR); // error_bios
            } else {
                BlockLayer.submitBioNoacct(b); // flush_bios
            }
        }
        retryOriginBios(originBios);
    }

    /** {@code retry_origin_bios}: never throttled, since b21555786f18. */
    private void retryOriginBios(BioList bios) {
        for (Bio b; (b = bios.pop()) != null; ) {
            if (module.doOrigin(origin, b, false) == DmMapio.REMAPPED) {
                BlockLayer.submitBioNoacct(b);
            }
        }
    }

    @Override
    public String toString() {
        return "snapshot " + name();
    }
}
