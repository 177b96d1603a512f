package dev.rescuer.core.wq;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tunables: the kernel's defaults, each {@code withX} changing only its field, errors naming the field. */
class WorkqueueConfigTest {

    private final WorkqueueConfig d = WorkqueueConfig.defaults().withCpus(4);

    @Test
    void defaultsAreTheKernels() {
        assertEquals(Runtime.getRuntime().availableProcessors(), WorkqueueConfig.defaults().cpus());
        assertEquals(Duration.ofSeconds(300), d.idleTimeout());
        assertEquals(Duration.ofMillis(10), d.maydayInitial());
        assertEquals(Duration.ofMillis(100), d.maydayInterval());
        assertEquals(Duration.ofSeconds(1), d.createCooldown());
        assertEquals(16, d.rescuerBatch());
        assertEquals(Duration.ofMillis(10), d.cpuIntensiveThreshold());
        assertEquals(false, d.flushDependencyIsError());
        assertEquals(Duration.ofSeconds(30), d.watchdogThreshold());
    }

    @Test
    void eachWitherChangesOnlyItsField() {
        Duration x = Duration.ofMillis(7);
        assertEquals(new WorkqueueConfig(2, d.idleTimeout(), d.maydayInitial(), d.maydayInterval(), d.createCooldown(),
                d.rescuerBatch(), d.cpuIntensiveThreshold(), d.flushDependencyIsError(), d.watchdogThreshold()), d.withCpus(2));
        assertEquals(x, d.withIdleTimeout(x).idleTimeout());
        assertEquals(d, d.withIdleTimeout(x).withIdleTimeout(d.idleTimeout()));
        WorkqueueConfig m = d.withMayday(x, x.multipliedBy(2));
        assertEquals(x, m.maydayInitial());
        assertEquals(x.multipliedBy(2), m.maydayInterval());
        assertEquals(d, m.withMayday(d.maydayInitial(), d.maydayInterval()));
        assertEquals(d, d.withCreateCooldown(x).withCreateCooldown(d.createCooldown()));
        assertEquals(x, d.withCreateCooldown(x).createCooldown());
        assertEquals(3, d.withRescuerBatch(3).rescuerBatch());
        assertEquals(d, d.withRescuerBatch(3).withRescuerBatch(16));
        assertEquals(x, d.withCpuIntensiveThreshold(x).cpuIntensiveThreshold());
        assertEquals(d, d.withCpuIntensiveThreshold(x).withCpuIntensiveThreshold(d.cpuIntensiveThreshold()));
        assertTrue(d.withFlushDependencyIsError(true).flushDependencyIsError());
        assertEquals(d, d.withFlushDependencyIsError(true).withFlushDependencyIsError(false));
        assertEquals(Duration.ZERO, d.withWatchdogThreshold(Duration.ZERO).watchdogThreshold(), "zero disables the watchdog");
        assertEquals(d, d.withWatchdogThreshold(x).withWatchdogThreshold(d.watchdogThreshold()));
    }

    @Test
    void badValuesNameTheirField() {
        assertMessage("cpus", () -> d.withCpus(0));
        assertMessage("cpus", () -> d.withCpus(1025));
        assertMessage("idleTimeout", () -> d.withIdleTimeout(Duration.ZERO));
        assertMessage("maydayInitial", () -> d.withMayday(Duration.ofMillis(-1), d.maydayInterval()));
        assertMessage("maydayInterval", () -> d.withMayday(d.maydayInitial(), null));
        assertMessage("createCooldown", () -> d.withCreateCooldown(Duration.ZERO));
        assertMessage("rescuerBatch", () -> d.withRescuerBatch(0));
        assertMessage("cpuIntensiveThreshold", () -> d.withCpuIntensiveThreshold(Duration.ZERO));
        assertMessage("watchdogThreshold", () -> d.withWatchdogThreshold(Duration.ofSeconds(-1)));
    }

    private static void assertMessage(String field, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }
}
