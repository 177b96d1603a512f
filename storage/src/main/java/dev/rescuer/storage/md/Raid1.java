package dev.rescuer.storage.md;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The raid1 personality ({@code drivers/md/raid1.c}): {@code raid1_make_request}. A read goes to one
 * mirror ({@code read_balance}: the first here); a write first passes {@code md_write_start}, then
 * one clone goes to every mirror ({@code raid1_write_request}), and the original ends when the last
 * clone does ({@code r1_bio->remaining}), with the first error seen.
 *
 * <p>Left out: {@code conf->pending_bio_list} and raid1d's flushing of it (clones are submitted
 * directly), the barrier buckets, write-behind, bad blocks, failing a mirror, read balancing by
 * distance, and the {@code r1bio} mempool and bio set (clones here carry no pages of their own).
 */
final class Raid1 {

    private final Mddev mddev;

    Raid1(Mddev mddev) {
        this.mddev = mddev;
    }

    /** {@code raid1_make_request}. */
    void makeRequest(Bio bio) {
        if (bio.op() == BioOp.WRITE) {
            mddev.mdWriteStart(bio);
            raid1WriteRequest(bio);
        } else if (bio.op() == BioOp.READ) {
            raid1ReadRequest(bio);
        } else {
            bio.endio(BlkStatus.OK); // an empty flush already reached every member
        }
    }

    private void raid1ReadRequest(Bio bio) {
        BlockDevice mirror = mddev.mirrors().get(0);
        BlockLayer.submitBioNoacct(clone(bio, mirror, bio.flags(), b -> bio.endio(b.status())));
    }

    private void raid1WriteRequest(Bio bio) {
        AtomicInteger remaining = new AtomicInteger(mddev.mirrors().size());
        AtomicReference<BlkStatus> status = new AtomicReference<>(BlkStatus.OK);
        for (BlockDevice mirror : mddev.mirrors()) {
            BlockLayer.submitBioNoacct(clone(bio, mirror, bio.flags(), b -> {
                if (b.status() != BlkStatus.OK) {
                    status.compareAndSet(BlkStatus.OK, b.status());
                }
                if (remaining.decrementAndGet() == 0) { // r1_bio_write_done
                    bio.endio(status.get());
                }
            }));
        }
    }

    /** The data part of a preflush write, as {@code md_submit_flush_data} sends it ({@code bi_opf &= ~REQ_PREFLUSH}). */
    static Bio withoutPreflush(Bio bio) {
        return clone(bio, bio.device(), bio.flags() & ~Bio.REQ_PREFLUSH, b -> bio.endio(b.status()));
    }

    private static Bio clone(Bio bio, BlockDevice to, int flags, Consumer<Bio> endIo) {
        Bio c = new Bio(bio.op(), flags, to, bio.sector(), bio.sizeBytes(), null, endIo, bio.origin());
        if (bio.data() != null) {
            c.setData(bio.data(), bio.dataOffset());
        }
        return c;
    }
}
