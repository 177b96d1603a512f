package dev.rescuer.storage.dm.verity;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.DmMapio;
import dev.rescuer.storage.dm.Target;
import dev.rescuer.storage.dm.TargetArgs;
import dev.rescuer.storage.dm.TargetContext;
import dev.rescuer.storage.dm.TargetType;
import dev.rescuer.storage.dm.bufio.DmBuffer;
import dev.rescuer.storage.dm.bufio.DmBufioClient;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code verity} target ({@code drivers/md/dm-verity-target.c}): a read-only device whose every
 * data block is checked against a hash tree on a hash device before the read ends. Table arguments:
 * {@code <version> <data dev> <hash dev> <data block size> <hash block size> <#data blocks>
 * <hash start block> <algorithm> <root digest> <salt> [<#opt params> <opt params>...]}.
 *
 * <p><b>What it models.</b> {@code verity_map} remaps a read to the data device and hooks its
 * end-io; writes, unaligned bios and bios past the data are killed. {@code verity_end_io} (interrupt
 * context) hands the io to {@code kverityd}, or, with {@code try_verify_in_tasklet}, to the system's
 * BH workqueue, as upstream does since 6.9. {@code verity_verify_io} checks every block:
 * {@code verity_hash_for_block} walks the tree from the root down through the hash blocks, read
 * through {@link DmBufioClient} (in BH only {@code dm_bufio_get}, which never does I/O), checking
 * each hash block once ({@code hash_verified}); a miss in BH returns {@code -EAGAIN} and the io falls
 * back to {@code kverityd}. One work item per io at a time: the fallback re-initialises it
 * ({@code INIT_WORK}) for the other queue, as the seed thread settled. A mismatch ends the bio with
 * an I/O error ({@code verity_handle_err} in its default, EIO mode).
 *
 * <p>{@code kverityd} is created with {@code WQ_MEM_RECLAIM | WQ_HIGHPRI} and {@code max_active} =
 * the number of CPUs, as in the kernel. The optional parameter {@code kverityd_flags=<f>[+<f>]}
 * ({@code mem_reclaim}, {@code highpri}, {@code none}) is the model's, not the kernel's: it stands for
 * a kernel built otherwise (Eric Biggers' 2024 patch that drops {@code WQ_MEM_RECLAIM}).
 *
 * <p>Left out on purpose: forward error correction, the {@code ignore_corruption} /
 * {@code restart_on_corruption} / {@code panic_on_corruption} modes, {@code ignore_zero_blocks},
 * {@code check_at_most_once}, signatures, prefetch of hash blocks, version 0's salt placement, and a
 * crypto API: the digest is the model's 64-bit hash ({@link VerityTree#hash}) and the algorithm must
 * be named {@code sha256}.
 */
public final class VerityTarget implements Target {

    /** The parsed table arguments. */
    public record Args(String dataDev, String hashDev, int dataBlockBytes, int hashBlockBytes, long dataBlocks, long hashStart,
                       long rootDigest, long salt, boolean tryVerifyInTasklet, Set<WqFlag> kverityd) {
    }

    /** The {@code verity} target type. */
    public static final TargetType<Args> TYPE = new TargetType<>() {
        @Override
        public String name() {
            return "verity";
        }

        @Override
        public Args parse(TargetArgs a) {
            if (a.argc() < 10) {
                throw a.error("Not enough arguments");
            }
            if (!a.arg(0).equals("0") && !a.arg(0).equals("1")) {
                throw a.error("Invalid version");
            }
            String data = a.deviceArg(1, "Data device lookup failed");
            String hash = a.deviceArg(2, "Hash device lookup failed");
            int dbs = blockSize(a, 3, "Invalid data device block size");
            int hbs = blockSize(a, 4, "Invalid hash device block size");
            long blocks = a.unsignedArg(5, "Invalid data blocks");
            if (blocks > Long.MAX_VALUE / (dbs / Bio.SECTOR_SIZE)) {
                throw a.error("Invalid data blocks"); // the kernel's (sector_t)(num_ll << bits) >> bits != num_ll
            }
            if (blocks == 0 || blocks * (dbs / Bio.SECTOR_SIZE) < a.len()) {
                throw a.error("Data device is too small");
            }
            a.requireArea(data, 0, a.len()); // verity_iterate_devices: the data device
            long hashStart = a.unsignedArg(6, "Invalid hash start");
            if (hashStart > Long.MAX_VALUE / (hbs / Bio.SECTOR_SIZE)) {
                throw a.error("Invalid hash start");
            }
            long hashSize = a.deviceSectors(hash);
            if (hashSize >= 0 && hashSize / (hbs / Bio.SECTOR_SIZE)
                    < new VerityTree(blocks, hbs / Bio.SECTOR_SIZE, hashStart).hashDeviceBlocks()) {
                throw a.error("Hash device is too small"); // verity_ctr, after dm_bufio_client_create
            }
            if (!a.arg(7).equals("sha256")) {
                throw a.error("Cannot initialize hash function (the model knows sha256 only)");
            }
            long root = hex(a, 8, "Invalid root digest");
            long salt = a.arg(9).equals("-") ? 0 : hex(a, 9, "Invalid salt");
            boolean tasklet = false;
            Set<WqFlag> flags = EnumSet.of(WqFlag.MEM_RECLAIM, WqFlag.HIGHPRI);
            if (a.argc() > 10) {
                long n = a.unsignedArg(10, "Invalid number of feature args");
                if (a.argc() != 11 + n) {
                    throw a.error("Invalid number of feature args");
                }
                for (int i = 11; i < a.argc(); i++) {
                    String opt = a.arg(i);
                    if (opt.equals("try_verify_in_tasklet")) {
                        tasklet = true;
                    } else if (opt.startsWith("kverityd_flags=")) {
                        flags = EnumSet.noneOf(WqFlag.class);
                        for (String f : opt.substring("kverityd_flags=".length()).split("\\+")) {
                            switch (f) {
                                case "mem_reclaim" -> flags.add(WqFlag.MEM_RECLAIM);
                                case "highpri" -> flags.add(WqFlag.HIGHPRI);
                                case "none" -> { }
                                default -> throw a.error("Unrecognized verity feature request (kverityd flag '" + f + "')");
                            }
                        }
                    } else {
                        throw a.error("Unrecognized verity feature request");
                    }
                }
            }
            return new Args(data, hash, dbs, hbs, blocks, hashStart, root, salt, tasklet, flags);
        }

        @Override
        public Target construct(TargetContext ti, Args args) {
            return new VerityTarget(ti, args);
        }
    };

    private static int blockSize(TargetArgs a, int i, String error) {
        long v = a.unsignedArg(i, error);
        if (!validBlockSize(v)) {
            throw a.error(error);
        }
        return (int) v;
    }

    /**
     * verity_ctr's rule for the data and hash block sizes: a power of 2 from the device's logical
     * block size (512 in the model) to {@code PAGE_SIZE} (4096).
     */
    public static boolean validBlockSize(long bytes) {
        return bytes >= Bio.SECTOR_SIZE && bytes <= Bio.PAGE_SIZE && Long.bitCount(bytes) == 1;
    }

    private static long hex(TargetArgs a, int i, String error) {
        String s = a.arg(i);
        if (s.length() != 16 || !s.matches("[0-9a-fA-F]+")) {
            throw a.error(error + " (the model's digests are 16 hex digits)");
        }
        return Long.parseUnsignedLong(s, 16);
    }

    /** Formats a digest as the table wants it. */
    public static String hex(long digest) {
        return String.format(Locale.ROOT, "%016x", digest);
    }

    /** One read in flight ({@code struct dm_verity_io}); owned by whichever context runs it. */
    private final class VerityIo {
        final Bio bio;
        final Consumer<Bio> origEndIo;
        final Object origPrivate;
        final long block;
        final int nBlocks;
        /** Whether verification runs in BH ({@code io->in_bh}). */
        boolean inBh;
        /** The io's work item; re-initialised when it moves to another queue ({@code INIT_WORK}). */
        Work work;

        VerityIo(Bio bio) {
            this.bio = bio;
            this.origEndIo = bio.endIo();
            this.origPrivate = bio.privateData();
            this.block = bio.sector() / dataSectors;
            this.nBlocks = bio.sectors() / dataSectors;
        }
    }

    /** {@code -EAGAIN} of {@code verity_verify_level} in BH: a hash block is not cached. */
    private static final int EAGAIN = 1;
    /** {@code -EIO}: a digest did not match, or a hash block could not be read. */
    private static final int EIO = 2;

    private final TargetContext ti;
    private final BlockDevice dataDev;
    private final int dataSectors;
    private final int hashSectors;
    private final long dataBlocks;
    private final long rootDigest;
    private final long salt;
    private final boolean useBhWq;
    private final VerityTree tree;
    private final DmBufioClient bufio;
    private final WorkQueue verifyWq;
    private final WorkQueue bhWq;
    /** Ios verified in BH, and ios that fell back from BH to {@code kverityd}; for tests and measurements. */
    private final java.util.concurrent.atomic.AtomicLong verifiedInBh = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong fellBack = new java.util.concurrent.atomic.AtomicLong();

    private VerityTarget(TargetContext ti, Args a) {
        this.ti = ti;
        RescuerSystem sys = ti.dm().system();
        this.dataDev = ti.getDevice(a.dataDev(), a.dataBlocks() * (a.dataBlockBytes() / Bio.SECTOR_SIZE), "Data device lookup failed");
        this.dataSectors = a.dataBlockBytes() / Bio.SECTOR_SIZE;
        this.hashSectors = a.hashBlockBytes() / Bio.SECTOR_SIZE;
        this.dataBlocks = a.dataBlocks();
        this.rootDigest = a.rootDigest();
        this.salt = a.salt();
        this.useBhWq = a.tryVerifyInTasklet();
        this.tree = new VerityTree(dataBlocks, hashSectors, a.hashStart());
        BlockDevice hashDev = ti.getDevice(a.hashDev(), tree.hashDeviceBlocks() * hashSectors, "Hash device lookup failed");
        this.bufio = new DmBufioClient(sys, hashDev, a.hashBlockBytes(), 1,
                useBhWq ? DmBufioClient.DM_BUFIO_CLIENT_NO_SLEEP : 0, "verity " + ti.deviceName());
        this.verifyWq = sys.workqueues().create("kverityd/" + ti.deviceName(), sys.workqueues().cpus(),
                a.kverityd().toArray(new WqFlag[0]));
        this.bhWq = sys.workqueues().systemBhWq();
        var g = ti.dm().waitGraph();
        g.queue(verifyWq);
        g.waitsOn(ti.deviceName(), verifyWq.name(), "verity_end_io -> verity_submit_verify: the read completes after kverityd verifies it");
        g.waitsOn(verifyWq.name(), hashDev.name(), "verity_verify_io -> dm_bufio_read of the hash blocks");
        bufio.declareWaits(g);
    }

    /** The {@code kverityd} queue. */
    public WorkQueue verifyWorkqueue() {
        return verifyWq;
    }

    /** The hash-block cache. */
    public DmBufioClient bufio() {
        return bufio;
    }

    /** {@code verity_map}. */
    @Override
    public DmMapio map(Bio bio) {
        if (bio.op() == BioOp.FLUSH) {
            bio.setDevice(dataDev);
            bio.setSector(0);
            return DmMapio.REMAPPED;
        }
        long sector = ti.targetOffset(bio.sector());
        if (bio.op() == BioOp.WRITE) {
            return DmMapio.KILL;
        }
        if ((sector | bio.sectors()) % dataSectors != 0) {
            return DmMapio.KILL; // unaligned io
        }
        if ((sector + bio.sectors()) / dataSectors > dataBlocks) {
            return DmMapio.KILL; // io out of range
        }
        bio.setDevice(dataDev);
        bio.setSector(sector);
        if (bio.data() == null) {
            bio.setData(new long[bio.sectors()], 0); // the data must be seen to be checked
        }
        VerityIo io = new VerityIo(bio);
        bio.setPrivateData(io);
        bio.setEndIo(this::verityEndIo);
        return DmMapio.REMAPPED;
    }

    /** {@code verity_end_io}: interrupt context. */
    private void verityEndIo(Bio bio) {
        bio.reopen(); // it ends again, with dm core's end-io, once verified
        VerityIo io = (VerityIo) bio.privateData();
        if (bio.status() != BlkStatus.OK) {
            finish(io, bio.status());
            return;
        }
        if (useBhWq) {
            io.inBh = true;
            io.work = new Work("verity_bh_work " + ti.deviceName(), () -> verityBhWork(io));
            io.bio.deferEndio(bhWq, io.work);
        } else {
            io.work = new Work("verity_work " + ti.deviceName(), () -> verityWork(io));
            io.bio.deferEndio(verifyWq, io.work);
        }
    }

    /** {@code verity_bh_work}: BH context; falls back to {@code kverityd} on a cache miss. */
    private void verityBhWork(VerityIo io) {
        int err = verifyIo(io);
        if (err == EAGAIN) {
            fellBack.incrementAndGet();
            io.inBh = false;
            io.work = new Work("verity_work " + ti.deviceName(), () -> verityWork(io));
            io.bio.deferEndio(verifyWq, io.work);
            return;
        }
        verifiedInBh.incrementAndGet();
        finish(io, err == 0 ? BlkStatus.OK : BlkStatus.IOERR);
    }

    /** Ios whose verification finished in BH context. */
    public long verifiedInBh() {
        return verifiedInBh.get();
    }

    /** Ios that missed the hash cache in BH and fell back to {@code kverityd}. */
    public long fellBackToWorkqueue() {
        return fellBack.get();
    }

    /** {@code verity_work}: in {@code kverityd}, may sleep. */
    private void verityWork(VerityIo io) {
        io.inBh = false;
        finish(io, verifyIo(io) == 0 ? BlkStatus.OK : BlkStatus.IOERR);
    }

    /** {@code verity_finish_io}: gives the bio back its end-io and ends it. */
    private void finish(VerityIo io, BlkStatus status) {
        io.bio.setEndIo(io.origEndIo);
        io.bio.setPrivateData(io.origPrivate);
        io.bio.endio(status);
    }

    /** {@code verity_verify_io}: 0, {@link #EAGAIN} or {@link #EIO}. */
    private int verifyIo(VerityIo io) {
        for (int b = 0; b < io.nBlocks; b++) {
            long[] want = new long[1];
            int r = hashForBlock(io, io.block + b, want);
            if (r != 0) {
                return r;
            }
            long real = VerityTree.hash(salt, io.bio.data(), io.bio.dataOffset() + b * dataSectors, dataSectors);
            if (real != want[0]) {
                return EIO; // verity_handle_err: "data block is corrupted"
            }
        }
        return 0;
    }

    /**
     * {@code verity_hash_for_block}: the wanted digest of data block {@code block}. First from a
     * verified level-0 block alone; otherwise from the root down, checking each unverified level.
     */
    private int hashForBlock(VerityIo io, long block, long[] want) {
        int r = verifyLevel(io, block, 0, true, want);
        if (r <= 0) {
            return -r; // 0, or an error
        }
        want[0] = rootDigest;
        for (int level = tree.levels() - 1; level >= 0; level--) {
            r = verifyLevel(io, block, level, false, want);
            if (r != 0) {
                return -r;
            }
        }
        return 0;
    }

    /**
     * {@code verity_verify_level}: 0 with {@code want} set to the digest at this level, 1 if
     * {@code skipUnverified} and the block is not verified yet, or minus an error.
     */
    private int verifyLevel(VerityIo io, long block, int level, boolean skipUnverified, long[] want) {
        long hashBlock = tree.hashBlock(block, level);
        DmBuffer buf;
        if (io.inBh) {
            buf = bufio.get(hashBlock);
            if (buf == null) {
                return -EAGAIN;
            }
        } else {
            buf = bufio.read(hashBlock);
            if (buf == null) {
                return -EIO;
            }
        }
        try {
            if (!buf.isVerified()) {
                if (skipUnverified) {
                    return 1;
                }
                if (VerityTree.hash(salt, buf.data(), 0, hashSectors) != want[0]) {
                    return -EIO; // metadata block is corrupted
                }
                buf.setVerified();
            }
            want[0] = buf.data()[tree.offset(block, level)];
            return 0;
        } finally {
            bufio.release(buf);
        }
    }
}
