package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioList;

/**
 * A chunk being copied to the COW device ({@code struct dm_snap_pending_exception}): its origin and
 * COW chunks, the bios that wait for the copy (writes to the origin, {@code origin_bios}; writes to
 * the snapshot, {@code snapshot_bios}), whether the copy was started, and its place in the order of
 * completion ({@code exception_sequence}). Guarded by the snapshot's {@code s->lock}, except the copy
 * result, which only kcopyd's completion touches. For reports it is the {@link HandedOnEvent} its
 * bios wait for: their completer, which points on to the copy.
 */
final class PendingException implements HandedOnEvent {

    final DmSnapshot snap;
    final long oldChunk;
    long newChunk;
    final BioList originBios = new BioList();
    final BioList snapshotBios = new BioList();
    boolean started;
    long exceptionSequence;
    boolean copyError;
    /**
     * A write that covers the whole chunk and is written to the COW chunk instead of a copy
     * ({@code full_bio}, {@code start_full_bio}), or {@code null}; its end-io is {@link #fullBioEndIo}
     * again when {@code pending_complete} ends it.
     */
    Bio fullBio;
    /** The full bio's own end-io ({@code full_bio_end_io} saved), restored by {@code pending_complete}. */
    java.util.function.Consumer<Bio> fullBioEndIo;
    /** The copy kcopyd does for it, once {@code start_copy} has run; volatile, for reports only. */
    volatile HandedOnEvent copy;

    PendingException(DmSnapshot snap, long oldChunk) {
        this.snap = snap;
        this.oldChunk = oldChunk;
    }

    /** The copy, which the bios waiting here wait for in turn; {@code null} before it starts. */
    @Override
    public Object completer() {
        return copy;
    }

    @Override
    public String describe() {
        return this + (copy == null ? ", copy not started" : ", waits for");
    }

    @Override
    public String toString() {
        return "pending exception " + oldChunk + "->" + newChunk + " of " + snap.name();
    }
}
