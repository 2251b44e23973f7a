package io.qspec.draft;

/**
 * How many tokens to draft: before each round ({@link #nextGamma}) and, optionally, token by token
 * during drafting ({@link #keepDrafting}). Implementations are stateless; the per-request state they
 * read is the {@link DraftHistory} the engine keeps. Different requests in one batch may draft
 * different lengths.
 */
public interface DraftLengthPolicy {

    /** γ for the next round, in [1, maxGamma]. */
    int nextGamma(DraftHistory history, int maxGamma);

    /**
     * Whether to draft another token after one whose draft probability (top-1 of the draft
     * distribution) was {@code topProbability}. Only called when {@link #usesConfidence()}.
     */
    default boolean keepDrafting(float topProbability) {
        return true;
    }

    /** Whether {@link #keepDrafting} needs the draft's top-1 probability (costs a softmax per draft token). */
    default boolean usesConfidence() {
        return false;
    }

    /** Short name for logs and reports. */
    String name();

    /** Always γ = maxGamma: the paper's setting. */
    static DraftLengthPolicy fixed() {
        return FixedDraftLength.INSTANCE;
    }

    /** γ follows the request's recent accepted length (+1, to probe for more), within [1, maxGamma]. */
    static DraftLengthPolicy adaptive() {
        return AdaptiveDraftLength.INSTANCE;
    }

    /** Draft up to maxGamma tokens, but stop after a token the draft itself was less than {@code threshold} sure of. */
    static DraftLengthPolicy confidence(float threshold) {
        return new ConfidenceDraftLength(threshold);
    }
}
