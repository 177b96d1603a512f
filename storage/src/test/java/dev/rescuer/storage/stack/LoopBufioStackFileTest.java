package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code loop}, {@code dm-bufio} and {@code thin} kinds and the {@code system.kswapd} and
 * {@code system.page_cache_shrinker} settings in stack files: accepted entries, and refusals located
 * at the file, line and column of the bad key.
 */
class LoopBufioStackFileTest {

    private static final String GOOD = """
            name: t
            system: {kswapd: false, page_cache_shrinker: after-devices}
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: filesystem, name: root, device: sda, files: [{name: image, blocks: 16}, {name: data, blocks: 16}]}
              - {kind: loop, name: loop0, backing: {fs: root, file: image}, worker: kthread, memalloc_noio: true, direct_io: false}
              - {kind: dm-bufio, name: md, device: loop0, shrinker_form: pre-2014, reserved_buffers: 0, block_size: 4096}
            workload:
              - kind: thin
                name: thin
                metadata: md
                dirty_blocks: 4
                read: {fs: root, file: data}
                fault_memory: min
                file_write: {fs: root, file: image, page: 15}
                data_write: {device: loop0, block: 8}
                hold_ms: 50
            variants:
              - {name: a, expected: hang, set: {devices.md.shrinker_form: gfp-fs-2014, system.kswapd: true}}
            """;

    @Test
    void aLoopDeviceWithABufioClientAndAThinUserIsAccepted() {
        ResolvedStack base = parse(GOOD).stack("a");
        assertEquals("gfp-fs-2014", base.spec().devices().get(3).get("shrinker_form").asText());
        assertTrue(base.kswapd());
        assertTrue(base.pageCacheShrinkerAfterDevices());
    }

    @Test
    void kswapdIsOnAndThePageCacheShrinkerComesAtTheFirstMountByDefault() {
        ResolvedStack s = parse(GOOD.replace("system: {kswapd: false, page_cache_shrinker: after-devices}", "system: {cpus: 1}")
                .replace(", system.kswapd: true", "")).stack("a");
        assertTrue(s.kswapd());
        assertFalse(s.pageCacheShrinkerAfterDevices());
    }

    @Test
    void badSystemSettingsAreNamedAtTheirKey() {
        assertEquals("t.yaml:2:25: system.page_cache_shrinker: 'never' is not one of first-mount, after-devices",
                refused(GOOD.replace("page_cache_shrinker: after-devices", "page_cache_shrinker: never")));
        assertEquals("t.yaml:2:10: system.kswapd: wrong type: expected true or false",
                refused(GOOD.replace("kswapd: false", "kswapd: 3")));
    }

    @Test
    void badAllocationGroupSettingsAreNamedAtTheirKey() {
        assertEquals("t.yaml:5:49: devices[1].ag_count: mkfs: the filesystem needs at least 1 allocation group, got 0",
                refused(GOOD.replace("device: sda, files:", "device: sda, ag_count: 0, files:")));
        assertEquals("t.yaml:5:109: devices[1].files[1].ag: file 'data': allocation group 1 does not exist (the filesystem has 1,"
                        + " numbered from 0)",
                refused(GOOD.replace("{name: data, blocks: 16}", "{name: data, blocks: 16, ag: 1}")));
        assertEquals("t.yaml:5:109: devices[1].files[1].allocated_blocks: file 'data': 17 allocated blocks is not in 0..16",
                refused(GOOD.replace("{name: data, blocks: 16}", "{name: data, blocks: 16, allocated_blocks: 17}")));
        assertTrue(parse(GOOD.replace("device: sda, files:", "device: sda, ag_count: 2, files:")
                .replace("{name: data, blocks: 16}", "{name: data, blocks: 16, ag: 1, allocated_blocks: 0, fork_full: true}"))
                .stack("a").kswapd(), "a sparse, fragmented file in the second of two groups is accepted");
    }

