package io.qspec.examples.peers;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.SpeculationStats;
import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures our engine's greedy batch-1 decode speed on a Hugging Face folder in W4A16, W4A8 and QSpec
 * (W4A8 draft, W4A16 verify, strict greedy acceptance), with the same prompt ids and token count as the
 * peer. Tokens/s is {@link GenerationResult#tokensPerSecond()}: decode time only, first token excluded.
 */
final class QSpecGreedyBenchmark {
    private QSpecGreedyBenchmark() {
    }

    /** Loads the folder (INT4, {@code scheme}) and measures each mode with one warm-up and {@code runs} timed runs. */
    static List<PeerResult> run(Path folder, QuantScheme scheme, int gamma, int[] prompt, int tokens, int runs, String backend) {
        long t0 = System.nanoTime();
        try (Model model = Model.load(folder, LoadOptions.defaults().withQuantScheme(scheme));
             QSpecEngine engine = QSpecEngine.builder(model).backend(backend).build()) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            List<PeerResult> results = new ArrayList<>();
            List<DecodingMode> modes = List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.plain(Precision.W4A8),
                    DecodingMode.qspec(new DraftMode(Precision.W4A8, gamma)));
            String configurationSuffix = " " + engine.backendName() + " int4 " + scheme;
            for (DecodingMode mode : modes) {
                engine.generate(request(prompt, tokens, mode)); // warm-up: a full run, so the JIT has compiled every path timed below
                double[] rates = new double[runs];
                long drafted = 0;
                long accepted = 0;
                for (int r = 0; r < runs; r++) {
                    GenerationResult result = engine.generate(request(prompt, tokens, mode));
                    rates[r] = result.tokensPerSecond();
                    SpeculationStats s = result.speculation();
                    drafted += s.drafted();
                    accepted += s.accepted();
                }
                double acceptance = mode instanceof DecodingMode.Speculative ? (drafted == 0 ? 0 : (double) accepted / drafted) : Double.NaN;
                results.add(new PeerResult("qspec", mode.label() + configurationSuffix, prompt.length, tokens, rates, acceptance, loadSeconds));
            }
            return results;
        }
    }

    private static GenerationRequest request(int[] prompt, int tokens, DecodingMode mode) {
        return GenerationRequest.builder(prompt).maxTokens(tokens).ignoreEos(true).mode(mode).build();
    }
}
