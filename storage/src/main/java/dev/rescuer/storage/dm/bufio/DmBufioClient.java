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
import dev.rescuer.storage.deps.WaitGraph;

import java.util.ArrayDeque;
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
 * {@code GFP_NOWAIT} and then {@code GFP_NOIO}, both {@code __GFP_NORETRY}, as
 * {@code __alloc_buffer_wait_no_callback} calls {@code alloc_buffer}.
 *
 * <p><b>Reserved buffers.</b> A client keeps {@code reserved_buffers} buffers' pages allocated from
 * its creation on, as {@code dm_bufio_client_create} does (verity asks for 1). A read or a new buffer
 * that finds no free memory ({@code __alloc_buffer_wait_no_callback}) takes a reserved buffer, else
 * reuses an unheld cached one ({@code __get_unclaimed_buffer}: a clean one, else a dirty one written
 * and waited for with {@code c->lock} held), else sleeps on {@code free_buffer_wait} until a release
 * makes one unheld. A buffer freed while the reserve is short refills it ({@code __free_buffer_wake}),
 * whether a release or the shrinker frees it. So a read never fails for want of memory; it waits.
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
 * the kernel's {@code READ_ONCE} reads are. {@code free_buffer_wait} is woken only if it has waiters
 * ({@code waitqueue_active}): the change that frees a buffer is made under the lock, and a waiter
 * queues itself before its condition takes the lock, so the lock orders the two.
 *
 * <p>Left out on purpose: prefetch, the global LRU and the background cleaner ({@code work_fn}), the
 * cache-wide memory limit and {@code retain_bytes}, the allocation-failure callback of
 * {@code __alloc_buffer_wait} (no client here sets {@code alloc_callback}), the kernel's
 * {@code GFP_NOWAIT} first attempt before {@code GFP_NOIO} (one {@code GFP_NOIO} attempt here), and the
 * module-wide {@code dm_bufio_wq}: each client of the 2020 form has its own {@code MEM_RECLAIM} queue,
 * which gives it at least the forward progress the shared one does.
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
    /** {@code c->free_buffer_wait}: tasks waiting for a buffer to reuse. */
    private final WaitQueue freeBufferWait;
    /** Pages of reserved buffers not in use ({@code c->reserved_buffers}). Guarded by the client's lock. */
    private final ArrayDeque<Pages> reserved = new ArrayDeque<>();
    /** Reserved buffers in use, to be refilled ({@code c->need_reserved_buffers}). Guarded by the client's lock. */
    private int needReserved;
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
        this(system, dev, blockBytes, 0, flags, name, ShrinkerForm.TRYLOCK_2019);
    }

    /**
     * A client as {@link #DmBufioClient(RescuerSystem, BlockDevice, int, int, String)} that also keeps
     * {@code reservedBuffers} buffers' pages allocated, for reads under memory pressure (verity's).
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int reservedBuffers, int flags, String name) {
        this(system, dev, blockBytes, reservedBuffers, flags, name, ShrinkerForm.TRYLOCK_2019);
    }

    /** A client without reserved buffers whose shrinker takes {@code form} (dm-thin metadata's, in S2). */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int flags, String name, ShrinkerForm form) {
        this(system, dev, blockBytes, 0, flags, name, form);
    }

    /**
     * A client on {@code dev} with blocks of {@code blockBytes} ({@code dm_bufio_client_create}) that
     * keeps {@code reservedBuffers} buffers' pages allocated ({@code GFP_KERNEL}, now) and whose
     * shrinker takes {@code form}; it registers the shrinker with the system's page allocator and, for
     * {@link ShrinkerForm#WORKQUEUE_2020}, creates its {@code MEM_RECLAIM} cleanup queue.
     *
     * @throws IllegalArgumentException if {@code blockBytes} is not a positive multiple of the sector
     *         size, or {@code reservedBuffers} is negative
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int reservedBuffers, int flags, String name,
            ShrinkerForm form) {
        if (blockBytes <= 0 || blockBytes % Bio.SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("dm-bufio client " + name + ": block size " + blockBytes
                    + " is not a positive multiple of " + Bio.SECTOR_SIZE);
        }
        if (reservedBuffers < 0) {
            throw new IllegalArgumentException("dm-bufio client " + name + ": reserved_buffers " + reservedBuffers + " is negative");
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
        this.freeBufferWait = new WaitQueue(platform, name + "/free_buffer_wait", "&c->free_buffer_wait");
        for (int i = 0; i < reservedBuffers; i++) {
            reserved.add(system.pages().allocate(pagesPerBuffer(), Gfp.KERNEL));
        }
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

    /**
     * Declares who waits on whom: the client's shrinker ({@code shrinker:dm-bufio NAME}, a reclaim
     * source) either waits on the device itself (the forms that write dirty buffers in reclaim,
     * {@code __make_buffer_clean}) or, in {@link ShrinkerForm#WORKQUEUE_2020}, on the
     * {@code dm_bufio_cache} queue whose {@code shrink_work} frees the memory and writes the dirty
     * buffers to the device. The device must be declared.
     */
    public void declareWaits(WaitGraph graph) {
        String shrinker = "shrinker:dm-bufio " + name;
        graph.node(shrinker, WaitGraph.NodeKind.RECLAIM);
        if (bufioWq != null) {
            graph.queue(bufioWq);
            graph.waitsOn(shrinker, bufioWq.name(), "dm_bufio_shrink_scan queues shrink_work; the memory comes back when it ran");
            graph.waitsOn(bufioWq.name(), dev.name(), "shrink_work -> __make_buffer_clean: writes a dirty buffer and waits for it");
        } else {
            graph.waitsOn(shrinker, dev.name(), "dm_bufio_shrink_scan -> __make_buffer_clean: writes a dirty buffer and waits for it");
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
     * sleeps for the read, and for a buffer when memory is short (see the class comment). Returns
     * {@code null} if the read failed.
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
            Pages pages = allocBufferWait();
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
                    // From here others may wait for this read, which only this task will end: its
                    // wake-up owes nothing to what it held before (the validator's dept_request_event).
                    readWait.requestEvent();
                } else {
                    b.holdCount++;
                }
            } finally {
                unlock();
            }
            if (!mine) {
                freeBuffer(pages);
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
        boolean unheld;
        lock();
        try {
            if (b.holdCount <= 0) {
                throw new IllegalStateException("dm_bufio_release of block " + b.block + " that is not held");
            }
            b.holdCount--;
            if (b.holdCount == 0 && b.readError && cache.get(b.block) == b) {
                cache.remove(b.block);
                nBuffers.set(cache.size());
                free = freeBufferWake(b.pages);
            }
            unheld = b.holdCount == 0;
        } finally {
            unlock();
        }
        if (free != null) {
            free.free();
        }
        if (unheld) {
            wakeFreeBufferWaiters(); // never sleeps, so fine in BH
        }
    }

    // ------------------------------------------------------------------ buffer allocation

    /** dm-bufio's first try for fresh pages: "don't wait", "don't retry", no reserves, no warning. */
    private static final Gfp TRY_NOWAIT = Gfp.NOWAIT.with(Gfp.Modifier.NORETRY, Gfp.Modifier.NOMEMALLOC, Gfp.Modifier.NOWARN);
    /** Its second, once per call: one reclaim pass without I/O ({@code GFP_NOIO | __GFP_NORETRY | ...}). */
    private static final Gfp TRY_NOIO = Gfp.NOIO.with(Gfp.Modifier.NORETRY, Gfp.Modifier.NOMEMALLOC, Gfp.Modifier.NOWARN);

    /**
     * {@code __alloc_buffer_wait_no_callback}: fresh pages without waiting, else (once) with one
     * {@code GFP_NOIO} reclaim pass ({@code __GFP_NORETRY}: "dm-bufio is resistant to allocation
     * failures ... so set flags to not try too hard"), else a reserved buffer's, else an unheld cached
     * buffer's; else sleeps on {@code free_buffer_wait} until a release and tries again.
     */
    private Pages allocBufferWait() {
        boolean triedNoio = false;
        while (true) {
            Pages pages = system.pages().tryAllocate(pagesPerBuffer(), TRY_NOWAIT);
            if (pages == null && !triedNoio) {
                pages = system.pages().tryAllocate(pagesPerBuffer(), TRY_NOIO);
                triedNoio = true;
            }
            if (pages != null) {
                return pages;
            }
            lock();
            try {
                if (!reserved.isEmpty()) {
                    needReserved++;
                    return reserved.poll();
                }
                Pages unclaimed = getUnclaimedBuffer();
                if (unclaimed != null) {
                    return unclaimed;
                }
            } finally {
                unlock();
            }
            freeBufferWait.waitEvent(this::hasUnclaimedBuffer);
        }
    }

    /**
     * {@code __get_unclaimed_buffer}: takes the oldest unheld clean buffer out of the cache, else the
     * oldest unheld dirty one after writing it and waiting, the lock held ({@code __make_buffer_clean}).
     * Caller holds the lock.
     */
    private Pages getUnclaimedBuffer() {
        for (int pass = 0; pass < 2; pass++) {
            boolean dirtyList = pass == 1;
            for (DmBuffer b : new ArrayList<>(cache.values())) {
                if (b.holdCount == 0 && b.ready && (b.dirty || b.writing) == dirtyList) {
                    makeBufferClean(b);
                    if (b.holdCount == 0 && cache.get(b.block) == b) {
                        cache.remove(b.block);
                        nBuffers.set(cache.size());
                        return b.pages;
                    }
                }
            }
        }
        return null;
    }

    private boolean hasUnclaimedBuffer() {
        lock();
        try {
            return !reserved.isEmpty() || cache.values().stream().anyMatch(b -> b.holdCount == 0 && b.ready);
        } finally {
            unlock();
        }
    }

    /**
     * Wakes {@code free_buffer_wait} if a task waits there ({@code waitqueue_active}, as
     * {@code cache_put_and_wake} and {@code __free_buffer_wake} check). Called after the change that
     * made a buffer available, which was made under the lock; a waiter's condition reads under the
     * lock after the waiter queued itself, so either this sees the waiter or the waiter sees the change.
     */
    private void wakeFreeBufferWaiters() {
        if (freeBufferWait.hasWaiters()) {
            freeBufferWait.wakeUpAll();
        }
    }

    /**
     * {@code __free_buffer_wake}: a freed buffer refills the reserve if it is short, else its pages go
     * back to the allocator (returned, for the caller to free outside the lock). Caller holds the lock.
     */
    private Pages freeBufferWake(Pages pages) {
        if (needReserved > 0) {
            needReserved--;
            reserved.add(pages);
            return null;
        }
        return pages;
    }

    /** Frees a buffer's pages that never entered the cache, refilling the reserve first. */
    private void freeBuffer(Pages pages) {
        Pages free;
        lock();
        try {
            free = freeBufferWake(pages);
        } finally {
            unlock();
        }
        if (free != null) {
            free.free();
        } else {
            wakeFreeBufferWaiters();
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * A held buffer of {@code block}, cached but not read from the device: its content is zero
     * ({@code dm_bufio_new}). Sleeps for a buffer when memory is short (see the class comment).
     *
     * @throws IllegalStateException on a {@link #DM_BUFIO_CLIENT_NO_SLEEP} client, or if the block is cached
     */
    public DmBuffer newBuffer(long block) {
        checkWritable("dm_bufio_new");
        Pages pages = allocBufferWait();
        DmBuffer b = new DmBuffer(block, blockSectors, pages);
        lock();
        try {
            if (cache.containsKey(block)) {
                Pages free = freeBufferWake(pages);
                if (free != null) {
                    free.free(); // returning pages never sleeps
                }
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
        if (!writeList.isEmpty()) {
            wakeFreeBufferWaiters();
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
        List<Pages> freed = new ArrayList<>();
        int evicted;
        try {
            evicted = scanLocked(nrToScan, gfp, freed);
        } finally {
            unlock();
        }
        return freePages(freed, evicted);
    }

    /** {@code shrink_work}: evicts what reclaim asked for, in {@code GFP_KERNEL} context, on {@code dm_bufio_wq}. */
    private void shrinkWorkFn() {
        long nr = needShrink.get();
        List<Pages> freed = new ArrayList<>();
        int evicted;
        lock();
        try {
            evicted = scanLocked(nr, Gfp.KERNEL, freed);
        } finally {
            unlock();
        }
        needShrink.addAndGet(-nr);
        freePages(freed, evicted);
    }

    /**
     * Frees evicted buffers' pages (those not taken back into the reserve) and, if any buffer was
     * evicted, wakes {@code free_buffer_wait} ({@code __free_buffer_wake} wakes on every free).
     * Returns the pages freed.
     */
    private long freePages(List<Pages> freed, int evicted) {
        long pages = 0;
        for (Pages p : freed) {
            pages += p.count();
            p.free();
        }
        if (evicted > 0) {
            wakeFreeBufferWaiters();
        }
        return pages;
    }

    /**
     * {@code __scan}: evicts up to {@code nrToScan} buffers, clean ones first, then dirty ones, oldest
     * first; adds to {@code freed} the pages of those the reserve does not take back. Returns the
     * buffers evicted. Caller holds the lock.
     */
    private int scanLocked(long nrToScan, Gfp gfp, List<Pages> freed) {
        int evicted = 0;
        for (int pass = 0; pass < 2 && evicted < nrToScan; pass++) {
            boolean dirtyList = pass == 1;
            List<DmBuffer> candidates = new ArrayList<>();
            for (DmBuffer b : cache.values()) {
                if ((b.dirty || b.writing) == dirtyList) {
                    candidates.add(b);
                }
            }
            for (DmBuffer b : candidates) {
                if (evicted >= nrToScan) {
                    break;
                }
                if (tryEvictBuffer(b, gfp)) {
                    evicted++;
                    Pages p = freeBufferWake(b.pages);
                    if (p != null) {
                        freed.add(p);
                    }
                }
            }
        }
        nBuffers.set(cache.size());
        return evicted;
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
