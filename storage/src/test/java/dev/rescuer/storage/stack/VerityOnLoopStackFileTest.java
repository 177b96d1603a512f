package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verity on a loop device: a buffered loop device moves no data in the model, so verity on one (or
 * on a device stacked on one) would fail every read; such a stack is refused at the key that names
 * the device, with file, line and column. Direct-I/O loop devices carry the data and are accepted.
 */
class VerityOnLoopStackFileTest {

    private static final String STACK = """
            name: t
            devices:
              - {kind: disk, name: sda, sectors: 8192, latency_ms: 1, queue_depth: 32}
              - {kind: filesystem, name: root, device: sda, files: [{name: data.img, blocks: 64}, {name: hash.img, blocks: 16}]}
              - {kind: loop, name: loop0, backing: {fs: root, file: data.img}, direct_io: true}
              - {kind: loop, name: loop1, backing: {fs: root, file: hash.img}, direct_io: true}
              - {kind: dm, name: lin, table: "0 128 linear loop1 0"}
              - {kind: veritysetup, name: vloop, data: loop0, hash: HASH}
            workload:
              - {kind: reader, name: r0, device: vloop, start_sector: 0, sectors: 8, count: 1}
            variants:
              - {name: base, expected: complete, set: {}}
            """;

    @Test
    void directIoLoopDevicesAreAccepted() {
        parse(STACK.replace("HASH", "loop1"));
        parse(STACK.replace("HASH", "lin"));
    }

    @Test
    void aBufferedLoopUnderVerityIsRefusedAtTheKeyThatNamesIt() {
        assertEquals("t.yaml:8:38: devices[5].data: verity checks the contents of loop0, but it is a buffered loop device "
                        + "(direct_io: false), and a buffered loop device moves no data in this model (the page cache carries none): "
                        + "every read would fail verification; set direct_io: true on loop0",
                refused(STACK.replace("HASH", "loop1").replace("data.img}, direct_io: true", "data.img}, direct_io: false")));
        assertEquals("t.yaml:8:51: devices[5].hash: verity checks the contents of lin, but it stacks on loop device 'loop1', which "
                        + "is a buffered loop device (direct_io: false), and a buffered loop device moves no data in this model "
                        + "(the page cache carries none): every read would fail verification; set direct_io: true on loop1",
                refused(STACK.replace("HASH", "lin").replace("hash.img}, direct_io: true}", "hash.img}}")));
    }
}