    @Test
    void aFileWhoseNameReadsLikeAKeyIsRefusedAtTheKeyAtFault() {
        // The key comes from what was refused, not from the message: these names quote other keys' words.
        assertEquals("t.yaml:5:84: devices[1].files[1]: file 'allocation group': size 999999 does not fit its 16 blocks",
                refused(GOOD.replace("{name: data, blocks: 16}", "{name: allocation group, blocks: 16, size_bytes: 999999}")));
        assertEquals("t.yaml:5:84: devices[1].files[1]: file 'allocated blocks' needs at least 1 block, got 0",
                refused(GOOD.replace("{name: data, blocks: 16}", "{name: allocated blocks, blocks: 0}")));
    }

    @Test
    void badLoopEntriesAreNamedAtTheirKey() {
        assertEquals("t.yaml:6:65: devices[2].worker: 'tasklet' is not one of kthread, workqueue",
                refused(GOOD.replace("worker: kthread", "worker: tasklet")));
        assertEquals("t.yaml:6:41: devices[2].backing.fs: no filesystem 'home'; filesystems: root",
                refused(GOOD.replace("backing: {fs: root", "backing: {fs: home")));
        assertEquals("t.yaml:6:51: devices[2].backing.file: no file 'disk.img' in filesystem root; its files: image, data",
                refused(GOOD.replace("file: image}, worker", "file: disk.img}, worker")));
        assertEquals("t.yaml:6:41: devices[2].backing.fs: no filesystem 'sda'; filesystems: root",
                refused(GOOD.replace("backing: {fs: root", "backing: {fs: sda")));
        assertEquals("t.yaml:6:5: devices[2]: missing key 'backing'",
                refused(GOOD.replace("backing: {fs: root, file: image}, ", "")));
        assertEquals("t.yaml:6:103: devices[2].direct_io: wrong type: expected true or false",
                refused(GOOD.replace("direct_io: false", "direct_io: maybe")));
    }

    @Test
    void badBufioEntriesAreNamedAtTheirKey() {
        assertEquals("t.yaml:7:47: devices[3].shrinker_form: unknown dm-bufio shrinker form 'pre-2013'; "
                        + "expected one of pre-2014, gfp-fs-2014, trylock-2019, workqueue-2020",
                refused(GOOD.replace("shrinker_form: pre-2014", "shrinker_form: pre-2013")));
        assertEquals("t.yaml:7:32: devices[3].device: no device 'loop1'; devices: loop0, sda",
                refused(GOOD.replace("device: loop0, shrinker", "device: loop1, shrinker")));
        assertEquals("t.yaml:7:32: devices[3].device: no device 'root'; devices: loop0, sda",
                refused(GOOD.replace("device: loop0, shrinker", "device: root, shrinker")));
        assertEquals("t.yaml:7:72: devices[3].reserved_buffers: must be >= 0, got -1",
                refused(GOOD.replace("reserved_buffers: 0", "reserved_buffers: -1")));
        assertEquals("t.yaml:7:93: devices[3].block_size: must be a positive multiple of 512, got 1000",
                refused(GOOD.replace("block_size: 4096", "block_size: 1000")));
    }

    @Test
    void aBufioClientIsNotABlockDeviceNorAFilesystem() {
        assertEquals("t.yaml:16:18: workload[0].data_write.device: no device 'md'; devices: loop0, sda",
                refused(GOOD.replace("data_write: {device: loop0", "data_write: {device: md")));
        assertEquals("t.yaml:13:12: workload[0].read.fs: no filesystem 'md'; filesystems: root",
                refused(GOOD.replace("read: {fs: root", "read: {fs: md")));
    }

