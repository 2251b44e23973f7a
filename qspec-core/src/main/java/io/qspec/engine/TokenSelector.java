package io.qspec.engine;

import java.util.function.Function;
import java.util.random.RandomGenerator;

/** How a sequence turns a row of logits into its next token, and into a distribution for acceptance. */
interface TokenSelector {

    /** Picks the token at a position (argmax at temperature 0, a draw otherwise). */
    int choose(float[] logits, RandomGenerator random);

    /** The sampling distribution of a logit row (what rejection sampling compares). */
    Function<float[], float[]> probabilities();

    /** Temperature 0: argmax, distribution = softmax (used only by policies that ask for it). */
    static TokenSelector greedy() {
        return new TokenSelector() {
            @Override
            public int choose(float[] logits, RandomGenerator random) {
                return TokenChoice.argmax(logits);
            }

            @Override
            public Function<float[], float[]> probabilities() {
                return TokenChoice::softmax;
            }
        };
    }
}
