package dev.rescuer.core.platform;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The per-task record, Rescuer's {@code task_struct}: one per thread the platform knows, created when
 * the platform starts a thread or first sees a foreign one.
 *
 * <p>It carries what the layers above need to know about the running task and what reports need to
 * know about every task:
 * <ul>
 *   <li>{@linkplain #name() name} and {@linkplain #id() id};
 *   <li>memalloc scope flags ({@code PF_MEMALLOC_NOIO}, {@code PF_MEMALLOC_NOFS}, {@code PF_MEMALLOC}),
 *       whose meaning the memory model owns;
 *   <li>other {@code current->flags} bits, whose meaning the layer that defines them owns
 *       ({@link #flags()}: the storage model's {@code PF_LOCAL_THROTTLE});
 *   <li>the atomic depth, non-zero while the task holds a spin lock or runs a BH item or timer callback;
 *   <li>the primitives it holds, in acquisition order;
 *   <li>what it is waiting on right now, and since when;
 *   <li>a {@link SleepListener} and a slot for the layer that owns the thread ({@code kthread_data});
 *   <li>on exit, the primitives it still held ({@link #heldAtExit()}).
 * </ul>
 *
 * <p><b>Threading and memory ordering.</b> Only the task itself changes its scope flags, atomic
 * depth, held primitives, listener, data slot and bio list; those fields are plain, as in the kernel,
 * and other tasks that read them (reports, detectors) get a best-effort snapshot. The wait target,
 * the wait start and the state are volatile fields read with acquires, so that detectors see them
 * promptly; the task writes them with release stores (no fence on the sleep path): {@code beginWait}
 * writes the start time and target before the state, so a reader that sees {@code BLOCKED} sees the
 * wait it belongs to. Exit writes {@link #heldAtExit()} and the failure before the state
 * {@code EXITED}, so whoever sees the task exited (a joiner, a report) sees both. The exit waiters
 * are a concurrent queue that any task may add to. The pending-interrupt flag (used by platforms
 * that do not keep interrupts on the JVM thread) is atomic: the interrupter sets it before it wakes
 * the task, and the task consumes it with a compare-and-set after it woke, so the wake cannot
 * overtake the flag.
 */
public final class Task {

    /** Scheduling state, as the hung-task detector and the reports see it. */
    public enum State {
        /** Running or runnable. */
        RUNNING,
        /** Sleeping in {@link Platform#await} until woken. */
        BLOCKED,
        /** Its body has returned or thrown. */
        EXITED
    }

    private static final Primitive[] NONE = new Primitive[0];

    private static final VarHandle WAITING_ON;
    private static final VarHandle WAITING_SINCE;
    private static final VarHandle STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WAITING_ON = l.findVarHandle(Task.class, "waitingOn", Primitive.class);
            WAITING_SINCE = l.findVarHandle(Task.class, "waitingSinceNanos", long.class);
            STATE = l.findVarHandle(Task.class, "state", State.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long id;
    private final String name;
    /** For an adopted task, how many tasks its platform adopted before it; -1 for a started one. */
    private final long adoptionOrder;
    private final Platform platform;

    private int memallocFlags;
    private int memallocScopeDepth;
    private int memallocBitDepths;
    private int flags;
    private int atomicDepth;
    private Primitive[] held = NONE;
    private int heldCount;
    private SleepListener sleepListener;
    private Object kthreadData;
    private Object bioList;
    private Object lockdepData;

    private volatile Primitive waitingOn;
    private volatile long waitingSinceNanos;
    private volatile State state = State.RUNNING;
    private volatile Throwable failure;
    private volatile List<Primitive> heldAtExit = List.of();
    private final ConcurrentLinkedQueue<Task> exitWaiters = new ConcurrentLinkedQueue<>();
    /** An interrupt delivered and not yet consumed, on platforms that keep it here. Atomic: any task sets it. */
    private final AtomicBoolean interruptPending = new AtomicBoolean();
    private final Primitive exitEvent;

    /** Platform-private state (the JVM thread and its wake-up permit, or a simulator's record). */
    Object platformData;

    Task(Platform platform, long id, String name, long adoptionOrder) {
        this.platform = platform;
        this.id = id;
        this.name = name;
        this.adoptionOrder = adoptionOrder;
        this.exitEvent = new AbstractPrimitive() {
            @Override public String name() { return Task.this.name; }
            @Override public String lockClass() { return "task-exit"; }
            @Override public String kind() { return "exit of task"; }
        };
    }

    /** The task's number, unique within its platform, like a pid. */
    public long id() {
        return id;
    }

    /** The task's name, for example {@code "kworker/0:1"}. */
    public String name() {
        return name;
    }

    /** Whether the platform adopted this task from a thread it did not start (a test's or main thread). */
    public boolean isAdopted() {
        return adoptionOrder >= 0;
    }

    /**
     * For an {@linkplain #isAdopted() adopted} task, how many tasks its platform adopted before it
     * (0 for the first); -1 for a task the platform started. Its ids, by contrast, are shared with
     * every task the platform starts, so two threads adopted one after the other may have ids of any
     * distance.
     */
    public long adoptionOrder() {
        return adoptionOrder;
    }

    /** The platform this task belongs to. */
    public Platform platform() {
        return platform;
    }

    // ---- memalloc scopes (owned by the memory model) ----

    /** The task's memalloc scope flags; their bits are defined by {@code dev.rescuer.core.mm.MemallocScope}. */
    public int memallocFlags() {
        return memallocFlags;
    }

    /** Replaces the memalloc scope flags. Only the task itself may call this. */
    public void setMemallocFlags(int flags) {
        this.memallocFlags = flags;
    }

    /** How many memalloc scopes are open on this task, for the out-of-order close check. */
    public int memallocScopeDepth() {
        return memallocScopeDepth;
    }

    /** Sets the number of open memalloc scopes. Only the task itself may call this. */
    public void setMemallocScopeDepth(int depth) {
        this.memallocScopeDepth = depth;
    }

    /**
     * How many memalloc scopes of each kind are open on this task, packed by
     * {@code dev.rescuer.core.mm.MemallocScope}, which checks with it that scopes of one kind close
     * innermost first.
     */
    public int memallocBitDepths() {
        return memallocBitDepths;
    }

    /** Replaces the packed per-kind scope depths. Only the task itself may call this. */
    public void setMemallocBitDepths(int depths) {
        this.memallocBitDepths = depths;
    }

    // ---- other process flags (owned by the layers above) ----

    /**
     * The task's {@code current->flags} bits other than the memalloc scopes; core defines none and
     * never reads them. A layer above defines its bits and saves and restores them around the code
     * that sets them, as the kernel's callers do ({@code loop_process_work} with
     * {@code PF_LOCAL_THROTTLE}).
     */
    public int flags() {
        return flags;
    }

    /** Replaces the flags of {@link #flags()}. Only the task itself may call this. */
    public void setFlags(int flags) {
        this.flags = flags;
    }

    // ---- atomic context ----

    /** Enters atomic context (a spin lock taken, a BH item or timer callback started). Nests. */
    public void enterAtomic() {
        atomicDepth++;
    }

    /** Leaves one level of atomic context. */
    public void exitAtomic() {
        if (atomicDepth == 0) {
            throw new IllegalStateException("task " + name + " left atomic context it was not in");
        }
        atomicDepth--;
    }

    /** How deep in atomic context the task is; zero means it may sleep. */
    public int atomicDepth() {
        return atomicDepth;
    }

    /** Whether the task is in atomic context, where sleeping is an error. */
    public boolean inAtomic() {
        return atomicDepth != 0;
    }

    /**
     * The kernel's {@code might_sleep()}: throws {@link AtomicContextException} if this task is in atomic
     * context. Blocking operations call it on entry, before touching any state.
     */
    public void checkMaySleep(Primitive primitive, String operation) {
        if (atomicDepth != 0) {
            throw new AtomicContextException(this, primitive, operation);
        }
    }

    String describeAtomicHolders() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < heldCount; i++) {
            if ("spinlock".equals(held[i].kind())) {
                sb.append(sb.length() == 0 ? "; holding " : ", ").append(held[i].describe());
            }
        }
        return sb.toString();
    }

    // ---- held primitives ----

    /** Records that this task now holds {@code p}. Called by the primitive on acquisition. */
    public void pushHeld(Primitive p) {
        if (heldCount == held.length) {
            held = Arrays.copyOf(held, Math.max(4, heldCount * 2));
        }
        held[heldCount++] = p;
    }

    /**
     * Records that this task released {@code p}. Releases may come in any order.
     *
     * @return whether {@code p} was recorded as held
     */
    public boolean removeHeld(Primitive p) {
        int last = heldCount - 1;
        if (last >= 0 && held[last] == p) { // the usual, nested release order
            held[last] = null;
            heldCount = last;
            return true;
        }
        for (int i = last - 1; i >= 0; i--) {
            if (held[i] == p) {
                System.arraycopy(held, i + 1, held, i, heldCount - i - 1);
                held[--heldCount] = null;
                return true;
            }
        }
        return false;
    }

    /** Whether this task holds {@code p} (for a shared primitive: holds it at least once). */
    public boolean holds(Primitive p) {
        for (int i = heldCount - 1; i >= 0; i--) {
            if (held[i] == p) {
                return true;
            }
        }
        return false;
    }

    /** How many primitives this task holds (a shared one held twice counts twice). */
    public int heldCount() {
        return heldCount;
    }

    /** The primitives this task holds, oldest first. A snapshot when read from another task. */
    public List<Primitive> heldPrimitives() {
        Primitive[] h = held;
        int n = Math.min(heldCount, h.length);
        List<Primitive> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (h[i] != null) {
                out.add(h[i]);
            }
        }
        return out;
    }

    // ---- waiting ----

    /** What the task is blocked on, or {@code null} when it is not blocked. */
    public Primitive waitingOn() {
        return waitingOn;
    }

    /** The platform clock reading when the current wait began; meaningless when not waiting. */
    public long waitingSinceNanos() {
        return waitingSinceNanos;
    }

    /** The task's scheduling state. */
    public State state() {
        return state;
    }

    /**
     * The task enters a wait. Release stores, not volatile ones (no fence on the sleep path): readers
     * are detectors and reports, which need only that a {@code BLOCKED} they read comes with the wait
     * it belongs to, and the release of {@code state} orders the two stores before it.
     */
    void beginWait(Primitive on, long nowNanos) {
        WAITING_SINCE.setRelease(this, nowNanos);
        WAITING_ON.setRelease(this, on);
        STATE.setRelease(this, State.BLOCKED);
    }

    /** The task leaves its wait; release stores, as in {@link #beginWait}. */
    void endWait() {
        STATE.setRelease(this, State.RUNNING);
        WAITING_ON.setRelease(this, null);
    }

    // ---- interrupts (for platforms that keep them in the task record) ----

    /** Marks an interrupt pending. The platform then wakes the task. */
    void setInterruptPending() {
        interruptPending.set(true);
    }

    /** Whether an interrupt is pending. */
    boolean interruptPending() {
        return interruptPending.get();
    }

    /** Consumes a pending interrupt; whether there was one. */
    boolean takeInterruptPending() {
        return interruptPending.compareAndSet(true, false);
    }

    // ---- hooks and data ----

    /** The listener told when this task sleeps and runs again, or {@code null}. */
    public SleepListener sleepListener() {
        return sleepListener;
    }

    /** Installs the sleep listener. Only the task itself may call this. */
    public void setSleepListener(SleepListener listener) {
        this.sleepListener = listener;
    }

    /** The owning layer's data for this task ({@code kthread_data}), such as its worker record. */
    public Object kthreadData() {
        return kthreadData;
    }

    /** Sets the owning layer's data. Only the task itself, or its creator before it starts, may call this. */
    public void setKthreadData(Object data) {
        this.kthreadData = data;
    }

    /**
     * The block layer's {@code current->bio_list}: non-null while the task is inside
     * {@code submit_bio_noacct}, where bios submitted from a device's {@code submit_bio} are queued
     * instead of recursing. Core never reads it; the storage layer owns its type. Only the task itself
     * touches it.
     */
    public Object bioList() {
        return bioList;
    }

    /** Sets the block layer's {@code current->bio_list}. Only the task itself may call this. */
    public void setBioList(Object bioList) {
        this.bioList = bioList;
    }

    /**
     * The validator's per-task state (lockdep's {@code held_locks} and DEPT's context), owned by the
     * installed {@link LockEvents}. Core never reads it. Only the task itself touches it.
     */
    public Object lockdepData() {
        return lockdepData;
    }

    /** Sets the validator's per-task state. Only the task itself may call this. */
    public void setLockdepData(Object data) {
        this.lockdepData = data;
    }

    // ---- exit ----

    /** Whether the task's body has finished. */
    public boolean hasExited() {
        return state == State.EXITED;
    }

    /** What the task's body threw, or {@code null} if it returned normally or is still running. */
    public Throwable failure() {
        return failure;
    }

    /** The event a task waits on in {@link Platform#join}. */
    Primitive exitEvent() {
        return exitEvent;
    }

    void addExitWaiter(Task waiter) {
        exitWaiters.add(waiter);
    }

    /**
     * The primitives the task still held when it exited, oldest first; empty while it runs and when
     * it exited holding nothing. They stay held: an exit releases nothing, as in the kernel.
     */
    public List<Primitive> heldAtExit() {
        return heldAtExit;
    }

    void exited(Throwable failure, List<Primitive> held) {
        this.heldAtExit = List.copyOf(held);
        this.failure = failure;
        this.waitingOn = null;
        this.state = State.EXITED;
        for (Task w; (w = exitWaiters.poll()) != null; ) {
            platform.wake(w);
        }
    }

    @Override
    public String toString() {
        return name + ":" + id;
    }
}
