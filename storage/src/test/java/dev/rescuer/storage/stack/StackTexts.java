package dev.rescuer.storage.stack;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** For the stack-file tests: a stack file given as text, named {@code t.yaml}, with the built-in kinds. */
final class StackTexts {

    private StackTexts() {
    }

    /** Parses {@code text} as stack file {@code t.yaml}. */
    static StackFile parse(String text) {
        return StackFile.parse("t.yaml", "t", text, Kinds.builtIn());
    }

    /** Asserts that {@code text} is refused and returns the refusal, with its file, line and column. */
    static String refused(String text) {
        return assertThrows(StackFileException.class, () -> parse(text)).getMessage();
    }

    /** As {@link #refused}, without the leading {@code t.yaml:line:column: }. */
    static String refusedAtKey(String text) {
        return refused(text).replaceFirst("^t\\.yaml:\\d+:\\d+: ", "");
    }
}
