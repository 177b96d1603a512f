package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refusedAtKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Swap areas, anonymous memory and the metadata writer in stack files: accepted entries, and located refusals. */
class SwapStackFileTest {

    private static final String GOOD = """
            name: t
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: disk, name: sdb, sectors: 1024}
              - {kind: filesystem, name: data, device: sda, files: [{name: swapfile, blocks: 64, size_bytes: 0}]}
              - {kind: swap, name: swap0, device: sdb}
              - {kind: swap, name: swap1, fs: data, file: swapfile, fs_ops: true}
            workload:
              - {kind: anon-memory, name: app, pages: 16, passes: 2, interval_ms: 1}
              - {kind: metadata-writer, name: j, fs: data, file: log, pages: 8, metadata_pages: 2, fsync: true}
            variants:
              - {name: a, expected: complete, set: {devices.swap1.fs_ops: false}}
            """;

    /** The refusal's message without its file:line:column prefix, which the location test checks once. */
    @Test
    void swapAnonMemoryAndAMetadataWriterAreAccepted() {
        assertEquals("false", parse(GOOD).stack("a").spec().devices().get(4).get("fs_ops").asText());
    }

    @Test
    void aRefusalCarriesItsLineAndColumn() {
        String m = assertThrows(StackFileException.class, () -> parse(GOOD.replace("device: sdb}", "device: sdz}"))).getMessage();
        assertEquals("t.yaml:6:31: devices[3].device: no device 'sdz'; devices: sda, sdb", m);
    }

    @Test
    void aSwapAreaIsOnADeviceOrOnAFile() {
        assertEquals("devices[3]: missing key 'device' (a swap partition) or keys 'fs' and 'file' (a swap file)",
                refusedAtKey(GOOD.replace("{kind: swap, name: swap0, device: sdb}", "{kind: swap, name: swap0}")));
        assertEquals("devices[3].fs: a swap area is on a device or on a file, not both; 'fs' does not apply with 'device'",
                refusedAtKey(GOOD.replace("name: swap0, device: sdb}", "name: swap0, device: sdb, fs: data}")));
        assertEquals("devices[3].fs_ops: a swap area is on a device or on a file, not both; 'fs_ops' does not apply with 'device'",
                refusedAtKey(GOOD.replace("name: swap0, device: sdb}", "name: swap0, device: sdb, fs_ops: true}")));
        assertEquals("devices[4]: missing key 'file'", refusedAtKey(GOOD.replace(", file: swapfile, fs_ops", ", fs_ops")));
        assertEquals("devices[4].fs: no filesystem 'sdb'; filesystems: data", refusedAtKey(GOOD.replace("fs: data, file: swapfile", "fs: sdb, file: swapfile")));
        assertEquals("devices[3].device: no device 'data'; devices: sda, sdb", refusedAtKey(GOOD.replace("device: sdb}", "device: data}")));
    }

    @Test
    void aSwapAreaIsNeitherABlockDeviceNorAFilesystem() {
        assertEquals("workload[1].fs: no filesystem 'swap0'; filesystems: data",
                refusedAtKey(GOOD.replace("fs: data, file: log", "fs: swap0, file: log")));
        assertEquals("devices[4].fs: no filesystem 'swap0'; filesystems: data",
                refusedAtKey(GOOD.replace("fs: data, file: swapfile", "fs: swap0, file: swapfile")));
        assertEquals("devices[4].name: a second device called 'swap0'", refusedAtKey(GOOD.replace("name: swap1", "name: swap0")));
    }

    @Test
    void anonMemoryIsChecked() {
        assertEquals("workload[0]: missing key 'pages'", refusedAtKey(GOOD.replace("name: app, pages: 16,", "name: app,")));
        assertEquals("workload[0].pages: must be >= 1, got 0", refusedAtKey(GOOD.replace("name: app, pages: 16", "name: app, pages: 0")));
        assertEquals("workload[0].passes: must be >= 0, got -1", refusedAtKey(GOOD.replace("passes: 2", "passes: -1")));
        assertEquals("workload[0].interval_ms: must not be negative, got -1.0", refusedAtKey(GOOD.replace("interval_ms: 1", "interval_ms: -1")));
        assertEquals("workload[0]: missing key 'name'", refusedAtKey(GOOD.replace("{kind: anon-memory, name: app,", "{kind: anon-memory,")));
    }

    @Test
    void theMetadataWriterIsCheckedLikeAFileWriter() {
        assertEquals("workload[1].metadata_pages: must be >= 1, got 0", refusedAtKey(GOOD.replace("metadata_pages: 2", "metadata_pages: 0")));
        assertEquals("workload[1].passes: key 'passes' does not apply to metadata-writer; its keys: name, start_ms, fs, file, pages,"
                + " blocks, metadata_pages, fsync", refusedAtKey(GOOD.replace("metadata_pages: 2,", "metadata_pages: 2, passes: 1,")));
        assertEquals("workload[1].blocks: a file of 4 blocks cannot hold 8 pages", refusedAtKey(GOOD.replace("pages: 8,", "pages: 8, blocks: 4,")));
    }
}
