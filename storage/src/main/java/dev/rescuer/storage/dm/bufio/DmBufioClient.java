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
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The part of dm-bufio ({@code drivers/md/dm-bufio.c}) that dm-verity needs: a cache of read-only
 * blocks of a device, with {@link #get} (cached blocks only, never I/O: {@code dm_bufio_get}),
 * {@link #read} (reads a missing block and sleeps for it: {@code dm_bufio_read}), {@link #release}
 * and a shrinker that evicts unheld buffers. Each buffer costs one page per 4 KiB from the system's
 * page allocator, allocated with {@code GFP_NOIO} as {@code alloc_buffer} does.
 *
 * <p><b>Reserved buffers.</b> A client keeps {@code reserved_buffers} buffers' pages allocated from
 * its creation on, as {@code dm_bufio_client_create} does (verity asks for 1). A read that finds no
 * free memory ({@code __alloc_buffer_wait_no_callback}) takes a reserved buffer, else reuses an
 * unheld cached one ({@code __get_unclaimed_buffer}), else sleeps on {@code free_buffer_wait} until a
 * release makes one unheld. A buffer freed while the reserve is short refills it
 * ({@code __free_buffer_wake}). So a read never fails for want of memory; it waits for another read.
 *
 * <p><b>Locking.</b> The client's lock ({@code c->lock}) guards the cache and every buffer's hold
 * count and state. With {@link #DM_BUFIO_CLIENT_NO_SLEEP} it is a spin lock, so that {@code get}
 * works in BH context (dm-verity's {@code try_verify_in_tasklet}); otherwise a mutex. A reader
 * waiting for another task's read of the same block sleeps on {@link #readWait}.
 *
 * <p>Left out on purpose: writing (dirty buffers, {@code dm_bufio_write_dirty_buffers}), prefetch,
 * the global LRU and the background cleaner, the cache-wide memory limit, and the shrinker's deferral to a workqueue
 * (buffers here are never dirty, so eviction never waits).
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
    private final WaitQueue freeBufferWait;
    /** Pages of reserved buffers not in use ({@code c->reserved_buffers}). Guarded by the client's lock. */
    private final java.util.ArrayDeque<Pages> reserved = new java.util.ArrayDeque<>();
    /** Reserved buffers in use, to be refilled ({@code c->need_reserved_buffers}). Guarded by the client's lock. */
    private int needReserved;
    /** The cache, least recently used first. Guarded by the client's lock. */
    private final LinkedHashMap<Long, DmBuffer> cache = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * A client on {@code dev} with blocks of {@code blockBytes} ({@code dm_bufio_client_create}); it
     * registers its shrinker with the system's page allocator.
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int flags, String name) {
        this(system, dev, blockBytes, 0, flags, name);
    }

    /**
     * A client that also keeps {@code reservedBuffers} buffers' pages allocated ({@code GFP_KERNEL},
     * now), for reads under memory pressure.
     */
    public DmBufioClient(RescuerSystem system, BlockDevice dev, int blockBytes, int reservedBuffers, int flags, String name) {
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
        this.freeBufferWait = new WaitQueue(platform, name + "/free_buffer_wait", "&c->free_buffer_wait");
        for (int i = 0; i < reservedBuffers; i++) {
            reserved.add(system.pages().allocate(pagesPerBuffer(), Gfp.KERNEL));
        }
        system.pages().registerShrinker(new Shrinker() {
            @Override
            public String name() {
                return "dm-bufio " + DmBufioClient.this.name;
            }

            @Override
            public long count(ShrinkControl control) {
                return evictable();
            }

            @Override
            public long scan(ShrinkControl control) {
                return shrink(control);
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
     * sleeps for the read. Returns {@code null} if the read failed; waits
     * for a buffer when memory is short (see the class comment).
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

    private int pagesPerBuffer() {
        return Math.max(1, blockSectors * Bio.SECTOR_SIZE / Bio.PAGE_SIZE);
    }

    /**
     * {@code __alloc_buffer_wait_no_callback}: fresh pages ({@code GFP_NOIO}), else a reserved
     * buffer's, else an unheld cached buffer's; else sleeps until a release and tries again.
     */
    private Pages allocBufferWait() {
        while (true) {
            Pages pages = system.pages().tryAllocate(pagesPerBuffer(), Gfp.NOIO);
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

    /** {@code __get_unclaimed_buffer}: takes the oldest unheld, read buffer out of the cache. Under the lock. */
    private Pages getUnclaimedBuffer() {
        Iterator<Map.Entry<Long, DmBuffer>> it = cache.entrySet().iterator();
        while (it.hasNext()) {
            DmBuffer b = it.next().getValue();
            if (b.holdCount == 0 && b.ready) {
                it.remove();
                return b.pages;
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
     * {@code __free_buffer_wake}: a freed buffer refills the reserve if it is short, else its pages
     * go back to the allocator (returned, to free outside the lock). Under the lock.
     */
    private Pages freeBufferWake(Pages pages) {
        if (needReserved > 0) {
            needReserved--;
            reserved.add(pages);
            return null;
        }
        return pages;
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
            freeBufferWait.wakeUpAll(); // never sleeps, so fine in BH
        }
    }

    private long evictable() {
        if (!tryLock()) {
            return 0;
        }
        try {
            return cache.values().stream().filter(b -> b.holdCount == 0 && b.ready).count();
        } finally {
            unlock();
        }
    }

    /** {@code dm_bufio_shrink_scan}: evicts unheld buffers, oldest first; only trylocks the client. */
    private long shrink(ShrinkControl control) {
        if (!tryLock()) {
            return Shrinker.STOP;
        }
        java.util.List<Pages> freed = new java.util.ArrayList<>();
        boolean refilled = false;
        try {
            Iterator<Map.Entry<Long, DmBuffer>> it = cache.entrySet().iterator();
            while (it.hasNext() && freed.size() < control.nrToScan()) {
                DmBuffer b = it.next().getValue();
                if (b.holdCount == 0 && b.ready) {
                    it.remove();
                    Pages p = freeBufferWake(b.pages);
                    if (p != null) {
                        freed.add(p);
                    } else {
                        refilled = true;
                    }
                }
            }
        } finally {
            unlock();
        }
        if (refilled) {
            freeBufferWait.wakeUpAll();
        }
        long pages = 0;
        for (Pages p : freed) {
            pages += p.count();
            p.free();
        }
        return pages;
    }
}
