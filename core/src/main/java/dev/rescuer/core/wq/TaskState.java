package dev.rescuer.core.wq;

import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;

import java.util.ArrayList;
import java.util.List;

/**
 * What a work item must leave on its worker's task as it found it: the atomic depth, the primitives
 * held, and the memalloc scope flags and depth. A snapshot before each item; compared after it, as
 * {@code process_one_work} compares {@code preempt_count} and {@code lockdep_depth} and prints
 * "BUG: workqueue leaked lock or atomic".
 *
 * <p>On a leak the worker restores the scope flags and depth and the atomic depth, so that the next
 * item runs with the worker's own context (an item left in a {@code NOIO} scope would otherwise make
 * every later item on that worker allocate without I/O). Held primitives are reported by name but
 * not released: the item that took a lock may have left the state it protects half-updated, and
 * releasing it would let other tasks see that state; the kernel does not release them either. The
 * hung-task detector then names this worker as the holder, which is the truth.
 */
record TaskState(int atomicDepth, int heldCount, int memallocFlags, int scopeDepth, int scopeBitDepths) {

    /** The state of {@code t} now; only {@code t} itself may call this. */
    static TaskState of(Task t) {
        return new TaskState(t.atomicDepth(), t.heldCount(), t.memallocFlags(), t.memallocScopeDepth(), t.memallocBitDepths());
    }

    /** Whether {@code t} is in this state again. */
    boolean sameAs(Task t) {
        return t.atomicDepth() == atomicDepth && t.heldCount() == heldCount && t.memallocFlags() == memallocFlags
                && t.memallocScopeDepth() == scopeDepth && t.memallocBitDepths() == scopeBitDepths;
    }

    /** The kernel-style report of what {@code t} leaked, naming the worker, the item and its queue. */
    String leakReport(Task t, String worker, String work, String wq) {
        StringBuilder sb = new StringBuilder("BUG: workqueue leaked lock or atomic: ").append(worker).append('/')
                .append(t.id()).append("\n    last function: ").append(work).append(" on workqueue ").append(wq);
        if (t.atomicDepth() != atomicDepth) {
            sb.append("\n    atomic depth ").append(atomicDepth).append(" -> ").append(t.atomicDepth()).append(" (restored)");
        }
        if (t.heldCount() != heldCount) {
            List<Primitive> held = t.heldPrimitives();
            List<String> names = new ArrayList<>();
            for (int i = Math.min(heldCount, held.size()); i < held.size(); i++) {
                names.add(held.get(i).describe());
            }
            sb.append("\n    locks held ").append(heldCount).append(" -> ").append(t.heldCount())
                    .append(names.isEmpty() ? "" : ": " + String.join(", ", names)).append(" (still held)");
        }
        if (t.memallocFlags() != memallocFlags || t.memallocScopeDepth() != scopeDepth) {
            sb.append("\n    memalloc scope ").append(MemallocScope.describeFlags(memallocFlags)).append(" depth ")
                    .append(scopeDepth).append(" -> ").append(MemallocScope.describeFlags(t.memallocFlags()))
                    .append(" depth ").append(t.memallocScopeDepth()).append(" (restored)");
        }
        return sb.toString();
    }

    /** Puts back the scope flags and depth and the atomic depth of this snapshot on {@code t} (itself). */
    void restoreScopesAndAtomic(Task t) {
        t.setMemallocFlags(memallocFlags);
        t.setMemallocScopeDepth(scopeDepth);
        t.setMemallocBitDepths(scopeBitDepths);
        while (t.atomicDepth() > atomicDepth) {
            t.exitAtomic();
        }
        while (t.atomicDepth() < atomicDepth) {
            t.enterAtomic();
        }
    }
}
