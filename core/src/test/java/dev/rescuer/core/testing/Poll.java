package dev.rescuer.core.testing;

import java.util.function.BooleanSupplier;

/**
 * Bounded polling on observable state, the one way tests wait for something that has no event to
 * wait on (a task's record, a counter): never a sleep, and a failure instead of a hang.
 */
public final class Poll {

    private Poll() {
    }

    /** Polls {@code condition} until it holds; fails the test after {@link DrivenTask#PATIENCE}. */
    public static void until(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DrivenTask.PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + DrivenTask.PATIENCE + " waiting until " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
