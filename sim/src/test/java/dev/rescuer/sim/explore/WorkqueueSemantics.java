package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.DelayedWork;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.SimPlatform;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The workqueue's own guarantees as a scenario: a few user tasks run a random program (drawn from the
 * run's seed) of queue, queue on a CPU, queue delayed, cancel, cancelSync, flush of an item and flush
 * of the queue over a handful of items, some of which sleep or re-queue themselves while they run.
 * Checked as they happen, by the items' bodies and the users, and at the end by a checker:
 * <ul>
 *   <li>every accepted queueing runs exactly once or is taken back by a cancel that reported it
 *       (runs started plus cancels reported never exceed queueings accepted, and at the end they are
 *       equal);
 *   <li>an item never runs concurrently with itself; on an ordered queue no two items run at once;
 *       with {@code max_active} 2 on one CPU no three;
 *   <li>{@code flush()} of an item, {@code cancelSync()} and {@code flush()} of the queue return only
 *       after the queueings accepted before the call ran or were cancelled (a delayed item still on
 *       its timer excepted for the queue's flush, as {@code flush_workqueue} does not fire timers),
 *       and {@code cancelSync()} returns with the item not running;
 *   <li>no hang (the explorer's deadlock, hung-task and livelock detection).
 * </ul>
 * A broken guarantee stops the run as a failure naming it, so the explorer reports its seed.
 */
final class WorkqueueSemantics implements Scenario {

    static final Variant NORMAL = new Variant("normal", "a per-CPU queue on two CPUs", Variant.Expectation.COMPLETES);
    static final Variant ORDERED = new Variant("ordered", "an ordered queue: one item at a time, in order", Variant.Expectation.COMPLETES);
    static final Variant MAX_ACTIVE = new Variant("max-active-2", "max_active 2, one CPU", Variant.Expectation.COMPLETES);
    static final Variant MEM_RECLAIM = new Variant("mem-reclaim",
            "a WQ_MEM_RECLAIM queue whose pool cannot create workers half the time, so its rescuer runs items",
            Variant.Expectation.COMPLETES);

    static final int USERS = 3;
    static final int OPS_PER_USER = 8;
    static final int PLAIN = 3;
    static final int DELAYED = 2;

    private enum Op { QUEUE, QUEUE_ON, QUEUE_DELAYED, CANCEL, CANCEL_SYNC, FLUSH, FLUSH_QUEUE, NAP }

    /** One step of a user's program. */
    private record Step(Op op, int item, int arg) {
        @Override
        public String toString() {
            return op + (op == Op.FLUSH_QUEUE || op == Op.NAP ? "" : "(" + itemName(item) + ")") + (arg > 0 ? "/" + arg : "");
        }
    }

    /**
     * What the runs exercised, summed over runs (the explorer runs them one at a time on one thread),
     * so that a test can show its schedules reached the paths it means to check.
     */
    static final class Coverage {
        long runs;
        long cancelsReported;
        long waitingFlushes;
        long rescued;
        int mostAtOnce;

        @Override
        public String toString() {
            return "runs " + runs + ", cancels reported " + cancelsReported + ", flushes that waited " + waitingFlushes
                    + ", items rescued " + rescued + ", most items running at once " + mostAtOnce;
        }
    }

    private Coverage coverage = new Coverage();

    /** Starts counting anew; returns what was counted so far. */
    Coverage resetCoverage() {
        Coverage c = coverage;
        coverage = new Coverage();
        return c;
    }

    static String itemName(int i) {
        return i < PLAIN ? "w" + i : "d" + (i - PLAIN);
    }

    @Override
    public String name() {
        return "wq-semantics";
    }

    @Override
    public String description() {
        return "users queue, cancel and flush a few items on one queue; every guarantee of the workqueue is checked";
    }

    @Override
    public List<Variant> variants() {
        return List.of(NORMAL, ORDERED, MAX_ACTIVE, MEM_RECLAIM);
    }

    @Override
    public long estimatedSteps() {
        return 300;
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        int cpus = variant == MAX_ACTIVE || variant == ORDERED ? 1 : 2;
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name("wqs").totalPages(4096)
                .workqueues(WorkqueueConfig.defaults().withCpus(cpus)));
        WorkQueue q;
        int concurrencyLimit;
        if (variant == ORDERED) {
            q = sys.workqueues().createOrdered("prop-ordered");
            concurrencyLimit = 1;
        } else if (variant == MAX_ACTIVE) {
            q = sys.workqueues().create("prop-max2", 2);
            concurrencyLimit = 2;
        } else if (variant == MEM_RECLAIM) {
            q = sys.workqueues().create("prop-reclaim", 0, WqFlag.MEM_RECLAIM);
            concurrencyLimit = Integer.MAX_VALUE;
        } else {
            q = sys.workqueues().create("prop", 0);
            concurrencyLimit = Integer.MAX_VALUE;
        }
        SplittableRandom r = ctx.random();
        Model m = new Model(ctx.platform(), q, cpus, concurrencyLimit, r, coverage);
        List<Task> users = new ArrayList<>();
        for (int u = 0; u < USERS; u++) {
            List<Step> program = new ArrayList<>();
            for (int k = 0; k < OPS_PER_USER; k++) {
                Op op = Op.values()[r.nextInt(Op.values().length)];
                program.add(new Step(op, r.nextInt(PLAIN + DELAYED), op == Op.QUEUE_DELAYED || op == Op.NAP ? r.nextInt(3) : r.nextInt(cpus)));
            }
            String name = "user/" + u;
            users.add(ctx.spawn(name, () -> {
                for (Step s : program) {
                    m.perform(name, s);
                }
            }));
        }
        ctx.spawn("checker", () -> {
            m.finish(users);
            coverage.rescued += sys.workqueues().stats().rescued();
        });
        if (variant == MEM_RECLAIM) {
            ctx.faults().threadStartFailsWithProbability(0.5); // from here on: the pool's new workers
        }
    }

    /** The items, what has been accepted, run and cancelled, and the checks. Touched only under the baton. */
    private static final class Model {
        private final Platform platform;
        private final WorkQueue q;
        private final int cpus;
        private final int concurrencyLimit;
        private final Work[] items = new Work[PLAIN + DELAYED];
        private final int[] accepted = new int[items.length];
        private final int[] queuesInProgress = new int[items.length];
        private final int[] started = new int[items.length];
        private final int[] ran = new int[items.length];
        private final int[] cancelled = new int[items.length];
        private final int[] cancelsInProgress = new int[items.length];
        private final int[] inBody = new int[items.length];
        private final int[] requeues = new int[items.length];
        private final boolean[] sleepy = new boolean[items.length];
        private int running;
        private final Coverage coverage;

        Model(Platform platform, WorkQueue q, int cpus, int concurrencyLimit, SplittableRandom r, Coverage coverage) {
            this.platform = platform;
            this.coverage = coverage;
            this.q = q;
            this.cpus = cpus;
            this.concurrencyLimit = concurrencyLimit;
            for (int i = 0; i < items.length; i++) {
                int index = i;
                items[i] = i < PLAIN ? new Work(itemName(i), () -> body(index)) : new DelayedWork(itemName(i), () -> body(index));
                requeues[i] = r.nextInt(2);
                sleepy[i] = r.nextBoolean();
            }
        }

        private void fail(String what) {
            ((SimPlatform) platform).stop(SimPlatform.StopKind.FAILURE, "broken: " + what);
        }

        private String counts(int i) {
            return itemName(i) + " accepted " + accepted[i] + " (+" + queuesInProgress[i] + " in progress), started " + started[i]
                    + ", ran " + ran[i] + ", cancelled " + cancelled[i] + " (+" + cancelsInProgress[i] + " in progress)";
        }

        private void checkNotOverrun(int i, String when) {
            if (started[i] + cancelled[i] > accepted[i] + queuesInProgress[i]) {
                fail("more runs and cancels than accepted queueings " + when + ": " + counts(i));
            }
        }

        private void body(int i) {
            if (inBody[i]++ != 0) {
                fail(itemName(i) + " runs concurrently with itself");
            }
            if (++running > concurrencyLimit) {
                fail(running + " items run at once on a queue that allows " + concurrencyLimit);
            }
            coverage.mostAtOnce = Math.max(coverage.mostAtOnce, running);
            coverage.runs++;
            started[i]++;
            checkNotOverrun(i, "when " + itemName(i) + " started");
            platform.preemptionPoint();
            if (sleepy[i]) {
                new Completion(platform, "nap").waitFor(Duration.ofMillis(1)); // the worker sleeps: concurrency management
            }
            if (requeues[i] > 0) {
                requeues[i]--;
                queue(i, -1, 0); // queueing an item from its own run
            }
            platform.preemptionPoint();
            running--;
            inBody[i]--;
            ran[i]++;
        }

        private void queue(int i, int cpu, int delayMs) {
            queuesInProgress[i]++;
            boolean ok;
            if (i >= PLAIN) {
                ok = q.queueDelayed((DelayedWork) items[i], Duration.ofMillis(delayMs));
            } else {
                ok = cpu < 0 ? q.queue(items[i]) : q.queueOn(cpu, items[i]);
            }
            queuesInProgress[i]--;
            if (ok) {
                accepted[i]++;
            }
        }

        private boolean cancel(int i, boolean sync) {
            cancelsInProgress[i]++;
            boolean was = sync ? items[i].cancelSync() : items[i].cancel();
            cancelsInProgress[i]--;
            if (was) {
                cancelled[i]++;
                coverage.cancelsReported++;
            }
            return was;
        }

        /** After a wait that must cover the queueings accepted before it: they all ran or were cancelled. */
        private void checkCovered(int i, int acceptedBefore, String call) {
            if (ran[i] + cancelled[i] + cancelsInProgress[i] < acceptedBefore) {
                fail(call + " returned before the " + acceptedBefore + " queueing(s) of " + itemName(i)
                        + " accepted before it ran or were cancelled: " + counts(i));
            }
        }

        void perform(String user, Step s) {
            int i = s.item();
            switch (s.op()) {
                case QUEUE -> queue(i, -1, 0);
                case QUEUE_ON -> queue(i, i >= PLAIN ? -1 : s.arg() % cpus, 0);
                case QUEUE_DELAYED -> queue(i, -1, i >= PLAIN ? s.arg() : 0);
                case CANCEL -> {
                    cancel(i, false);
                    checkNotOverrun(i, "after " + user + "'s cancel");
                }
                case CANCEL_SYNC -> {
                    int before = accepted[i];
                    cancel(i, true);
                    if (inBody[i] != 0) {
                        fail("cancelSync of " + itemName(i) + " by " + user + " returned while it runs");
                    }
                    checkCovered(i, before, user + "'s cancelSync");
                }
                case FLUSH -> {
                    int before = accepted[i];
                    if (items[i].flush()) {
                        coverage.waitingFlushes++;
                    }
                    checkCovered(i, before, user + "'s flush of " + itemName(i));
                }
                case FLUSH_QUEUE -> {
                    int[] before = accepted.clone();
                    boolean[] onTimer = new boolean[items.length];
                    for (int k = PLAIN; k < items.length; k++) {
                        onTimer[k] = ((DelayedWork) items[k]).isTimerPending();
                    }
                    q.flush();
                    for (int k = 0; k < items.length; k++) {
                        // flush_workqueue does not fire timers: a delayed item's queueing still on its timer is not waited for.
                        checkCovered(k, onTimer[k] ? before[k] - 1 : before[k], user + "'s flush of the queue");
                    }
                }
                case NAP -> new Completion(platform, "user-nap").waitFor(Duration.ofMillis(s.arg()));
                default -> throw new AssertionError(s.op());
            }
        }

        /** Once the users are done: flush everything until idle, then every queueing ran or was cancelled. */
        void finish(List<Task> users) {
            for (Task u : users) {
                platform.join(u);
            }
            for (int round = 0; ; round++) {
                boolean busy = false;
                for (Work w : items) {
                    w.flush();
                }
                q.flush();
                for (Work w : items) {
                    busy |= w.isBusy();
                }
                if (!busy) {
                    break;
                }
                if (round == 10) {
                    fail("items still busy after 10 rounds of flushing");
                    return;
                }
            }
            for (int i = 0; i < items.length; i++) {
                if (accepted[i] != ran[i] + cancelled[i] || inBody[i] != 0) {
                    fail("not every accepted queueing ran exactly once or was cancelled: " + counts(i));
                }
            }
        }
    }
}
