package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stack files: what is accepted, and every refusal naming file, line and column. */
class StackFileTest {

    private static final String GOOD = """
            name: t
            modules:
              dm_snapshot: {snapshot_cow_threshold: 1}
            devices:
              - {kind: disk, name: sda, sectors: 1024}
              - {kind: disk, name: sdb, sectors: 1024}
              - {kind: dm, name: base, table: "0 1024 snapshot-origin sda"}
            workload:
              - {kind: writer, name: w, device: base, count: 2}
              - {kind: dmsetup-create, name: lvcreate, device: snap, table: "0 1024 snapshot sda sdb P 8"}
            variants:
              - {name: a, expected: complete, set: {modules.dm_snapshot.cow_throttle: wait-unlocked}}
              - {name: b, expected: hang, set: {modules.dm_snapshot.cow_throttle: semaphore, devices.sda.latency_ms: 2}}
            """;

    private static StackFileException refused(String text) {
        return assertThrows(StackFileException.class, () -> parse(text));
    }

    @Test
    void aGoodFileResolvesEachVariant() {
        StackFile f = parse(GOOD);
        assertEquals("t", f.name());
        assertEquals(2, f.variants().size());
        assertTrue(f.variants().get(1).expectHang());
        assertEquals("semaphore", f.stack("b").moduleParams().get("dm_snapshot", "cow_throttle"));
        assertEquals("1", f.stack("b").moduleParams().get("dm_snapshot", "snapshot_cow_threshold"));
        assertEquals(2.0, f.stack("b").spec().devices().get(0).get("latency_ms").asDouble());
        assertEquals(null, f.stack("a").spec().devices().get(0).get("latency_ms"));
    }

    @Test
    void anUnknownKeyIsNamedWithItsLineAndColumn() {
        StackFileException e = refused(GOOD.replace("{kind: disk, name: sdb, sectors: 1024}", "{kind: disk, name: sdb, sectros: 1024}"));
        assertEquals(6, e.line());
        assertEquals(29, e.column());
        assertTrue(e.getMessage().startsWith("t.yaml:6:29: devices[1].sectros: unknown key 'sectros'; known keys: kind, latency_ms, name"),
                e.getMessage());
    }

    @Test
    void theWorkerCreateFaultIsBoundAndAnUnknownValueIsNamed() {
        String on = GOOD.replace("name: t\n", "name: t\nsystem:\n  faults: {worker_create: fail}\n");
        assertTrue(parse(on).stack("a").workerCreateFails());
        assertFalse(parse(GOOD).stack("a").workerCreateFails());
        assertNull(parse(on).stack("a").workerCreateFailsAfter());
        StackFileException e = refused(on.replace("worker_create: fail", "worker_create: sometimes"));
        assertEquals("t.yaml:3:12: system.faults.worker_create: must be " + ResolvedStack.WORKER_CREATE_FORMS
                + ", got 'sometimes'", e.getMessage());
    }

    @Test
    void theWorkerCreateBudgetIsARangeAndABackwardsOneIsNamedWithItsPlace() {
        String on = GOOD.replace("name: t\n", "name: t\nsystem:\n  faults: {worker_create: fail after 1..4}\n");
        ResolvedStack a = parse(on).stack("a");
        assertFalse(a.workerCreateFails());
        assertEquals(new ResolvedStack.WorkerCreateBudget(1, 4), a.workerCreateFailsAfter());
        assertEquals(new ResolvedStack.WorkerCreateBudget(3, 3),
                parse(on.replace("1..4", "3")).stack("a").workerCreateFailsAfter());
        assertEquals("t.yaml:3:12: system.faults.worker_create: 'fail after 4..1': the range's low end 4 is above its high end 1",
                refused(on.replace("1..4", "4..1")).getMessage());
        assertEquals("t.yaml:3:12: system.faults.worker_create: must be " + ResolvedStack.WORKER_CREATE_FORMS
                + ", got 'fail after -1..4'", refused(on.replace("1..4", "-1..4")).getMessage());
    }

    @Test
    void aWrongTypeIsNamed() {
        StackFileException e = refused(GOOD.replace("sectors: 1024}\n  - {kind: disk, name: sdb", "sectors: lots}\n  - {kind: disk, name: sdb"));
        assertEquals("t.yaml:5:29: devices[0].sectors: wrong type: expected an integer", e.getMessage());
        assertEquals("t.yaml:2:1: modules: module dm_snapshot has no parameter 'cow_treshold'; parameters: cow_throttle, snapshot_cow_threshold",
                refused(GOOD.replace("snapshot_cow_threshold: 1", "cow_treshold: 1")).getMessage());
    }

