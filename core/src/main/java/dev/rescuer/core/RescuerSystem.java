package dev.rescuer.core;

import dev.rescuer.core.debug.HungTaskDetector;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.ThreadPages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.ThreadStartCost;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.Workqueues;

import java.time.Duration;

/**
 * One Rescuer system: a platform, a page allocator wired to it, and what later layers hang off them.
 * There is no global instance; tests and simulations build their own.
 *
 * <p>Building a system installs the thread-start cost on the platform (each thread the platform
 * starts from then on costs {@link Builder#pagesPerThread} pages from this system's allocator, taken
 * by the creating task), then, unless disabled, starts kswapd and the workqueue subsystem (kthreadd,
 * one worker per pool, the softirq contexts and the system queues), all of which pay that cost.
 * {@link #close()} stops them, then closes the platform if the system created it.
 *
 * <pre>{@code
 * try (RescuerSystem sys = RescuerSystem.builder().totalPages(1024).build()) {
 *     Pages p = sys.pages().allocate(4, Gfp.KERNEL);
 *     ...
 * }
 * }</pre>
 */
public final class RescuerSystem implements AutoCloseable {

    private final Platform platform;
    private final boolean ownsPlatform;
    private final PageAllocator pages;
    private final ThreadPages threadPages;
    private final Workqueues workqueues;
    private final HungTaskDetector hungTasks;

    private RescuerSystem(Builder b) {
        this.ownsPlatform = b.platform == null;
        this.platform = !ownsPlatform ? b.platform : b.maxSpin != null ? new RealPlatform(b.maxSpin) : new RealPlatform();
        PageAllocator.Builder pb = PageAllocator.builder(platform).name(b.name).totalPages(b.totalPages);
        if (b.minMark >= 0) {
            pb.watermarks(b.minMark, b.lowMark, b.highMark);
        }
        pb.mergeNofsNoio(b.mergeNofsNoio);
        if (b.reclaimRetries >= 0) {
            pb.reclaimRetries(b.reclaimRetries);
        }
        if (b.retryBackoff != null) {
            pb.retryBackoff(b.retryBackoff);
        }
        PageAllocator allocator;
        try {
            allocator = pb.build();
            this.threadPages = new ThreadPages(allocator, b.pagesPerThread);
        } catch (RuntimeException e) {
            if (ownsPlatform) {
                platform.close();
            }
            throw e;
        }
        this.pages = allocator;
        platform.setThreadStartCost(threadPages);
        Workqueues wq = null;
        try {
            if (b.backgroundReclaim) {
                pages.startBackgroundReclaim();
            }
            if (b.workqueues != null) {
                wq = new Workqueues(platform, b.workqueues);
            }
        } catch (RuntimeException e) {
            // The system does not exist: stop what started and take its cost off a platform the
            // caller may reuse.
            pages.close();
            platform.setThreadStartCost(ThreadStartCost.FREE);
            if (ownsPlatform) {
                platform.close();
            }
            throw e;
        }
        this.workqueues = wq;
        this.hungTasks = b.hungTaskTimeout.isZero() ? null : new HungTaskDetector(platform, b.hungTaskTimeout);
    }

    /** Starts configuring a system. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link RescuerSystem}. Every setting has a default. */
    public static final class Builder {
        private Platform platform;
        private Duration maxSpin;
        private String name = "pages";
        private long totalPages = 65_536;
        private long minMark = -1;
        private long lowMark = -1;
        private long highMark = -1;
        private int pagesPerThread = 4;
        private boolean backgroundReclaim = true;
        private int reclaimRetries = -1;
        private boolean mergeNofsNoio;
        private Duration retryBackoff;
        private WorkqueueConfig workqueues = WorkqueueConfig.defaults();
        private Duration hungTaskTimeout = Duration.ofSeconds(120);

        private Builder() {
        }

