package dev.rescuer.check;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A real platform with a validator attached, per test, and tasks run one after the other. */
abstract class RealThreadsFixture {

    protected RealPlatform platform;
    protected Validator validator;

    @BeforeEach
    void attachValidator() {
        platform = new RealPlatform();
        validator = Validator.attach(platform);
    }

    @AfterEach
    void closePlatform() {
        platform.close();
    }

    /** Runs {@code body} in a task of its own and joins it; the task must not fail. Returns the task. */
    protected Task run(String name, Runnable body) {
        Task t = platform.startThread(name, body);
        platform.join(t);
        assertEquals(null, t.failure(), () -> name + " failed");
        return t;
    }
}
