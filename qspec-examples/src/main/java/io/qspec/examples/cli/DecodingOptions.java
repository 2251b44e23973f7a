package io.qspec.examples.cli;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.Precision;
import io.qspec.VerifyMode;
import io.qspec.accept.AcceptancePolicies;
import io.qspec.accept.StrictGreedyAcceptance;
import io.qspec.draft.DraftLengthPolicy;
import io.qspec.engine.SpeculationGate;
import io.qspec.sampling.SamplingParams;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How to decode: mode, draft, γ, acceptance policy, sampling and stop conditions (generate and chat). */
final class DecodingOptions {
    @Option(names = "--mode", defaultValue = "qspec", description = "fp32, w4a16, w4a8, w4a4 or qspec (default ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--draft", defaultValue = "a8", description = "QSpec draft activations: a8 or a4 (default ${DEFAULT-VALUE}).")
    String draft;

    @Option(names = "--gamma", defaultValue = "3",
            description = "Draft tokens per round: N, or adaptive (up to --max-gamma, following accepted length) (default ${DEFAULT-VALUE}).")
    String gamma;

    @Option(names = "--max-gamma", defaultValue = "6", description = "Upper bound for --gamma adaptive (default ${DEFAULT-VALUE}).")
    int maxGamma;

    @Option(names = "--draft-confidence", description = "Stop drafting after a token the draft is less sure of than this (0..1).")
    Float draftConfidence;

    @Option(names = "--acceptance", description = "greedy, rejection, typical[:eps[:alpha]] (lossy) or topk:N (lossy);"
            + " default: greedy at temperature 0, rejection above.")
    String acceptance;

    @Option(names = "--measured-speculation", description = "qspec: speculate only while speculative rounds have measured"
            + " faster than plain W4A16 steps (SpeculationGate.measured(); the same tokens either way).")
    boolean measuredSpeculation;

    @Mixin
    SamplingOptions samplingOptions;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (same seed, same output).")
    long seed;

    @Option(names = "--stop", description = "Stop string (repeatable); the text ends before it.")
    List<String> stops = List.of();

    /** The engine's speculation gate: measured with --measured-speculation, else always speculate (QSpec as specified). */
    SpeculationGate speculationGate() {
        return measuredSpeculation ? SpeculationGate.measured() : SpeculationGate.always();
    }

    DecodingMode decodingMode() {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "fp32" -> DecodingMode.plain(Precision.FP32);
            case "w4a16" -> DecodingMode.plain(Precision.W4A16);
            case "w4a8" -> DecodingMode.plain(Precision.W4A8);
            case "w4a4" -> DecodingMode.plain(Precision.W4A4);
            case "qspec" -> speculative();
            default -> throw new IllegalArgumentException("unknown --mode '" + mode + "'; use fp32, w4a16, w4a8, w4a4 or qspec");
        };
    }

    private DecodingMode speculative() {
        boolean adaptive = gamma.equalsIgnoreCase("adaptive");
        int g;
        try {
            g = adaptive ? maxGamma : Integer.parseInt(gamma);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--gamma must be a number or 'adaptive', got '" + gamma + "'");
        }
        DraftLengthPolicy length = adaptive ? DraftLengthPolicy.adaptive()
                : draftConfidence != null ? DraftLengthPolicy.confidence(draftConfidence) : DraftLengthPolicy.fixed();
        return new DecodingMode.Speculative(new DraftMode(draftPrecision(), g), VerifyMode.w4a16(),
                acceptance == null ? StrictGreedyAcceptance.INSTANCE : AcceptancePolicies.byName(acceptance), length);
    }

    /** The policy QSpec rounds use: the named one, or greedy (rejection sampling when sampling). */
    String acceptanceName() {
        if (acceptance != null) {
            return AcceptancePolicies.byName(acceptance).name();
        }
        return samplingOptions.samples() ? "rejection" : "greedy";
    }

    Precision draftPrecision() {
        return switch (draft.toLowerCase(Locale.ROOT)) {
            case "a8" -> Precision.W4A8;
            case "a4" -> Precision.W4A4;
            default -> throw new IllegalArgumentException("unknown --draft '" + draft + "'; use a8 or a4");
        };
    }

    boolean needsDenseWeights() {
        return mode.equalsIgnoreCase("fp32");
    }

    SamplingParams sampling() {
        return samplingOptions.builder().seed(seed).build();
    }

    /** Applies everything here to a request builder. */
    GenerationRequest.Builder apply(GenerationRequest.Builder b) {
        return b.mode(decodingMode()).sampling(sampling()).stopStrings(stops.toArray(String[]::new));
    }

    boolean speculativeMode() {
        return mode.equalsIgnoreCase("qspec");
    }
}
