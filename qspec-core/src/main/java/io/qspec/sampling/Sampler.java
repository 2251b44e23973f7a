package io.qspec.sampling;

import java.util.random.RandomGenerator;

/**
 * Draws a token from a probability distribution by inverse CDF: one uniform double per draw, so a
 * seeded random source gives the same tokens on every run and platform.
 */
public final class Sampler {

    private Sampler() {
    }

    /**
     * Index {@code i} with probability {@code probabilities[i] / sum(probabilities)}. The weights need
     * not sum exactly to 1 (float rounding, unnormalized residuals); tokens of weight 0 are never drawn.
     *
     * @throws IllegalArgumentException if no weight is positive, or one is negative or not finite
     */
    public static int sample(float[] probabilities, RandomGenerator random) {
        double total = 0;
        for (int i = 0; i < probabilities.length; i++) {
            float w = probabilities[i];
            if (!(w >= 0) || Float.isInfinite(w)) {
                throw new IllegalArgumentException("probability of token " + i + " is " + w + "; weights must be finite and >= 0");
            }
            total += w;
        }
        if (!(total > 0)) {
            throw new IllegalArgumentException("cannot sample: all " + probabilities.length + " probabilities are 0");
        }
        double u = random.nextDouble() * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < probabilities.length; i++) {
            float w = probabilities[i];
            if (w > 0) {
                cumulative += w;
                lastPositive = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        // u is within rounding of total: the last token with weight is the only sensible answer
        return lastPositive;
    }
}
