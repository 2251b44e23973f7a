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
        double total = total(probabilities);
        return pick(probabilities, random.nextDouble() * total);
    }

    /**
     * As {@link #sample(float[], RandomGenerator)}, with the uniform variate in [0, 1) given: the same
     * token that call returns when its random source yields {@code uniform}.
     */
    public static int sample(float[] probabilities, double uniform) {
        if (!(uniform >= 0 && uniform < 1)) {
            throw new IllegalArgumentException("uniform variate must be in [0, 1), got " + uniform);
        }
        return pick(probabilities, uniform * total(probabilities));
    }

    private static double total(float[] probabilities) {
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
        return total;
    }

    /** The first token whose cumulative weight exceeds {@code u}. */
    private static int pick(float[] probabilities, double u) {
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
