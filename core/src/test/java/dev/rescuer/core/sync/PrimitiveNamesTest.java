package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every primitive has a non-blank name and class, and a kind; blank or missing ones are refused. */
class PrimitiveNamesTest {

    private final RealPlatform platform = new RealPlatform();

    @AfterEach
    void tearDown() {
        platform.close();
    }

    private record Kind(String kind, BiFunction<String, String, Object> make) {
    }

    private List<Kind> kinds() {
        return List.of(
                new Kind("mutex", (n, c) -> new Mutex(platform, n, c)),
                new Kind("rwsem", (n, c) -> new RwSemaphore(platform, n, c)),
                new Kind("semaphore", (n, c) -> new Semaphore(platform, n, c, 1)),
                new Kind("completion", (n, c) -> new Completion(platform, n, c)),
                new Kind("waitqueue", (n, c) -> new WaitQueue(platform, n, c)),
                new Kind("spinlock", (n, c) -> new SpinLock(platform, n, c)));
    }

    private static void assertRefused(Executable make, String what, String shown) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make);
        assertTrue(e.getMessage().contains(what), () -> "message should say which field: " + e.getMessage());
        assertTrue(e.getMessage().contains(shown), () -> "message should show the bad value: " + e.getMessage());
    }

    @Test
    void blankOrNullNamesAreRefused() {
        for (Kind k : kinds()) {
            assertRefused(() -> k.make.apply("", "cls"), "name", "\"\"");
            assertRefused(() -> k.make.apply("  \t", "cls"), "name", "\"  \t\"");
            assertRefused(() -> k.make.apply(null, "cls"), "name", "null");
        }
    }

    @Test
    void blankOrNullLockClassesAreRefused() {
        for (Kind k : kinds()) {
            assertRefused(() -> k.make.apply("ok", ""), "lockClass", "\"\"");
            assertRefused(() -> k.make.apply("ok", " "), "lockClass", "\" \"");
            assertRefused(() -> k.make.apply("ok", null), "lockClass", "null");
        }
    }

    @Test
    void twoArgumentConstructorsRefuseBlankNamesToo() {
        assertThrows(IllegalArgumentException.class, () -> new Mutex(platform, " "));
        assertThrows(IllegalArgumentException.class, () -> new RwSemaphore(platform, ""));
        assertThrows(IllegalArgumentException.class, () -> new Semaphore(platform, " ", 0));
        assertThrows(IllegalArgumentException.class, () -> new Completion(platform, "\n"));
        assertThrows(IllegalArgumentException.class, () -> new WaitQueue(platform, ""));
        assertThrows(IllegalArgumentException.class, () -> new SpinLock(platform, " "));
    }

    @Test
    void aPlatformIsRequired() {
        Platform none = null;
        assertThrows(NullPointerException.class, () -> new Mutex(none, "m"));
        assertThrows(NullPointerException.class, () -> new RwSemaphore(none, "r"));
        assertThrows(NullPointerException.class, () -> new Semaphore(none, "s", 0));
        assertThrows(NullPointerException.class, () -> new Completion(none, "c"));
        assertThrows(NullPointerException.class, () -> new WaitQueue(none, "w"));
        assertThrows(NullPointerException.class, () -> new SpinLock(none, "s"));
    }

    @Test
    void nameClassAndKindAreReportedAsGiven() {
        for (Kind k : kinds()) {
            dev.rescuer.core.platform.Primitive p = (dev.rescuer.core.platform.Primitive) k.make.apply("inst", "cls");
            assertEquals("inst", p.name());
            assertEquals("cls", p.lockClass());
            assertEquals(k.kind, p.kind());
            assertEquals(k.kind + " inst [cls]", p.describe());
            assertEquals(p.describe(), p.toString());
        }
        assertEquals("rwsem solo", new RwSemaphore(platform, "solo").describe(), "the class defaults to the name");
    }
}
