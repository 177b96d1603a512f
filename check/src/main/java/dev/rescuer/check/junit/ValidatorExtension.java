package dev.rescuer.check.junit;

import dev.rescuer.check.PotentialCycle;
import dev.rescuer.check.Validator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.List;

/**
 * A JUnit 5 extension that fails a test whose run recorded a potential cycle.
 *
 * <p>The test asks for a {@link Validator} parameter, installs it on the platforms it creates
 * ({@link Validator#attachTo}), and runs its workload; after the test the extension searches the
 * validator's graph and, if it holds a cycle, fails the test with lockdep's report as the message,
 * even if the test itself passed. A test that asks for no validator is not checked.
 *
 * <pre>{@code
 * @ExtendWith(ValidatorExtension.class)
 * class SnapshotTest {
 *     @Test
 *     void originWritesAndSnapshotCreation(Validator validator) {
 *         try (RealPlatform platform = new RealPlatform()) {
 *             validator.attachTo(platform);
 *             ... run the workload ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>One validator per test method, stored in the test's extension context; nothing is shared
 * between tests.
 */
public final class ValidatorExtension implements ParameterResolver, AfterEachCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ValidatorExtension.class);

    /** Resolves parameters of type {@link Validator}. */
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Validator.class;
    }

    /** The test method's validator, created on first use. */
    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(Validator.class, k -> new Validator(), Validator.class);
    }

    /** Fails the test if its validator recorded a potential cycle. */
    @Override
    public void afterEach(ExtensionContext context) {
        Validator v = context.getStore(NAMESPACE).get(Validator.class, Validator.class);
        if (v != null) {
            check(v);
        }
    }

    /**
     * Throws an {@link AssertionError} whose message is the report of every potential cycle
     * {@code validator} recorded; returns normally if there is none.
     */
    public static void check(Validator validator) {
        List<PotentialCycle> cycles = validator.potentialCycles();
        if (!cycles.isEmpty()) {
            StringBuilder sb = new StringBuilder(cycles.size() + " potential cycle" + (cycles.size() == 1 ? "" : "s")
                    + " recorded by the validator:\n");
            for (PotentialCycle c : cycles) {
                sb.append(c.format()).append('\n');
            }
            throw new AssertionError(sb.toString());
        }
    }
}
