package dev.rescuer.storage.fs.workload;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.OpenFile;

/**
 * A task that reads a whole file page by page, {@code passes} times; works on read-only mounts.
 * Misses allocate page-cache pages and wait for the device.
 *
 * <p>Settings: {@code fs} (required), {@code file} (required, must exist), {@code passes} (default 1).
 */
public final class FileReader extends AbstractWorkload {

    private final JournalFs fs;
    private final String file;
    private final int passes;

    private FileReader(String name, JournalFs fs, String file, int passes, long pagesPerPass, WorkloadEnv env) {
        super(name, pagesPerPass * passes, env);
        this.fs = fs;
        this.file = file;
        this.passes = passes;
    }

    /** Builds a reader from settings. */
    public static FileReader build(String name, Settings s, WorkloadEnv env) {
        JournalFs fs = env.filesystem(s, "fs");
        String file = s.string("file");
        int passes = s.integer("passes", 1, 1);
        s.checkAllUsed("fs", "file", "passes");
        long size = fs.sizeOnDisk(file);
        if (size < 0) {
            throw new WorkloadConfigException(s.where(), "file", "no file '" + file + "' on " + fs.name());
        }
        return new FileReader(name, fs, file, passes, (size + Bio.PAGE_SIZE - 1) / Bio.PAGE_SIZE, env);
    }

    @Override
    void body() {
        try (OpenFile f = fs.open(file)) {
            for (int p = 0; p < passes; p++) {
                for (long off = 0; f.read(off, Bio.PAGE_SIZE) > 0; off += Bio.PAGE_SIZE) {
                    advance();
                }
            }
        }
    }
}