    @Test
    void badThinEntriesAreNamedAtTheirKey() {
        assertEquals("t.yaml:11:5: workload[0].metadata: no dm-bufio client 'loop0'; dm-bufio clients: md",
                refused(GOOD.replace("metadata: md", "metadata: loop0")));
        assertEquals("t.yaml:12:5: workload[0].dirty_blocks: must be >= 0, got -4",
                refused(GOOD.replace("dirty_blocks: 4", "dirty_blocks: -4")));
        assertEquals("t.yaml:13:22: workload[0].read.file: no file 'log' in filesystem root; its files: image, data",
                refused(GOOD.replace("file: data}", "file: log}")));
        assertEquals("t.yaml:14:5: workload[0].fault_memory: 'high' is not one of low, min",
                refused(GOOD.replace("fault_memory: min", "fault_memory: high")));
        assertEquals("t.yaml:15:41: workload[0].file_write.page: must be in 0..15 (file image has 16 blocks), got 16",
                refused(GOOD.replace("page: 15", "page: 16")));
        assertEquals("t.yaml:12:5: workload[0].dirty_blocks: metadata device loop0 has 16 blocks of 4096 bytes, got 17",
                refused(GOOD.replace("dirty_blocks: 4", "dirty_blocks: 17")));
        assertEquals("t.yaml:16:33: workload[0].data_write.block: device loop0 has 16 blocks of 4096 bytes, got block 16",
                refused(GOOD.replace("block: 8", "block: 16")));
        assertEquals("t.yaml:16:33: workload[0].data_write.block: must be >= 0, got -1",
                refused(GOOD.replace("block: 8", "block: -1")));
        assertEquals("t.yaml:13:5: workload[0].existing_metadata: wrong type: expected true or false",
                refused(GOOD.replace("    dirty_blocks: 4\n", "    dirty_blocks: 4\n    existing_metadata: 3\n")));
        assertEquals("t.yaml:17:5: workload[0].hold_ms: must be >= 0, got -50",
                refused(GOOD.replace("hold_ms: 50", "hold_ms: -50")));
        assertEquals("t.yaml:13:5: workload[0].readahead: unknown key 'readahead'; known keys: data_write, dirty_blocks, existing_metadata, fault_memory, "
                        + "file_write, hold_ms, kind, metadata, name, read, start_ms",
                refused(GOOD.replace("    dirty_blocks: 4\n", "    dirty_blocks: 4\n    readahead: 8\n")));
    }

    @Test
    void aPageForTheWholeFileReadIsAnUnknownKey() {
        assertEquals("t.yaml:13:34: workload[0].read.page: unknown key 'page'; known keys: file, fs",
                refused(GOOD.replace("read: {fs: root, file: data}", "read: {fs: root, file: data, page: 1}")));
    }

    @Test
    void aThinWriteMayListFilesOfWhichEachRunDrawsOne() {
        ResolvedStack s = parse(GOOD.replace("file: image, page: 15", "file: [image, data], page: 15")).stack("a");
        assertEquals(new OneOf(java.util.List.of("image", "data")),
                OneOf.parse(s.spec().workload().get(0).get("file_write").get("file")));
    }

    @Test
    void aBadListOfFilesToWriteIsNamedAtItsElement() {
        assertEquals("t.yaml:15:42: workload[0].file_write.file[1]: no file 'log' in filesystem root; its files: image, data",
                refused(GOOD.replace("file: image, page: 15", "file: [image, log], page: 15")));
        assertEquals("t.yaml:15:42: workload[0].file_write.file[1]: wrong type: expected a name, got 3",
                refused(GOOD.replace("file: image, page: 15", "file: [image, 3], page: 15")));
        assertEquals("t.yaml:15:28: workload[0].file_write.file: 'image' is listed twice",
                refused(GOOD.replace("file: image, page: 15", "file: [image, image], page: 15")));
        assertEquals("t.yaml:15:28: workload[0].file_write.file: the list is empty: give one name or several to draw from",
                refused(GOOD.replace("file: image, page: 15", "file: [], page: 15")));
        assertEquals("t.yaml:15:28: workload[0].file_write.file: wrong type: expected a name or a list of names to draw one from, got {\"a\":1}",
                refused(GOOD.replace("file: image, page: 15", "file: {a: 1}, page: 15")));
    }

    @Test
    void aThinWriteToAReadOnlyFilesystemIsRefused() {
        assertEquals("t.yaml:15:18: workload[0].file_write.fs: filesystem root is mounted read-only",
                refused(GOOD.replace("device: sda, files", "device: sda, options: ro, files")));
    }

    @Test
    void aVariantSettingABadShrinkerFormIsNamedAtItsSetKey() {
        assertEquals("t.yaml:19:37: variant a: variants[0].set.devices.md.shrinker_form: "
                        + "unknown dm-bufio shrinker form '2014'; expected one of pre-2014, gfp-fs-2014, trylock-2019, workqueue-2020",
                refused(GOOD.replace("shrinker_form: gfp-fs-2014", "shrinker_form: '2014'")));
    }
}
