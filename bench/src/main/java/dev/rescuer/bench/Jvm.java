package dev.rescuer.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Java launcher the benchmarks run on (JMH's forks and the direct measurements), and what it is.
 *
 * @param java the {@code java} executable
 * @param feature the Java feature release, for example 17 or 25
 * @param version the full runtime version, for example {@code 25+36-LTS}
 * @param vmName the virtual machine's name, for example {@code OpenJDK 64-Bit Server VM}
 */
public record Jvm(Path java, int feature, String version, String vmName) {

    /** The oldest release the benchmarks' class files run on. */
    static final int OLDEST = 17;

    /** The JVM this code runs on. */
    public static Jvm current() {
        return new Jvm(Path.of(System.getProperty("java.home"), "bin", "java"), Runtime.version().feature(),
                Runtime.version().toString(), System.getProperty("java.vm.name"));
    }

    /** Whether this JDK offers virtual threads ({@code Executors.newVirtualThreadPerTaskExecutor}, Java 21 and later). */
    public boolean offersVirtualThreads() {
        return feature >= 21;
    }

    /** {@code "OpenJDK 64-Bit Server VM 25+36-LTS"}. */
    public String describe() {
        return vmName + " " + version;
    }

    /**
     * Asks the launcher at {@code java} what it is ({@code java -XshowSettings:properties -version}).
     *
     * @throws IllegalArgumentException naming the path and the problem: missing, a directory, not
     *         executable, not answering as a Java launcher, or older than Java 17
     */
    public static Jvm probe(Path java) {
        if (!Files.exists(java)) {
            throw new IllegalArgumentException(java + ": no such file");
        }
        if (Files.isDirectory(java)) {
            throw new IllegalArgumentException(java + " is a directory; give the java executable, e.g. " + java.resolve("bin").resolve("java"));
        }
        if (!Files.isExecutable(java)) {
            throw new IllegalArgumentException(java + " is not executable");
        }
        String out;
        int exit;
        try {
            Process p = new ProcessBuilder(java.toString(), "-XshowSettings:properties", "-version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalArgumentException(java + " did not answer 'java -version' within 60 s");
            }
            exit = p.exitValue();
        } catch (IOException e) {
            throw new IllegalArgumentException(java + " could not be run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalArgumentException(java + ": interrupted while asking for its version");
        }
        Map<String, String> props = properties(out);
        String spec = props.get("java.specification.version");
        if (exit != 0 || spec == null || !props.containsKey("java.runtime.version")) {
            String first = out.strip().lines().findFirst().orElse("(no output)");
            throw new IllegalArgumentException(java + " is not a Java launcher: 'java -XshowSettings:properties -version' exited "
                    + exit + " without java.specification.version (first line: " + first + ")");
        }
        int feature;
        try {
            feature = spec.startsWith("1.") ? Integer.parseInt(spec.substring(2)) : Integer.parseInt(spec);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(java + " reports java.specification.version '" + spec + "', not a release number");
        }
        if (feature < OLDEST) {
            throw new IllegalArgumentException(java + " is Java " + spec + "; the benchmarks need Java " + OLDEST + " or later");
        }
        return new Jvm(java, feature, props.get("java.runtime.version"), props.getOrDefault("java.vm.name", "unknown VM"));
    }

    /** The {@code key = value} lines of {@code -XshowSettings:properties}. */
    static Map<String, String> properties(String settings) {
        Map<String, String> props = new HashMap<>();
        for (String line : settings.split("\n")) {
            int eq = line.indexOf(" = ");
            if (eq > 0 && line.startsWith("    ") && !line.startsWith("        ")) {
                props.put(line.substring(0, eq).strip(), line.substring(eq + 3).strip());
            }
        }
        return props;
    }
}
