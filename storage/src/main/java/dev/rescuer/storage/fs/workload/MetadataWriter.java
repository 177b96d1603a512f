package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.fs.Handle;
import dev.rescuer.storage.fs.OpenFile;

/**
 * Sustained NOFS pressure: a writer whose every page is followed by a metadata transaction that
 * allocates. It writes {@code pages} whole pages into a file of a mounted filesystem, as
 * {@link PageCacheWriter} does (the page cache allocates them {@code GFP_NOFS}, the mapping's mask),
 * and after each page runs a transaction on the file's inode that allocates {@code metadata_pages}
 * pages while it is open: {@code xfs_trans_alloc} allocates the transaction (and its log items and
 * buffers follow) with {@code GFP_KERNEL | __GFP_NOFAIL} inside the transaction's
 * {@code memalloc_nofs_save} scope ({@code xfs_trans_set_context}), so the effective context is
 * {@code GFP_NOFS} ({@code GFP_NOIO} under merge-nofs-noio). The pages are freed when the transaction
 * commits. So every page written costs NOFS allocations, and under memory pressure NOFS direct
 * reclaim has to find the memory.
 *
 * <p>Settings: {@code fs} (required), {@code file} (required), {@code pages} (required, >= 1),
 * {@code blocks} (>= pages, default pages), {@code metadata_pages} (>= 1, default 1), {@code fsync}
 * (default false).
 */
public final class MetadataWriter extends AbstractWorkload {

    /** A transaction's allocation: {@code GFP_KERNEL | __GFP_NOFAIL}, NOFS by the transaction's scope. */
    public static final Gfp TRANSACTION_GFP = Gfp.KERNEL.with(Gfp.Modifier.NOFAIL);

    private final WrittenFile target;
    private final int metadataPages;
    private final boolean fsync;
    private final WorkloadEnv env;

    private MetadataWriter(String name, WrittenFile target, int metadataPages, boolean fsync, WorkloadEnv env) {
        super(name, target.pages(), env);
        this.target = target;
        this.metadataPages = metadataPages;
        this.fsync = fsync;
        this.env = env;
    }

    /** Builds a metadata writer from settings. */
    public static MetadataWriter build(String name, Settings s, WorkloadEnv env) {
        WrittenFile target = WrittenFile.parse(s, env);
        int metadataPages = s.integer("metadata_pages", 1, 1);
        if (metadataPages >= env.allocator().totalPages()) {
            throw new WorkloadConfigException(s.where(), "metadata_pages", metadataPages + " pages per transaction is not less than all of memory ("
                    + env.allocator().totalPages() + " pages)");
        }
        boolean fsync = s.bool("fsync", false);
        s.checkAllUsed("fs", "file", "pages", "blocks", "metadata_pages", "fsync");
        return new MetadataWriter(name, target.requireWritable(s), metadataPages, fsync, env);
    }

    @Override
    void body() {
        try (OpenFile f = target.openOrCreate()) {
            for (int i = 0; i < target.pages(); i++) {
                f.write((long) i * Bio.PAGE_SIZE, Bio.PAGE_SIZE);
                try (Handle h = target.fs().journal().start()) {
                    Pages meta = env.allocator().allocate(metadataPages, TRANSACTION_GFP);
                    try {
                        h.logInode(f.inode());
                    } finally {
                        meta.free();
                    }
                }
                advance();
            }
            if (fsync) {
                WrittenFile.check("fsync", f, f.fsync());
            }
        }
    }
}
