package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Filesystems and page-cache workloads in stack files: accepted entries, and located refusals. */
class FilesystemStackFileTest {

    private static final String GOOD = """
            name: t
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: filesystem, name: data, device: sda, options: rw, files: [{name: old, blocks: 4}]}
            workload:
              - {kind: file-writer, name: w, fs: data, file: new, pages: 8, fsync: true}
              - {kind: file-reader, name: r, fs: data, file: old, passes: 2}
              - {kind: memory-hog, name: hog, pages: 16, hold_ms: 10}
            variants:
              - {name: a, expected: complete, set: {devices.data.options: rw}}
            """;

    @Test
    void aFilesystemWithWorkloadsIsAccepted() {
        assertEquals("rw", parse(GOOD).stack("a").spec().devices().get(1).get("options").asText());
    }

    @Test
    void badMountOptionsAndMkfsArgumentsAreNamedAtTheirKey() {
        assertEquals("t.yaml:4:49: devices[1].options: mount option 'noatime' in \"noatime\" is not understood; the model knows ro and rw",
                refused(GOOD.replace("options: rw", "options: noatime")));
        assertEquals("t.yaml:4:3: devices[1].files[0]: file 'old' needs at least 1 block, got 0",
                refused(GOOD.replace("blocks: 4", "blocks: 0")).replaceFirst(":4:\\d+:", ":4:3:"));
        assertEquals("devices[1].log_sector_bytes: mkfs: the log sector size must be a power of 2 from 512 to 4096 bytes, got 768",
                refused(GOOD.replace("options: rw,", "options: rw, log_sector_bytes: 768,")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals(512, parse(GOOD.replace("options: rw,", "options: rw, log_sector_bytes: 512,")).stack("a").spec().devices().get(1)
                .get("log_sector_bytes").asInt());
        assertEquals("t.yaml:4:3: devices[1].device: no device 'sdz'; devices: sda",
                refused(GOOD.replace("device: sda", "device: sdz")).replaceFirst(":4:\\d+:", ":4:3:"));
    }

    @Test
    void aFilesystemIsNotABlockDeviceAndAWorkloadNeedsOne() {
        String onFs = GOOD.replace("  - {kind: filesystem, name: data, device: sda, options: rw, files: [{name: old, blocks: 4}]}\n",
                "  - {kind: filesystem, name: data, device: sda, options: rw, files: [{name: old, blocks: 4}]}\n"
                        + "  - {kind: dm, name: lin, table: \"0 8 linear data 0\"}\n");
        assertEquals("devices[2].table: linear: Device lookup failed (no device data)", refused(onFs).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[0].fs: no filesystem 'sda'; filesystems: data",
                refused(GOOD.replace("fs: data, file: new", "fs: sda, file: new")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
    }

    @Test
    void workloadKeysAreCheckedPerKind() {
        assertEquals("workload[2].fsync: key 'fsync' does not apply to memory-hog; its keys: name, start_ms, pages, leave_free, hold_ms",
                refused(GOOD.replace("hold_ms: 10}", "hold_ms: 10, fsync: true}")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[1].sync_file_range: key 'sync_file_range' does not apply to file-reader; its keys: name, start_ms, fs, file, passes",
                refused(GOOD.replace("passes: 2}", "passes: 2, sync_file_range: true}")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals(true, parse(GOOD.replace("fsync: true}", "sync_file_range: true}")).stack("a").spec().workload().get(0)
                .get("sync_file_range").asBoolean());
        assertEquals("workload[0]: missing key 'pages'",
                refused(GOOD.replace("file: new, pages: 8,", "file: new,")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[2].leave_free: give either pages or leave_free, not both",
                refused(GOOD.replace("pages: 16, hold_ms: 10}", "pages: 16, leave_free: 12, hold_ms: 10}")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[2]: missing key 'pages'",
                refused(GOOD.replace("pages: 16, hold_ms: 10}", "hold_ms: 10}")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[2].leave_free: must be >= 0, got -1",
                refused(GOOD.replace("pages: 16, hold_ms: 10}", "leave_free: -1, hold_ms: 10}")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
        assertEquals("workload[1].passes: must be >= 1, got 0",
                refused(GOOD.replace("passes: 2", "passes: 0")).replaceFirst("^t\\.yaml:\\d+:\\d+: ", ""));
    }
}
