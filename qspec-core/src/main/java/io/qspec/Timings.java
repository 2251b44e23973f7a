package io.qspec;

/**
 * Wall-clock time spent by one request, in nanoseconds.
 *
 * @param prefillNanos prompt processing (verify precision)
 * @param decodeNanos  everything after prefill
 * @param draftNanos   the part of decode spent in draft passes (0 for plain decoding)
 * @param verifyNanos  the part of decode spent in verify passes (0 for plain decoding)
 */
public record Timings(long prefillNanos, long decodeNanos, long draftNanos, long verifyNanos) {
    public long totalNanos() {
        return prefillNanos + decodeNanos;
    }

    /** Generated tokens per second of decode time. */
    public double decodeTokensPerSecond(int generatedTokens) {
        return decodeNanos == 0 ? 0 : generatedTokens * 1e9 / decodeNanos;
    }
}
