package dev.rescuer.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * README's synopsis block lists every subcommand with every option it takes, as the command line
 * defines them (picocli's own {@code --help} and {@code --version} left out), so that the two cannot
 * drift apart.
 */
class ReadmeSynopsisTest {

    private static final Pattern OPTION = Pattern.compile("--[a-z][a-z-]*");

    @Test
    void theReadmeSynopsisNamesEveryCommandWithEveryOption() throws IOException {
        Map<String, TreeSet<String>> readme = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("..", "README.md"))) {
            if (!line.startsWith("./rescuer ")) {
                continue;
            }
            String synopsis = line.contains("#") ? line.substring(0, line.indexOf('#')) : line;
            String command = synopsis.split(" +")[1];
            TreeSet<String> options = new TreeSet<>();
            Matcher m = OPTION.matcher(synopsis);
            while (m.find()) {
                options.add(m.group());
            }
            readme.merge(command, options, (a, b) -> {
                a.addAll(b);
                return a;
            });
        }
        Map<String, TreeSet<String>> cli = new TreeMap<>();
        for (Map.Entry<String, CommandLine> sub : new CommandLine(new Main()).getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) {
                continue;
            }
            TreeSet<String> options = new TreeSet<>();
            for (CommandLine.Model.OptionSpec o : sub.getValue().getCommandSpec().options()) {
                String name = o.longestName();
                if (!name.equals("--help") && !name.equals("--version")) {
                    options.add(name);
                }
            }
            cli.put(sub.getKey(), options);
        }
        assertEquals(cli, readme, "README's synopsis (lines starting with ./rescuer) against the command line's options");
    }
}
