package dev.rescuer.storage.block;

import java.util.function.Consumer;

/**
 * The flush sequence of a blk-mq device with a volatile write cache ({@code block/blk-flush.c}): a
 * write with {@code REQ_PREFLUSH} or {@code REQ_FUA} reaches the driver as up to three requests, a
 * cache flush before the data ({@code REQ_FSEQ_PREFLUSH}, for {@code REQ_PREFLUSH}), the data
 * without those flags ({@code REQ_FSEQ_DATA}, keeping {@code REQ_FUA} only if the device supports
 * it), and a cache flush after it ({@code REQ_FSEQ_POSTFLUSH}, for {@code REQ_FUA} on a device
 * without FUA: FUA emulated by a post-flush). Each step is issued when the one before completed
 * ({@code blk_flush_complete_seq}); the original bio ends when the last step does, with the first
 * error any step had.
 *
 * <p>A driver's queueing path calls {@link #blkInsertFlush} first, as {@code blk_mq_submit_bio}
 * calls {@code blk_insert_flush}: {@code queueRq} is its {@code ->queue_rq}, which must not sleep, since
 * later steps are queued from the end-io of earlier ones. A device without a write cache needs none of
 * this ({@code submit_bio_noacct} clears both flags; the model's {@link Disk} ignores them).
 *
 * <p>Left out on purpose: the per-hardware-queue flush queue ({@code blk_flush_queue}), which lets
 * concurrent preflushes share one flush request ({@code flush_pending_idx}, {@code flush_running_idx}):
 * here each request gets its own flushes, so a device sees at least as many flushes as the kernel's,
 * never fewer; and flush merging into the data request for devices with FUA and no cache.
 */
public final class BlkFlush {

    /** Flush the cache before the data ({@code REQ_FSEQ_PREFLUSH}). */
    public static final int REQ_FSEQ_PREFLUSH = 1;
    /** The data ({@code REQ_FSEQ_DATA}). */
    public static final int REQ_FSEQ_DATA = 1 << 1;
    /** Flush the cache after the data ({@code REQ_FSEQ_POSTFLUSH}). */
    public static final int REQ_FSEQ_POSTFLUSH = 1 << 2;

    private BlkFlush() {
    }

    /**
     * {@code blk_flush_policy}: the steps a write needs on a device with a write cache
     * ({@code QUEUE_FLAG_WC}) that does ({@code fua}) or does not support {@code REQ_FUA}.
     */
    public static int blkFlushPolicy(Bio rq, boolean writeCache, boolean fua) {
        int policy = 0;
        if (rq.op() != BioOp.FLUSH && rq.sizeBytes() > 0) {
            policy |= REQ_FSEQ_DATA;
        }
        if (writeCache) {
            if (rq.hasFlag(Bio.REQ_PREFLUSH)) {
                policy |= REQ_FSEQ_PREFLUSH;
            }
            if (!fua && rq.hasFlag(Bio.REQ_FUA)) {
                policy |= REQ_FSEQ_POSTFLUSH;
            }
        }
        return policy;
    }

    /**
     * {@code blk_insert_flush} for a write on a device with a write cache: if it needs a flush before
     * or after, starts the sequence (the preflush, or the data, queued through {@code queueRq} now)
     * and returns true; the bio is the sequence's from then on. Otherwise returns false and the caller
     * queues the bio itself. Never sleeps if {@code queueRq} does not.
     */
    public static boolean blkInsertFlush(Bio rq, boolean fua, Consumer<Bio> queueRq) {
        if (rq.op() != BioOp.WRITE) {
            return false;
        }
        int policy = blkFlushPolicy(rq, true, fua);
        if ((policy & (REQ_FSEQ_PREFLUSH | REQ_FSEQ_POSTFLUSH)) == 0) {
            return false; // data only: issued directly (a FUA the device supports stays on it)
        }
        new Sequence(rq, policy, fua, queueRq).next();
        return true;
    }

    /** One request's way through the steps ({@code rq->flush.seq}). */
    private static final class Sequence {
        private final Bio rq;
        private final Consumer<Bio> queueRq;
        private final boolean fua;
        /** Steps still to issue; only the step running changes it (each is queued from the last one's end-io). */
        private int pending;

        Sequence(Bio rq, int policy, boolean fua, Consumer<Bio> queueRq) {
            this.rq = rq;
            this.pending = policy;
            this.fua = fua;
            this.queueRq = queueRq;
        }

        /** {@code blk_flush_complete_seq}: issues the next step, or ends the request. */
        void next() {
            Bio step;
            if ((pending & REQ_FSEQ_PREFLUSH) != 0) {
                pending &= ~REQ_FSEQ_PREFLUSH;
                step = flush("preflush");
            } else if ((pending & REQ_FSEQ_DATA) != 0) {
                pending &= ~REQ_FSEQ_DATA;
                int flags = rq.flags() & ~Bio.REQ_PREFLUSH & (fua ? ~0 : ~Bio.REQ_FUA);
                step = new Bio(BioOp.WRITE, flags, rq.device(), rq.sector(), rq.sizeBytes(), null, this::done, rq.origin());
                if (rq.data() != null) {
                    step.setData(rq.data(), rq.dataOffset());
                }
            } else if ((pending & REQ_FSEQ_POSTFLUSH) != 0) {
                pending &= ~REQ_FSEQ_POSTFLUSH;
                step = flush("postflush");
            } else {
                rq.endio(); // REQ_FSEQ_DONE
                return;
            }
            rq.handTo(step); // the request ends when its steps have
            queueRq.accept(step);
        }

        private Bio flush(String which) {
            return new Bio(BioOp.FLUSH, Bio.REQ_PREFLUSH, rq.device(), 0, 0, null, this::done, rq.origin() + " " + which);
        }

        private void done(Bio step) {
            if (step.status() != BlkStatus.OK) {
                pending = 0; // an error ends the sequence: the request fails with it
                rq.endio(step.status());
                return;
            }
            next();
        }
    }
}