        /**
         * How long a task may stay blocked in a core primitive before the hung-task detector reports
         * it. Default 120 s; {@link Duration#ZERO} disables the detector.
         */
        public Builder hungTaskTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative()) {
                throw new IllegalArgumentException("hungTaskTimeout must be >= 0 (0 disables), got " + timeout);
            }
            this.hungTaskTimeout = timeout;
            return this;
        }

        /** Sets up the workqueue subsystem with {@code config}. Default: {@link WorkqueueConfig#defaults()}. */
        public Builder workqueues(WorkqueueConfig config) {
            if (config == null) {
                throw new NullPointerException("config");
            }
            this.workqueues = config;
            return this;
        }

        /** Shorthand for the default workqueue config on {@code cpus} CPUs. */
        public Builder cpus(int cpus) {
            this.workqueues = (workqueues == null ? WorkqueueConfig.defaults() : workqueues).withCpus(cpus);
            return this;
        }

        /** Leaves the workqueue subsystem out: no pools, no kthreadd, no system queues. */
        public Builder withoutWorkqueues() {
            this.workqueues = null;
            return this;
        }

        /**
         * The longest spin before a park of the system's own {@link RealPlatform}
         * ({@link RealPlatform#RealPlatform(Duration)}; {@link Duration#ZERO}: every sleep parks at
         * once). Default: {@link RealPlatform#RealPlatform()}'s. Checked by {@link #build()}, before
         * anything is started; it cannot be combined with {@link #platform(Platform)}.
         */
        public Builder maxSpin(Duration maxSpin) {
            if (maxSpin == null) {
                throw new NullPointerException("maxSpin");
            }
            this.maxSpin = maxSpin;
            return this;
        }

        /** The platform to run on. Default: a new {@link RealPlatform}, closed with the system. */
        public Builder platform(Platform platform) {
            if (platform == null) {
                throw new NullPointerException("platform");
            }
            this.platform = platform;
            return this;
        }

        /** The page allocator's name. Default {@code "pages"}. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The page budget. Default 65,536 pages (256 MiB of 4 KiB pages). */
        public Builder totalPages(long pages) {
            if (pages < 2) {
                throw new IllegalArgumentException("totalPages must be >= 2, got " + pages);
            }
            this.totalPages = pages;
            return this;
        }

        /** The allocator's watermarks; see {@link PageAllocator.Builder#watermarks}. */
        public Builder watermarks(long min, long low, long high) {
            if (min < 0 || low < 0 || high < 0) {
                throw new IllegalArgumentException("watermarks must be >= 0, got min=" + min + " low=" + low + " high=" + high);
            }
            this.minMark = min;
            this.lowMark = low;
            this.highMark = high;
            return this;
        }

        /** Pages each started thread costs its creator. Default 4 (a 16 KiB stack). Zero makes threads free. */
        public Builder pagesPerThread(int pages) {
            if (pages < 0) {
                throw new IllegalArgumentException("pagesPerThread must be >= 0, got " + pages);
            }
            this.pagesPerThread = pages;
            return this;
        }

        /** Whether to start kswapd. Default {@code true}. */
        public Builder backgroundReclaim(boolean on) {
            this.backgroundReclaim = on;
            return this;
        }

        /** See {@link PageAllocator.Builder#mergeNofsNoio}. Default off. */
        public Builder mergeNofsNoio(boolean on) {
            this.mergeNofsNoio = on;
            return this;
        }

        /** See {@link PageAllocator.Builder#reclaimRetries}. */
        public Builder reclaimRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("reclaimRetries must be >= 0, got " + retries);
            }
            this.reclaimRetries = retries;
            return this;
        }

        /** See {@link PageAllocator.Builder#retryBackoff}. */
        public Builder retryBackoff(Duration backoff) {
            this.retryBackoff = backoff;
            return this;
        }

        /** Builds and starts the system. */
        public RescuerSystem build() {
            if (platform != null && maxSpin != null) {
                throw new IllegalStateException("maxSpin applies to the system's own RealPlatform, "
                        + "but a platform was given with platform(...): bound its spin where it is made");
            }
            return new RescuerSystem(this);
        }
    }

    /** The platform everything blocks through. */
    public Platform platform() {
        return platform;
    }

    /** The page allocator. */
    public PageAllocator pages() {
        return pages;
    }

    /** Whether this system has the workqueue subsystem (it was not built {@link Builder#withoutWorkqueues() without}). */
    public boolean hasWorkqueues() {
        return workqueues != null;
    }

    /**
     * The workqueue subsystem: pools, system queues and queue creation.
     *
     * @throws IllegalStateException if the system was built {@link Builder#withoutWorkqueues() without} it
     */
    public Workqueues workqueues() {
        if (workqueues == null) {
            throw new IllegalStateException("this system was built without workqueues");
        }
        return workqueues;
    }

    /** Whether this system runs the hung-task detector (its timeout was not zero). */
    public boolean hasHungTaskDetector() {
        return hungTasks != null;
    }

    /**
     * The hung-task detector.
     *
     * @throws IllegalStateException if it was disabled with a zero timeout
     */
    public HungTaskDetector hungTaskDetector() {
        if (hungTasks == null) {
            throw new IllegalStateException("this system was built with the hung-task detector disabled");
        }
        return hungTasks;
    }

    /** Pages each started thread costs. */
    public int pagesPerThread() {
        return threadPages.pagesPerThread();
    }

    /**
     * Closes the workqueue subsystem ({@link Workqueues#close()}: queueing is refused from the call
     * on, accepted items run, threads stop), then stops the hung-task detector and kswapd, takes the
     * thread-start cost off the platform, and closes the platform if this system created it. Waits
     * as long as the workqueues take; see {@link #close(Duration)}.
     */
    @Override
    public void close() {
        if (workqueues != null) {
            workqueues.close();
        }
        closeRest();
    }

    /**
     * Like {@link #close()}, but gives the workqueue subsystem at most {@code timeout} to run what it
     * accepted and stop its threads. If it does not finish, nothing else is closed (the hung-task
     * detector keeps watching), queueing stays refused, and the exception's message carries
     * {@link Workqueues#dump()}; {@code close} may be called again.
     *
     * @throws dev.rescuer.core.wq.WorkqueueTimeoutException if the workqueues did not finish in time
     */
    public void close(Duration timeout) {
        if (workqueues != null) {
            workqueues.close(timeout);
        }
        closeRest();
    }

    private void closeRest() {
        if (hungTasks != null) {
            hungTasks.close();
        }
        pages.close();
        platform.setThreadStartCost(ThreadStartCost.FREE);
        if (ownsPlatform) {
            platform.close();
        }
    }
}
