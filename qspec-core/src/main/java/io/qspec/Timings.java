package io.qspec;

/**
 * Wall-clock time spent by one request, in nanoseconds.
 *
 * @param queueNanos            waiting for KV memory / a batch slot before prefill
 * @param prefillNanos          prompt processing (verify precision for QSpec)
 * @param decodeNanos           everything after prefill
 * @param draftNanos            the part of decode spent in draft passes (0 for plain decoding)
 * @param verifyNanos           the part of decode spent in verify passes (0 for plain decoding)
 * @param timeToFirstTokenNanos from submission to the first generated token
 */
public record Timings(long queueNanos, long prefillNanos, long decodeNanos, long draftNanos, long verifyNanos,
                      long timeToFirstTokenNanos) {

    public long totalNanos() {
        return queueNanos + prefillNanos + decodeNanos;
    }

    /** Generated tokens per second of decode time (the first token, produced by prefill, excluded). */
    public double decodeTokensPerSecond(int generatedTokens) {
        return decodeNanos == 0 || generatedTokens < 2 ? 0 : (generatedTokens - 1) * 1e9 / decodeNanos;
    }
}
