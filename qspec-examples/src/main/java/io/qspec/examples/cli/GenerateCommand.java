package io.qspec.examples.cli;

import com.google.gson.GsonBuilder;
import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
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

    @Option(names = "--prompt", required = true, description = "The prompt text.")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--mode", defaultValue = "qspec", description = "fp32, w4a16, w4a8, w4a4 or qspec (default ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--draft", defaultValue = "a8", description = "QSpec draft activations: a8 or a4 (default ${DEFAULT-VALUE}).")
    String draft;

    @Option(names = "--gamma", defaultValue = "3", description = "Tokens drafted per QSpec round (default ${DEFAULT-VALUE}).")
    int gamma;

    @Option(names = "--json", description = "Print one JSON object with the text and statistics.")
    boolean json;

    @Override
    public Integer call() {
        CliSupport.configureLogging(common.verbose);
        DecodingMode decoding = decodingMode();
        boolean dense = decoding instanceof DecodingMode.Plain p && p.precision() == Precision.FP32;
        try (Model model = common.load(dense);
             QSpecEngine engine = QSpecEngine.builder(model).backend(common.backend).build()) {
            GenerationResult r = engine.generate(GenerationRequest.builder(prompt).maxTokens(maxTokens).mode(decoding).build());
            if (json) {
                System.out.println(new GsonBuilder().disableHtmlEscaping().serializeNulls().create().toJson(toJson(r, decoding)));
            } else {
                System.out.println(prompt + r.text());
            }
        }
        return 0;
    }

    private DecodingMode decodingMode() {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "fp32" -> DecodingMode.plain(Precision.FP32);
            case "w4a16" -> DecodingMode.plain(Precision.W4A16);
            case "w4a8" -> DecodingMode.plain(Precision.W4A8);
            case "w4a4" -> DecodingMode.plain(Precision.W4A4);
            case "qspec" -> DecodingMode.qspec(new DraftMode(draftPrecision(), gamma));
            default -> throw new IllegalArgumentException("unknown --mode '" + mode + "'; use fp32, w4a16, w4a8, w4a4 or qspec");
        };
    }

    private Precision draftPrecision() {
        return switch (draft.toLowerCase(Locale.ROOT)) {
            case "a8" -> Precision.W4A8;
            case "a4" -> Precision.W4A4;
            default -> throw new IllegalArgumentException("unknown --draft '" + draft + "'; use a8 or a4");
        };
    }

    private Map<String, Object> toJson(GenerationResult r, DecodingMode decoding) {
        SpeculationStats s = r.speculation();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", r.text());
        m.put("token_ids", r.tokenIds());
        m.put("finish_reason", r.finishReason().jsonName());
        m.put("prompt_tokens", r.promptTokens());
        m.put("generated_tokens", r.generatedTokens());
        m.put("mode", mode.toLowerCase(Locale.ROOT));
        boolean speculative = decoding instanceof DecodingMode.Speculative;
        m.put("draft", speculative ? draft.toLowerCase(Locale.ROOT) : null);
        m.put("gamma", speculative ? gamma : null);
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
        m.put("prefill_ms", r.timings().prefillNanos() / 1e6);
        m.put("decode_ms", r.timings().decodeNanos() / 1e6);
        m.put("draft_ms", r.timings().draftNanos() / 1e6);
        m.put("verify_ms", r.timings().verifyNanos() / 1e6);
        m.put("backend", r.backend());
        m.put("group_size", common.groupSize == 0 ? "per-channel" : common.groupSize);
        return m;
    }
}
