package io.qspec.sampling;

import java.util.Objects;

/**
 * One token to draw from a logit row: the request's sampling parameters, the history its penalties
 * count, and the uniform variate of this draw, taken from the request's random source before the
 * pass. Carrying the variate instead of the random source lets a backend draw where the logits are
 * (a GPU) and still give the token {@link #choose(float[])} gives on the host for the same variate.
 *
 * @param params  the request's filters
 * @param history token counts of the committed tokens (the penalties' input)
 * @param uniform in [0, 1); unused (0) for a plain argmax
 */
public record TokenDraw(SamplingParams params, TokenCounts history, double uniform) {

    public TokenDraw {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(history, "history");
        if (!(uniform >= 0 && uniform < 1)) {
            throw new IllegalArgumentException("uniform variate must be in [0, 1), got " + uniform);
        }
    }

    /** Whether the token is the plain argmax of the raw logits (greedy, no penalties). */
    public boolean plainArgmax() {
        return params.isGreedy() && !params.hasPenalties();
    }

    /** The token this draw picks from {@code logits}: {@link LogitsProcessor}, then {@link Sampler} at {@link #uniform}. */
    public int choose(float[] logits) {
        if (plainArgmax()) {
            return LogitsProcessor.argmax(logits);
        }
        return Sampler.sample(new LogitsProcessor(params).probabilities(logits, history), uniform);
    }
}
