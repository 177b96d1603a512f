package dev.rescuer.sim.explore;

import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.SimPlatform;

import dev.rescuer.check.PotentialCycle;
import dev.rescuer.check.Signallers;
import dev.rescuer.check.Validator;
import dev.rescuer.core.platform.Task;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a scenario under many schedules and reports the first that hangs, or that all completed.
 *
 * <p>Schedule {@code i} runs with {@link RunSeed#forSchedule}'s seed, so a schedule's run depends only
 * on the scenario, variant, strategy, depth, base seed and {@code i}. With several threads, schedules
 * are handed out in index order and the reported finding is the lowest-numbered one, so the result
 * ({@code schedulesRun}, the finding, its seed and report) is the same for any {@code parallel}; only
 * throughput changes.
 */
public final class Explorer {

    private static final int TRACE_TAIL = 64;

    private final List<Scenario> catalogue;

    /** An explorer over {@code catalogue} (used to name the scenario a foreign seed belongs to). */
    public Explorer(List<Scenario> catalogue) {
        this.catalogue = List.copyOf(catalogue);
    }

    /** Explores {@code variant} of {@code scenario}. */
    public ExploreResult explore(Scenario scenario, Variant variant, ExploreOptions options) {
        return explore(scenario, variant, options, ExploreMonitor.NONE);
    }

    /**
     * Explores {@code variant} of {@code scenario}, telling {@code monitor} of each finished schedule and
     * stopping early when it asks (see {@link ExploreMonitor} for what a stopped result counts).
     */
    public ExploreResult explore(Scenario scenario, Variant variant, ExploreOptions options, ExploreMonitor monitor) {
        long start = System.nanoTime();
        int n = options.schedules();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger firstIndex = new AtomicInteger(Integer.MAX_VALUE);
        AtomicReference<RunResult> first = new AtomicReference<>();
        AtomicReference<RunResult> firstFinding = new AtomicReference<>();
        BitSet findingIndices = new BitSet(); // guards firstIndex, firstFinding, finishedIndices and tally too
        BitSet finishedIndices = new BitSet();
        long[] tally = new long[2]; // schedules finished, of which hung or failed: what the monitor is told
        AtomicLong steps = new AtomicLong();
        AtomicLong choices = new AtomicLong();
        AtomicLong runs = new AtomicLong();
        AtomicReference<Throwable> crash = new AtomicReference<>();
        Runnable worker = () -> {
            try (CarrierPool pool = new CarrierPool("sim-" + Thread.currentThread().getName())) {
                while (true) {
                    int i = next.getAndIncrement();
                    if (i >= n || (options.stopAtFirstHang() && i > firstIndex.get()) || crash.get() != null
                            || monitor.stopRequested()) {
                        return;
                    }
                    RunSeed seed = RunSeed.forSchedule(scenario, variant, options.strategy(), options.depth(), options.seed(), i);
                    RunResult r = run(scenario, variant, seed, i, pool, options.livelockBound());
                    steps.addAndGet(r.steps());
                    choices.addAndGet(r.choices());
                    runs.incrementAndGet();
                    if (i == 0) {
                        first.set(r);
                    }
                    long finished;
                    long found;
                    synchronized (findingIndices) {
                        finishedIndices.set(i);
                        if (r.outcome() != Outcome.COMPLETED) {
                            findingIndices.set(i);
                            tally[1]++;
                            if (i < firstIndex.get()) {
                                firstIndex.set(i);
                                firstFinding.set(r);
                            }
                        }
                        finished = ++tally[0];
                        found = tally[1];
                    }
                    monitor.scheduleFinished(finished, found, n); // outside the lock: it may print
                }
            } catch (Throwable t) {
                crash.compareAndSet(null, t);
            }
        };
        if (options.parallel() == 1) {
            worker.run();
        } else {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < options.parallel(); t++) {
                Thread th = new Thread(worker, "explorer-" + t);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                try {
                    th.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while exploring", e);
                }
            }
        }
        if (crash.get() != null) {
            throw new IllegalStateException("the explorer failed: " + crash.get(), crash.get());
        }
        // A stopped exploration counts only the prefix of schedules that all finished, so that what it
        // reports does not depend on which threads happened to be ahead.
        int counted = monitor.stopRequested() ? finishedIndices.nextClearBit(0) : n;
        RunResult f = firstFinding.get();
        if (f != null && f.schedule() >= counted) {
            f = null;
        }
        long schedulesRun = f != null && options.stopAtFirstHang() ? f.schedule() + 1 : counted;
        boolean stopped = schedulesRun < n && (f == null || !options.stopAtFirstHang());
        long findings = findingIndices.get(0, (int) schedulesRun).cardinality(); // not those run past the first by other threads
        int lastCompleted = schedulesRun == 0 ? -1 : findingIndices.previousClearBit((int) schedulesRun - 1);
        RunSeed lastCompletedSeed = lastCompleted < 0 ? null
                : RunSeed.forSchedule(scenario, variant, options.strategy(), options.depth(), options.seed(), lastCompleted);
        return new ExploreResult(scenario.name(), variant.name(), options, schedulesRun, stopped, f, first.get(), lastCompletedSeed,
                findings, steps.get(), choices.get(), runs.get(), System.nanoTime() - start);
    }

    /**
     * Replays the run of {@code seed}.
     *
     * @throws IllegalArgumentException if the seed was recorded for another scenario or variant
     */
    public RunResult replay(Scenario scenario, Variant variant, RunSeed seed, long livelockBound) {
        seed.checkFor(scenario, variant, catalogue);
        try (CarrierPool pool = new CarrierPool("replay")) {
            return run(scenario, variant, seed, 0, pool, livelockBound);
        }
    }

    /**
     * Runs every one of {@code options.schedules()} schedules of {@code variant} with a fresh
     * {@link Validator} watching each, and collects the potential cycles recorded in the schedules
     * that completed; schedules that hang or fail are counted and not searched (their graph stops
     * mid-run). Deterministic: schedule {@code i} has the same seed as in {@link #explore}. Runs on
     * one thread, in index order, so the first schedule named for each cycle is the lowest.
     */
    public ValidationResult validate(Scenario scenario, Variant variant, ExploreOptions options) {
        Map<String, ValidationResult.Found> found = new LinkedHashMap<>();
        long validated = 0;
        long hangs = 0;
        try (CarrierPool pool = new CarrierPool("validate")) {
            for (int i = 0; i < options.schedules(); i++) {
                RunSeed seed = RunSeed.forSchedule(scenario, variant, options.strategy(), options.depth(), options.seed(), i);
                Validator validator = new Validator();
                RunResult r = run(scenario, variant, seed, i, pool, options.livelockBound(), validator);
                if (r.outcome() != Outcome.COMPLETED) {
                    hangs++;
                    continue;
                }
                validated++;
                for (PotentialCycle c : validator.potentialCycles()) {
                    found.putIfAbsent(c.chain(), new ValidationResult.Found(c, i, seed));
                }
            }
        }
        return new ValidationResult(scenario.name(), variant.name(), options.schedules(), validated, hangs,
                new ArrayList<>(found.values()));
    }

    /** Runs one schedule on {@code pool}'s threads. */
    public RunResult run(Scenario scenario, Variant variant, RunSeed seed, long schedule, CarrierPool pool, long livelockBound) {
        return run(scenario, variant, seed, schedule, pool, livelockBound, null);
    }

    /**
     * Runs one schedule on {@code pool}'s threads with {@code validator} installed on the platform
     * before the scenario is set up, or if {@code null}, a bare {@link Signallers} log; either way the
     * hang report learns event releasers from the run's signals.
     */
    public RunResult run(Scenario scenario, Variant variant, RunSeed seed, long schedule, CarrierPool pool, long livelockBound,
                         Validator validator) {
        SimPlatform sim = new SimPlatform(seed.random(),
                seed.strategy().create(seed.random(), seed.depth(), scenario.estimatedSteps()), pool, livelockBound);
        ScenarioContext ctx = new ScenarioContext(sim);
        if (validator != null) {
            validator.attachTo(sim);
            ctx.signallers(validator.signallers());
        } else { // the signal log alone: the hang report learns releasers from it
            Signallers log = new Signallers();
            log.attachTo(sim);
            ctx.signallers(log);
        }
        AtomicReference<HangReport> report = new AtomicReference<>();
        AtomicReference<List<dev.rescuer.sim.TraceEvent>> tail = new AtomicReference<>();
        AtomicReference<Map<String, Long>> counters = new AtomicReference<>(Map.of());
        sim.onStopped(() -> { // the world is frozen: before tear-down unwinds the tasks
            tail.set(sim.trace().events(TRACE_TAIL, sim::taskName));
            counters.set(ctx.readCounters());
            SimPlatform.Stop s = sim.stopped();
            if (s.kind() != SimPlatform.StopKind.DONE) {
                List<Task> tasks = new ArrayList<>(sim.tasks());
                tasks.remove(sim.timerContext()); // it only ever "runs" to fire timers
                report.set(HangReport.of(s.kind().label(), s.reason(), sim.nanoTime(), sim.steps(), tasks, ctx));
            }
        });
        SimPlatform.Stop stop = sim.run("scenario/" + scenario.name(), () -> {
            scenario.setUp(ctx, variant);
            ctx.setUpFinished();
        });
        Outcome outcome = switch (stop.kind()) {
            case DONE -> Outcome.COMPLETED;
            case FAILURE -> Outcome.FAILURE;
            case DEADLOCK, HUNG_TASK, LIVELOCK -> Outcome.HANG;
        };
        return new RunResult(schedule, seed, outcome, stop.kind(), stop.reason(), sim.steps(), sim.choices(), sim.nanoTime(),
                sim.trace().hash(), report.get(), tail.get(), counters.get());
    }
}
