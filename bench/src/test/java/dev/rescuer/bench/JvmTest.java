package dev.rescuer.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asking a launcher what it is: the running JVM answers with its own release; anything else is refused by name. */
class JvmTest {

    @Test
    void theRunningJavaReportsItsOwnRelease() {
        Jvm current = Jvm.current();
        Jvm probed = Jvm.probe(current.java());
        assertEquals(Runtime.version().feature(), probed.feature());
        assertEquals(Runtime.version().toString(), probed.version());
        assertEquals(System.getProperty("java.vm.name"), probed.vmName());
        assertEquals(probed.feature() >= 21, probed.offersVirtualThreads());
    }

    @Test
    void whatIsNotAJavaLauncherIsRefusedWithThePathAndTheReason(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("no-java");
        assertEquals(missing + ": no such file", assertThrows(IllegalArgumentException.class, () -> Jvm.probe(missing)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Jvm.probe(dir)).getMessage()
                .startsWith(dir + " is a directory; give the java executable"));
        Path plain = Files.writeString(dir.resolve("plain"), "not a program");
        assertEquals(plain + " is not executable", assertThrows(IllegalArgumentException.class, () -> Jvm.probe(plain)).getMessage());
        Path script = Files.writeString(dir.resolve("fake-java"), "#!/bin/sh\necho 'fake: unknown option' >&2\nexit 3\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        String msg = assertThrows(IllegalArgumentException.class, () -> Jvm.probe(script)).getMessage();
        assertTrue(msg.startsWith(script + " is not a Java launcher"), msg);
        assertTrue(msg.contains("exited 3") && msg.contains("fake: unknown option"), msg);
    }

    @Test
    void aLauncherOlderThan17IsRefused(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("java11"), "#!/bin/sh\ncat >&2 <<'E'\nProperty settings:\n"
                + "    java.runtime.version = 11.0.2+9\n    java.specification.version = 11\n    java.vm.name = Old VM\nE\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        assertEquals(script + " is Java 11; the benchmarks need Java 17 or later",
                assertThrows(IllegalArgumentException.class, () -> Jvm.probe(script)).getMessage());
    }
}
