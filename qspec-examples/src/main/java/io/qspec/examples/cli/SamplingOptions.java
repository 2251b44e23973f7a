package io.qspec.examples.cli;

import io.qspec.sampling.SamplingParams;
import picocli.CommandLine.Option;

/** The sampling options every command that decodes shares (generate, chat, bench); the seed is each command's own. */
public final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = off).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass (1 = off).")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens below min-p x the top probability (0 = off).")
    double minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "1 = off.")
    double repetitionPenalty;

    /** Whether tokens are drawn at random (temperature above 0). */
    public boolean samples() {
        return temperature > 0;
    }

    /** Everything here; the caller adds the seed. */
    public SamplingParams.Builder builder() {
        return SamplingParams.builder().temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repetitionPenalty);
    }

    /** For reports: the options as given. */
    public String describe() {
        return temperature == 0 ? "greedy" : "temperature " + temperature + ", top-k " + topK + ", top-p " + topP
                + ", min-p " + minP + ", repetition penalty " + repetitionPenalty;
    }

    public double temperature() {
        return temperature;
    }
}
