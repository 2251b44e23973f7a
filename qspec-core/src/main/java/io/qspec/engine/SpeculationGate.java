package io.qspec.engine;

/**
 * Decides, step by step, whether the QSpec requests in flight run a speculative round or a plain
 * W4A16 step. Either choice commits the same tokens (greedy) or draws from the same distribution
 * (sampling), so a gate only decides speed. Whether speculation pays is a measured question: on an
 * H100 a draft step reads the same weight bytes as a verify step and QSpec ran at 0.5-0.8× W4A16,
 * while on a 2-core CPU (Llama-3.2-1B shape) it ran at 1.12× at batch 1 and 0.60× at batch 4
 * (docs/PERFORMANCE.md).
 *
 * <p>The engine calls a gate from its one scheduling thread, so implementations need no locking;
 * one gate instance serves one engine.
 */
public interface SpeculationGate {

    /** Whether this step's {@code requests} QSpec requests run a speculative round (else plain W4A16 steps). */
    boolean speculate(int requests);

    /**
     * What a step cost: {@code tokens} committed in {@code nanos} by a speculative round over
     * {@code requests} requests ({@code speculative}), or by a plain W4A16 step over that many.
     */
    default void observe(boolean speculative, int requests, int tokens, long nanos) {
    }

    /** Short name for logs and reports. */
    String name();

    /** Always speculate (the default). */
    static SpeculationGate always() {
        return upTo(Integer.MAX_VALUE);
    }

    /** Speculate while at most {@code limit} QSpec requests are in flight; 0 never speculates. */
    static SpeculationGate upTo(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("speculation batch limit must be >= 0, got " + limit);
        }
        return new SpeculationGate() {
            @Override
            public boolean speculate(int requests) {
                return requests <= limit;
            }

            @Override
            public String name() {
                return limit == Integer.MAX_VALUE ? "always" : "up to " + limit;
            }
        };
    }

    /**
     * Speculate when it has measured faster: keeps the committed-tokens-per-second of speculative
     * rounds and of plain W4A16 steps, per batch size (powers of two), and takes the faster mode,
     * trying the other one now and then to follow changes (longer contexts, other requests). A batch size not yet
     * measured starts from plain steps where a smaller one already found speculation slower.
     */
    static SpeculationGate measured() {
        return new MeasuredSpeculationGate();
    }
}