    @Test
    void aMissingOrSelfStackedDeviceIsRefusedInTheKernelsWords() {
        StackFileException missing = refused(GOOD.replace("snapshot-origin sda", "snapshot-origin sdz"));
        assertEquals("t.yaml:7:28: devices[2].table: snapshot-origin: Cannot get target device (no device sdz)", missing.getMessage());
        StackFileException self = refused(GOOD.replace("snapshot-origin sda", "snapshot-origin base"));
        assertEquals("t.yaml:7:28: devices[2].table: snapshot-origin: Cannot get target device (base would be stacked on itself)",
                self.getMessage());
        StackFileException cow = refused(GOOD.replace("snapshot sda sdb P 8", "snapshot sda sdb P 12"));
        assertTrue(cow.getMessage().startsWith("t.yaml:10:"), cow.getMessage());
        assertTrue(cow.getMessage().endsWith("workload[1].table: snapshot: Couldn't create exception store (Chunk size is not a power of 2)"),
                cow.getMessage());
        StackFileException writer = refused(GOOD.replace("device: base, count: 2", "device: nowhere, count: 2"));
        assertTrue(writer.getMessage().startsWith("t.yaml:9:"), writer.getMessage());
        assertTrue(writer.getMessage().contains("workload[0].device: no device 'nowhere'"), writer.getMessage());
    }

    @Test
    void aDeviceNamingALaterDeviceIsRefused() {
        String text = GOOD.replace("  - {kind: disk, name: sda, sectors: 1024}\n", "")
                .replace("  - {kind: dm, name: base, table: \"0 1024 snapshot-origin sda\"}\n",
                        "  - {kind: dm, name: base, table: \"0 1024 snapshot-origin sda\"}\n  - {kind: disk, name: sda, sectors: 1024}\n");
        assertTrue(refused(text).getMessage().contains("Cannot get target device (no device sda)"));
    }

    @Test
    void badTableLinesAndKindsAreNamed() {
        assertTrue(refused(GOOD.replace("0 1024 snapshot-origin sda", "0 x snapshot-origin sda")).getMessage()
                .endsWith("devices[2].table: table line 1 '0 x snapshot-origin sda': invalid length 'x'"));
        assertTrue(refused(GOOD.replace("0 1024 snapshot-origin sda", "0 1024 mirror sda")).getMessage()
                .contains("unknown target type 'mirror'; known: crypt, linear, snapshot, snapshot-origin, verity"));
        assertEquals("t.yaml:5:6: devices[0].kind: unknown device kind 'tape'; kinds: disk, dm, dm-bufio, filesystem, loop, md-raid1, swap, veritysetup",
                refused(GOOD.replace("{kind: disk, name: sda", "{kind: tape, name: sda")).getMessage());
    }

    @Test
    void variantsAreChecked() {
        StackFileException path = refused(GOOD.replace("devices.sda.latency_ms: 2", "devices.sdq.latency_ms: 2"));
        assertTrue(path.getMessage().startsWith("t.yaml:13:"), path.getMessage());
        assertTrue(path.getMessage().contains("no element named 'sdq' in 'devices'"), path.getMessage());
        StackFileException value = refused(GOOD.replace("devices.sda.latency_ms: 2", "devices.sda.latency_ms: slow"));
        assertTrue(value.getMessage().contains("variant b: variants[1].set.devices.sda.latency_ms: wrong type: expected a number"),
                value.getMessage());
        StackFileException throttle = refused(GOOD.replace("cow_throttle: semaphore", "cow_throttle: mutex"));
        assertTrue(throttle.getMessage().contains("dm_snapshot.cow_throttle: 'mutex' is neither semaphore nor wait-unlocked"),
                throttle.getMessage());
        assertTrue(refused(GOOD.replace("expected: hang", "expected: maybe")).getMessage()
                .contains("variants[1].expected: must be hang or complete, got 'maybe'"));
        assertTrue(refused(GOOD.replace("{name: b,", "{name: a,")).getMessage().contains("a second variant called 'a'"));
    }

    @Test
    void syntaxAndDuplicateKeysAreRefused() {
        StackFileException dup = refused(GOOD.replace("{kind: disk, name: sda, sectors: 1024}", "{kind: disk, name: sda, name: sdc, sectors: 1024}"));
        assertTrue(dup.getMessage().contains("Duplicate field 'name'"), dup.getMessage());
        assertEquals(5, dup.line());
        StackFileException syntax = refused("devices: [\n");
        assertTrue(syntax.getMessage().startsWith("t.yaml:"), syntax.getMessage());
        assertTrue(syntax.getMessage().contains("not valid YAML"), syntax.getMessage());
    }
}
