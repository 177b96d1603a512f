package dev.rescuer.core.wq;

import jdk.jfr.Category;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * The workqueue's tracepoints as JFR events (the kernel's {@code workqueue:*} tracepoints): queueing
 * ({@code dev.rescuer.wq.Queue}), activation of an inactive item ({@code Activate}), execution with its
 * duration ({@code Execute}), {@code Mayday}, {@code Rescue} and {@code WorkerCreationFailed}.
 * A disabled event costs one {@code isEnabled()} check on a static probe instance and nothing else:
 * no event object is allocated and no field is written. The caller still passes its arguments, which
 * are names already stored in fields (no string is built for the event).
 */
final class WqEvents {

    private WqEvents() {
    }

    @Name("dev.rescuer.wq.Queue")
    @Label("Work Queued")
    @Category({"Rescuer", "Workqueue"})
    static final class QueueEvent extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Work") String work;
        @Label("Pool") String pool;
        @Label("Active") boolean active;
    }

    @Name("dev.rescuer.wq.Activate")
    @Label("Work Activated")
    @Category({"Rescuer", "Workqueue"})
    static final class ActivateEvent extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Work") String work;
        @Label("Pool") String pool;
    }

    @Name("dev.rescuer.wq.Execute")
    @Label("Work Execute")
    @Category({"Rescuer", "Workqueue"})
    static final class Execute extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Work") String work;
        @Label("Worker") String worker;
        @Label("By Rescuer") boolean rescuer;
    }

    @Name("dev.rescuer.wq.Mayday")
    @Label("Mayday")
    @Category({"Rescuer", "Workqueue"})
    static final class MaydayEvent extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Pool") String pool;
    }

    @Name("dev.rescuer.wq.Rescue")
    @Label("Rescue")
    @Category({"Rescuer", "Workqueue"})
    static final class RescueEvent extends Event {
        @Label("Workqueue") String workqueue;
        @Label("Pool") String pool;
    }

    @Name("dev.rescuer.wq.WorkerCreationFailed")
    @Label("Worker Creation Failed")
    @Category({"Rescuer", "Workqueue"})
    static final class CreationFailedEvent extends Event {
        @Label("Pool") String pool;
        @Label("Reason") String reason;
    }

    private static final QueueEvent QUEUE_PROBE = new QueueEvent();
    private static final Execute EXECUTE_PROBE = new Execute();
    private static final ActivateEvent ACTIVATE_PROBE = new ActivateEvent();
    private static final MaydayEvent MAYDAY_PROBE = new MaydayEvent();
    private static final RescueEvent RESCUE_PROBE = new RescueEvent();
    private static final CreationFailedEvent CREATION_FAILED_PROBE = new CreationFailedEvent();

    /** An inactive item became active (it was held back by {@code maxActive} or freezing). */
    static void activated(String wq, String work, String pool) {
        if (ACTIVATE_PROBE.isEnabled()) {
            ActivateEvent e = new ActivateEvent();
            e.workqueue = wq;
            e.work = work;
            e.pool = pool;
            e.commit();
        }
    }

    static void queued(String wq, String work, String pool, boolean active) {
        if (QUEUE_PROBE.isEnabled()) {
            QueueEvent e = new QueueEvent();
            e.workqueue = wq;
            e.work = work;
            e.pool = pool;
            e.active = active;
            e.commit();
        }
    }

    /** Starts timing an execution; {@code null} when the event is disabled. */
    static Execute beginExecute(String wq, String work, String worker, boolean rescuer) {
        if (!EXECUTE_PROBE.isEnabled()) {
            return null;
        }
        Execute e = new Execute();
        e.workqueue = wq;
        e.work = work;
        e.worker = worker;
        e.rescuer = rescuer;
        e.begin();
        return e;
    }

    static void endExecute(Execute e) {
        if (e != null) {
            e.commit();
        }
    }

    static void mayday(String wq, String pool) {
        if (MAYDAY_PROBE.isEnabled()) {
            MaydayEvent e = new MaydayEvent();
            e.workqueue = wq;
            e.pool = pool;
            e.commit();
        }
    }

    static void rescue(String wq, String pool) {
        if (RESCUE_PROBE.isEnabled()) {
            RescueEvent e = new RescueEvent();
            e.workqueue = wq;
            e.pool = pool;
            e.commit();
        }
    }

    static void creationFailed(String pool, String reason) {
        if (CREATION_FAILED_PROBE.isEnabled()) {
            CreationFailedEvent e = new CreationFailedEvent();
            e.pool = pool;
            e.reason = reason;
            e.commit();
        }
    }
}
