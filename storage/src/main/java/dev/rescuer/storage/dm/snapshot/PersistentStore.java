package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The persistent exception store ({@code P}, {@code drivers/md/dm-snap-persistent.c}) on the COW
 * device. Layout, in chunks: chunk 0 is the header; then, repeating, one metadata area followed by
 * the {@code exceptions_per_area} data chunks it describes. The model stores one long per sector, so
 * the header is four sectors (magic {@code SNAP_MAGIC}, valid, version 1, chunk size) and an area
 * holds one exception per two sectors (old chunk, new chunk); an entry whose new chunk is 0 ends the
 * list, as in the kernel.
 *
 * <p>Metadata I/O is synchronous and runs on the store's own {@code ksnaphd} queue
 * ({@code WQ_MEM_RECLAIM}), which the caller flushes: {@code chunk_io} does this so that the I/O never
 * recurses into {@code submit_bio_noacct}. {@link #commitException} batches as the kernel does: the
 * area is written ({@code REQ_PREFLUSH | REQ_FUA}) and the callbacks run only when no other prepared
 * exception is still being copied, or the area is full; then a full area is followed by a zeroed one.
 *
 * <p>Left out on purpose: the read-ahead of areas, merging ({@code snapshot-merge}), and the header's
 * on-disk endianness. Guarded by the snapshot's lock ({@code prepare}) and kcopyd's single worker
 * ({@code commit}), as in the kernel.
 */
final class PersistentStore implements ExceptionStore {

    static final long SNAP_MAGIC = 0x70416e53L;
    static final int SNAPSHOT_DISK_VERSION = 1;
    static final int NUM_SNAPSHOT_HDR_CHUNKS = 1;

    private final BlockDevice cow;
    private final int chunkSize;
    private final int exceptionsPerArea;
    private final WorkQueue metadataWq;
    private final String name;

    // Guarded by the snapshot's lock (prepare) and kcopyd's worker (commit), which the kernel also relies on.
    private long nextFree;
    private int pendingCount;
    private long currentArea;
    private int currentCommitted;
    private long[] area;
    private boolean valid = true;
    private final List<Consumer<Boolean>> callbacks = new ArrayList<>();

    PersistentStore(RescuerSystem system, String name, BlockDevice cow, int chunkSize) {
        this.name = name;
        this.cow = cow;
        this.chunkSize = chunkSize;
        this.exceptionsPerArea = chunkSize / 2;
        this.metadataWq = system.workqueues().create("ksnaphd/" + name, 0, WqFlag.MEM_RECLAIM);
        this.area = new long[chunkSize];
    }

    /** The {@code ksnaphd} queue the metadata I/O runs on ({@code chunk_io}). */
    WorkQueue metadataWorkqueue() {
        return metadataWq;
    }

    @Override
    public int chunkSize() {
        return chunkSize;
    }

    private long areaLocation(long a) {
        return NUM_SNAPSHOT_HDR_CHUNKS + (exceptionsPerArea + 1L) * a;
    }

    /** {@code skip_metadata}: a metadata chunk is never handed out as data. */
    private void skipMetadata() {
        long stride = exceptionsPerArea + 1L;
        if (nextFree % stride == NUM_SNAPSHOT_HDR_CHUNKS) {
            nextFree++;
        }
    }

    /** {@code chunk_io}: synchronous I/O of one chunk, issued from {@code ksnaphd}. */
    private boolean chunkIo(long chunk, BioOp op, int flags, long[] buffer) {
        Bio bio = new Bio(op, flags, cow, chunk * chunkSize, chunkSize * Bio.SECTOR_SIZE, null, null, "snapshot metadata " + name);
        bio.setData(buffer, 0);
        BlkStatus[] status = new BlkStatus[1];
        metadataWq.queue(new Work("do_metadata " + name, () -> status[0] = BlockLayer.submitBioWait(bio)));
        metadataWq.flush();
        return status[0] == BlkStatus.OK;
    }

    @Override
    public boolean readMetadata(ExceptionSink add) {
        long[] header = new long[chunkSize];
        if (!chunkIo(0, BioOp.READ, 0, header)) {
            return false;
        }
        if (header[0] == 0) { // a fresh COW device: write the header, zero the first area
            header[0] = SNAP_MAGIC;
            header[1] = 1;
            header[2] = SNAPSHOT_DISK_VERSION;
            header[3] = chunkSize;
            chunkIo(0, BioOp.WRITE, Bio.REQ_FUA, header);
            chunkIo(areaLocation(0), BioOp.WRITE, Bio.REQ_FUA, new long[chunkSize]);
            nextFree = NUM_SNAPSHOT_HDR_CHUNKS + 1;
            return true;
        }
        if (header[0] != SNAP_MAGIC || header[2] != SNAPSHOT_DISK_VERSION || header[3] != chunkSize) {
            valid = false;
            return false;
        }
        if (header[1] == 0) {
            valid = false;
            return false;
        }
        nextFree = NUM_SNAPSHOT_HDR_CHUNKS + 1;
        for (long a = 0; ; a++) { // read_exceptions
            long[] buf = new long[chunkSize];
            chunkIo(areaLocation(a), BioOp.READ, 0, buf);
            int i = 0;
            for (; i < exceptionsPerArea; i++) {
                long oldChunk = buf[2 * i];
                long newChunk = buf[2 * i + 1];
                if (newChunk == 0) {
                    break;
                }
                add.add(oldChunk, newChunk);
                nextFree = Math.max(nextFree, newChunk + 1);
            }
            if (i < exceptionsPerArea) {
                currentArea = a;
                currentCommitted = i;
                area = buf;
                break;
            }
        }
        skipMetadata();
        return true;
    }

    @Override
    public boolean prepareException(PendingException pe) {
        if (cow.capacitySectors() < (nextFree + 1) * chunkSize) {
            return false;
        }
        pe.newChunk = nextFree++;
        skipMetadata();
        pendingCount++;
        return true;
    }

    @Override
    public void commitException(PendingException pe, boolean exceptionValid, Consumer<Boolean> callback) {
        if (!exceptionValid) {
            valid = false;
        }
        area[2 * currentCommitted] = pe.oldChunk;
        area[2 * currentCommitted + 1] = pe.newChunk;
        currentCommitted++;
        callbacks.add(callback);
        if (--pendingCount != 0 && currentCommitted != exceptionsPerArea) {
            return;
        }
        boolean full = currentCommitted == exceptionsPerArea;
        if (full && !chunkIo(areaLocation(currentArea + 1), BioOp.WRITE, 0, new long[chunkSize])) {
            valid = false;
        }
        if (valid && !chunkIo(areaLocation(currentArea), BioOp.WRITE, Bio.REQ_PREFLUSH | Bio.REQ_FUA, area.clone())) {
            valid = false;
        }
        if (full) {
            currentCommitted = 0;
            currentArea++;
            area = new long[chunkSize];
        }
        List<Consumer<Boolean>> run = new ArrayList<>(callbacks);
        callbacks.clear();
        for (Consumer<Boolean> cb : run) {
            cb.accept(valid);
        }
    }
}
