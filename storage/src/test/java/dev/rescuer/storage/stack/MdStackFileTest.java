package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refusedAtKey;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** md raid1, mdmon, sysfs mounts and kernfs.notify_wq in stack files: accepted entries, and located refusals. */
class MdStackFileTest {

    private static final String GOOD = """
            name: t
            modules:
              kernfs: {notify_wq: kernfs_wq}
            devices:
              - {kind: disk, name: sda, sectors: 1024}
              - {kind: disk, name: sdb, sectors: 1024}
              - {kind: md-raid1, name: md0, members: [sda, sdb], metadata: external}
            workload:
              - {kind: mdmon, name: mdmon, memory: mlocked, wakeup: fsnotify}
              - {kind: sysfs-mount, name: mount, pages: 2}
              - {kind: writer, name: db, device: md0, flags: [preflush, fua, sync]}
            variants:
              - {name: a, expected: complete, set: {devices.md0.metadata: internal}}
            """;

    @Test
    void anArrayWithMdmonAndAFlushingWriterIsAccepted() {
        assertEquals("internal", parse(GOOD).stack("a").spec().devices().get(2).get("metadata").asText());
    }

    @Test
    void badArrayEntriesAreNamedAtTheirKey() {
        assertEquals("devices[2].metadata: 'imsm' is neither external nor internal", refusedAtKey(GOOD.replace("metadata: external", "metadata: imsm")));
        assertEquals("devices[2].members[1]: device sda is already a member of md0", refusedAtKey(GOOD.replace("[sda, sdb]", "[sda, sda]")));
        assertEquals("devices[2].members: missing key 'members' (a list of at least one device)", refusedAtKey(GOOD.replace("members: [sda, sdb], ", "")));
        assertEquals("devices[2].members[1]: no device 'sdz'; devices: sda, sdb", refusedAtKey(GOOD.replace("[sda, sdb]", "[sda, sdz]")));
    }

    @Test
    void badWorkloadSettingsAreNamedAtTheirKey() {
        assertEquals("workload[0].memory: 'pinned' is not one of allocates, mlocked", refusedAtKey(GOOD.replace("memory: mlocked", "memory: pinned")));
        assertEquals("workload[0].wakeup: 'epoll' is not one of poll, fsnotify", refusedAtKey(GOOD.replace("wakeup: fsnotify", "wakeup: epoll")));
        assertEquals("workload[1].pages: must be >= 1, got 0", refusedAtKey(GOOD.replace("pages: 2", "pages: 0")));
        assertEquals("workload[2].flags[1]: 'discard' is not one of preflush, fua, sync", refusedAtKey(GOOD.replace("fua", "discard")));
    }

    @Test
    void s3sNewKeysAreCheckedAtTheirKey() {
        String s3 = GOOD.replace("memory: mlocked, wakeup: fsnotify}", "memory: allocates, wakeup: fsnotify, fault_pages: 8}")
                .replace("  - {kind: sysfs-mount, name: mount, pages: 2}\n", "  - {kind: sysfs-mount, name: mount, pages: 2}\n  - {kind: work-flush, name: reset, start_ms: 5}\n")
                .replace("name: t\n", "name: t\nsystem: {kswapd: false}\n");
        assertEquals(8, parse(s3).stack("a").spec().workload().get(0).get("fault_pages").asInt());
        assertEquals(false, parse(s3).stack("a").kswapd());
        assertEquals(true, parse(GOOD).stack("a").kswapd());
        assertEquals("workload[0].fault_pages: must be >= 1, got 0", refusedAtKey(s3.replace("fault_pages: 8", "fault_pages: 0")));
        assertEquals("workload[2].start_ms: must not be negative, got -1", refusedAtKey(s3.replace("start_ms: 5", "start_ms: -1")));
        assertEquals("workload[2]: missing key 'name'", refusedAtKey(s3.replace("name: reset, ", "")));
        assertEquals("workload[2].queue: unknown key 'queue'; known keys: kind, name, start_ms",
                refusedAtKey(s3.replace("start_ms: 5}", "start_ms: 5, queue: events}")));
        assertEquals("system.kswapd: wrong type: expected true or false", refusedAtKey(s3.replace("kswapd: false", "kswapd: maybe")));
    }

    @Test
    void theNotifyQueueIsAModuleParameterWithTwoValues() {
        assertEquals("modules: kernfs.notify_wq: 'events' is neither system_wq nor kernfs_wq", refusedAtKey(GOOD.replace("notify_wq: kernfs_wq", "notify_wq: events")));
        assertEquals("modules: module kernfs has no parameter 'wq'; parameters: notify_wq", refusedAtKey(GOOD.replace("notify_wq: kernfs_wq", "wq: kernfs_wq")));
    }
}
