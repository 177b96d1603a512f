package dev.rescuer.storage.dm.bufio;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * dm-bufio ({@code drivers/md/dm-bufio.c}): a client-owned cache of blocks of a device, as dm-thin's
 * metadata and dm-verity's hashes use it. {@link #get} returns cached blocks only, never doing I/O
 * ({@code dm_bufio_get}); {@link #read} reads a missing block and sleeps for it ({@code dm_bufio_read});
 * {@link #newBuffer} takes a block without reading it ({@code dm_bufio_new}); {@link #markBufferDirty}
 * and {@link #writeDirtyBuffers} write changed blocks through the device below; {@link #release}
 * drops a hold. Each buffer costs one page per 4 KiB from the system's page allocator, allocated with
 * {@code GFP_NOIO} as {@code alloc_buffer} does.
 *
 * <p><b>The shrinker</b> takes the form of a kernel version ({@link ShrinkerForm}, a setting):
 * {@code dm_bufio_shrink_count} and {@code dm_bufio_shrink_scan} take {@code c->lock} with a sleeping
 * lock or a trylock depending on the form and the reclaim context, and {@code __try_evict_buffer}
 * evicts unheld buffers, clean ones first ({@code __scan}: {@code LIST_CLEAN}, then
 * {@code LIST_DIRTY}), writing a dirty one and waiting for it <em>with {@code c->lock} held</em>
 * ({@code __make_buffer_clean}: {@code __write_dirty_buffer}, then {@code wait_on_bit_io}) when the
 * context allows. With {@link ShrinkerForm#WORKQUEUE_2020} reclaim only adds to
 * {@code need_shrink} and queues {@code shrink_work} on a {@code MEM_RECLAIM} queue
 * ({@code dm_bufio_cache}), whose worker evicts in {@code GFP_KERNEL} context. In the older forms
 * {@code dm_bufio_shrink_count} may sleep on the lock, as the kernel's did (Junxiao Bi's 2019 stack);
 * the {@link Shrinker} contract's "must not block" is what the 2020 form restored.
 *
 * <p><b>Locking.</b> The client's lock ({@code c->lock}) guards the cache and every buffer's hold
 * count and state, except {@code B_WRITING} (see {@link DmBuffer}). With
 * {@link #DM_BUFIO_CLIENT_NO_SLEEP} it is a spin lock, so that {@code get} works in BH context
 * (dm-verity's {@code try_verify_in_tasklet}); such a client is read-only here (its shrinker could not
 * sleep for a write under a spin lock). Otherwise it is a mutex. A reader waiting for another task's
 * read of the same block sleeps on {@code readWait}; a task waiting for a write sleeps on
 * {@code writeWait}, which each write's completion wakes.
 *
 * <p><b>Memory ordering.</b> {@code writing} is set under the lock before the write bio is submitted
 * and cleared by the completion before it wakes {@code writeWait}; the wait queue's fences make a
 * waiter either see the cleared flag or be woken. {@code nBuffers} and {@code needShrink} are atomics
 * read without the lock by the 2020 {@code dm_bufio_shrink_count}, which may be stale by a little, as
 * the kernel's {@code READ_ONCE} reads are.
 *
 * <p>Left out on purpose: prefetch, the global LRU and the background cleaner ({@code work_fn}), the
 * cache-wide memory limit and {@code retain_bytes}, reserved buffers (an allocation that fails ends
 * the read with an error, or makes {@link #newBuffer} return {@code null}), and the module-wide
 * {@code dm_bufio_wq}: each client of the 2020 form has its own {@code MEM_RECLAIM} queue, which
 * gives it at least the forward progress the shared one does.
 */
public final class DmBufioClient {

    /** Use a spin lock instead of a mutex, so {@link #get} may run in atomic context. */
    public static final int DM_BUFIO_CLIENT_NO_SLEEP = 1;

    private final String name;
    private final Platform platform;
    private final RescuerSystem system;
    private final BlockDevice dev;
    private final int blockSectors;
    private final SpinLock spin;
    private final Mutex mutex;
    private final WaitQueue readWait;
    private final WaitQueue writeWait;
    private final ShrinkerForm form;
    /** {@code dm_bufio_wq} and {@code c->shrink_work}; {@code null} unless the form defers to a workqueue. */
    private final WorkQueue bufioWq;
    private final Work shrinkWork;
    /** The cache, least recently used first. Guarded by the client's lock. */
    private final LinkedHashMap<Long, DmBuffer> cache = new LinkedHashMap<>(16, 0.75f, true);
    /** {@code n_buffers}: the cache's size. Written under the client's lock, read without it. */
    private final AtomicLong nBuffers = new AtomicLong();
    /** {@code c->need_shrink}: objects reclaim asked {@code shrink_work} to free. Atomic. */
    private final AtomicLong needShrink = new AtomicLong();
    /** Buffers written and waited for by reclaim ({@code __make_buffer_clean}). Atomic; statistics. */
    private final AtomicLong cleanedByReclaim = new AtomicLong();
    /**
     * {@code c->async_write_error}: a write failed since the last {@link #writeDirtyBuffers}. Atomic:
     * set by a write's completion (which may be atomic), read and cleared by the writer.
     */
    private final AtomicBoolean asyncWriteError = new AtomicBoolean();

    /**
     * A client on {@code dev} with blocks of {@code blockBytes} and the {@link ShrinkerForm#TRYLOCK_2019}
     * shrinker, which on clean buffers behaves as the shrinker of every later kernel: it never sleeps.
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int flags, String name) {
        this(system, dev, blockBytes, flags, name, ShrinkerForm.TRYLOCK_2019);
    }

    /**
     * A client on {@code dev} with blocks of {@code blockBytes} ({@code dm_bufio_client_create}) whose
     * shrinker takes {@code form}; it registers the shrinker with the system's page allocator and,
     * for {@link ShrinkerForm#WORKQUEUE_2020}, creates its {@code MEM_RECLAIM} cleanup queue.
     *
     * @throws IllegalArgumentException if {@code blockBytes} is not a positive multiple of the sector size
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int flags, String name, ShrinkerForm form) {
        if (blockBytes <= 0 || blockBytes % Bio.SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("dm-bufio client " + name + ": block size " + blockBytes
                    + " is not a positive multiple of " + Bio.SECTOR_SIZE);
        }
        this.form = Objects.requireNonNull(form, "form");
        this.system = system;
        this.platform = system.platform();
        this.dev = dev;
        this.name = name;
        this.blockSectors = blockBytes / Bio.SECTOR_SIZE;
        if ((flags & DM_BUFIO_CLIENT_NO_SLEEP) != 0) {
            this.spin = new SpinLock(platform, name + "/c->spinlock", "&c->spinlock");
            this.mutex = null;
        } else {
            this.spin = null;
            this.mutex = new Mutex(platform, name + "/c->lock", "&c->lock");
        }
        this.readWait = new WaitQueue(platform, name + "/buffer_read", "dm_buffer read");
        this.writeWait = new WaitQueue(platform, name + "/buffer_write", "dm_buffer B_WRITING");
        if (form.defersToWorkqueue()) {
            this.bufioWq = system.workqueues().create("dm_bufio_cache/" + name, 0, WqFlag.MEM_RECLAIM);
            this.shrinkWork = new Work("dm-bufio shrink_work " + name, this::shrinkWorkFn);
        } else {
            this.bufioWq = null;
            this.shrinkWork = null;
        }
        system.pages().registerShrinker(new Shrinker() {
            @Override
            public String name() {
                return "dm-bufio " + DmBufioClient.this.name;
            }

            @Override
            public long count(ShrinkControl control) {
                return dmBufioShrinkCount(control.gfp());
            }

            @Override
            public long scan(ShrinkControl control) {
                return dmBufioShrinkScan(control.gfp(), control.nrToScan());
            }
        });
    }

    private void lock() {
        if (spin != null) {
            spin.lock();
        } else {
            mutex.lock();
        }
    }

    private boolean tryLock() {
        return spin != null ? spin.tryLock() : mutex.tryLock();
    }

    private void unlock() {
        if (spin != null) {
            spin.unlock();
        } else {
            mutex.unlock();
        }
    }

    /** Blocks cached now. */
    public int cached() {
        lock();
        try {
            return cache.size();
        } finally {
            unlock();
        }
    }

    /**
     * The cached, read buffer of {@code block}, held, or {@code null} ({@code dm_bufio_get}). Never
     * does I/O or sleeps with a {@link #DM_BUFIO_CLIENT_NO_SLEEP} client.
     */
    public DmBuffer get(long block) {
        lock();
        try {
            DmBuffer b = cache.get(block);
            if (b == null || !b.ready || b.readError) {
                return null;
            }
            b.holdCount++;
            return b;
        } finally {
            unlock();
        }
    }

    /**
     * The buffer of {@code block}, held, reading it first if it is not cached ({@code dm_bufio_read});
     * sleeps for the read. Returns {@code null} if the read failed or no memory could be had for it.
     */
    public DmBuffer read(long block) {
        platform.currentTask().checkMaySleep(readWait, "dm_bufio_read");
        DmBuffer b;
        boolean mine = false;
        lock();
        try {
            b = cache.get(block);
            if (b != null) {
                b.holdCount++;
            }
        } finally {
            unlock();
        }
        if (b == null) {
            Pages pages = system.pages().tryAllocate(Math.max(1, blockSectors * Bio.SECTOR_SIZE / Bio.PAGE_SIZE), Gfp.NOIO);
            if (pages == null) {
                return null;
            }
            DmBuffer fresh = new DmBuffer(block, blockSectors, pages);
            lock();
            try {
                b = cache.get(block);
                if (b == null) {
                    b = fresh;
                    b.holdCount = 1;
                    cache.put(block, b);
                    nBuffers.set(cache.size());
                    mine = true;
                } else {
                    b.holdCount++;
                }
            } finally {
                unlock();
            }
            if (!mine) {
                pages.free();
            }
        }
        if (mine) {
            Bio bio = new Bio(BioOp.READ, Bio.REQ_META, dev, block * blockSectors, blockSectors * Bio.SECTOR_SIZE, null, null,
                    "dm-bufio " + name);
            bio.setData(b.data, 0);
            boolean ok = BlockLayer.submitBioWait(bio) == BlkStatus.OK;
            lock();
            try {
                b.ready = true;
                b.readError = !ok;
            } finally {
                unlock();
            }
            readWait.wakeUpAll();
        } else {
            DmBuffer waitFor = b;
            readWait.waitEvent(() -> isReady(waitFor));
        }
        if (isFailed(b)) {
            release(b);
            return null;
        }
        return b;
    }

    private boolean isReady(DmBuffer b) {
        lock();
        try {
            return b.ready;
        } finally {
            unlock();
        }
    }

    private boolean isFailed(DmBuffer b) {
        lock();
        try {
            return b.readError;
        } finally {
            unlock();
        }
    }

    /** Drops a hold ({@code dm_bufio_release}); a failed buffer leaves the cache with its last holder. */
    public void release(DmBuffer b) {
        Pages free = null;
        lock();
        try {
            if (b.holdCount <= 0) {
                throw new IllegalStateException("dm_bufio_release of block " + b.block + " that is not held");
            }
            b.holdCount--;
            if (b.holdCount == 0 && b.readError && cache.get(b.block) == b) {
                cache.remove(b.block);
                nBuffers.set(cache.size());
                free = b.pages;
            }
        } finally {
            unlock();
        }
        if (free != null) {
            free.free();
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * A held buffer of {@code block}, cached but not read from the device: its content is zero
     * ({@code dm_bufio_new}). Returns {@code null} if no memory could be had for it.
     *
     * @throws IllegalStateException on a {@link #DM_BUFIO_CLIENT_NO_SLEEP} client, or if the block is cached
     */
    public DmBuffer newBuffer(long block) {
        checkWritable("dm_bufio_new");
        Pages pages = system.pages().tryAllocate(pagesPerBuffer(), Gfp.NOIO);
        if (pages == null) {
            return null;
        }
        DmBuffer b = new DmBuffer(block, blockSectors, pages);
        lock();
        try {
            if (cache.containsKey(block)) {
                throw new IllegalStateException("dm_bufio_new of block " + block + " of " + name + ", which is cached");
            }
            b.holdCount = 1;
            b.ready = true;
            cache.put(block, b);
            nBuffers.set(cache.size());
        } finally {
            unlock();
        }
        return b;
    }

    /**
     * Marks a held buffer dirty ({@code dm_bufio_mark_buffer_dirty}): it will be written by
     * {@link #writeDirtyBuffers} or by reclaim.
     *
     * @throws IllegalStateException if the buffer is not held, or on a {@link #DM_BUFIO_CLIENT_NO_SLEEP} client
     */
    public void markBufferDirty(DmBuffer b) {
        checkWritable("dm_bufio_mark_buffer_dirty");
        lock();
        try {
            if (b.holdCount <= 0) {
                throw new IllegalStateException("dm_bufio_mark_buffer_dirty of block " + b.block + " that is not held");
            }
            b.dirty = true;
        } finally {
            unlock();
        }
    }

    /**
     * Writes every dirty buffer and waits for the writes ({@code dm_bufio_write_dirty_buffers}): the
     * writes are submitted and waited for with the lock dropped, each buffer held meanwhile.
     *
     * @return {@link BlkStatus#OK}, or {@link BlkStatus#IOERR} if a write failed since the last call
     */
    public BlkStatus writeDirtyBuffers() {
        checkWritable("dm_bufio_write_dirty_buffers");
        List<DmBuffer> writeList = new ArrayList<>();
        lock();
        try {
            for (DmBuffer b : cache.values()) {
                if (b.dirty && !b.writing) {
                    b.holdCount++;
                    writeList.add(b);
                }
            }
            for (DmBuffer b : writeList) {
                startWrite(b);
            }
        } finally {
            unlock();
        }
        for (DmBuffer b : writeList) {
            submitWrite(b); // __flush_write_list
        }
        for (DmBuffer b : writeList) {
            writeWait.waitEvent(() -> !b.writing);
        }
        lock();
        try {
            for (DmBuffer b : writeList) {
                b.holdCount--;
            }
        } finally {
            unlock();
        }
        return asyncWriteError.getAndSet(false) ? BlkStatus.IOERR : BlkStatus.OK;
    }

    /** Dirty buffers now. */
    public int dirty() {
        lock();
        try {
            return (int) cache.values().stream().filter(b -> b.dirty).count();
        } finally {
            unlock();
        }
    }

    /** The shrinker's form. */
    public ShrinkerForm form() {
        return form;
    }

    /** {@code c->shrink_work}, or {@code null} unless the form is {@link ShrinkerForm#WORKQUEUE_2020}. */
    public Work shrinkWork() {
        return shrinkWork;
    }

    /** The wait queue of tasks waiting for a buffer's write ({@code wait_on_bit_io(B_WRITING)}). */
    public WaitQueue writeWait() {
        return writeWait;
    }

    /** The client's lock ({@code c->lock}), or {@code null} for a {@link #DM_BUFIO_CLIENT_NO_SLEEP} client. */
    public Mutex lockPrimitive() {
        return mutex;
    }

    /** Buffers reclaim has written and waited for, holding the lock ({@code __make_buffer_clean}). */
    public long cleanedByReclaim() {
        return cleanedByReclaim.get();
    }

    private void checkWritable(String what) {
        if (spin != null) {
            throw new IllegalStateException(what + " on " + name + ": a DM_BUFIO_CLIENT_NO_SLEEP client is read-only in this model");
        }
    }

    private int pagesPerBuffer() {
        return Math.max(1, blockSectors * Bio.SECTOR_SIZE / Bio.PAGE_SIZE);
    }

    /** Marks {@code b} as being written. Caller holds the lock. */
    private void startWrite(DmBuffer b) {
        b.dirty = false;
        b.writing = true;
    }

    /** Submits {@code b}'s write ({@code submit_io}); its completion clears {@code B_WRITING} ({@code write_endio}). */
    private void submitWrite(DmBuffer b) {
        Bio bio = new Bio(BioOp.WRITE, Bio.REQ_META, dev, b.block * blockSectors, blockSectors * Bio.SECTOR_SIZE, null, null,
                "dm-bufio " + name);
        bio.setData(b.data, 0);
        bio.setEndIo(done -> {
            if (done.status() != BlkStatus.OK) {
                asyncWriteError.set(true);
            }
            b.writing = false;
            writeWait.wakeUpAll();
        });
        BlockLayer.submitBioNoacct(bio);
    }

    // ------------------------------------------------------------------ shrinker

    /** {@code dm_bufio_shrink_count}. */
    private long dmBufioShrinkCount(Gfp gfp) {
        if (form.defersToWorkqueue()) {
            return Math.max(0, nBuffers.get() - needShrink.get()); // READ_ONCE, no lock
        }
        if (form.sleepsOnLock(gfp)) {
            lock();
        } else if (!tryLock()) {
            return 0;
        }
        try {
            return cache.size();
        } finally {
            unlock();
        }
    }

    /** {@code dm_bufio_shrink_scan}. */
    private long dmBufioShrinkScan(Gfp gfp, long nrToScan) {
        if (form.defersToWorkqueue()) {
            needShrink.addAndGet(nrToScan);
            bufioWq.queue(shrinkWork);
            return nrToScan;
        }
        if (form.sleepsOnLock(gfp)) {
            lock();
        } else if (!tryLock()) {
            return Shrinker.STOP;
        }
        List<Pages> freed;
        try {
            freed = scanLocked(nrToScan, gfp);
        } finally {
            unlock();
        }
        return freePages(freed);
    }

    /** {@code shrink_work}: evicts what reclaim asked for, in {@code GFP_KERNEL} context, on {@code dm_bufio_wq}. */
    private void shrinkWorkFn() {
        long nr = needShrink.get();
        List<Pages> freed;
        lock();
        try {
            freed = scanLocked(nr, Gfp.KERNEL);
        } finally {
            unlock();
        }
        needShrink.addAndGet(-nr);
        freePages(freed);
    }

    private static long freePages(List<Pages> freed) {
        long pages = 0;
        for (Pages p : freed) {
            pages += p.count();
            p.free();
        }
        return pages;
    }

    /** {@code __scan}: clean buffers first, then dirty ones, oldest first. Caller holds the lock. */
    private List<Pages> scanLocked(long nrToScan, Gfp gfp) {
        List<Pages> freed = new ArrayList<>();
        for (int pass = 0; pass < 2 && freed.size() < nrToScan; pass++) {
            boolean dirtyList = pass == 1;
            List<DmBuffer> candidates = new ArrayList<>();
            for (DmBuffer b : cache.values()) {
                if ((b.dirty || b.writing) == dirtyList) {
                    candidates.add(b);
                }
            }
            for (DmBuffer b : candidates) {
                if (freed.size() >= nrToScan) {
                    break;
                }
                if (tryEvictBuffer(b, gfp)) {
                    freed.add(b.pages);
                }
            }
        }
        nBuffers.set(cache.size());
        return freed;
    }

    /**
     * {@code __try_evict_buffer}: without the form's blocking context, busy or dirty buffers stay;
     * otherwise a dirty buffer is written and waited for first, the lock held.
     */
    private boolean tryEvictBuffer(DmBuffer b, Gfp gfp) {
        boolean mayClean = form == ShrinkerForm.PRE_2014 ? gfp.mayIo() : gfp.mayFs();
        if (!mayClean && (!b.ready || b.writing || b.dirty)) {
            return false;
        }
        if (b.holdCount > 0 || !b.ready) {
            return false;
        }
        makeBufferClean(b);
        if (b.holdCount > 0 || cache.get(b.block) != b) {
            return false;
        }
        cache.remove(b.block);
        return true;
    }

    /** {@code __make_buffer_clean}: writes a dirty buffer and waits for any write, holding the lock. */
    private void makeBufferClean(DmBuffer b) {
        if (!b.dirty && !b.writing) {
            return;
        }
        if (b.dirty) {
            startWrite(b);
            submitWrite(b);
        }
        cleanedByReclaim.incrementAndGet();
        writeWait.waitEvent(() -> !b.writing); // wait_on_bit_io, c->lock held
    }
}
