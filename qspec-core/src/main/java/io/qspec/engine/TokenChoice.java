package io.qspec.engine;

import java.util.random.RandomGenerator;

/** Picking a token from logits (argmax) or from a probability distribution (inverse CDF). */
public final class TokenChoice {
    private TokenChoice() {
    }

    /** Index of the largest logit; ties go to the lowest id (every decoding path uses this rule). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Draws an index with the given probabilities (which sum to 1 up to rounding). */
    public static int sample(float[] probabilities, RandomGenerator random) {
        double u = random.nextDouble();
        double cumulative = 0;
        int lastNonZero = 0;
        for (int i = 0; i < probabilities.length; i++) {
            if (probabilities[i] > 0) {
                cumulative += probabilities[i];
                lastNonZero = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return lastNonZero;
    }

    /** Numerically stable softmax: the temperature-1 distribution of a logit row. */
    public static float[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        float[] p = new float[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (p[i] / sum);
        }
        return p;
    }
}
