package io.qspec.accept;

import io.qspec.engine.TokenChoice;
import java.util.Objects;
import java.util.function.Function;

/**
 * What an {@link AcceptancePolicy} sees of one round: the γ draft tokens, the draft's logits for
 * each of them (row {@code i} is the distribution draft token {@code i} was chosen from), and the
 * verify pass's γ+1 rows of logits (row {@code i} scores position {@code i}; row γ is the bonus
 * position). {@code toProbabilities} maps a logit row to the request's sampling distribution
 * (temperature, top-k/top-p...), so policies compare exactly the distributions that were sampled.
 * When the distribution depends on the history (penalties), construct it with a
 * {@link PositionalProbabilities}, which also receives the round position.
 */
public final class Proposal {
    private final int[] draftTokens;
    private final float[][] draftLogits;
    private final float[][] verifyLogits;
    private final int[] verifyArgmax;
    private final PositionalProbabilities toProbabilities;

    /** A proposal whose sampling distribution is the same function of the logits at every position. */
    public Proposal(int[] draftTokens, float[][] draftLogits, float[][] verifyLogits,
                    Function<float[], float[]> toProbabilities) {
        this(draftTokens, draftLogits, verifyLogits, positionIndependent(toProbabilities));
    }

    /** A proposal whose sampling distribution may depend on the round position (its history). */
    public Proposal(int[] draftTokens, float[][] draftLogits, float[][] verifyLogits,
                    PositionalProbabilities toProbabilities) {
        Objects.requireNonNull(toProbabilities, "toProbabilities");
        if (draftLogits.length != draftTokens.length) {
            throw new IllegalArgumentException("need one draft logit row per draft token: "
                    + draftLogits.length + " vs " + draftTokens.length);
        }
        if (verifyLogits.length != draftTokens.length + 1) {
            throw new IllegalArgumentException("need γ+1 verify rows, got " + verifyLogits.length + " for γ=" + draftTokens.length);
        }
        this.draftTokens = draftTokens;
        this.draftLogits = draftLogits;
        this.verifyLogits = verifyLogits;
        this.verifyArgmax = null;
        this.toProbabilities = toProbabilities;
    }

    private Proposal(int[] draftTokens, int[] verifyArgmax) {
        if (verifyArgmax.length != draftTokens.length + 1) {
            throw new IllegalArgumentException("need γ+1 verify tokens, got " + verifyArgmax.length + " for γ=" + draftTokens.length);
        }
        this.draftTokens = draftTokens;
        this.draftLogits = null;
        this.verifyLogits = null;
        this.verifyArgmax = verifyArgmax;
        this.toProbabilities = null;
    }

    /**
     * A proposal that carries only the verify pass's argmax at each position, for policies whose
     * {@link AcceptancePolicy#needsLogits()} is false (the logits stayed where they were computed).
     */
    public static Proposal ofArgmax(int[] draftTokens, int[] verifyArgmax) {
        return new Proposal(draftTokens, verifyArgmax);
    }

    /** The verify pass's most likely token at position {@code i} in [0, γ] (ties: lowest id). */
    public int verifyArgmax(int i) {
        return verifyArgmax != null ? verifyArgmax[i] : TokenChoice.argmax(verifyLogits[i]);
    }

    private void requireLogits() {
        if (verifyLogits == null) {
            throw new IllegalStateException("this proposal carries only argmax tokens: a policy that reads logits"
                    + " must return true from needsLogits()");
        }
    }

    private static PositionalProbabilities positionIndependent(Function<float[], float[]> toProbabilities) {
        Objects.requireNonNull(toProbabilities, "toProbabilities");
        return (position, logits) -> toProbabilities.apply(logits);
    }

    /** Number of drafted tokens, γ (may differ between rounds and requests). */
    public int gamma() {
        return draftTokens.length;
    }

    public int draftToken(int i) {
        return draftTokens[i];
    }

    /** Raw draft logits for draft position {@code i}; do not modify. */
    public float[] draftLogits(int i) {
        requireLogits();
        return draftLogits[i];
    }

    /** Raw verify logits for position {@code i} in [0, γ]; do not modify. */
    public float[] verifyLogits(int i) {
        requireLogits();
        return verifyLogits[i];
    }

    /** The draft's sampling distribution q at position {@code i}. */
    public float[] draftProbabilities(int i) {
        requireLogits();
        return toProbabilities.probabilities(i, draftLogits[i]);
    }

    /** The verify precision's sampling distribution p at position {@code i} in [0, γ]. */
    public float[] verifyProbabilities(int i) {
        requireLogits();
        return toProbabilities.probabilities(i, verifyLogits[i]);
    }
}
