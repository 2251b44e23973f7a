package io.qspec.examples.bench;

import java.util.Comparator;
import java.util.List;

/**
 * The measurement of one mode at one batch size: one run, or the median of several ({@link #median}).
 *
 * @param mode                 mode name
 * @param gamma                draft length (0 for plain modes)
 * @param batch                requests kept in flight
 * @param requests             requests served
 * @param generatedTokens      tokens generated in all
 * @param seconds              wall time from first submit to last completion
 * @param tokensPerSecond      generated tokens / seconds
 * @param acceptanceRate       accepted / drafted (QSpec)
 * @param meanAcceptedLength   tokens committed per round (accepted + 1)
 * @param acceptanceByPosition acceptance rate per draft position
 * @param draftMsPerToken      draft time per generated token (per-valid-token latency, draft part)
 * @param verifyMsPerToken     verify time per generated token
 * @param msPerToken           decode time per decoded token (the prefill's first token excluded), per request, averaged
 * @param runs                 runs measured (the other fields are those of the median run)
 * @param minTokensPerSecond   the slowest run's tokens/s
 * @param maxTokensPerSecond   the fastest run's tokens/s
 */
record BenchResult(String mode, int gamma, int batch, int requests, long generatedTokens, double seconds,
                   double tokensPerSecond, double acceptanceRate, double meanAcceptedLength,
                   double[] acceptanceByPosition, double draftMsPerToken, double verifyMsPerToken, double msPerToken,
                   int runs, double minTokensPerSecond, double maxTokensPerSecond) {

    /**
     * The decode rate of a full batch: {@code batch} requests, each taking {@link #msPerToken} per token (0 where no
     * decode time was measured). Unlike {@link #tokensPerSecond} it leaves out the prompts' prefill, the queue and the
     * end of the run, when the last requests finish one by one with fewer in flight; QSpec's requests finish at
     * scattered times (their rounds commit 1 to γ + 1 tokens), so that end costs it more than a plain mode.
     */
    double decodeTokensPerSecond() {
        return msPerToken > 0 ? batch * 1000.0 / msPerToken : 0;
    }

    /** (max − min) / median tokens/s of the runs: how far apart repeated runs landed (0 for one run). */
    double spread() {
        return (maxTokensPerSecond - minTokensPerSecond) / tokensPerSecond;
    }

    /**
     * The median run of {@code runs} (of one mode and batch size; for an even count the slower of the two middle
     * ones, so that the figure is one that was measured), carrying the count and the slowest and fastest tokens/s.
     */
    static BenchResult median(List<BenchResult> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no runs to take the median of");
        }
        List<BenchResult> sorted = runs.stream().sorted(Comparator.comparingDouble(BenchResult::tokensPerSecond)).toList();
        BenchResult m = sorted.get((sorted.size() - 1) / 2);
        return new BenchResult(m.mode, m.gamma, m.batch, m.requests, m.generatedTokens, m.seconds, m.tokensPerSecond,
                m.acceptanceRate, m.meanAcceptedLength, m.acceptanceByPosition, m.draftMsPerToken, m.verifyMsPerToken,
                m.msPerToken, sorted.size(), sorted.getFirst().tokensPerSecond, sorted.getLast().tokensPerSecond);
    }
}
