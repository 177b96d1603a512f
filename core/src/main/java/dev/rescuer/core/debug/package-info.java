/**
 * Detectors that report what the kernel's debugging facilities report.
 *
 * <p>{@link dev.rescuer.core.debug.HungTaskDetector} is {@code kernel/hung_task.c}: on the platform's
 * timer context, every timeout of platform time (virtual time under the simulator), it reports each
 * task blocked in a core primitive for longer than the timeout, once per wait, as a
 * {@link dev.rescuer.core.debug.HungTaskReport}: the task, its work item if it is a worker, what it
 * waits on, who holds that (also a task that exited holding it), a writer queued ahead on a
 * rw-semaphore, and what the task holds. Idle sleeps ({@code TASK_IDLE}: idle workers, daemons
 * waiting for requests) are never reported. A task the platform started that stays blocked outside
 * the platform (a JDK lock, a latch, I/O) is reported once per episode with its JVM stack. It only
 * observes: it never wakes, interrupts or changes a task. {@link dev.rescuer.core.RescuerSystem}
 * creates one unless its {@code hungTaskTimeout} is zero.
 */
package dev.rescuer.core.debug;
