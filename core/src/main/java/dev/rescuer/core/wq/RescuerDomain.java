package dev.rescuer.core.wq;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.Task;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A rescuer domain: several {@link WqFlag#MEM_RECLAIM} queues served by one rescuer thread
 * ({@code kworker/R-<domain>}), created by {@link Workqueues#createRescuerDomain} and named at queue
 * creation ({@link Workqueues#create(String, int, RescuerDomain, WqFlag...)}). Upstream Linux has no
 * such thing: every reclaim queue owns a rescuer (see docs/ARCHITECTURE.md, "Differences from the
 * kernel, on purpose", and docs/SHARING-RESCUERS.md).
 *
 * <p>Guarantee: the shared rescuer keeps the kernel's rescuer semantics for every queue of the
 * domain. It is created with the domain, so it exists however short memory is later; a pool's
 * mayday timer puts the pwq of any member queue on its one mayday list; it runs one item at a time,
 * only the item's own queue's active items on that pool, only while the pool still needs a worker;
 * after {@code rescuerBatch} items it moves a pwq to the tail of the list when others wait, so no
 * queue of the domain starves the others.
 *
 * <p>Limit: one execution context for all the domain's queues. If an item of one member can wait,
 * directly or through I/O or further queues, for an item of another member, the two must not share
 * a domain: with no worker to be had, the rescuer runs the first and the second never runs. Queues
 * of independent stacks can share.
 *
 * <p>The domain lives until its subsystem closes; destroying a member queue leaves the rescuer
 * running for the others.
 *
 * <p>For the validator the domain is a pseudo-lock (an {@link AbstractPrimitive}, so its class is
 * cached on it) of class {@code (wq_rescuer)<domain>}, as lockdep
 * models a workqueue with {@code (wq_completion)<queue>}: running an item of any member queue holds
 * it (wherever the item runs: it could have been the rescuer), and an item of a member may wait for
 * it, since with no worker to be had only the rescuer runs it ({@link WorkQueue#lockdepBeginItem}
 * records {@code (wq_completion)<queue> -> (wq_rescuer)<domain>}). So an item of one member that
 * waits for an item of another is a cycle through the domain's class; see docs/VALIDATOR.md.
 */
public final class RescuerDomain extends AbstractPrimitive {

    /** The start of every domain's validator class, {@code (wq_rescuer)<domain>}. */
    public static final String CLASS_PREFIX = "(wq_rescuer)";

    private final Workqueues sys;
    private final String name;
    private final Rescuer rescuer;
    /** Member queues' names, in creation order; written by creators and destroyers, read by anyone. */
    private final List<String> members = new CopyOnWriteArrayList<>();

    RescuerDomain(Workqueues sys, String name, Rescuer rescuer) {
        this.sys = sys;
        this.name = name;
        this.rescuer = rescuer;
    }

    /** The domain's name. */
    @Override
    public String name() {
        return name;
    }

    /** The validator's class of the domain's rescuer: {@code (wq_rescuer)<domain>}. */
    @Override
    public String lockClass() {
        return CLASS_PREFIX + name;
    }

    /** A pseudo-lock, as {@code fs_reclaim} is: nothing blocks on the object itself. */
    @Override
    public String kind() {
        return "pseudo-lock";
    }

    /** The shared rescuer's task. */
    public Task rescuerTask() {
        return rescuer.task();
    }

    /** The names of the live queues created in this domain, in creation order. */
    public List<String> queueNames() {
        return List.copyOf(members);
    }

    Workqueues system() {
        return sys;
    }

    Rescuer rescuer() {
        return rescuer;
    }

    void join(WorkQueue wq) {
        members.add(wq.name());
    }

    void leave(WorkQueue wq) {
        members.remove(wq.name());
    }

    @Override
    public String toString() {
        return "rescuer domain " + name + " " + members;
    }
}
