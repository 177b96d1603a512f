package dev.rescuer.storage.fs.workload;

import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.OpenFile;

/**
 * The file a writer workload writes, as its settings give it: {@code fs} (required), {@code file}
 * (required), {@code pages} (required, >= 1) and {@code blocks} (>= pages, default pages), the extent
 * the file is created with when the filesystem has none by that name.
 *
 * @param fs the mounted filesystem
 * @param file the file's name
 * @param pages whole pages to write, from offset 0
 * @param blocks the extent a new file is created with
 */
record WrittenFile(JournalFs fs, String file, int pages, int blocks) {

    /**
     * Reads the four settings.
     *
     * @throws WorkloadConfigException naming the field, for a missing or bad value, or a file too small
     */
    static WrittenFile parse(Settings s, WorkloadEnv env) {
        JournalFs fs = env.filesystem(s, "fs");
        String file = s.string("file");
        int pages = s.integer("pages", 1);
        int blocks = s.integer("blocks", 1, pages);
        if (blocks < pages) {
            throw new WorkloadConfigException(s.where(), "blocks", "a file of " + blocks + " blocks cannot hold " + pages + " pages");
        }
        return new WrittenFile(fs, file, pages, blocks);
    }

    /**
     * Refuses a filesystem mounted read-only, after the other settings were checked.
     *
     * @throws WorkloadConfigException naming {@code fs}
     */
    WrittenFile requireWritable(Settings s) {
        if (fs.options().readOnly()) {
            throw new WorkloadConfigException(s.where(), "fs", "filesystem '" + fs.name() + "' is mounted read-only");
        }
        return this;
    }

    /** Opens the file, creating it with {@code blocks} blocks if the filesystem has none by that name. */
    OpenFile openOrCreate() {
        return fs.sizeOnDisk(file) < 0 ? fs.create(file, blocks) : fs.open(file);
    }

    /** Throws if {@code call} ({@code fsync}, {@code sync_file_range}) on {@code f} failed. */
    static void check(String call, OpenFile f, BlkStatus st) {
        if (st != BlkStatus.OK) {
            throw new IllegalStateException(call + " of " + f + " failed: " + st);
        }
    }
}
