package dev.rescuer.core.wq;

/**
 * What a worker or rescuer task is running, for reports: the queue, the item and whether the task is
 * the queue's rescuer. A snapshot; advisory for any task but the calling one.
 *
 * @param workqueue the name of the queue the item was taken from
 * @param work the item's name
 * @param rescuer whether the task running it is that queue's rescuer
 */
public record RunningWork(String workqueue, String work, boolean rescuer) {

    /** The kernel's {@code print_worker_info} line: {@code "Workqueue: <queue> <item>"}, plus " (rescuer)" for a rescuer. */
    public String describe() {
        return "Workqueue: " + workqueue + " " + work + (rescuer ? " (rescuer)" : "");
    }
}
