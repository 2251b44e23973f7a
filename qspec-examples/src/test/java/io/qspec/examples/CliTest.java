package io.qspec.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.qspec.examples.cli.QSpecCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract scripts depend on: generate (text and JSON), bench, eval, and clean errors. */
class CliTest {

    static Path models() {
        Path dir = Path.of(System.getProperty("qspec.models.dir", "../shared/models")).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(dir), () -> "test models not found at " + dir);
        return dir;
    }

    record Run(int exit, String out, String err) {
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = QSpecCli.run(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void generateJsonHasTheContractFields() {
        Run r = run("generate", "--model", models().resolve("stories260K/stories260K.gguf").toString(),
                "--prompt", "Once upon a time", "--max-tokens", "24", "--json", "--backend", "cpu");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject json = JsonParser.parseString(r.out().strip()).getAsJsonObject();
        for (String field : new String[] {"text", "token_ids", "finish_reason", "prompt_tokens", "generated_tokens", "mode",
                "draft", "gamma", "drafted_tokens", "accepted_tokens", "acceptance_rate", "tokens_per_second", "backend"}) {
            assertThat(json.has(field)).as(field).isTrue();
        }
        assertThat(json.get("mode").getAsString()).isEqualTo("qspec");
        assertThat(json.get("backend").getAsString()).isEqualTo("cpu");
        assertThat(json.get("generated_tokens").getAsInt()).isEqualTo(json.getAsJsonArray("token_ids").size());
        assertThat(json.get("accepted_tokens").getAsLong()).isLessThanOrEqualTo(json.get("drafted_tokens").getAsLong());
    }

    @Test
    void generateTextOnHuggingFaceModelMatchesW4A16WithAndWithoutTheMeasuredGate() {
        String model = models().resolve("TinyStories-656K").toString();
        Run qspec = run("generate", "--model", model, "--prompt", "The little dog", "--max-tokens", "30", "--draft", "a4");
        Run plain = run("generate", "--model", model, "--prompt", "The little dog", "--max-tokens", "30", "--mode", "w4a16");
        Run gated = run("generate", "--model", model, "--prompt", "The little dog", "--max-tokens", "30", "--draft", "a4",
                "--measured-speculation");
        assertThat(qspec.exit()).as(qspec.err()).isZero();
        assertThat(qspec.out()).startsWith("The little dog").isEqualTo(plain.out());
        assertThat(gated.exit()).as(gated.err()).isZero();
        assertThat(gated.out()).isEqualTo(plain.out());
    }

    @Test
    void chatAnswersEachLineOfPipedInputAndExitsAtItsEnd() {
        var oldIn = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("Tell me a story.\n\nWhat next?\n".getBytes(StandardCharsets.UTF_8)));
            Run r = run("chat", "--model", models().resolve("TinyStories-656K").toString(), "--max-tokens", "12",
                    "--backend", "cpu", "--stats");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err().lines().filter(l -> l.startsWith("[12 tokens")).count()).as(r.err()).isEqualTo(2);
            assertThat(r.out().strip()).isNotEmpty();
        } finally {
            System.setIn(oldIn);
        }
    }

    @Test
    void samplingFlagsAreReproducibleAndReported() {
        String model = models().resolve("stories260K/stories260K.gguf").toString();
        String[] args = {"generate", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "20", "--json",
                "--temperature", "0.8", "--top-p", "0.9", "--seed", "11", "--gamma", "adaptive", "--backend", "cpu"};
        Run a = run(args);
        Run b = run(args);
        assertThat(a.exit()).as(a.err()).isZero();
        JsonObject json = JsonParser.parseString(a.out().strip()).getAsJsonObject();
        assertThat(json.get("acceptance").getAsString()).isEqualTo("rejection");
        assertThat(json.get("token_ids")).isEqualTo(JsonParser.parseString(b.out().strip()).getAsJsonObject().get("token_ids"));
    }

    @Test
    void badInputIsOneLineOnStderrWithNonZeroExit() {
        Run missing = run("generate", "--model", "/nonexistent.gguf", "--prompt", "x");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err().strip()).startsWith("qspec: model not found").doesNotContain("\n").doesNotContain("Exception");
        Run badMode = run("generate", "--model", models().resolve("stories260K/stories260K.gguf").toString(), "--prompt", "x", "--mode", "w3a3");
        assertThat(badMode.exit()).isNotZero();
        assertThat(badMode.err()).contains("unknown --mode 'w3a3'");
        Run noGpu = run("generate", "--model", models().resolve("stories260K/stories260K.gguf").toString(), "--prompt", "x", "--backend", "nope");
        assertThat(noGpu.exit()).isNotZero();
        assertThat(noGpu.err()).contains("no backend named 'nope'");
        Run badGroup = run("generate", "--model", models().resolve("stories260K/stories260K.gguf").toString(), "--prompt", "x",
                "--group-size", "-1");
        assertThat(badGroup.exit()).isNotZero();
        assertThat(badGroup.err()).contains("--group-size must be 32, 64 or 128, or 0");
        Run unknown = run("generate", "--bogus");
        assertThat(unknown.err()).contains("Try 'qspec generate --help'.");
    }

    @Test
    void flagsAreCheckedBeforeTheModelLoads(@TempDir Path out) {
        // the model does not exist: an error about the flag shows it was checked first
        Run chat = run("chat", "--model", "/nonexistent.gguf", "--max-tokens", "0");
        assertThat(chat.exit()).isNotZero();
        assertThat(chat.err()).contains("maxTokens must be at least 1").doesNotContain("model not found");
        Run chatTemperature = run("chat", "--model", "/nonexistent.gguf", "--temperature", "-1");
        assertThat(chatTemperature.exit()).isNotZero();
        assertThat(chatTemperature.err()).contains("temperature must be >= 0").doesNotContain("model not found");
        Run bench = run("bench", "--model", "/nonexistent.gguf", "--modes", "w4a16,qspec-a8", "--gamma", "0",
                "--out", out.toString());
        assertThat(bench.exit()).isNotZero();
        assertThat(bench.err()).contains("gamma").doesNotContain("model not found");
        Run benchMode = run("bench", "--model", "/nonexistent.gguf", "--modes", "w4a16,w3a3", "--out", out.toString());
        assertThat(benchMode.err()).contains("unknown mode 'w3a3'").doesNotContain("model not found");
    }

    @Test
    void benchWritesTableCsvJsonAndCharts(@TempDir Path out) {
        Run r = run("bench", "--model", models().resolve("stories260K/stories260K.gguf").toString(), "--batch", "1,2",
                "--max-tokens", "8", "--requests", "2", "--modes", "w4a16,qspec-a8", "--backend", "cpu", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("w4a16").contains("qspec-a8").contains("tokens/s");
        assertThat(out.resolve("bench.csv")).exists();
        assertThat(out.resolve("bench.json")).exists();
        assertThat(out.resolve("throughput.png")).exists();
        assertThat(out.resolve("latency_split.png")).exists();
    }

    @Test
    void syntheticBenchNeedsAnExplicitAcceptanceRateAndLabelsIt(@TempDir Path out) throws Exception {
        Run refused = run("bench", "--synthetic", "tiny", "--out", out.toString());
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("--alpha");
        Run r = run("bench", "--synthetic", "tiny", "--alpha", "0.9", "--batch", "1", "--max-tokens", "6", "--requests", "2",
                "--modes", "w4a16,qspec-a4", "--backend", "cpu", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("synthetic acceptance α=0.9");
        assertThat(Files.readString(out.resolve("bench.json"))).contains("synthetic acceptance α=0.9");
    }

    @Test
    void benchRepeatsReportTheMedianRunAndTheSpread(@TempDir Path out) throws Exception {
        Run refused = run("bench", "--synthetic", "tiny", "--alpha", "0.9", "--repeats", "0", "--out", out.toString());
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("--repeats must be at least 1");
        Run r = run("bench", "--synthetic", "tiny", "--alpha", "0.9", "--batch", "1,2", "--max-tokens", "4", "--requests", "2",
                "--modes", "w4a16,qspec-a8", "--repeats", "3", "--backend", "cpu", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err().lines().filter(l -> l.contains("tokens/s"))).hasSize(3 * 2 * 2);  // every run is logged
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("bench.json"))).getAsJsonObject();
        assertThat(json.get("repeats").getAsInt()).isEqualTo(3);
        JsonArray results = json.getAsJsonArray("results");
        assertThat(results).hasSize(4);  // one row per mode and batch size, not per run
        for (var e : results) {
            JsonObject row = e.getAsJsonObject();
            double median = row.get("tokens_per_second").getAsDouble();
            assertThat(row.get("runs").getAsInt()).isEqualTo(3);
            assertThat(row.get("min_tokens_per_second").getAsDouble()).isPositive().isLessThanOrEqualTo(median);
            assertThat(row.get("max_tokens_per_second").getAsDouble()).isGreaterThanOrEqualTo(median);
        }
        assertThat(Files.readString(out.resolve("bench.txt"))).contains("runs, spread").contains("3, ");
    }

    @Test
    void syntheticBenchTakesLongPromptsWithinTheContextAndRefusesLongerOnes(@TempDir Path out) throws Exception {
        Run r = run("bench", "--synthetic", "tiny", "--alpha", "0.9", "--batch", "1", "--max-tokens", "4", "--requests", "1",
                "--prompt-tokens", "300", "--modes", "w4a16", "--backend", "cpu", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(out.resolve("bench.csv"))).contains("w4a16");
        Run refused = run("bench", "--synthetic", "tiny", "--alpha", "0.9", "--prompt-tokens", "5000", "--backend", "cpu",
                "--out", out.toString());
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("--prompt-tokens 5000").contains("context of 1024 tokens");
        Run withModel = run("bench", "--model", models().resolve("stories260K/stories260K.gguf").toString(),
                "--prompt-tokens", "100", "--backend", "cpu", "--out", out.toString());
        assertThat(withModel.exit()).isNotZero();
        assertThat(withModel.err()).contains("--prompt-tokens").contains("--prompts FILE");
    }

    @Test
    void evalReportsQSpecEqualsW4A16(@TempDir Path out) {
        Path prompts = out.resolve("prompts.txt");
        try {
            Files.writeString(prompts, "Once upon a time\n{\"prompt\": \"The little dog\"}\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Run r = run("eval", "--model", models().resolve("TinyStories-656K").toString(), "--prompts", prompts.toString(),
                "--max-tokens", "12", "--gammas", "2", "--backend", "cpu", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("QSpec tokens equal W4A16 tokens: 2/2 prompts (100.0%)");
        assertThat(out.resolve("eval.json")).exists();
        assertThat(out.resolve("top1_joint_a8.png")).exists();
    }
}
