package dev.rescuer.core.platform;

/**
 * The validator's hook: what the primitives, the page allocator and the workqueues report about
 * acquisitions, waits and signals, like the kernel's {@code lock_acquire}/{@code lock_release}
 * (lockdep) and DEPT's {@code dept_wait}/{@code dept_event}.
 *
 * <p>A platform holds at most one listener ({@link Platform#lockEvents()}); with none installed,
 * each reporting site costs one volatile read and a null check, and allocates nothing. Core never
 * implements this interface; the {@code check} module does.
 *
 * <p>Every method runs on the task the event is about, synchronously, at the point named; it must
 * not block and must not call back into a sleeping primitive. It may be called in atomic context
 * (with spin locks held). Calls for one task arrive in program order; calls for different tasks
 * may arrive concurrently on a real platform.
 *
 * <p>What counts as a wait is a <em>potential</em> wait: {@link #waitOn} is reported every time a
 * task enters an operation that can sleep until another task signals, whether or not it ends up
 * sleeping this time, because the validator looks for what <em>could</em> hang. Waits bounded by a
 * timeout are not reported (they end on their own), as DEPT skips timed waits.
 */
public interface LockEvents {

    /** Held alone: excludes every other holder ({@code mutex_lock}, {@code down_write}, a spin lock). */
    int EXCLUSIVE = 0;
    /**
     * Held shared, behind a queued writer ({@code down_read}): two shared holders do not exclude
     * each other, but a shared acquisition waits for a writer queued in between.
     */
    int SHARED = 1;
    /**
     * Held shared, never behind anyone of its class except an exclusive holder: a workqueue's
     * pseudo-lock while an item of a concurrency-managed queue runs (more workers can always start,
     * reclaim permitting).
     */
    int RECURSIVE = 2;

    /**
     * The {@code fs_reclaim} pseudo-lock ({@code mm/page_alloc.c}, {@code __fs_reclaim_map}): an
     * allocation that may enter direct reclaim with {@code __GFP_FS} acquires and releases it; a
     * reclaim pass holds it while the shrinkers run. A constant, as the kernel's map is, shared by
     * every platform: nothing in it changes but the validator's class cache
     * ({@link AbstractPrimitive}), which each validator tags as its own, so that two validators
     * watching two platforms at once only take turns replacing it.
     */
    Primitive FS_RECLAIM = new AbstractPrimitive() {
        @Override public String name() { return "fs_reclaim"; }
        @Override public String kind() { return "pseudo-lock"; }
        @Override public String toString() { return "fs_reclaim"; }
    };

    /**
     * {@code task} is about to acquire {@code lock} (before it may sleep for it, as lockdep's
     * {@code lock_acquire} comes before the attempt), in {@code mode}.
     *
     * @param subclass lockdep's subclass ({@code mutex_lock_nested}): instances of one class taken
     *     nested on purpose use different subclasses; 0 otherwise
     * @param trylock whether this is a try-acquisition, which cannot wait and so adds no dependency
     *     of its own (it is still held while later acquisitions happen); reported only on success
     */
    void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock);

    /** {@code task} released {@code lock} (or one shared hold of it). */
    void release(Task task, Primitive lock);

    /**
     * {@code task} enters a wait on {@code event} that only another task's {@link #signal} can end
     * ({@code wait_for_completion}, {@code down}, {@code wait_event}, {@code mempool_alloc}).
     */
    void waitOn(Task task, Primitive event);

    /** {@code task} signals {@code event} ({@code complete}, {@code up}, {@code wake_up}, {@code mempool_free}). */
    void signal(Task task, Primitive event);

    /**
     * {@code task} enters a {@link #waitOn} of {@code event} while it still holds what only that
     * event's signal gives back: elements of the same mempool it allocated and has not freed (a second
     * {@code mempool_alloc} before the first element is freed). Two tasks doing so can each hold part of
     * the reserve and wait for the other, unless one lock that every such waiter holds serialises them
     * (dm-crypt's {@code bio_alloc_lock}), as lockdep's {@code nest_lock} does for one class nested in
     * itself. Reported right after the {@link #waitOn}. Ignored by default.
     */
    default void waitOnNested(Task task, Primitive event) {
    }

    /**
     * {@code task} has made {@code event} pending and will signal it itself (DEPT's
     * {@code dept_request_event}): no task can wait for it before this point, so the task's next
     * {@link #signal} of {@code event} depends only on what it acquires and waits on from here on.
     * Cleared by that signal and by a {@link #contextBoundary}. Ignored by default.
     */
    default void requestEvent(Task task, Primitive event) {
    }

    /**
     * {@code task} starts to act for {@code event}, an event whose completion is handed from owner
     * to owner ({@link HandedOnEvent}: a bio): it has taken the event off whatever list or queue
     * handed it over (loop's worker taking a command), or the event's completion callback starts to
     * run on it (a bio's end-io, in whatever context ends the bio). Until the matching
     * {@link #handOn}, what the task acquires and waits on is what the event's completion waited
     * for, and the event carries it on to its later owners; and what earlier owners did while they
     * owned it is part of the context of any signal the task makes meanwhile. Windows nest (an
     * end-io that ends another bio); a {@link #contextBoundary} ends those still open, as a
     * {@link #handOn} would. Ignored by default.
     */
    default void takeOver(Task task, HandedOnEvent event) {
    }

    /**
     * {@code task} stops acting for {@code event}: it handed it on (to a device, a list, a work
     * item, another event it now waits for) or ended it, or the event's completion callback
     * returned. A call for an event the task does not act for is ignored. With {@code into}
     * non-null, {@code event}'s completion is now part of {@code into}'s (a chained bio handing its
     * end to its parent, {@code bio_chain}): what {@code event} carries, {@code into} carries too.
     * Also called at every hand-off of the event, after its {@link HandedOnEvent#completer()} was set
     * to the new owner, whether or not the task acted for it: a completer that is a work item makes
     * the event's completion wait for that item to run. Ignored by default.
     */
    default void handOn(Task task, HandedOnEvent event, HandedOnEvent into) {
    }

    /**
     * {@code task} starts (or ends) an execution context whose signals owe nothing to what the
     * task did before: a work item begins or ends, a timer callback begins. A signal's context is
     * what its task acquired and waited on since the last call.
     */
    void contextBoundary(Task task);
}
