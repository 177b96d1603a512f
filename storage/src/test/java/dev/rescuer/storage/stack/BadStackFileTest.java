package dev.rescuer.storage.stack;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Stack files that the loader once accepted and that then died in set-up or in the run (or crashed
 * the loader): each is refused at load, at the offending key, in the kernel's words where the kernel
 * has a rule. One row per case: the devices and workload of a one-variant file, and the refusal
 * expected with its line and column.
 */
class BadStackFileTest {

    /** A one-variant stack file with {@code system}, {@code devices} and {@code workload} lines as given. */
    private static String stack(String system, String devices, String workload, String set) {
        return "name: b\n"
                + "system: " + system + "\n"
                + "devices:\n" + devices
                + "workload:\n" + workload
                + "variants:\n  - {name: v, expected: complete, set: {" + set + "}}\n";
    }

    private static final String SYS = "{cpus: 1, memory: {pages: 512}}";
    private static final String SDA = "  - {kind: disk, name: sda, sectors: 1024}\n";
    private static final String W_SDA = "  - {kind: writer, name: w, device: sda, sectors: 8, count: 2}\n";

    private static Arguments row(String name, String text, String refusal) {
        return Arguments.of(name, text, refusal);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                row("b19c a set path's list index too big for an int", stack(SYS, SDA, W_SDA, "devices.99999999999.sectors: 8"),
                        "8:41: variants[0].set.devices.99999999999.sectors: no element named '99999999999' in 'devices' "
                                + "(the list has 1 elements, indexed from 0)"),
                row("b20 a linear table longer than its device",
                        stack(SYS, SDA + "  - {kind: dm, name: l, table: \"0 4096 linear sda 0\"}\n", W_SDA, ""),
                        "5:25: devices[1].table: linear: sda too small for target: start=0, len=4096, dev_size=1024"),
                row("b21 a linear offset beyond its device",
                        stack(SYS, SDA + "  - {kind: dm, name: l, table: \"0 1024 linear sda 5000\"}\n", W_SDA, ""),
                        "5:25: devices[1].table: linear: sda too small for target: start=5000, len=1024, dev_size=1024"),
                row("b21c a table length past dm's limit",
                        stack(SYS, SDA + "  - {kind: dm, name: l, table: \"0 9223372036854775807 linear sda 0\"}\n", W_SDA, ""),
                        "5:25: devices[1].table: table line 1 '0 9223372036854775807 linear sda 0': too large device "
                                + "(the table ends past sector 18014398509481983, dm_table_add_target's limit)"),
                row("b21g a linear offset near 2^63, whose end overflows a long",
                        stack(SYS, SDA + "  - {kind: dm, name: l, table: \"0 1024 linear sda 9223372036854775807\"}\n", W_SDA, ""),
                        "5:25: devices[1].table: linear: sda too small for target: start=9223372036854775807, len=1024, dev_size=1024"),
                row("b40b a crypt offset beyond its device",
                        stack(SYS, SDA + "  - {kind: dm, name: c, table: \"0 1024 crypt aes-xts-plain64 "
                                + "00112233445566778899aabbccddeeff 0 sda 4096\"}\n", W_SDA, ""),
                        "5:25: devices[1].table: crypt: sda too small for target: start=4096, len=1024, dev_size=1024"),
                row("a dm table over an md array larger than the array",
                        stack(SYS, SDA + "  - {kind: md-raid1, name: md0, members: [sda], metadata: internal}\n"
                                + "  - {kind: dm, name: l, table: \"0 1024 linear md0 0\"}\n", W_SDA, ""),
                        "6:25: devices[2].table: linear: md0 too small for target: start=0, len=1024, dev_size=1016"),
                row("b39b a COW device smaller than two chunks",
                        stack(SYS, SDA + "  - {kind: disk, name: sdb, sectors: 8}\n"
                                + "  - {kind: dm, name: s, table: \"0 1024 snapshot sda sdb P 8\"}\n", W_SDA, ""),
                        "6:25: devices[2].table: snapshot: Couldn't create exception store (COW device sdb is smaller than two chunks)"),
                row("b35 a salt that is not hex, without blocks",
                        stack(SYS, SDA + "  - {kind: disk, name: sdh, sectors: 128}\n"
                                + "  - {kind: veritysetup, name: v, data: sda, hash: sdh, salt: zz}\n", W_SDA, ""),
                        "6:56: devices[2].salt: Invalid salt: the model's salt is 16 hex digits, or '-' for none; got 'zz'"),
                row("b35b a data block size of 0",
                        stack(SYS, SDA + "  - {kind: disk, name: sdh, sectors: 128}\n"
                                + "  - {kind: veritysetup, name: v, data: sda, hash: sdh, data_block_size: 0}\n", W_SDA, ""),
                        "6:56: devices[2].data_block_size: Invalid data device block size: must be a power of 2 from 512 to 4096 "
                                + "(PAGE_SIZE) bytes, got 0"),
                row("b35d a data block size that is not a power of 2",
                        stack(SYS, SDA + "  - {kind: disk, name: sdh, sectors: 128}\n"
                                + "  - {kind: veritysetup, name: v, data: sda, hash: sdh, data_block_size: 1000}\n", W_SDA, ""),
                        "6:56: devices[2].data_block_size: Invalid data device block size: must be a power of 2 from 512 to 4096 "
                                + "(PAGE_SIZE) bytes, got 1000"),
                row("b35c a hash device too small for the tree",
                        stack(SYS, SDA + "  - {kind: disk, name: sdh, sectors: 8}\n"
                                + "  - {kind: veritysetup, name: v, data: sda, hash: sdh}\n", W_SDA, ""),
                        "6:45: devices[2].hash: veritysetup: hash device sdh is too small: the tree of 128 data blocks needs 19 hash "
                                + "blocks of 4096 bytes (152 sectors), it has 8 sectors"),
                row("b35e more data blocks than the data device holds",
                        stack(SYS, SDA + "  - {kind: disk, name: sdh, sectors: 128}\n"
                                + "  - {kind: veritysetup, name: v, data: sda, hash: sdh, blocks: 100000}\n", W_SDA, ""),
                        "6:56: devices[2].blocks: veritysetup: data device sda is too small: 100000 blocks of 4096 bytes need 800000 "
                                + "sectors, it has 1024"),
                row("b36b an md member with no room after its superblock",
                        stack(SYS, SDA + "  - {kind: disk, name: sdb, sectors: 4}\n"
                                + "  - {kind: md-raid1, name: md0, members: [sdb]}\n", W_SDA, ""),
                        "6:43: devices[2].members[0]: md array md0: member sdb has 4 sectors; a member needs more than 8 "
                                + "(its last 4 KiB hold the superblock)"),
                row("c06 a file larger than its filesystem",
                        stack(SYS, "  - {kind: disk, name: sda, sectors: 8192}\n"
                                + "  - {kind: filesystem, name: fs, device: sda, files: [{name: a, blocks: 100000}]}\n", W_SDA, ""),
                        "5:55: devices[1].files[0]: file 'a': 100000 blocks do not fit; 999 data blocks are left"),
                row("b38 a device too small for mkfs",
                        stack(SYS, SDA + "  - {kind: disk, name: sdt, sectors: 8}\n  - {kind: filesystem, name: fs, device: sdt}\n",
                                W_SDA, ""),
                        "6:34: devices[2].device: mkfs: a device of 8 sectors (1 blocks) cannot hold a superblock, 8 log blocks, "
                                + "16 inode blocks and data"),
                row("c19 swap on a device smaller than a page",
                        stack(SYS, SDA + "  - {kind: disk, name: sdb, sectors: 1}\n  - {kind: swap, name: s, device: sdb}\n", W_SDA, ""),
                        "6:27: devices[2].device: swap area s on sdb: 0 pages (of 4096 bytes); it must hold at least one and at most 2147483647"),
                row("c10 two filesystems on one device (EBUSY)",
                        stack(SYS, SDA + "  - {kind: filesystem, name: fs, device: sda}\n  - {kind: filesystem, name: fs2, device: sda}\n",
                                W_SDA, ""),
                        "6:35: devices[2].device: device sda is busy (EBUSY): filesystem fs (devices[1]) holds it open exclusively, "
                                + "so filesystem fs2 cannot open it (bd_may_claim); a block device has one exclusive holder"),
                row("c11 a filesystem on a disk that a dm table holds (EBUSY)",
                        stack(SYS, SDA + "  - {kind: dm, name: l, table: \"0 1024 linear sda 0\"}\n"
                                + "  - {kind: filesystem, name: fs, device: sda}\n", W_SDA, ""),
                        "6:34: devices[2].device: device sda is busy (EBUSY): the dm table of l (devices[1]) holds it open exclusively, "
                                + "so filesystem fs cannot open it (bd_may_claim); a block device has one exclusive holder"),
                row("a dm table over a disk that a filesystem holds (EBUSY)",
                        stack(SYS, SDA + "  - {kind: filesystem, name: fs, device: sda}\n"
                                + "  - {kind: dm, name: l, table: \"0 1024 linear sda 0\"}\n", W_SDA, ""),
                        "6:25: devices[2].table: device sda is busy (EBUSY): filesystem fs (devices[1]) holds it open exclusively, "
                                + "so the dm table of l cannot open it (bd_may_claim); a block device has one exclusive holder"),
                row("b23 a negative hung-task timeout", stack("{cpus: 1, hung_task_timeout_s: -5}", SDA, W_SDA, ""),
                        "2:19: system.hung_task_timeout_s: must be >= 0 seconds (0 disables the hung-task detector), got -5"),
                row("b24 a negative thread cost", stack("{cpus: 1, memory: {pages: 512, pages_per_thread: -4}}", SDA, W_SDA, ""),
                        "2:40: system.memory.pages_per_thread: must be >= 0, got -4"),
                row("b25 watermarks above all of memory",
                        stack("{cpus: 1, memory: {pages: 16, watermarks: [100, 200, 300]}}", SDA, W_SDA, ""),
                        "2:39: system.memory.watermarks: must be [min, low, high] with 0 <= min <= low <= high < pages (16), got [100, 200, 300]"),
                row("b25b a negative watermark", stack("{cpus: 1, memory: {pages: 512, watermarks: [-5, 0, 1]}}", SDA, W_SDA, ""),
                        "2:40: system.memory.watermarks: must be [min, low, high] with 0 <= min <= low <= high < pages (512), got [-5, 0, 1]"),
                row("one page of memory", stack("{cpus: 1, memory: {pages: 1}}", SDA, W_SDA, ""),
                        "2:28: system.memory.pages: must be >= 2, got 1"),
                row("b26 a negative timer jitter", stack(SYS, SDA, W_SDA, "").replace("variants:", "explore: {timer_jitter_ms: -5}\nvariants:"),
                        "7:11: explore.timer_jitter_ms: must be in 0..1000 ms, got -5"),
                row("c22 a memory hog as large as memory", stack(SYS, SDA, "  - {kind: memory-hog, name: h, pages: 512, hold_ms: 10}\n", ""),
                        "6:33: workload[0].pages: 512 pages is not less than all of memory (512 pages)"),
                row("anon-memory as large as memory", stack(SYS, SDA, "  - {kind: anon-memory, name: a, pages: 600}\n", ""),
                        "6:34: workload[0].pages: 600 pages is not less than all of memory (512 pages)"),
                row("c23 a reader of a file the image does not have",
                        stack(SYS, "  - {kind: disk, name: sda, sectors: 8192}\n"
                                + "  - {kind: filesystem, name: fs, device: sda, files: [{name: img, blocks: 16}]}\n",
                                "  - {kind: file-reader, name: r, fs: fs, file: nope}\n", ""),
                        "7:42: workload[0].file: no file 'nope' in filesystem fs; its files: img"),
                row("c26 a writer on a read-only filesystem",
                        stack(SYS, "  - {kind: disk, name: sda, sectors: 8192}\n  - {kind: filesystem, name: fs, device: sda, options: ro}\n",
                                "  - {kind: file-writer, name: r, fs: fs, file: x, pages: 1}\n", ""),
                        "7:34: workload[0].fs: filesystem fs is mounted read-only (a write gets EROFS)"),
                row("c25 a writer creating a file larger than the free space",
                        stack(SYS, "  - {kind: disk, name: sda, sectors: 8192}\n"
                                + "  - {kind: filesystem, name: fs, device: sda, files: [{name: img, blocks: 16}]}\n",
                                "  - {kind: file-writer, name: r, fs: fs, file: x, pages: 100000}\n", ""),
                        "7:51: workload[0].pages: filesystem fs cannot create file x (ENOSPC): file 'x': 100000 blocks do not fit; "
                                + "983 data blocks are left"),
                row("c28 two dmsetup create of one name",
                        stack(SYS, SDA, "  - {kind: dmsetup-create, name: c, device: x, table: \"0 8 linear sda 0\"}\n"
                                + "  - {kind: dmsetup-create, name: c2, device: x, table: \"0 8 linear sda 0\"}\n", ""),
                        "7:38: workload[1].device: a second device called 'x': dmsetup create of an existing name fails with EBUSY "
                                + "(Device or resource busy)"),
                row("b41 two workload entries of one name", stack(SYS, SDA, W_SDA + W_SDA, ""),
                        "7:20: workload[1].name: a second workload entry called 'w' (the first is workload[0]); each entry's tasks are "
                                + "named after it, so names must differ"),
                row("c33 a start beyond what the virtual clock honours",
                        stack(SYS, SDA, "  - {kind: writer, name: w, device: sda, start_ms: 4611686018427}\n", ""),
                        "6:42: workload[0].start_ms: must be at most 86400000 ms (one day of the run's virtual clock), got 4611686018427"),
                row("a hold beyond what the virtual clock honours",
                        stack(SYS, SDA, "  - {kind: memory-hog, name: h, pages: 8, hold_ms: 100000000}\n", ""),
                        "6:43: workload[0].hold_ms: must be at most 86400000 ms, got 100000000"),
                row("b22b a disk latency past the hung-task timeout",
                        stack(SYS, "  - {kind: disk, name: sda, sectors: 1024, latency_ms: 1e300}\n", W_SDA, ""),
                        "4:44: devices[0].latency_ms: must be at most 10000 ms, got 1.0E300 (a task waiting on a slower I/O would be "
                                + "reported as a hung task)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedAtLoadAtTheKey(String name, String text, String refusal) {
        StackFileException e = assertThrows(StackFileException.class, () -> StackTexts.parse(text), name);
        assertEquals("t.yaml:" + refusal, e.getMessage());
    }
}
