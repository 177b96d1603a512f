package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.List;

/**
 * The wait-for report's edge source for events that are handed on ({@link HandedOnEvent}, a bio):
 * from the event a primitive stands for, along each hop's {@link HandedOnEvent#completer()} (a clone,
 * a pending exception, a kcopyd job's read), to what completes it in the end: a work item the end-io
 * deferred it to, followed to its runner, rescuer or pool manager as {@link Releaser#forWork} does; a
 * task (a bio still on a task's {@code bio_list}); or something that is not a task (a device with the
 * I/O in flight), which ends the chain. The edge's text names every hop.
 */
final class HandedOnReleasers {

    /** More hops than any stack has levels: a completer chain this long is taken to loop. */
    static final int MAX_HOPS = 32;

    private HandedOnReleasers() {
    }

    /** Who completes {@code event} in the end; {@code wqs} is {@code null} in a system without workqueues. */
    static List<Releaser> of(HandedOnEvent event, Workqueues wqs) {
        StringBuilder path = new StringBuilder(event.describe());
        Object c = event.completer();
        for (int hops = 0; c instanceof HandedOnEvent && hops < MAX_HOPS; hops++) {
            HandedOnEvent next = (HandedOnEvent) c;
            path.append(" -> ").append(next.describe());
            c = next.completer();
        }
        List<Releaser> out = new ArrayList<>();
        if (c instanceof Work && wqs != null) {
            for (Releaser r : Releaser.forWork(wqs, (Work) c)) {
                out.add(new Releaser(path + " " + r.via(), r.task()));
            }
        } else if (c instanceof Task) {
            out.add(new Releaser(path.toString(), (Task) c));
        } else if (c instanceof HandedOnEvent) {
            out.add(Releaser.note(path + " -> ... (more than " + MAX_HOPS + " hops)"));
        } else {
            out.add(Releaser.note(path.toString())); // the last hop's describe() says where it stands
        }
        return out;
    }
}
