package dev.rescuer.storage.dm.crypt;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.dm.DmMapio;
import dev.rescuer.storage.dm.DmTargetException;
import dev.rescuer.storage.dm.ModuleParams;
import dev.rescuer.storage.dm.Target;
import dev.rescuer.storage.dm.TargetArgs;
import dev.rescuer.storage.dm.TargetContext;
import dev.rescuer.storage.dm.TargetType;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code crypt} target ({@code drivers/md/dm-crypt.c}): every sector written is encrypted into a
 * buffer of the target's own pages before it goes to the device below, and every sector read is
 * decrypted after it comes back. Table arguments: {@code <cipher> <key> <iv_offset> <device> <offset>
 * [<#opt_params> <opt_params>...]}.
 *
 * <p><b>What it models.</b>
 * <ul>
 *   <li>The two queues {@code crypt_ctr} creates: {@code kcryptd_io} ({@code WQ_MEM_RECLAIM}, one
 *       active item) and {@code kcryptd} ({@code WQ_CPU_INTENSIVE | WQ_MEM_RECLAIM}, plus
 *       {@code WQ_UNBOUND} with {@code max_active} = CPUs, or bound with 1 under
 *       {@code same_cpu_crypt}); {@code high_priority} adds {@code WQ_HIGHPRI} to both.
 *   <li>{@code crypt_map}: a write is queued on {@code kcryptd} ({@code kcryptd_queue_crypt}); a read
 *       is cloned with {@code GFP_NOWAIT} and submitted, or, when that fails, handed to
 *       {@code kcryptd_io} ({@code kcryptd_queue_read}), whose item clones with {@code GFP_NOIO}; clones come
 *       from the target's bio set ({@code cc->bs}, a pool of {@code MIN_IOS}). Its
 *       end-io ({@code crypt_endio}, interrupt context) queues the decryption on {@code kcryptd}.
 *       {@code no_write_workqueue} / {@code no_read_workqueue} run {@code kcryptd_crypt} in the calling
 *       context instead, or, from interrupt context, in the system's BH workqueue (the kernel's tasklet).
 *   <li>{@code kcryptd_crypt_write_convert}: {@code crypt_alloc_buffer} takes one element of
 *       {@code cc->page_pool} per page of the bio. Upstream (7145c241a1bf) first tries every page with
 *       {@code GFP_NOWAIT} and no lock; if one fails it gives back all it took and retries with
 *       {@code GFP_NOIO} under {@code cc->bio_alloc_lock}, so only one request at a time waits on the
 *       pool and it can always get all it needs: the pool holds {@code BIO_MAX_VECS} pages, the most
 *       one bio may need ({@code crypt_map} splits larger writes with {@code dm_accept_partial_bio}).
 *       The module parameter {@code dm_crypt.alloc_buffer=unserialised} stands for the kernel between
 *       cf2f1abfbd0d and 7145c241a1bf: every page with {@code GFP_NOIO}, waiting on the pool, no lock;
 *       two requests can then each hold part of the reserve and wait for the rest.
 *   <li>{@code crypt_page_alloc}: the pool's source refuses a {@code __GFP_NORETRY} allocation once
 *       the client has {@code dm_crypt_pages_per_client} pages (2% of memory, at least
 *       {@code BIO_MAX_VECS * 16}; the model counts each target as the only client).
 *   <li>{@code crypt_endio} of a write gives the pages back ({@code crypt_free_buffer_pages}) and ends
 *       the original bio ({@code crypt_dec_pending}).
 * </ul>
 *
 * <p><b>Left out on purpose.</b> A crypto API: the cipher is a keyed 64-bit mix of each sector's
 * content and its IV sector ({@code plain64}), enough to tell ciphertext from plaintext; the cipher
 * specification is checked for its form ({@code cipher-chainmode-ivmode}) only. The
 * {@code dmcrypt_write} thread and its sorted write tree: writes are always submitted from the crypt
 * CPU, as {@code submit_from_crypt_cpus} does (the option is accepted). Integrity ({@code integrity:}),
 * {@code sector_size:}, {@code iv_large_sectors}, discards, asynchronous ciphers and keyring keys.
 * The model's {@code BIO_MAX_VECS} is {@value #BIO_MAX_VECS} pages, not 256, so that a bio needs a
 * handful of pool elements.
 *
 * <p><b>Locking.</b> {@code bioAllocLock} ({@code cc->bio_alloc_lock}) serialises the blocking
 * allocations of {@link #cryptAllocBuffer}. The pool has its own lock. {@code nAllocatedPages} is an
 * atomic counter ({@code cc->n_allocated_pages}, a percpu counter upstream), read without ordering
 * against anything else, as the kernel's {@code percpu_counter_read_positive} is.
 */
public final class CryptTarget implements Target {

    /** Pages one bio may carry at most, and the pool's reserve ({@code BIO_MAX_VECS}, scaled down). */
    public static final int BIO_MAX_VECS = 2;
    /** The clone bio set's reserve ({@code MIN_IOS}, scaled down). */
    static final int MIN_IOS = 4;
    /** {@code DM_CRYPT_MEMORY_PERCENT}. */
    static final int DM_CRYPT_MEMORY_PERCENT = 2;
    /** {@code DM_CRYPT_MIN_PAGES_PER_CLIENT}. */
    static final int DM_CRYPT_MIN_PAGES_PER_CLIENT = BIO_MAX_VECS * 16;

    /** The module whose parameters this target reads. */
    public static final String MODULE = "dm_crypt";
    /** The parameter that stands for the kernel's {@code crypt_alloc_buffer}. */
    public static final String ALLOC_BUFFER = "alloc_buffer";

    /** How {@code crypt_alloc_buffer} takes a request's pages: the kernel version it stands for. */
    public enum AllocBuffer {
        /** 7145c241a1bf and later: {@code GFP_NOWAIT} first, then {@code GFP_NOIO} under {@code bio_alloc_lock}. */
        SERIALISED("serialised"),
        /** cf2f1abfbd0d before 7145c241a1bf: every page {@code GFP_NOIO}, no lock. */
        UNSERIALISED("unserialised");

        private final String value;

        AllocBuffer(String value) {
            this.value = value;
        }

        /** The parameter value. */
        public String value() {
            return value;
        }

        /**
         * The form named {@code value}.
         *
         * @throws IllegalArgumentException naming the parameter and the values it takes
         */
        public static AllocBuffer of(String value) {
            for (AllocBuffer a : values()) {
                if (a.value.equals(value)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("dm_crypt.alloc_buffer must be serialised or unserialised, got '" + value + "'");
        }
    }

    /** Checks this module's parameters ({@code dm_crypt.*}). */
    public static void checkParams(ModuleParams params) {
        AllocBuffer.of(params.get(MODULE, ALLOC_BUFFER));
    }

    /** The parsed table arguments and optional parameters. */
    public record Args(String cipher, long key, long ivOffset, String device, long start,
                       boolean sameCpuCrypt, boolean highPriority, boolean submitFromCryptCpus,
                       boolean noReadWorkqueue, boolean noWriteWorkqueue) {
    }

    /** The {@code crypt} target type. */
    public static final TargetType<Args> TYPE = new TargetType<>() {
        @Override
        public String name() {
            return "crypt";
        }

        @Override
        public Args parse(TargetArgs a) {
            if (a.argc() < 5) {
                throw a.error("Not enough arguments");
            }
            String cipher = a.arg(0);
            String[] parts = cipher.split("-", -1);
            if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
                throw a.error("Bad cipher specification (the model wants cipher-chainmode-ivmode, like aes-xts-plain64)");
            }
            long key = decodeKey(a, a.arg(1));
            long ivOffset = a.unsignedArg(2, "Invalid iv_offset sector");
            String dev = a.deviceArg(3, "Device lookup failed");
            long start = a.unsignedArg(4, "Invalid device sector");
            a.requireArea(dev, start, a.len()); // crypt_iterate_devices
            boolean sameCpu = false, highPri = false, submitFromCrypt = false, noRead = false, noWrite = false;
            if (a.argc() > 5) {
                long n = a.unsignedArg(5, "Invalid number of feature args");
                if (n > 8 || a.argc() != 6 + n) {
                    throw a.error("Invalid number of feature args");
                }
                for (int i = 6; i < a.argc(); i++) {
                    switch (a.arg(i)) {
                        case "allow_discards" -> { }
                        case "same_cpu_crypt" -> sameCpu = true;
                        case "high_priority" -> highPri = true;
                        case "submit_from_crypt_cpus" -> submitFromCrypt = true;
                        case "no_read_workqueue" -> noRead = true;
                        case "no_write_workqueue" -> noWrite = true;
                        default -> throw a.error("Invalid feature arguments (" + a.arg(i) + ")");
                    }
                }
            }
            return new Args(cipher, key, ivOffset, dev, start, sameCpu, highPri, submitFromCrypt, noRead, noWrite);
        }

        @Override
        public Target construct(TargetContext ti, Args args) {
            return new CryptTarget(ti, args);
        }
    };

    /** {@code crypt_decode_key}: hex digits, an even number of them (the model keeps 64 bits of it); "-" is no key. */
    private static long decodeKey(TargetArgs a, String s) {
        if (s.equals("-")) {
            return 0;
        }
        if (s.startsWith(":")) {
            throw a.error("Error decoding and setting key (keyring keys are not modelled)");
        }
        if (s.length() % 2 != 0 || !s.matches("[0-9a-fA-F]+")) {
            throw a.error("Error decoding and setting key");
        }
        long k = 0;
        for (int i = 0; i < s.length(); i++) {
            k = k * 31 + Character.digit(s.charAt(i), 16);
        }
        return k;
    }

    /** One request in flight ({@code struct dm_crypt_io}); owned by whichever context runs it. */
    private final class CryptIo {
        final Bio base;
        /** Sector of the device below that the request starts at. */
        final long sector;
        /** The write's buffer pages, one pool element each. */
        final List<Pages> pages = new ArrayList<>();
        /** The work item, re-initialised for each queue it goes on ({@code INIT_WORK}). */
        Work work;

        CryptIo(Bio base, long sector) {
            this.base = base;
            this.sector = sector;
        }
    }

    private final TargetContext ti;
    private final RescuerSystem sys;
    private final BlockDevice dev;
    private final long start;
    private final long key;
    private final long ivOffset;
    private final Args args;
    private final AllocBuffer allocBuffer;
    /** {@code cc->io_queue}. */
    private final WorkQueue ioQueue;
    /** {@code cc->crypt_queue}. */
    private final WorkQueue cryptQueue;
    /** {@code cc->page_pool}: {@code BIO_MAX_VECS} single pages from {@link #cryptPageAlloc}. */
    private final Mempool<Pages> pagePool;
    /** {@code cc->bs}: the memory of read clones, {@code MIN_IOS} one-page elements. */
    private final Mempool<Pages> cloneSet;
    /** {@code cc->bio_alloc_lock}. */
    private final Mutex bioAllocLock;
    /** {@code dm_crypt_pages_per_client}, fixed at construction. */
    private final long pagesPerClient;
    /** {@code cc->n_allocated_pages}. Atomic: pages taken from the allocator by the pool's source and not given back. */
    private final AtomicLong nAllocatedPages = new AtomicLong();
    /** Requests that took the blocking path of the serialised allocation; for tests and measurements. Atomic. */
    private final AtomicLong blockingAllocations = new AtomicLong();

    private CryptTarget(TargetContext ti, Args a) {
        this.ti = ti;
        this.sys = ti.dm().system();
        this.args = a;
        this.dev = ti.getDevice(a.device(), a.start() + ti.len(), "Device lookup failed");
        this.start = a.start();
        this.key = a.key();
        this.ivOffset = a.ivOffset();
        try {
            this.allocBuffer = AllocBuffer.of(ti.dm().params().get(MODULE, ALLOC_BUFFER));
        } catch (IllegalArgumentException e) {
            throw new DmTargetException("crypt", e.getMessage());
        }
        PageAllocator pages = sys.pages();
        this.pagesPerClient = Math.max(pages.totalPages() * DM_CRYPT_MEMORY_PERCENT / 100, DM_CRYPT_MIN_PAGES_PER_CLIENT);
        String name = ti.deviceName();
        Set<WqFlag> common = a.highPriority() ? EnumSet.of(WqFlag.MEM_RECLAIM, WqFlag.HIGHPRI) : EnumSet.of(WqFlag.MEM_RECLAIM);
        this.ioQueue = sys.workqueues().create("kcryptd_io/" + name, 1, common.toArray(new WqFlag[0]));
        Set<WqFlag> crypt = EnumSet.copyOf(common);
        crypt.add(WqFlag.CPU_INTENSIVE);
        if (a.sameCpuCrypt()) {
            this.cryptQueue = sys.workqueues().create("kcryptd/" + name, 1, crypt.toArray(new WqFlag[0]));
        } else {
            crypt.add(WqFlag.UNBOUND);
            this.cryptQueue = sys.workqueues().create("kcryptd/" + name, sys.workqueues().cpus(), crypt.toArray(new WqFlag[0]));
        }
        this.cloneSet = Mempool.ofPages(pages, "crypt bs " + name, MIN_IOS, 1);
        this.bioAllocLock = new Mutex(sys.platform(), "bio_alloc_lock " + name, "cc->bio_alloc_lock");
        this.pagePool = Mempool.create(sys.platform(), "crypt page_pool " + name, BIO_MAX_VECS, new Mempool.Source<>() {
            @Override
            public Pages allocate(Gfp gfp) {
                return cryptPageAlloc(gfp);
            }

            @Override
            public void free(Pages element) {
                cryptPageFree(element);
            }
        });
        declareWaits(ti.dm().waitGraph(), name);
    }

    /**
     * Declares who waits on whom: an I/O on the crypt device waits for {@code kcryptd} (a write is
     * encrypted there before its clone is submitted, a read decrypted there after its clone ends) and
     * for {@code kcryptd_io} (a read whose clone could not be allocated without waiting is retried
     * there); both queues' items wait on the lower device (they submit the clones, and
     * {@code crypt_alloc_buffer} waits on the page pool, which {@code crypt_endio} of earlier writes
     * refills).
     */
    private void declareWaits(WaitGraph g, String name) {
        g.queue(cryptQueue);
        g.queue(ioQueue);
        g.waitsOn(name, cryptQueue.name(), "crypt_map -> kcryptd_queue_crypt: the bio is en- or decrypted on kcryptd");
        g.waitsOn(name, ioQueue.name(), "kcryptd_queue_read: a read whose clone needs GFP_NOIO is submitted from kcryptd_io");
        g.waitsOn(cryptQueue.name(), dev.name(), "kcryptd_crypt_write_convert: crypt_alloc_buffer waits on the page pool (refilled by crypt_endio), then submits the clone");
        g.waitsOn(ioQueue.name(), dev.name(), "kcryptd_io_read submits the read clone to " + dev.name());
    }

    /** {@code crypt_page_alloc}: refuses a {@code NORETRY} allocation past the client's share. */
    private Pages cryptPageAlloc(Gfp gfp) {
        if (nAllocatedPages.get() >= pagesPerClient && gfp.has(Gfp.Modifier.NORETRY)) {
            return null;
        }
        Pages p = sys.pages().tryAllocate(1, gfp);
        if (p != null) {
            nAllocatedPages.incrementAndGet();
        }
        return p;
    }

    /** {@code crypt_page_free}. */
    private void cryptPageFree(Pages p) {
        p.free();
        nAllocatedPages.decrementAndGet();
    }

    /** The {@code kcryptd} queue. */
    public WorkQueue cryptQueue() {
        return cryptQueue;
    }

    /** The {@code kcryptd_io} queue. */
    public WorkQueue ioQueue() {
        return ioQueue;
    }

    /** The write-buffer page pool. */
    public Mempool<Pages> pagePool() {
        return pagePool;
    }

    /** {@code cc->bio_alloc_lock}. */
    public Mutex bioAllocLock() {
        return bioAllocLock;
    }

    /** The client's page share ({@code dm_crypt_pages_per_client}). */
    public long pagesPerClient() {
        return pagesPerClient;
    }

    /** Requests whose buffer allocation fell back to the blocking, serialised path. */
    public long blockingAllocations() {
        return blockingAllocations.get();
    }

    /** How the buffer allocation takes pages. */
    public AllocBuffer allocBuffer() {
        return allocBuffer;
    }

    /** {@code crypt_map}: writes larger than {@code BIO_MAX_VECS} pages are split by dm core. */
    @Override
    public long maxIoLen(long offset) {
        return (long) BIO_MAX_VECS * Bio.PAGE_SIZE / Bio.SECTOR_SIZE;
    }

    /** {@code crypt_map}. */
    @Override
    public DmMapio map(Bio bio) {
        if (bio.op() == BioOp.FLUSH) {
            bio.setDevice(dev);
            bio.setSector(0);
            return DmMapio.REMAPPED;
        }
        CryptIo io = new CryptIo(bio, start + ti.targetOffset(bio.sector()));
        if (bio.op() == BioOp.READ) {
            if (!kcryptdIoRead(io, Gfp.NOWAIT)) {
                kcryptdQueueRead(io);
            }
        } else {
            kcryptdQueueCrypt(io);
        }
        return DmMapio.SUBMITTED;
    }

    /**
     * {@code kcryptd_io_read}: clones the read from {@code cc->bs} with {@code gfp} and submits it;
     * with {@code GFP_NOIO} the bio set's pool never fails.
     *
     * @return false if the clone could not be allocated
     */
    private boolean kcryptdIoRead(CryptIo io, Gfp gfp) {
        Pages cloneMem = cloneSet.allocate(gfp);
        if (cloneMem == null) {
            return false;
        }
        if (io.base.data() == null) {
            io.base.setData(new long[io.base.sectors()], 0);
        }
        Bio clone = new Bio(BioOp.READ, io.base.flags(), dev, io.sector, io.base.sizeBytes(), cloneMem,
                done -> cryptEndio(io, done), "dm-crypt read " + ti.deviceName());
        clone.setData(io.base.data(), io.base.dataOffset());
        io.base.handTo(clone);
        BlockLayer.submitBioNoacct(clone);
        return true;
    }

    /** {@code kcryptd_queue_read}: the clone failed without waiting; {@code kcryptd_io} retries with {@code GFP_NOIO}. */
    private void kcryptdQueueRead(CryptIo io) {
        io.work = new Work("kcryptd_io_read_work " + ti.deviceName(), () -> kcryptdIoRead(io, Gfp.NOIO));
        io.base.deferEndio(ioQueue, io.work);
    }

    /**
     * {@code kcryptd_queue_crypt}: on {@code kcryptd}, or in this context when the table says no
     * workqueue for this direction (from interrupt context, in the BH workqueue, the kernel's tasklet).
     */
    private void kcryptdQueueCrypt(CryptIo io) {
        boolean inline = io.base.op() == BioOp.WRITE ? args.noWriteWorkqueue() : args.noReadWorkqueue();
        if (inline) {
            if (sys.platform().currentTask().inAtomic()) {
                io.work = new Work("kcryptd_crypt_tasklet " + ti.deviceName(), () -> kcryptdCrypt(io));
                io.base.deferEndio(sys.workqueues().systemBhWq(), io.work);
            } else {
                kcryptdCrypt(io);
            }
            return;
        }
        io.work = new Work("kcryptd_crypt " + ti.deviceName(), () -> kcryptdCrypt(io));
        io.base.deferEndio(cryptQueue, io.work);
    }

    /** {@code kcryptd_crypt}. */
    private void kcryptdCrypt(CryptIo io) {
        if (io.base.op() == BioOp.WRITE) {
            kcryptdCryptWriteConvert(io);
        } else {
            kcryptdCryptReadConvert(io);
        }
    }

    /** {@code kcryptd_crypt_write_convert}: buffer, encrypt, submit ({@code kcryptd_crypt_write_io_submit}). */
    private void kcryptdCryptWriteConvert(CryptIo io) {
        cryptAllocBuffer(io);
        int n = io.base.sectors();
        long[] cipher = new long[n];
        long[] plain = io.base.data();
        for (int s = 0; s < n; s++) {
            long p = plain == null ? 0 : plain[io.base.dataOffset() + s];
            cipher[s] = p ^ keystream(io.sector + s);
        }
        Bio clone = new Bio(BioOp.WRITE, io.base.flags(), dev, io.sector, io.base.sizeBytes(), null,
                done -> cryptEndio(io, done), "dm-crypt write " + ti.deviceName());
        clone.setData(cipher, 0);
        io.base.handTo(clone);
        BlockLayer.submitBioNoacct(clone);
    }

    /** {@code kcryptd_crypt_read_convert}: decrypt in place and end the original. */
    private void kcryptdCryptReadConvert(CryptIo io) {
        long[] d = io.base.data();
        for (int s = 0; s < io.base.sectors(); s++) {
            d[io.base.dataOffset() + s] ^= keystream(io.sector + s);
        }
        io.base.endio(BlkStatus.OK);
    }

    /** The model's cipher: a keyed mix of the {@code plain64} IV (sector + {@code iv_offset}). */
    private long keystream(long sector) {
        long x = (sector - start + ivOffset) * 0x9E3779B97F4A7C15L ^ key;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        return x ^ (x >>> 29);
    }

    /**
     * {@code crypt_alloc_buffer}: one pool page per page of the request, in the pattern
     * {@code dm_crypt.alloc_buffer} names (see the class comment).
     */
    private void cryptAllocBuffer(CryptIo io) {
        int nr = (io.base.sizeBytes() + Bio.PAGE_SIZE - 1) / Bio.PAGE_SIZE;
        if (allocBuffer == AllocBuffer.UNSERIALISED) {
            for (int i = 0; i < nr; i++) {
                io.pages.add(pagePool.allocate(Gfp.NOIO));
            }
            return;
        }
        if (allocPages(io, nr, Gfp.NOWAIT)) {
            return;
        }
        blockingAllocations.incrementAndGet();
        bioAllocLock.lock();
        try {
            allocPages(io, nr, Gfp.NOIO); // may sleep on the pool; it never fails
        } finally {
            bioAllocLock.unlock();
        }
    }

    /** Takes {@code nr} pool pages with {@code gfp}, or gives back what it took and returns false. */
    private boolean allocPages(CryptIo io, int nr, Gfp gfp) {
        for (int i = 0; i < nr; i++) {
            Pages p = pagePool.allocate(gfp);
            if (p == null) {
                cryptFreeBufferPages(io);
                return false;
            }
            io.pages.add(p);
        }
        return true;
    }

    /** {@code crypt_free_buffer_pages}. */
    private void cryptFreeBufferPages(CryptIo io) {
        for (Pages p : io.pages) {
            pagePool.free(p);
        }
        io.pages.clear();
    }

    /** {@code crypt_endio}: interrupt context. */
    private void cryptEndio(CryptIo io, Bio clone) {
        BlkStatus status = clone.status();
        if (clone.pages() != null) {
            cloneSet.free(clone.pages()); // bio_put of a read clone
        }
        if (io.base.op() == BioOp.WRITE) {
            cryptFreeBufferPages(io);
            io.base.endio(status);
            return;
        }
        if (status != BlkStatus.OK) {
            io.base.endio(status);
            return;
        }
        kcryptdQueueCrypt(io);
    }
}
