package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.DmMapio;
import dev.rescuer.storage.dm.ModuleParams;

import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code dm_snapshot} module's shared state ({@code drivers/md/dm-snap.c}): {@code _origins_lock}
 * (one writer-preferring rw-semaphore per system, not a Java static), the origin table it guards
 * ({@code _origins}), the module parameters ({@code snapshot_cow_threshold}, and {@code cow_throttle},
 * which stands for the kernel version: {@code semaphore} as in 5.0–5.3, {@code wait-unlocked} since
 * 5.4), and the origin write path shared by {@code snapshot-origin} and {@code pending_complete}:
 * {@link #doOrigin} and {@code __origin_write}.
 */
public final class SnapshotModule {

    /** The throttle of 721b1d98fb51 (5.0): a semaphore taken in {@code start_copy}. */
    public static final String THROTTLE_SEMAPHORE = "semaphore";
    /** The throttle of b21555786f18 (5.4): a counter, waiting with {@code _origins_lock} dropped. */
    public static final String THROTTLE_WAIT_UNLOCKED = "wait-unlocked";

    private final DeviceMapper dm;
    private final RwSemaphore originsLock;
    /**
     * {@code _origins}. Changed and walked under {@link #originsLock}; a concurrent map only so that
     * {@link #splitBoundary} can read an origin's boundary without the lock, as {@code origin_map}
     * reads {@code o->split_boundary}.
     */
    private final Map<BlockDevice, Origin> origins = new ConcurrentHashMap<>();
    private final int cowThreshold;
    private final String throttle;

    /**
     * The module loaded with {@code params}.
     *
     * @throws IllegalArgumentException for a bad {@code snapshot_cow_threshold} or {@code cow_throttle}
     */
    public SnapshotModule(DeviceMapper dm, ModuleParams params) {
        this.dm = dm;
        this.originsLock = new RwSemaphore(dm.platform(), "_origins_lock", "&_origins_lock");
        checkParams(params);
        this.cowThreshold = Integer.parseUnsignedInt(params.get("dm_snapshot", "snapshot_cow_threshold"));
        this.throttle = params.get("dm_snapshot", "cow_throttle");
    }

    /**
     * Checks the module's parameter values.
     *
     * @throws IllegalArgumentException naming the parameter and the value
     */
    public static void checkParams(ModuleParams params) {
        String t = params.get("dm_snapshot", "snapshot_cow_threshold");
        try {
            Integer.parseUnsignedInt(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dm_snapshot.snapshot_cow_threshold: '" + t + "' is not an unsigned integer");
        }
        String throttle = params.get("dm_snapshot", "cow_throttle");
        if (!List.of(THROTTLE_SEMAPHORE, THROTTLE_WAIT_UNLOCKED).contains(throttle)) {
            throw new IllegalArgumentException("dm_snapshot.cow_throttle: '" + throttle + "' is neither "
                    + THROTTLE_SEMAPHORE + " nor " + THROTTLE_WAIT_UNLOCKED);
        }
    }

    /** {@code _origins_lock}. */
    public RwSemaphore originsLock() {
        return originsLock;
    }

    /**
     * The wait-graph point standing for the pending exceptions of every snapshot of origin device
     * {@code origin} (what {@code __origin_write} makes an origin bio wait on).
     */
    static String pendingExceptionsPoint(String origin) {
        return "pending_exceptions/" + origin;
    }

    DeviceMapper dm() {
        return dm;
    }

    Platform platform() {
        return dm.platform();
    }

    /** A throttle for a new snapshot, of the kind the module parameter selects. */
    CowThrottle newThrottle(String snapshot) {
        return THROTTLE_SEMAPHORE.equals(throttle)
                ? new CowCountSemaphore(platform(), snapshot, cowThreshold)
                : new InProgressWait(platform(), snapshot, cowThreshold);
    }

    /**
     * {@code register_snapshot}: adds the snapshot to its origin's list under {@code _origins_lock}
     * for write. The origin record is allocated before the lock is taken (60c856c8e2f5).
     */
    void registerSnapshot(DmSnapshot s) {
        Origin fresh = new Origin(s.origin());
        originsLock.downWrite();
        try {
            Origin o = origins.get(s.origin());
            if (o == null) {
                o = fresh;
                origins.put(s.origin(), o);
            }
            o.insertSnapshot(s);
        } finally {
            originsLock.upWrite();
        }
    }

    /** The split boundary of {@code origin}'s writes, in sectors, or 0 when it has no snapshot. */
    int splitBoundary(BlockDevice origin) {
        Origin o = origins.get(origin);
        return o == null ? 0 : o.splitBoundary;
    }

    /**
     * {@code do_origin}: under {@code _origins_lock} for read, tells every snapshot of the origin
     * about a write. With {@code limit} (from {@code origin_map}) it first waits for each snapshot's
     * throttle, starting over whenever a wait dropped the lock; the completion path
     * ({@code retry_origin_bios}) passes false and is never throttled there.
     */
    DmMapio doOrigin(BlockDevice origin, Bio bio, boolean limit) {
        while (true) {
            originsLock.downRead();
            boolean[] held = {true};
            Runnable unlockOrigins = () -> {
                held[0] = false;
                originsLock.upRead();
            };
            try {
                Origin o = origins.get(origin);
                if (o == null) {
                    return DmMapio.REMAPPED;
                }
                if (limit) {
                    for (DmSnapshot s : o.snapshots) {
                        if (!s.throttle().waitForInProgress(unlockOrigins)) {
                            break; // it released _origins_lock and slept: goto again
                        }
                    }
                }
                if (held[0]) {
                    return originWrite(o.snapshots, bio.sector(), bio);
                }
            } finally {
                if (held[0]) {
                    originsLock.upRead();
                }
            }
        }
    }

    /**
     * {@code __origin_write}: for every valid, active snapshot that has no exception for the chunk
     * yet, find or make its pending exception; the bio waits on the first of them
     * ({@code origin_bios}), whose copy is started last, to give the others a head start; the others
     * are started at once.
     */
    private static DmMapio originWrite(List<DmSnapshot> snapshots, long sector, Bio bio) {
        DmMapio r = DmMapio.REMAPPED;
        PendingException peToStartLast = null;
        for (DmSnapshot snap : snapshots) {
            if (sector >= snap.len()) {
                continue; // nothing to do if writing beyond the end of the snapshot
            }
            DmSnapshot.OriginWriteStep step = snap.originWriteStep(snap.sectorToChunk(sector), bio);
            if (step.submitted()) {
                r = DmMapio.SUBMITTED;
            }
            if (step.tookBio()) {
                bio = null;
            }
            if (step.startLast() != null) {
                peToStartLast = step.startLast();
            }
            if (step.startNow() != null) {
                snap.startCopy(step.startNow());
            }
        }
        if (peToStartLast != null) {
            peToStartLast.snap.startCopy(peToStartLast);
        }
        return r;
    }
}
