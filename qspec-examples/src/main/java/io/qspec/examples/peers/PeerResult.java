package io.qspec.examples.peers;

import java.util.Arrays;

/**
 * One measured configuration of one engine.
 *
 * @param engine           {@code jlama} or {@code qspec}
 * @param configuration    what ran, e.g. {@code q4-weights i8-activations} or {@code w4a16}
 * @param promptTokens     prompt length (identical token ids for every configuration)
 * @param generatedTokens  tokens generated per run (the first one comes from prefill)
 * @param runTokensPerSecond decode tokens/s of each measured run (prefill and the first token excluded)
 * @param acceptance       draft acceptance rate for speculative runs, {@code NaN} otherwise; on random weights
 *                         this is a measurement of noise, not of draft quality
 * @param loadSeconds      time to load (and quantize) the model, excluded from tokens/s
 */
public record PeerResult(String engine, String configuration, int promptTokens, int generatedTokens,
                         double[] runTokensPerSecond, double acceptance, double loadSeconds) {

    public PeerResult {
        runTokensPerSecond = runTokensPerSecond.clone();
    }

    @Override
    public double[] runTokensPerSecond() {
        return runTokensPerSecond.clone();
    }

    /** Median decode tokens/s over the runs (robust to one run disturbed by other work on the machine). */
    public double medianTokensPerSecond() {
        double[] s = runTokensPerSecond.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Lowest and highest run, to show the spread. */
    public double minTokensPerSecond() {
        return Arrays.stream(runTokensPerSecond).min().orElse(0);
    }

    public double maxTokensPerSecond() {
        return Arrays.stream(runTokensPerSecond).max().orElse(0);
    }
}
