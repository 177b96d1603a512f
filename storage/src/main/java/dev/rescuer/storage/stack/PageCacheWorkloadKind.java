package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.fs.FsLayoutException;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.workload.Workload;
import dev.rescuer.storage.fs.workload.WorkloadKinds;
import dev.rescuer.storage.fs.workload.WorkloadProgress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The page-cache workloads of {@link WorkloadKinds} as stack-file entries: {@code file-writer}
 * ({@code writer}: write {@code pages} whole pages into {@code file} of filesystem {@code fs}, then
 * {@code sync_file_range} and {@code fsync} if asked), {@code metadata-writer} (the same without
 * {@code sync_file_range}, with a transaction allocating {@code metadata_pages} pages under
 * {@code nofs} after every page), {@code file-reader} ({@code reader}: read the whole file {@code passes}
 * times) and {@code memory-hog} (allocate {@code pages} pages, or down to {@code leave_free} free pages, hold them {@code hold_ms}). Each may
 * start late ({@code start_ms}). Writers declare the {@link WriterMeter} counters. {@link #check} applies the factories' rules at load, on the filesystem
 * entry where they need one: required keys and bounds, {@code fs} mounted read-only for a writer, a
 * reader's file missing from the image, a created file that does not fit, a hog as large as memory. The invariant: every task finished without failure and did all its
 * units.
 */
public final class PageCacheWorkloadKind implements WorkloadKind<PageCacheWorkloadKind.Config> {

    /**
     * A page-cache workload; which keys apply depends on the kind.
     *
     * @param kind {@code file-writer}, {@code file-reader} or {@code memory-hog}
     * @param name the task's name
     * @param fs the filesystem entry's name (writer, reader)
     * @param file the file (writer, reader)
     * @param pages pages to write (writer) or allocate (hog)
     * @param blocks the extent of a file the writer creates; default {@code pages}
     * @param syncFileRange whether the writer syncs its data without the log at the end; default false
     * @param fsync whether the writer fsyncs at the end; default false
     * @param metadataPages pages each of a metadata writer's transactions allocates; default 1
     * @param passes how often the reader reads the file; default 1
     * @param leaveFree instead of {@code pages}: the hog allocates until no more than this many pages are free
     * @param holdMs how long the hog holds its pages; default 0
     * @param startMs when the task starts, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     */
    public record Config(String kind, String name, String fs, String file, Integer pages, Integer blocks,
                         @JsonProperty("sync_file_range") Boolean syncFileRange, Boolean fsync,
                         @JsonProperty("metadata_pages") Integer metadataPages, Integer passes,
                         @JsonProperty("leave_free") Integer leaveFree, @JsonProperty("hold_ms") Integer holdMs,
                         @JsonProperty("start_ms") MsRange startMs) {
    }

    private final String kind;
    private final String factoryKind;
    private final List<String> keys;
    /** Whether the workload writes pages (and so declares the {@link WriterMeter} counters). */
    private final boolean writes;

    private PageCacheWorkloadKind(String kind, String factoryKind, List<String> keys, boolean writes) {
        this.kind = kind;
        this.factoryKind = factoryKind;
        this.keys = keys;
        this.writes = writes;
    }

    /** {@code file-writer}. */
    public static PageCacheWorkloadKind fileWriter() {
        return new PageCacheWorkloadKind("file-writer", "writer", List.of("fs", "file", "pages", "blocks", "sync_file_range", "fsync"), true);
    }

    /**
     * {@code metadata-writer}: sustained NOFS pressure, a {@code file-writer} whose every page is
     * followed by a transaction that allocates {@code metadata_pages} pages under {@code nofs}
     * ({@link dev.rescuer.storage.fs.workload.MetadataWriter}).
     */
    public static PageCacheWorkloadKind metadataWriter() {
        return new PageCacheWorkloadKind("metadata-writer", "metadata-writer",
                List.of("fs", "file", "pages", "blocks", "metadata_pages", "fsync"), true);
    }

    /** {@code file-reader}. */
    public static PageCacheWorkloadKind fileReader() {
        return new PageCacheWorkloadKind("file-reader", "reader", List.of("fs", "file", "passes"), false);
    }

    /** {@code memory-hog}. */
    public static PageCacheWorkloadKind memoryHog() {
        return new PageCacheWorkloadKind("memory-hog", "memory-hog", List.of("pages", "leave_free", "hold_ms"), false);
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public Class<Config> configType() {
        return Config.class;
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        Map<String, Object> given = settings(c);
        for (String key : given.keySet()) {
            if (!keys.contains(key)) {
                throw check.error(key, "key '" + key + "' does not apply to " + kind + "; its keys: name, start_ms, "
                        + String.join(", ", keys));
            }
        }
        if (given.containsKey("fs")) {
            check.requireFilesystem(c.fs(), "fs");
        }
        StartDelay.check(c.startMs(), check);
        if (!kind.equals("memory-hog")) {
            check.require(c.file(), "file");
        }
        if (keys.contains("leave_free")) {
            if (c.pages() != null && c.leaveFree() != null) {
                throw check.error("leave_free", "give either pages or leave_free, not both");
            }
            if (c.leaveFree() == null) {
                check.require(c.pages(), "pages");
            }
            atLeast(check, "leave_free", c.leaveFree(), 0);
        } else if (keys.contains("pages")) {
            check.require(c.pages(), "pages");
        }
        atLeast(check, "pages", c.pages(), 1);
        atLeast(check, "blocks", c.blocks(), 1);
        if (c.blocks() != null && c.blocks() < c.pages()) {
            throw check.error("blocks", "a file of " + c.blocks() + " blocks cannot hold " + c.pages() + " pages");
        }
        atLeast(check, "metadata_pages", c.metadataPages(), 1);
        atLeast(check, "passes", c.passes(), 1);
        atLeast(check, "hold_ms", c.holdMs(), 0);
        if (c.holdMs() != null && c.holdMs() > MsRange.MAX_MS) {
            throw check.error("hold_ms", "must be at most " + MsRange.MAX_MS + " ms, got " + c.holdMs());
        }
        if (kind.equals("memory-hog") && c.pages() != null && c.pages() >= check.memoryPages()) {
            throw check.error("pages", c.pages() + " pages is not less than all of memory (" + check.memoryPages() + " pages)");
        }
        if (c.fs() != null && c.file() != null) {
            checkFile(c, check);
        }
    }

    /**
     * What the workload factories check once the filesystem is mounted, checked here on its entry: a
     * reader's file is in the image; a writer's filesystem is read-write, and a file it creates fits.
     */
    private void checkFile(Config c, StackCheck check) {
        FilesystemKind.Config fs = check.requireEntry(c.fs(), "fs", FilesystemKind.Config.class, "filesystem");
        if (!writes) {
            LoopKind.fileOf(check, fs, c.fs(), c.file(), "file");
            return;
        }
        if (fs.options() != null && MountOptions.parse(fs.options()).readOnly()) {
            throw check.error("fs", "filesystem " + c.fs() + " is mounted read-only (a write gets EROFS)");
        }
        boolean inImage = fs.files() != null && fs.files().stream().anyMatch(f -> c.file().equals(f.name()));
        if (!inImage) {
            long blocks = c.blocks() != null ? c.blocks() : c.pages();
            try {
                FilesystemKind.layout(fs, check.sectors(fs.device())).addFile(c.file(), blocks, 0);
            } catch (FsLayoutException e) {
                // The model's create takes the whole extent at once; it has no ENOSPC to return to the
                // writer in the run, so a file that cannot fit is refused here.
                throw check.error(c.blocks() != null ? "blocks" : "pages", "filesystem " + c.fs() + " cannot create file "
                        + c.file() + " (ENOSPC): " + e.getMessage());
            }
        }
    }

    private static void atLeast(StackCheck check, String key, Integer value, int min) {
        if (value != null && value < min) {
            throw check.error(key, "must be >= " + min + ", got " + value);
        }
    }

    private static Map<String, Object> settings(Config c) {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "fs", c.fs());
        put(m, "file", c.file());
        put(m, "pages", c.pages());
        put(m, "blocks", c.blocks());
        put(m, "sync_file_range", c.syncFileRange());
        put(m, "fsync", c.fsync());
        put(m, "metadata_pages", c.metadataPages());
        put(m, "passes", c.passes());
        put(m, "leave_free", c.leaveFree());
        put(m, "hold_ms", c.holdMs());
        return m;
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        Workload w = WorkloadKinds.build(factoryKind, c.name(), settings(c), b.pageCache().env(b::progress));
        WriterMeter meter = writes ? WriterMeter.declare(b, c.name(), () -> w.progress().done()) : null;
        w.start((name, body) -> b.spawn(name, () -> {
            StartDelay.sleep(b.system().platform(), name, startNs);
            if (meter == null) {
                body.run();
            } else {
                meter.time(body);
            }
        }));
        b.invariant(c.name() + ": finished without failure and did all its work", () -> {
            WorkloadProgress p = w.progress();
            return p.finished() && p.failure() == null && p.done() == p.total();
        });
    }
}
