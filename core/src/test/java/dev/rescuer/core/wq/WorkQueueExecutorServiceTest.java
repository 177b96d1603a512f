package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WorkQueueExecutorService} on real threads. An ordered queue runs one task at a time, so a
 * first task that waits on a gate keeps every later one pending for as long as the test needs.
 */
class WorkQueueExecutorServiceTest {

    private static RescuerSystem system() {
        return RescuerSystem.builder().totalPages(4096).cpus(2).build();
    }

    /** A task that says it started and then waits for {@code gate}. */
    private static Runnable gated(Completion gate, AtomicBoolean started) {
        return () -> {
            started.set(true);
            gate.waitFor();
        };
    }

    @Test
    void submitReturnsAFutureOfTheResultOrTheFailure() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().create("exec", 0, WqFlag.MEM_RECLAIM);
            AtomicInteger handled = new AtomicInteger();
            wq.setFailureHandler((w, t) -> handled.incrementAndGet());
            ExecutorService ex = wq.asExecutorService();
            assertEquals(42, ex.submit(() -> 6 * 7).get());
            assertEquals("done", ex.submit(() -> { }, "done").get(5, TimeUnit.SECONDS));
            Future<Object> bad = ex.submit(() -> {
                throw new IllegalStateException("boom");
            });
            ExecutionException e = assertThrows(ExecutionException.class, bad::get);
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(bad.isDone());
            assertFalse(bad.isCancelled());
            wq.flush();
            assertEquals(0, handled.get(), "a submitted task's failure goes to its future, as with JDK executors");
            ex.shutdown();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
            wq.destroy();
        }
    }

    @Test
    void cancelOfAPendingTaskTakesItsItemOffTheQueueAndARunningTaskCannotBeCancelled() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().createOrdered("exec");
            ExecutorService ex = wq.asExecutorService();
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicBoolean started = new AtomicBoolean();
            Future<?> running = ex.submit(gated(gate, started));
            AtomicBoolean ranSecond = new AtomicBoolean();
            Future<?> pending = ex.submit(() -> ranSecond.set(true));
            Poll.until("the first task runs", started::get);

            assertTrue(pending.cancel(true));
            assertTrue(pending.isCancelled());
            assertTrue(pending.isDone());
            assertThrows(CancellationException.class, pending::get);
            assertFalse(pending.cancel(true), "cancelled once");
            assertFalse(running.cancel(true), "a running work item is never interrupted");
            assertFalse(running.isCancelled());
            assertThrows(TimeoutException.class, () -> running.get(1, TimeUnit.MILLISECONDS));

            gate.complete();
            assertNull(running.get());
            wq.flush();
            assertFalse(ranSecond.get(), "the cancelled item never ran");
            assertEquals(List.of(), sys.workqueues().inFlight(wq));
            ex.shutdown();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS), "a cancelled task does not hold up termination");
            wq.destroy();
        }
    }

    @Test
    void shutdownRefusesNewTasksRunsTheAcceptedOnesAndTerminatesAfterThem() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().createOrdered("exec");
            ExecutorService ex = wq.asExecutorService();
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicBoolean started = new AtomicBoolean();
            ex.execute(gated(gate, started));
            AtomicInteger ran = new AtomicInteger();
            ex.execute(ran::incrementAndGet);
            Poll.until("the first task runs", started::get);

            ex.shutdown();
            assertTrue(ex.isShutdown());
            RejectedExecutionException refused = assertThrows(RejectedExecutionException.class, () -> ex.execute(ran::incrementAndGet));
            assertTrue(refused.getMessage().contains("exec"), refused.getMessage());
            assertFalse(ex.isTerminated());
            assertFalse(ex.awaitTermination(1, TimeUnit.MILLISECONDS), "the first task still waits for its gate");
            wq.queue(new Work("direct", ran::incrementAndGet)); // the queue itself stays usable

            gate.complete();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
            assertTrue(ex.isTerminated());
            wq.flush();
            assertEquals(2, ran.get(), "the accepted task ran, and so did the one queued directly");
            wq.destroy();
        }
    }

    @Test
    void shutdownNowReturnsThePendingTasksInOrderAndLetsTheRunningOneFinish() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().createOrdered("exec");
            ExecutorService ex = wq.asExecutorService();
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicBoolean started = new AtomicBoolean();
            AtomicBoolean finished = new AtomicBoolean();
            ex.execute(() -> {
                gated(gate, started).run();
                finished.set(true);
            });
            AtomicInteger ran = new AtomicInteger();
            Runnable second = ran::incrementAndGet;
            Runnable third = ran::incrementAndGet;
            ex.execute(second);
            Future<?> fourth = ex.submit(ran::incrementAndGet);
            ex.execute(third);
            Poll.until("the first task runs", started::get);

            List<Runnable> never = ex.shutdownNow();
            assertEquals(3, never.size());
            assertSame(second, never.get(0));
            assertSame(fourth, never.get(1), "a submitted task comes back as its future");
            assertSame(third, never.get(2));
            assertFalse(ex.isTerminated(), "the running task finishes first");
            gate.complete();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
            assertTrue(finished.get());
            wq.flush();
            assertEquals(0, ran.get());
            assertEquals(List.of(), sys.workqueues().inFlight(wq));
            wq.destroy();
        }
    }

    @Test
    void invokeAllWaitsForEveryTaskAndInvokeAnyReturnsOneThatSucceeded() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().create("exec", 0);
            ExecutorService ex = wq.asExecutorService();
            List<Callable<Integer>> tasks = List.of(() -> 1, () -> 2, () -> 3);
            List<Future<Integer>> all = ex.invokeAll(tasks);
            int sum = 0;
            for (Future<Integer> fut : all) {
                assertTrue(fut.isDone());
                sum += fut.get();
            }
            assertEquals(6, sum);
            assertEquals(3, ex.invokeAll(tasks, 20, TimeUnit.SECONDS).size());

            Callable<Integer> fails = () -> {
                throw new IllegalArgumentException("no");
            };
            assertEquals(7, ex.invokeAny(List.of(fails, () -> 7, fails)));
            assertEquals(7, ex.invokeAny(List.of(fails, () -> 7), 20, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> ex.invokeAny(List.of(fails, fails)));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertThrows(IllegalArgumentException.class, () -> ex.invokeAny(List.of()));
            ex.shutdown();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
            wq.destroy();
        }
    }

    @Test
    void aTimedInvokeAllCancelsWhatIsNotDoneAndAnInterruptedGetThrows() throws Exception {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().createOrdered("exec");
            ExecutorService ex = wq.asExecutorService();
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicBoolean started = new AtomicBoolean();
            Future<?> blocker = ex.submit(gated(gate, started));
            Poll.until("the first task runs", started::get);
            List<Future<Integer>> fs = ex.invokeAll(List.of(() -> 1), 1, TimeUnit.MILLISECONDS);
            assertTrue(fs.get(0).isCancelled(), "still pending behind the blocker when the time was up");

            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, blocker::get);
            assertFalse(Thread.interrupted(), "the interrupt is consumed");
            gate.complete();
            blocker.get();
            ex.shutdown();
            assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
            wq.destroy();
        }
    }

    @Test
    void aQueueThatRefusesWorkMakesTheServiceRejectItWithTheReason() {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().create("exec", 0);
            ExecutorService ex = wq.asExecutorService();
            wq.destroy();
            RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> ex.submit(() -> 1));
            assertTrue(e.getMessage().contains("exec"), e.getMessage());
            ex.shutdown();
            assertTrue(ex.isTerminated(), "a refused task was never accepted");
        }
    }

    @Test
    void closeWithATimeoutThrowsWithTheDumpOfWhatIsStillRunning() {
        RescuerSystem sys = system();
        Completion gate = new Completion(sys.platform(), "gate");
        WorkQueue wq = sys.workqueues().create("stuck", 0);
        AtomicBoolean started = new AtomicBoolean();
        wq.queue(new Work("waits_for_gate", gated(gate, started)));
        Poll.until("the item runs", started::get);
        WorkqueueTimeoutException e = assertThrows(WorkqueueTimeoutException.class, () -> sys.close(Duration.ofMillis(50)));
        assertTrue(e.getMessage().contains("waits_for_gate"), e.getMessage());
        assertTrue(e.getMessage().contains("stuck"), e.getMessage());
        gate.complete();
        sys.close(Duration.ofSeconds(20)); // continues where it stopped, and returns
    }
}
