package dev.rescuer.storage.fs.workload;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.fs.OpenFile;

/**
 * A task that writes {@code pages} whole pages into a file of a mounted filesystem, one
 * {@code write} per page from offset 0, creating the file with {@code blocks} blocks if it does not
 * exist, then optionally syncs the data without the log ({@code sync_file_range}, see
 * {@link dev.rescuer.storage.fs.JournalFs#syncFileRange}) and optionally {@code fsync}s, in that
 * order, and closes the file. Dirtying goes through the page cache, so the task is throttled in
 * {@code balance_dirty_pages} and its page allocations may reclaim. A writer with
 * {@code sync_file_range} and no {@code fsync} leaves an unused, clean inode whose size change is
 * still in the CIL: reclaiming it means forcing the log.
 *
 * <p>Settings: {@code fs} (required), {@code file} (required), {@code pages} (required, >= 1),
 * {@code blocks} (>= pages, default pages), {@code sync_file_range} (default false), {@code fsync}
 * (default false).
 */
public final class PageCacheWriter extends AbstractWorkload {

    private final WrittenFile target;
    private final boolean syncFileRange;
    private final boolean fsync;

    private PageCacheWriter(String name, WrittenFile target, boolean syncFileRange, boolean fsync, WorkloadEnv env) {
        super(name, target.pages(), env);
        this.target = target;
        this.syncFileRange = syncFileRange;
        this.fsync = fsync;
    }

    /** Builds a writer from settings. */
    public static PageCacheWriter build(String name, Settings s, WorkloadEnv env) {
        WrittenFile target = WrittenFile.parse(s, env);
        boolean syncFileRange = s.bool("sync_file_range", false);
        boolean fsync = s.bool("fsync", false);
        s.checkAllUsed("fs", "file", "pages", "blocks", "sync_file_range", "fsync");
        return new PageCacheWriter(name, target.requireWritable(s), syncFileRange, fsync, env);
    }

    @Override
    void body() {
        try (OpenFile f = target.openOrCreate()) {
            for (int i = 0; i < target.pages(); i++) {
                f.write((long) i * Bio.PAGE_SIZE, Bio.PAGE_SIZE);
                advance();
            }
            if (syncFileRange) {
                WrittenFile.check("sync_file_range", f, f.syncFileRange());
            }
            if (fsync) {
                WrittenFile.check("fsync", f, f.fsync());
            }
        }
    }
}
