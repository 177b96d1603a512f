package dev.rescuer.storage.fs.workload;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.OpenFile;

/**
 * A task that writes {@code pages} whole pages into a file of a mounted filesystem, one
 * {@code write} per page from offset 0, creating the file with {@code blocks} blocks if it does not
 * exist, and optionally {@code fsync}s at the end. Dirtying goes through the page cache, so the task
 * is throttled in {@code balance_dirty_pages} and its page allocations may reclaim.
 *
 * <p>Settings: {@code fs} (required), {@code file} (required), {@code pages} (required, >= 1),
 * {@code blocks} (>= pages, default pages), {@code fsync} (default false).
 */
public final class PageCacheWriter extends AbstractWorkload {

    private final Target target;

    private PageCacheWriter(String name, Target target, WorkloadEnv env) {
        super(name, target.pages(), env);
        this.target = target;
    }

    /**
     * What a writer writes, from its settings {@code fs}, {@code file}, {@code pages}, {@code blocks}
     * and {@code fsync}; shared with {@link MetadataWriter}.
     */
    record Target(JournalFs fs, String file, int pages, int blocks, boolean fsync) {

        /**
         * Reads the settings; {@code more} are the kind's other settings, read by the caller.
         *
         * @throws WorkloadConfigException naming the field
         */
        static Target of(Settings s, WorkloadEnv env, String... more) {
            JournalFs fs = env.filesystem(s, "fs");
            String file = s.string("file");
            int pages = s.integer("pages", 1);
            int blocks = s.integer("blocks", 1, pages);
            if (blocks < pages) {
                throw new WorkloadConfigException(s.where(), "blocks", "a file of " + blocks + " blocks cannot hold " + pages + " pages");
            }
            boolean fsync = s.bool("fsync", false);
            String[] known = java.util.stream.Stream.concat(java.util.stream.Stream.of("fs", "file", "pages", "blocks", "fsync"),
                    java.util.Arrays.stream(more)).toArray(String[]::new);
            s.checkAllUsed(known);
            if (fs.options().readOnly()) {
                throw new WorkloadConfigException(s.where(), "fs", "filesystem '" + fs.name() + "' is mounted read-only");
            }
            return new Target(fs, file, pages, blocks, fsync);
        }

        /** Opens the file, creating it with {@code blocks} blocks if it does not exist. */
        OpenFile openOrCreate() {
            return fs.sizeOnDisk(file) < 0 ? fs.create(file, blocks) : fs.open(file);
        }

        /** Fsyncs {@code f} if asked. */
        void fsyncIfAsked(OpenFile f) {
            if (fsync) {
                BlkStatus st = f.fsync();
                if (st != BlkStatus.OK) {
                    throw new IllegalStateException("fsync of " + f + " failed: " + st);
                }
            }
        }
    }

    /** Builds a writer from settings. */
    public static PageCacheWriter build(String name, Settings s, WorkloadEnv env) {
        Target t = Target.of(s, env);
        return new PageCacheWriter(name, t, env);
    }

    @Override
    void body() {
        try (OpenFile f = target.openOrCreate()) {
            for (int i = 0; i < target.pages(); i++) {
                f.write((long) i * Bio.PAGE_SIZE, Bio.PAGE_SIZE);
                advance();
            }
            target.fsyncIfAsked(f);
        }
    }
}
