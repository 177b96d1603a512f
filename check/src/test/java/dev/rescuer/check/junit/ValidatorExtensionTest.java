package dev.rescuer.check.junit;

import dev.rescuer.check.Validator;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.sync.Mutex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/** Runs fixture tests through the JUnit launcher and checks what the extension made of them. */
class ValidatorExtensionTest {

    /** Fixtures, run only through the launcher (Surefire skips nested classes). */
    @ExtendWith(ValidatorExtension.class)
    static class Fixtures {
        private static void lockInOrder(Validator validator, boolean abba) {
            try (RealPlatform platform = new RealPlatform()) {
                validator.attachTo(platform);
                Mutex a = new Mutex(platform, "A");
                Mutex b = new Mutex(platform, "B");
                platform.join(platform.startThread("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); }));
                platform.join(platform.startThread("t2", () -> {
                    Mutex first = abba ? b : a;
                    Mutex second = abba ? a : b;
                    first.lock();
                    second.lock();
                    second.unlock();
                    first.unlock();
                }));
            }
        }

        @Test
        void abba(Validator validator) {
            lockInOrder(validator, true);
        }

        @Test
        void ordered(Validator validator) {
            lockInOrder(validator, false);
        }
    }

    private static TestExecutionSummary run(String method) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(Fixtures.class, method, Validator.class.getName())).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        return listener.getSummary();
    }

    @Test
    void aTestWhoseRunRecordedACycleFailsWithTheReport() {
        TestExecutionSummary s = run("abba");
        assertEquals(1, s.getTestsFailedCount());
        String message = s.getFailures().get(0).getException().getMessage();
        assertTrue(message.contains("1 potential cycle recorded by the validator"), message);
        assertTrue(message.contains("WARNING: possible circular dependency detected"), message);
        assertTrue(message.contains("A -> B -> A"), message);
    }

    @Test
    void aTestWithoutACyclePasses() {
        TestExecutionSummary s = run("ordered");
        assertEquals(1, s.getTestsSucceededCount());
        assertEquals(0, s.getTestsFailedCount());
    }
}
