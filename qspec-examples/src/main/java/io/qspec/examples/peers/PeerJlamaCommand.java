package io.qspec.examples.peers;

import com.github.tjake.jlama.safetensors.DType;
import io.qspec.examples.cli.CliSupport;
import io.qspec.quant.QuantScheme;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qspec peer-jlama}: writes one random-weight Llama folder and measures, in this one process,
 * Jlama (Q4 weights) and QSpec (W4A16, W4A8, QSpec-A8) greedy batch-1 decode on it.
 */
@Command(name = "peer-jlama", mixinStandardHelpOptions = true,
        description = "Compare greedy batch-1 tokens/s of Jlama (Q4) and QSpec (w4a16, w4a8, qspec-a8) on the same random Llama folder.")
public final class PeerJlamaCommand implements Callable<Integer> {

    @Option(names = "--prompt-tokens", defaultValue = "32", description = "Prompt length in tokens, BOS included (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--group-size", defaultValue = "32", description = "Our INT4 group size; 32 matches Jlama's Q4 block (default ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--tokenizer-from", description = "Hugging Face folder whose tokenizer.json is copied (default: ../shared/models/TinyStories-656K).")
    Path tokenizerFrom;

    @Option(names = "--keep-model", description = "Keep the written model folders (BF16 and Jlama Q4, under --out/models) instead of deleting them.")
    boolean keepModel;

    @Option(names = "--skip-jlama", description = "Measure only QSpec (e.g. where Jlama cannot run).")
    boolean skipJlama;

    @Option(names = "--backend", defaultValue = "cpu", description = "Our backend (default ${DEFAULT-VALUE}: the comparison is CPU against CPU).")
    String backend;

    @Mixin
    PeerOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CliSupport.configureLogging(options.verbose);
        PeerShape s = options.peerShape();
        Path out = options.out;
        int tokens = options.tokens;
        int runs = options.runs;
        if (tokens < 2 || runs < 1 || promptTokens < 1 || promptTokens + tokens > 2048) {
            throw new IllegalArgumentException("need --tokens >= 2, --runs >= 1, 1 <= --prompt-tokens and prompt + tokens <= 2048");
        }
        Path work = keepModel ? out.resolve("models") : Files.createTempDirectory("qspec-peer-" + s.name());
        Path folder = work.resolve("random-" + s.name() + "-bf16");
        Path jlamaFolder = work.resolve("random-" + s.name() + "-jlama-q4");
        try {
            long t0 = System.nanoTime();
            RandomLlamaFolder.write(folder, s, tokenizerFrom != null ? tokenizerFrom : RandomLlamaFolder.defaultTokenizerSource(), 42);
            System.err.printf("wrote %s (%,d parameters, BF16) in %.1f s%n", folder, s.parameters(), (System.nanoTime() - t0) / 1e9);

            int[] prompt = prompt(promptTokens);
            int threads = Runtime.getRuntime().availableProcessors();
            List<PeerResult> results = new ArrayList<>();
            if (!skipJlama) {
                JlamaGreedyBenchmark.useThreads(threads);
                long q0 = System.nanoTime();
                JlamaGreedyBenchmark.quantize(folder, jlamaFolder);
                double quantizeSeconds = (System.nanoTime() - q0) / 1e9;
                // I8 is Jlama's activation type for Q4 models; F32 activations are its float path
                for (DType activations : List.of(DType.I8, DType.F32)) {
                    PeerResult r = JlamaGreedyBenchmark.run(jlamaFolder, activations, prompt, tokens, runs, quantizeSeconds);
                    System.err.printf("  jlama %-38s %8.2f tokens/s%n", r.configuration(), r.medianTokensPerSecond());
                    results.add(r);
                }
            }
            QuantScheme scheme = groupSize == 0 ? QuantScheme.perChannel() : QuantScheme.grouped(groupSize);
            for (PeerResult r : QSpecGreedyBenchmark.run(folder, scheme, options.gamma, prompt, tokens, runs, backend)) {
                System.err.printf("  qspec %-38s %8.2f tokens/s%n", r.configuration(), r.medianTokensPerSecond());
                results.add(r);
            }

            PeerReport report = new PeerReport(header(s, threads), results);
            System.out.print(report.table());
            report.write(out);
            System.out.println("wrote " + out.toAbsolutePath() + "/{peer.txt,peer.csv,peer.json}");
            return 0;
        } finally {
            if (!keepModel) {
                deleteRecursively(work);
            }
        }
    }

    private Map<String, Object> header(PeerShape s, int threads) {
        return PeerOptions.header(spec, s, "random N(0, 0.02^2), BF16 safetensors; Jlama: Q4 (block 32) via its quantizeModel,"
                + " embedding BF16, head Q4; QSpec: INT4 at load, group " + groupSize, "jlama",
                skipJlama ? "skipped" : "jlama-core " + jlamaVersion() + " (pure Java Panama path, no jlama-native)", threads);
    }

    /** BOS then fixed pseudo-random ids past the special tokens, the same for every configuration. */
    private static int[] prompt(int length) {
        SplittableRandom random = new SplittableRandom(7);
        int[] p = new int[length];
        p[0] = 1;
        for (int i = 1; i < length; i++) {
            p[i] = 3 + random.nextInt(2000);
        }
        return p;
    }

    private static String jlamaVersion() {
        try (InputStream in = DType.class.getResourceAsStream("/META-INF/maven/com.github.tjake/jlama-core/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void deleteRecursively(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
