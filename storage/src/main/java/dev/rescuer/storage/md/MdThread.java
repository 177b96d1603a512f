package dev.rescuer.storage.md;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.WaitQueue;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An array's md thread ({@code md_thread}, named {@code mdX_raid1}): a kernel thread that sleeps until
 * {@code md_wakeup_thread} sets {@code THREAD_WAKEUP}, then runs the personality's daemon, which calls
 * {@code md_check_recovery}. Only its superblock part is modelled. It is started with the array
 * ({@code do_md_run}) and sleeps idle, as the kernel's {@code wait_event_interruptible_timeout} does.
 *
 * <p><b>Memory ordering.</b> {@link #wakeup} is set before the wait queue is woken and cleared by the
 * thread before it runs, so a wake-up during a run makes it run again.
 */
public final class MdThread {

    private final Mddev mddev;
    private final WaitQueue wqueue;
    private final AtomicBoolean wakeup = new AtomicBoolean();
    private final Task task;

    MdThread(Mddev mddev) {
        this.mddev = mddev;
        this.wqueue = WaitQueue.idle(mddev.platform(), mddev.name() + "_raid1/wqueue", "&thread->wqueue");
        this.task = mddev.platform().startThread(mddev.name() + "_raid1", this::run);
    }

    /** {@code md_wakeup_thread}: never sleeps. */
    void mdWakeupThread() {
        wakeup.set(true);
        wqueue.wakeUpAll();
    }

    /** The thread's task. */
    public Task task() {
        return task;
    }

    private void run() {
        while (true) {
            wqueue.waitEvent(wakeup::get);
            wakeup.set(false);
            mddev.mdCheckRecovery();
        }
    }
}
