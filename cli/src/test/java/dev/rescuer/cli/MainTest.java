package dev.rescuer.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's contract: subcommands listed, usage errors exit 2, the self-check passes. */
class MainTest {

    private static String capture(Runnable r, boolean stderr) {
        PrintStream saved = stderr ? System.err : System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        if (stderr) {
            System.setErr(ps);
        } else {
            System.setOut(ps);
        }
        try {
            r.run();
        } finally {
            if (stderr) {
                System.setErr(saved);
            } else {
                System.setOut(saved);
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpListsEverySubcommand() {
        int[] code = new int[1];
        String out = capture(() -> code[0] = Main.execute("--help"), false);
        assertEquals(0, code[0]);
        for (String sub : new String[] {"demo", "explore", "replay", "selfcheck", "bench"}) {
            assertTrue(out.contains("  " + sub + " "), "help lists " + sub + ":\n" + out);
        }
        assertTrue(out.contains("docs/GLOSSARY.md"), "help links the glossary:\n" + out);
        assertTrue(java.nio.file.Files.exists(java.nio.file.Path.of("..", "docs", "GLOSSARY.md")), "the glossary exists");
    }

    @Test
    void helpFollowedByASubcommandShowsThatSubcommandsHelp() {
        for (String flag : new String[] {"--help", "-h"}) {
            int[] code = new int[1];
            String out = capture(() -> code[0] = Main.execute(flag, "explore"), false);
            assertEquals(0, code[0]);
            assertTrue(out.startsWith("Usage: rescuer explore"), flag + " explore shows explore's help:\n" + out);
        }
    }

    @Test
    void unknownSubcommandOrOptionIsAUsageError() {
        int[] code = new int[1];
        String err = capture(() -> code[0] = Main.execute("bogus"), true);
        assertEquals(2, code[0]);
        assertTrue(err.contains("Unmatched argument at index 0: 'bogus'"), err);
        err = capture(() -> code[0] = Main.execute("bench", "--fast"), true);
        assertEquals(2, code[0]);
        assertTrue(err.contains("Unknown option: '--fast'"), err);
    }

    @Test
    void missingSubcommandIsAUsageError() {
        int[] code = new int[1];
        String err = capture(() -> code[0] = Main.execute(), true);
        assertEquals(2, code[0]);
        assertTrue(err.contains("missing subcommand"), err);
    }

    @Test
    void selfCheckPassesEveryCheck() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = SelfCheckCommand.run(new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.contains("9 passed, 0 failed"), out);
    }
}
