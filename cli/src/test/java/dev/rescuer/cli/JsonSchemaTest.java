package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.rescuer.bench.BenchSuite;
import dev.rescuer.bench.Targets;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What explore, check, replay, analyze and bench print with {@code --json} is what docs/json/rescuer.schema.json
 * (described in docs/JSON.md) says: every field named, typed and required, and no other field. A field
 * added to the output without its description, or renamed, fails here.
 */
class JsonSchemaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    /** The schema's definition {@code def}, as a schema of its own. */
    private static JsonSchema schema(String def) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(Path.of("..", "docs", "json", "rescuer.schema.json")));
        root.put("$ref", "#/$defs/" + def);
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(root);
    }

    private static void assertValid(String def, String json) throws Exception {
        JsonNode node = JSON.readTree(json);
        Set<ValidationMessage> errors = schema(def).validate(node);
        assertEquals(Set.of(), errors, def + ":\n" + json);
    }

    @Test
    void exploreOfAHangAndOfACompletionWithTheValidator() throws Exception {
        CliRun hang = CliRun.run("explore", "reclaim-rescuer", "--variant", "shared-queue", "--json");
        assertValid("explore", hang.out());
        JsonNode cycles = JSON.readTree(hang.out()).get("first_hang").get("report").get("wait_for_cycles");
        assertEquals(2, cycles.size(), "the hang has cycles to check: " + cycles);
        CliRun validated = CliRun.run("explore", S1, "--variant", "semaphore-under-lock", "--schedules", "6", "--validate", "--json");
        assertValid("explore", validated.out());
        assertFalse(JSON.readTree(validated.out()).get("potential_cycles").isEmpty(), validated.out());
    }

    @Test
    void checkListsItsVariants() throws Exception {
        CliRun r = CliRun.run("check", S1, "--schedules", "3", "--json");
        assertValid("checkList", r.out());
        assertEquals(2, JSON.readTree(r.out()).size());
    }

    @Test
    void replayWithItsTraceEvents() throws Exception {
        CliRun explore = CliRun.run("explore", S1, "--variant", "semaphore-under-lock", "--json");
        String seed = JSON.readTree(explore.out()).get("first_hang").get("seed").asText();
        CliRun r = CliRun.run("replay", S1, "--variant", "semaphore-under-lock", "--seed", seed, "--json");
        assertValid("replay", r.out());
        assertTrue(JSON.readTree(r.out()).get("trace").size() > 0);
    }

    @Test
    void analyzeOfAStack() throws Exception {
        CliRun r = CliRun.run("analyze", Path.of("..", "stacks", "s3-md-mdmon.yaml").toString(), "--json");
        assertValid("analyze", r.out());
    }

    @Test
    void benchWithItsTargetsAndProfiles() throws Exception {
        BenchSuite.Run run = BenchCommandTest.fixedRun();
        String json = BenchCommand.toJson(run, Targets.evaluate(run.results()), List.of("gc", "stack"));
        assertValid("bench", json);
        JsonNode root = JSON.readTree(json);
        assertEquals("not offered by this JDK (17)", root.get("virtual_threads").asText());
        assertEquals(17, root.get("java_version").asInt());
        assertTrue(root.get("results").get(1).get("ratio").get("fjp").isNull(), "a ratio over zero is null, not NaN");
        assertEquals("missed", root.get("targets").get(0).get("status").asText());
        JsonNode pipeline = null;
        for (JsonNode t : root.get("targets")) {
            if (t.get("benchmark").asText().equals("pipeline")) {
                pipeline = t;
            }
        }
        assertTrue(pipeline != null && pipeline.get("threshold").isNull(), "the pipeline is recorded, with no threshold");
        ObjectNode extra = (ObjectNode) root;
        extra.putArray("targets").addObject().put("benchmark", "x");
        assertFalse(schema("bench").validate(extra).isEmpty(), "a target without its fields is refused");
    }

    @Test
    void theSchemaRefusesWhatTheDocumentationDoesNotDescribe() throws Exception {
        CliRun r = CliRun.run("explore", S1, "--variant", "wait-unlocked", "--schedules", "2", "--json");
        ObjectNode extra = (ObjectNode) JSON.readTree(r.out());
        extra.put("undocumented", 1);
        assertFalse(schema("explore").validate(extra).isEmpty(), "an undocumented field is refused");
        ObjectNode wrongVersion = (ObjectNode) JSON.readTree(r.out());
        wrongVersion.put("json_version", 2);
        assertFalse(schema("explore").validate(wrongVersion).isEmpty(), "another version is refused");
    }
}
