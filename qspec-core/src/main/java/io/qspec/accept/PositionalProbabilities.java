package io.qspec.accept;

/**
 * Maps a logit row at a round position to the request's sampling distribution. Position matters
 * when the distribution depends on the history (repetition/frequency/presence penalties): position
 * {@code i} follows the committed tokens and the draft tokens before {@code i}. The draft row and the
 * verify row of one position must go through the same function, or acceptance is not lossless.
 */
@FunctionalInterface
public interface PositionalProbabilities {

    /**
     * @param position round position in [0, γ] (γ is the bonus position; draft rows use [0, γ))
     * @param logits   raw logits; implementations must not modify them
     * @return probabilities summing to 1, one per token
     */
    float[] probabilities(int position, float[] logits);
}
