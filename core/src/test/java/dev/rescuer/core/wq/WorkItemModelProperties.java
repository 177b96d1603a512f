package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A model of one item's PENDING bit and disable depth, checked against the runtime over random
 * sequences of queue, delayed queue, mod_delayed, cancel, cancelSync, disable and enable. The items
 * go to a {@link WqFlag#FREEZABLE} queue of a frozen system, so they stay pending and the model needs
 * no notion of time; every item is cleaned up at the end of its try, and at the end of the property
 * the thawed queue must have run nothing and must destroy cleanly (no timer left counted as armed).
 */
class WorkItemModelProperties {

    enum Op { QUEUE, QUEUE_DELAYED, QUEUE_DELAYED_ZERO, MOD_DELAYED, CANCEL, CANCEL_SYNC, DISABLE, ENABLE }

    private RescuerSystem sys;
    private WorkQueue frozen;
    private final AtomicInteger runs = new AtomicInteger();
    private int tries;

    @BeforeProperty
    void start() {
        sys = RescuerSystem.builder().totalPages(4096).workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
        frozen = sys.workqueues().create("frozen", 0, WqFlag.FREEZABLE);
        sys.workqueues().freeze();
    }

    @AfterProperty
    void stop() {
        try {
            sys.workqueues().thaw();
            frozen.flush();
            assertEquals(0, runs.get(), "every try cancelled what it left pending");
            frozen.destroy();
        } finally {
            sys.close();
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        return Arbitraries.of(Op.class).list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 300)
    void pendingAndDisableDepthFollowTheModel(@ForAll("ops") List<Op> ops) {
        DelayedWork w = new DelayedWork("model" + tries++, runs::incrementAndGet);
        boolean pending = false;
        int depth = 0;
        for (Op op : ops) {
            String at = op + " with pending=" + pending + " depth=" + depth + " in " + ops;
            switch (op) {
                case QUEUE: {
                    boolean expect = !pending && depth == 0;
                    assertEquals(expect, frozen.queue(w), at);
                    pending |= expect;
                    break;
                }
                case QUEUE_DELAYED: {
                    boolean expect = !pending && depth == 0;
                    assertEquals(expect, frozen.queueDelayed(w, Duration.ofHours(1)), at);
                    pending |= expect;
                    break;
                }
                case QUEUE_DELAYED_ZERO: {
                    boolean expect = !pending && depth == 0;
                    assertEquals(expect, frozen.queueDelayed(w, Duration.ZERO), at);
                    pending |= expect;
                    break;
                }
                case MOD_DELAYED:
                    assertEquals(pending, frozen.modDelayed(w, Duration.ofHours(1)), at);
                    pending = depth == 0;
                    break;
                case CANCEL:
                    assertEquals(pending, w.cancel(), at);
                    pending = false;
                    break;
                case CANCEL_SYNC:
                    assertEquals(pending, w.cancelSync(), at);
                    pending = false;
                    break;
                case DISABLE:
                    assertEquals(pending, w.disable(), at);
                    pending = false;
                    depth++;
                    break;
                case ENABLE:
                    if (depth == 0) {
                        assertThrows(IllegalStateException.class, w::enable, at);
                    } else {
                        assertEquals(depth == 1, w.enable(), at);
                        depth--;
                    }
                    break;
                default:
                    throw new AssertionError(op);
            }
            assertEquals(pending, w.isPending(), "isPending after " + at);
            assertEquals(depth != 0, w.isDisabled(), "isDisabled after " + at);
        }
        assertEquals(pending, w.cancel(), "cleanup");
        assertFalse(w.isPending());
        assertFalse(w.isTimerPending());
        assertEquals(0, runs.get(), "nothing runs while the system is frozen");
    }
}
