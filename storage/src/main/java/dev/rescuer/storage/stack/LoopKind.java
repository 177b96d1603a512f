package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.loop.LoopDevice;
import dev.rescuer.storage.loop.LoopSettings;
import dev.rescuer.storage.loop.LoopWorkerMode;

import java.util.List;
import java.util.Locale;

/**
 * {@code kind: loop}: {@code losetup} of a loop device ({@link LoopDevice}) on file {@code backing.file}
 * of filesystem entry {@code backing.fs}. {@code worker}: {@code kthread} (one {@code loop<N>}
 * thread, 4.4 to 5.12, the default) or {@code workqueue} (a per-device unbound queue, 5.13 on);
 * {@code memalloc_noio}: the worker serves requests in a {@code PF_MEMALLOC_NOIO} scope
 * (d0a255e795ab), default false; {@code direct_io}: {@code losetup --direct-io=on}, default false.
 * It is a block device of the backing file's size: tables, dm-bufio clients and writers may name it.
 */
public final class LoopKind extends AbstractDeviceKind<LoopKind.Config> {

    /**
     * A loop entry.
     *
     * @param kind {@code loop}
     * @param name the device's name ({@code loop0})
     * @param backing the backing file
     * @param worker {@code kthread} or {@code workqueue}
     * @param memallocNoio whether the worker runs with {@code PF_MEMALLOC_NOIO}
     * @param directIo whether requests go to the file by direct I/O
     */
    public record Config(String kind, String name, Backing backing, String worker,
                         @JsonProperty("memalloc_noio") Boolean memallocNoio,
                         @JsonProperty("direct_io") Boolean directIo) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: loop} entries. */
    public LoopKind() {
        super("loop", Config.class);
    }

    /**
     * The backing file.
     *
     * @param fs the filesystem entry that holds it
     * @param file the file's name in that filesystem's image
     */
    public record Backing(String fs, String file) {
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.backing(), "backing");
        requireFile(check, c.backing().fs(), c.backing().file(), "backing");
        if (c.worker() != null && worker(c.worker()) == null) {
            throw check.error("worker", "'" + c.worker() + "' is not one of kthread, workqueue");
        }
    }

    @Override
    public Long sectors(Config c, StackCheck check) {
        FilesystemKind.Config f = (FilesystemKind.Config) check.entry(c.backing().fs());
        return fileOf(check, f, c.backing().fs(), c.backing().file(), "backing.file").blocks() * FsLayout.BLOCK_SECTORS;
    }

    /**
     * Requires {@code at.fs} to name a filesystem entry whose image has file {@code at.file}; returns
     * that entry.
     */
    static FilesystemKind.Config requireFile(StackCheck check, String fs, String file, String at) {
        check.require(fs, at + ".fs");
        FilesystemKind.Config f = check.requireEntry(fs, at + ".fs", FilesystemKind.Config.class, "filesystem");
        check.require(file, at + ".file");
        fileOf(check, f, fs, file, at + ".file");
        return f;
    }

    /**
     * Requires filesystem entry {@code f} (named {@code fs}) to have file {@code file}, refusing it
     * at key {@code key} with the entry's file names; returns that file.
     */
    static FilesystemKind.FileSpec fileOf(StackCheck check, FilesystemKind.Config f, String fs, String file, String key) {
        List<FilesystemKind.FileSpec> files = f.files() == null ? List.of() : f.files();
        return files.stream().filter(s -> file.equals(s.name())).findFirst().orElseThrow(() -> check.error(key,
                "no file '" + file + "' in filesystem " + fs + "; its files: "
                        + (files.isEmpty() ? "none" : String.join(", ", files.stream().map(FilesystemKind.FileSpec::name).toList()))));
    }

    private static LoopWorkerMode worker(String given) {
        for (LoopWorkerMode m : LoopWorkerMode.values()) {
            if (m.name().toLowerCase(Locale.ROOT).equals(given)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public void build(Config c, StackBuild b) {
        PageCacheSetup pc = b.pageCache();
        LoopSettings settings = new LoopSettings(c.worker() == null ? LoopWorkerMode.KTHREAD : worker(c.worker()),
                Boolean.TRUE.equals(c.memallocNoio()), Boolean.TRUE.equals(c.directIo()));
        LoopDevice loop = new LoopDevice(b.system(), c.name(), pc.mounted(c.backing().fs()),
                pc.file(c.backing().fs(), c.backing().file()), settings);
        b.dm().addDevice(loop);
        loop.declareWaits(b.dm().waitGraph());
    }
}
