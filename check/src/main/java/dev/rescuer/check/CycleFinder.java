package dev.rescuer.check;

import dev.rescuer.core.platform.LockEvents;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The cycle search over a snapshot of the graph ({@code check_noncircular}, but enumerating every
 * elementary cycle rather than stopping at the first): each cycle is found once, from its
 * lowest-numbered class, by a depth-first search that only visits higher-numbered classes
 * (Johnson's ordering, without the blocking sets: the graphs are small).
 *
 * <p>A path through class X joins an edge that acquires X in mode {@code in} to one that leaves X
 * held in mode {@code out}; the junction blocks, and the path is a dependency, when
 * {@link #blocks}. This is lockdep's rule for recursive readers (a {@code -(*R)->} followed by a
 * {@code -(S*)->} does not block) carried to Rescuer's modes, plus the rw-semaphore rule: two shared
 * holds block each other only through a queued writer, so only if the class was ever taken
 * exclusively.
 *
 * <p>Only minimal cycles are returned: one whose classes include a shorter one's adds nothing.
 *
 * <p>Bounds: cycles up to {@link #MAX_LENGTH} links, at most {@link #MAX_CYCLES} of them, and a
 * budget of {@link #MAX_STEPS} edge visits; a search that hits a bound says so in its result.
 */
final class CycleFinder {

    static final int MAX_LENGTH = 8;
    static final int MAX_CYCLES = 64;
    static final int MAX_STEPS = 2_000_000;

    private final List<LockClass> classes;
    private final List<List<Dependency>> out;
    private final List<PotentialCycle> found = new ArrayList<>();
    private final Set<List<Integer>> seen = new HashSet<>();
    private final ArrayList<Dependency> path = new ArrayList<>();
    private final boolean[] onPath;
    private int steps;

    CycleFinder(List<LockClass> classes, List<Dependency> dependencies) {
        this.classes = classes;
        int n = classes.isEmpty() ? 0 : classes.get(classes.size() - 1).id() + 1;
        this.out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new ArrayList<>());
        }
        for (Dependency d : dependencies) {
            out.get(d.from().id()).add(d);
        }
        this.onPath = new boolean[n];
    }

    /** Whether a path that acquires a class in mode {@code in} is held up by a hold of it in mode {@code out}. */
    static boolean blocks(int in, int out, LockClass at) {
        if (in == LockEvents.EXCLUSIVE || out == LockEvents.EXCLUSIVE) {
            return true;
        }
        if (in == LockEvents.SHARED && out == LockEvents.SHARED) {
            return at.exclusiveSeen(); // a writer can queue between the two readers
        }
        return false; // a recursive reader waits for nobody but a writer, and is nobody's writer
    }

    List<PotentialCycle> find() {
        for (LockClass start : classes) {
            if (found.size() >= MAX_CYCLES || steps >= MAX_STEPS) {
                break;
            }
            search(start, start);
        }
        found.sort(Comparator.comparingInt((PotentialCycle c) -> c.links().size()));
        return minimal(found);
    }

    /**
     * Drops every cycle whose classes include all of a shorter kept cycle's: it is the same hang
     * seen through more classes (an item's pseudo-lock and its queue's, say, on the way to the lock
     * the item takes). Expects {@code cycles} shortest first.
     */
    static List<PotentialCycle> minimal(List<PotentialCycle> cycles) {
        List<PotentialCycle> kept = new ArrayList<>();
        List<Set<LockClass>> keptClasses = new ArrayList<>();
        for (PotentialCycle c : cycles) {
            Set<LockClass> cs = new HashSet<>(c.classes());
            boolean redundant = false;
            for (Set<LockClass> k : keptClasses) {
                if (cs.containsAll(k)) {
                    redundant = true;
                    break;
                }
            }
            if (!redundant) {
                kept.add(c);
                keptClasses.add(cs);
            }
        }
        return kept;
    }

    private void search(LockClass start, LockClass at) {
        onPath[at.id()] = true;
        for (Dependency d : out.get(at.id())) {
            if (found.size() >= MAX_CYCLES || ++steps >= MAX_STEPS) {
                break;
            }
            if (!path.isEmpty() && !blocks(path.get(path.size() - 1).toMode(), d.fromMode(), at)) {
                continue;
            }
            LockClass next = d.to();
            if (next == start) {
                if (blocks(d.toMode(), path.isEmpty() ? d.fromMode() : path.get(0).fromMode(), start)) {
                    path.add(d);
                    keep();
                    path.remove(path.size() - 1);
                }
            } else if (next.id() > start.id() && !onPath[next.id()] && path.size() + 1 < MAX_LENGTH) {
                path.add(d);
                search(start, next);
                path.remove(path.size() - 1);
            }
        }
        onPath[at.id()] = false;
    }

    private void keep() {
        List<Integer> key = new ArrayList<>(path.size());
        for (Dependency d : path) {
            key.add(d.from().id());
        }
        if (seen.add(key)) {
            found.add(new PotentialCycle(List.copyOf(path)));
        }
    }
}
