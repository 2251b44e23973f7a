package io.qspec.examples.cli;

import com.google.gson.GsonBuilder;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.QSpecEngine;
import io.qspec.SpeculationStats;
import io.qspec.model.Model;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qspec generate}: one prompt, one answer, plain or with QSpec. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text from a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    DecodingOptions decoding;

    @Option(names = "--prompt", required = true, description = "The prompt text.")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--json", description = "Print one JSON object with the text and statistics.")
    boolean json;

    @Override
    public Integer call() {
        CliSupport.configureLogging(common.verbose);
        GenerationRequest request = decoding.apply(GenerationRequest.builder(prompt).maxTokens(maxTokens)).build();
        try (Model model = common.load(decoding.needsDenseWeights());
             QSpecEngine engine = QSpecEngine.builder(model).backend(common.backend)
                     .speculationGate(decoding.speculationGate()).build()) {
            GenerationResult r = engine.generate(request);
            if (json) {
                System.out.println(new GsonBuilder().disableHtmlEscaping().serializeNulls().create().toJson(toJson(r)));
            } else {
                System.out.println(prompt + r.text());
            }
        }
        return 0;
    }

    private Map<String, Object> toJson(GenerationResult r) {
        SpeculationStats s = r.speculation();
        boolean speculative = decoding.speculativeMode();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", r.text());
        m.put("token_ids", r.tokenIds());
        m.put("finish_reason", r.finishReason().jsonName());
        m.put("prompt_tokens", r.promptTokens());
        m.put("generated_tokens", r.generatedTokens());
        m.put("mode", decoding.mode.toLowerCase(Locale.ROOT));
        m.put("draft", speculative ? decoding.draft.toLowerCase(Locale.ROOT) : null);
        m.put("gamma", speculative ? decoding.gamma : null);
        m.put("acceptance", speculative ? decoding.acceptanceName() : null);
        m.put("temperature", decoding.samplingOptions.temperature());
        m.put("seed", decoding.seed);
        m.put("drafted_tokens", s.drafted());
        m.put("accepted_tokens", s.accepted());
        m.put("acceptance_rate", s.acceptanceRate());
        double[] byPosition = new double[s.draftedByPosition().length];
        for (int i = 0; i < byPosition.length; i++) {
            byPosition[i] = s.acceptanceRateAt(i);
        }
        m.put("acceptance_by_position", byPosition);
        m.put("rounds", s.rounds());
        m.put("mean_tokens_per_round", s.meanTokensPerRound());
        m.put("tokens_per_second", r.tokensPerSecond());
        m.put("time_to_first_token_ms", r.timings().timeToFirstTokenNanos() / 1e6);
        m.put("prefill_ms", r.timings().prefillNanos() / 1e6);
        m.put("decode_ms", r.timings().decodeNanos() / 1e6);
        m.put("draft_ms", r.timings().draftNanos() / 1e6);
        m.put("verify_ms", r.timings().verifyNanos() / 1e6);
        m.put("backend", r.backend());
        m.put("group_size", common.groupSize == 0 ? "per-channel" : common.groupSize);
        return m;
    }
}
