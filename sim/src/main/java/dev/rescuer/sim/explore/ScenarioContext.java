package dev.rescuer.sim.explore;

import dev.rescuer.check.Signallers;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.sim.SimFaults;
import dev.rescuer.sim.SimPlatform;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What a {@link Scenario} builds its run with: the simulated platform and its faults, the system, the
 * scenario's own tasks, invariants, and optionally the "releasers" of events (who would complete a
 * completion, say) where the wait-for report should not rely on what it learns from the run's
 * signallers.
 *
 * <p>The run is done when every task started through {@link #spawn} has returned; the invariants are
 * checked then. A task that throws ends the run as a failure.
 */
public final class ScenarioContext {

    private final SimPlatform platform;
    private RescuerSystem system;
    private int running;
    private boolean setUpDone;
    private final Map<String, BooleanSupplier> invariants = new LinkedHashMap<>();
    private final Map<Primitive, Supplier<List<Releaser>>> releasers = new IdentityHashMap<>();
    private Signallers signallers;
    private final List<String> hungTaskReports = new ArrayList<>();
    private final List<String> lockupReports = new ArrayList<>();
    private final Map<String, LongSupplier> counters = new LinkedHashMap<>();

    ScenarioContext(SimPlatform platform) {
        this.platform = platform;
    }

    /** The simulated platform. */
    public SimPlatform platform() {
        return platform;
    }

    /**
     * The run's random stream for the scenario's own draws (a generated workload); it replays with the
     * seed. See {@link SimPlatform#workloadRandom()}.
     */
    public SplittableRandom random() {
        return platform.workloadRandom();
    }

    /** The run's fault injection. */
    public SimFaults faults() {
        return platform.faults();
    }

    /**
     * Builds the system on the simulated platform and watches it: a hung-task report stops the run as
     * a hang; watchdog lockup reports are kept for the report. One system per run.
     */
    public RescuerSystem system(RescuerSystem.Builder builder) {
        if (system != null) {
            throw new IllegalStateException("a scenario builds one system per run");
        }
        system = builder.platform(platform).build();
        if (system.hasHungTaskDetector()) {
            long timeout = system.hungTaskDetector().timeout().toSeconds();
            system.hungTaskDetector().onHungTask(r -> {
                hungTaskReports.add(r.text());
                platform.stop(SimPlatform.StopKind.HUNG_TASK, "task " + r.task() + " blocked for more than " + timeout
                        + " seconds on " + (r.task().waitingOn() == null ? "?" : r.task().waitingOn().describe()));
            });
        }
        if (system.hasWorkqueues()) {
            system.workqueues().onLockup(r -> lockupReports.add(r.text()));
        }
        return system;
    }

    /** The system built with {@link #system}, or {@code null}. */
    public RescuerSystem system() {
        return system;
    }

    /** Starts one of the scenario's tasks; the run is done when all of them have returned. */
    public Task spawn(String name, Runnable body) {
        running++;
        try {
            return platform.startThread(name, () -> {
                body.run();
                finished();
            });
        } catch (RuntimeException e) {
            running--;
            throw e;
        }
    }

    private void finished() {
        running--;
        progress();
        maybeDone();
    }

    void setUpFinished() {
        setUpDone = true;
        maybeDone();
    }

    private void maybeDone() {
        if (!setUpDone || running > 0) {
            return;
        }
        for (Map.Entry<String, BooleanSupplier> e : invariants.entrySet()) {
            if (!e.getValue().getAsBoolean()) {
                platform.stop(SimPlatform.StopKind.FAILURE, "invariant broken: " + e.getKey());
                return;
            }
        }
        platform.stop(SimPlatform.StopKind.DONE, "every scenario task finished");
    }

    /** Records progress, which resets the livelock bound. Finishing a scenario task counts as progress. */
    public void progress() {
        platform.progress();
    }

    /** Declares an invariant, checked when every scenario task has finished. */
    public void invariant(String name, BooleanSupplier holds) {
        invariants.put(name, holds);
    }

    /**
     * Declares a counter of the model (pages swapped, pages a writer wrote), read once when the run
     * stops, with the world frozen, into {@link RunResult#counters()}: a measurement reads it per
     * schedule, next to the run's virtual time. The supplier must not block or take a lock (read an
     * atomic). Declaring a name twice keeps the later supplier.
     */
    public void counter(String name, LongSupplier value) {
        counters.put(name, value);
    }

    /** Every declared counter's value now, in declaration order. */
    Map<String, Long> readCounters() {
        Map<String, Long> out = new LinkedHashMap<>();
        counters.forEach((k, v) -> out.put(k, v.getAsLong()));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Declares who can release {@code primitive} (complete a completion, up a semaphore, wake a wait
     * queue), for the wait-for report; the supplier is asked when a report is built. An override: the
     * report otherwise learns the releasers of an event from who signalled it in the run
     * ({@link LearnedReleasers}), which needs no declaration but knows nothing of an event never
     * signalled before the hang.
     */
    public void releasers(Primitive primitive, Supplier<List<Releaser>> who) {
        releasers.put(primitive, who);
    }

    /** Sets the run's signal log, which the wait-for report learns releasers from; set before set-up. */
    void signallers(Signallers log) {
        this.signallers = log;
    }

    /**
     * Who can release {@code waiter}'s wait on {@code p}, in this order of precedence: what the scenario
     * declared ({@link #releasers(Primitive, Supplier)}) together with what the runtime itself knows
     * ({@link RuntimeReleasers}: kthreadd completes a worker's creation; a flush waits for whoever
     * finishes the item or the queue's items in flight; a mempool waits for a freed element); else what
     * the runtime knows alone; else what the run's signal log teaches ({@link LearnedReleasers}).
     */
    List<Releaser> releasersOf(Task waiter, Primitive p) {
        List<Releaser> out = knownReleasersOf(waiter, p);
        if (!releasers.containsKey(p) && out.isEmpty()) {
            out.addAll(LearnedReleasers.of(waiter, p, signallers,
                    system != null && system.hasWorkqueues() ? system.workqueues() : null, platform.timerContext()));
        }
        return out;
    }

    /**
     * Who can release {@code waiter}'s wait on {@code p} by what the scenario declared and the runtime
     * knows, never by what the run teaches: the releasers an idle wait is followed by in the report.
     */
    List<Releaser> knownReleasersOf(Task waiter, Primitive p) {
        Supplier<List<Releaser>> s = releasers.get(p);
        List<Releaser> out = new ArrayList<>(s == null ? Collections.emptyList() : s.get());
        out.addAll(RuntimeReleasers.of(p, system));
        return out;
    }

    List<String> hungTaskReports() {
        return hungTaskReports;
    }

    List<String> lockupReports() {
        return lockupReports;
    }
}
