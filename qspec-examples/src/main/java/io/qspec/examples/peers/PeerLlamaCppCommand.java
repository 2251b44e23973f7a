package io.qspec.examples.peers;

import io.qspec.examples.cli.CliSupport;
import io.qspec.quant.QuantScheme;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qspec peer-llamacpp}: writes one random-weight Llama GGUF in Q4_0 and measures, in this one process,
 * llama.cpp and QSpec (W4A16, W4A8, QSpec-A8) greedy batch-1 decode on it. QSpec transcodes the Q4_0 blocks into its
 * INT4 set bit for bit (group 32), so both engines multiply by the very same 4-bit weights.
 */
@Command(name = "peer-llamacpp", mixinStandardHelpOptions = true,
        description = "Compare greedy batch-1 tokens/s of llama.cpp (Q4_0) and QSpec (w4a16, w4a8, qspec-a8) on the same random Llama GGUF.")
public final class PeerLlamaCppCommand implements Callable<Integer> {
    /** About 32 tokens of the stories260K vocabulary. */
    static final String PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park"
            + " with her friends and her big red ball.";

    @Option(names = "--vocabulary-from", description = "GGUF file whose SentencePiece vocabulary is copied (default: ../shared/models/stories260K/stories260K.gguf).")
    Path vocabularyFrom;

    @Option(names = "--keep-model", description = "Keep the written GGUF (under --out) instead of deleting it.")
    boolean keepModel;

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
        if (tokens < 2 || runs < 1) {
            throw new IllegalArgumentException("need --tokens >= 2 and --runs >= 1");
        }
        int threadCount = Runtime.getRuntime().availableProcessors();   // both engines: one thread per processor
        Files.createDirectories(out);
        Path gguf = keepModel ? out.resolve("random-" + s.name() + "-q4_0.gguf") : Files.createTempFile("qspec-peer-", ".gguf");
        try {
            long t0 = System.nanoTime();
            RandomLlamaGguf.write(gguf, s, vocabularyFrom != null ? vocabularyFrom : RandomLlamaGguf.defaultVocabularySource(), 42);
            System.err.printf("wrote %s (%,d parameters, Q4_0) in %.1f s%n", gguf, s.parameters(), (System.nanoTime() - t0) / 1e9);

            List<PeerResult> results = new ArrayList<>();
            int[] prompt;
            try (LlamaCppGreedyBenchmark llama = new LlamaCppGreedyBenchmark(gguf, threadCount, 512 + tokens)) {
                prompt = llama.promptIds(PROMPT);
                PeerResult r = llama.run(PROMPT, prompt.length, tokens, runs);
                System.err.printf("  llama.cpp %-34s %8.2f tokens/s%n", r.configuration(), r.medianTokensPerSecond());
                results.add(r);
            }
            for (PeerResult r : QSpecGreedyBenchmark.run(gguf, QuantScheme.grouped(32), options.gamma, prompt, tokens, runs, "cpu")) {
                System.err.printf("  qspec %-38s %8.2f tokens/s%n", r.configuration(), r.medianTokensPerSecond());
                results.add(r);
            }
            PeerReport report = new PeerReport(header(s, threadCount), results);
            System.out.print(report.table());
            report.write(out);
            System.out.println("wrote " + out.toAbsolutePath() + "/{peer.txt,peer.csv,peer.json}");
            return 0;
        } finally {
            if (!keepModel) {
                Files.deleteIfExists(gguf);
            }
        }
    }

    private Map<String, Object> header(PeerShape s, int threadCount) {
        return PeerOptions.header(spec, s, "random N(0, 0.02^2); GGUF: linear layers and head Q4_0 (block 32), embedding F16;"
                + " QSpec transcodes the Q4_0 blocks bit for bit (INT4, group 32)", "llama.cpp",
                "de.kherud:llama 4.2.0 (its bundled CPU build of llama.cpp for linux-x86_64)", threadCount);
    }
}
