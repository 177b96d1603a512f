package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.core.mm.Reclaimer;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.swap.SwapArea;

/**
 * {@code kind: swap}: {@code mkswap} and {@code swapon}, a {@link SwapArea} that reclaim may write
 * anonymous pages to. Either on a block device ({@code device}: the whole device, a swap partition)
 * or on a file of a filesystem ({@code fs} and {@code file}: a file in the filesystem's image, whose
 * extent becomes the area). A swap file is written directly at its extent, as XFS and ext4 do
 * ({@code iomap_swapfile_activate} maps the extents at {@code swapon}), unless {@code fs_ops: true}
 * says the filesystem does the I/O itself ({@code SWP_FS_OPS}, {@code ->swap_rw}, as NFS does); then
 * reclaim may swap to it only with {@code __GFP_FS} ({@code may_enter_fs}). Not a block device: no
 * table may name it. Each run counts {@code swap <name> pages out}, {@code swap <name> pages out by
 * <reclaimer>} ({@link Reclaimer#label}) and {@code swap <name> pages in}.
 */
public final class SwapKind extends AbstractDeviceKind<SwapKind.Config> {

    /**
     * A swap entry.
     *
     * @param kind {@code swap}
     * @param name the area's name
     * @param device a block device to swap on (a partition); or
     * @param fs a filesystem entry, with
     * @param file a file in its image (the swap file)
     * @param fsOps for a swap file: whether its I/O goes through the filesystem ({@code SWP_FS_OPS}); default false
     */
    public record Config(String kind, String name, String device, String fs, String file,
                         @JsonProperty("fs_ops") Boolean fsOps) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: swap} entries. */
    public SwapKind() {
        super("swap", Config.class);
    }

    @Override
    public boolean blockDevice() {
        return false;
    }

    @Override
    public void check(Config c, StackCheck check) {
        if (c.device() != null) {
            if (c.fs() != null || c.file() != null || c.fsOps() != null) {
                String key = c.fs() != null ? "fs" : c.file() != null ? "file" : "fs_ops";
                throw check.error(key, "a swap area is on a device or on a file, not both; '" + key
                        + "' does not apply with 'device'");
            }
            check.requireDevice(c.device(), "device", c.name());
            check.claim("device", c.device(), "swap " + c.name(), "swap area " + c.name()); // swapon: FMODE_EXCL
            Long sectors = check.sectors(c.device());
            if (sectors != null) {
                checkPages(check, "device", c.name(), c.device(), sectors / FsLayout.BLOCK_SECTORS);
            }
            return;
        }
        if (c.fs() == null && c.file() == null) {
            throw check.error(null, "missing key 'device' (a swap partition) or keys 'fs' and 'file' (a swap file)");
        }
        check.requireFilesystem(c.fs(), "fs");
        check.require(c.file(), "file");
        FilesystemKind.Config fs = check.requireEntry(c.fs(), "fs", FilesystemKind.Config.class, "filesystem");
        FilesystemKind.FileSpec f = LoopKind.fileOf(check, fs, c.fs(), c.file(), "file");
        if (fs.options() != null && MountOptions.parse(fs.options()).readOnly()) {
            throw check.error("fs", "swapon: filesystem " + c.fs() + " is mounted read-only (EROFS)");
        }
        checkPages(check, "file", c.name(), c.file(), f.blocks());
    }

    /** mkswap's and swapon's size rule, as {@link SwapArea} applies it: at least one page, at most {@code Integer.MAX_VALUE}. */
    private static void checkPages(StackCheck check, String key, String name, String on, long pages) {
        if (pages < 1 || pages > Integer.MAX_VALUE) {
            throw check.error(key, "swap area " + name + " on " + on + ": " + pages + " pages (of 4096 bytes); it must hold"
                    + " at least one and at most " + Integer.MAX_VALUE);
        }
    }

    @Override
    public void build(Config c, StackBuild b) {
        SwapArea area;
        if (c.device() != null) {
            BlockDevice dev = b.dm().lookup(c.device());
            area = new SwapArea(c.name(), dev, 0, dev.capacitySectors() / FsLayout.BLOCK_SECTORS, false);
        } else {
            JournalFs fs = b.pageCache().mounted(c.fs());
            FsLayout.FileEntry f = b.pageCache().file(c.fs(), c.file());
            if (f == null) {
                throw new IllegalArgumentException("swap " + c.name() + ": swapon: filesystem '" + c.fs() + "' has no file '"
                        + c.file() + "' in its image (list it under the filesystem's files)");
            }
            if (fs.options().readOnly()) {
                throw new IllegalArgumentException("swap " + c.name() + ": swapon: filesystem '" + c.fs() + "' is mounted read-only");
            }
            area = new SwapArea(c.name(), fs.device(), f.startBlock() * FsLayout.BLOCK_SECTORS, f.blocks(),
                    Boolean.TRUE.equals(c.fsOps()));
        }
        b.swap().swapon(area);
        area.declareWaits(b.dm().waitGraph());
        b.counter("swap " + c.name() + " pages out", area::pagesSwapped);
        for (Reclaimer r : Reclaimer.values()) {
            b.counter("swap " + c.name() + " pages out by " + r.label(), () -> b.system().pages().reclaimed(area.name(), r));
        }
        b.counter("swap " + c.name() + " pages in", area::pagesSwappedIn);
    }
}
