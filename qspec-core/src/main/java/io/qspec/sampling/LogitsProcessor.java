package io.qspec.sampling;

import io.qspec.accept.PositionalProbabilities;

import java.util.Arrays;

/**
 * Turns one row of raw logits into the request's sampling distribution, as a float array that sums
 * to 1: penalties (from the tokens generated so far), then temperature, top-k, top-p, min-p and a
 * final renormalization. Temperature 0 gives a one-hot distribution on the argmax of the penalized
 * logits (lowest index on ties), so greedy decoding is just sampling from it.
 *
 * <p>Speculative decoding is only lossless if the draft distribution q and the verify distribution
 * p go through this same function with the same history, so the engine hands
 * {@link #forRound(int[], int[])} to the {@link io.qspec.accept.Proposal}: at draft position
 * {@code i} the history is the committed tokens followed by the draft tokens before {@code i}.
 *
 * <p>Immutable and thread-safe. The input logits are never modified.
 */
public final class LogitsProcessor {
    /**
     * Relative slack when comparing the nucleus mass with top-p: float logits carry ~1e-7 rounding,
     * which must not pull in one more token when the mass lands exactly on p.
     */
    private static final double TOP_P_TOLERANCE = 1e-6;

    private final SamplingParams params;

    public LogitsProcessor(SamplingParams params) {
        this.params = params;
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * The sampling distribution for {@code logits} after {@code history} (the tokens generated so
     * far, used only by the penalties; may be empty).
     */
    public float[] probabilities(float[] logits, int[] history) {
        return process(logits, TokenCounts.of(history), null, 0);
    }

    /** As {@link #probabilities(float[], int[])}, with the history already counted. */
    public float[] probabilities(float[] logits, TokenCounts history) {
        return process(logits, history, null, 0);
    }

    /**
     * The distribution function of one draft/verify round: position {@code i} in [0, γ] is scored
     * with history {@code committed + draftTokens[0..i)}. Counting {@code committed} happens once
     * here, not per position.
     */
    public PositionalProbabilities forRound(int[] committed, int[] draftTokens) {
        if (!params.hasPenalties()) {
            return (position, logits) -> process(logits, TokenCounts.EMPTY, null, 0);
        }
        TokenCounts base = TokenCounts.of(committed);
        int[] drafts = draftTokens.clone();
        return (position, logits) -> {
            if (position < 0 || position > drafts.length) {
                throw new IllegalArgumentException("position " + position + " outside [0, " + drafts.length + "]");
            }
            return process(logits, base, drafts, position);
        };
    }

    private float[] process(float[] logits, TokenCounts base, int[] extra, int extraLength) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("logits are empty");
        }
        float[] penalized = params.hasPenalties() ? penalize(logits, base, extra, extraLength) : logits;
        if (params.isGreedy()) {
            float[] oneHot = new float[penalized.length];
            oneHot[argmax(penalized)] = 1f;
            return oneHot;
        }
        double[] weights = softmax(penalized, params.temperature());
        int vocab = weights.length;
        if (params.topK() > 0 && params.topK() < vocab || params.topP() < 1) {
            keepNucleus(weights);
        }
        if (params.minP() > 0) {
            double max = 0;
            for (double w : weights) {
                max = Math.max(max, w);
            }
            double floor = params.minP() * max;
            for (int i = 0; i < vocab; i++) {
                if (weights[i] < floor) {
                    weights[i] = 0;
                }
            }
        }
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        float[] probabilities = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            probabilities[i] = (float) (weights[i] / total);
        }
        return probabilities;
    }

    /**
     * Applies the penalties to a copy. A token's count is its count in {@code base} plus its
     * occurrences in {@code extra[0..extraLength)} (the draft prefix, a handful of tokens).
     */
    private float[] penalize(float[] logits, TokenCounts base, int[] extra, int extraLength) {
        float[] out = logits.clone();
        for (int i = 0; i < base.distinct(); i++) {
            int token = base.token(i);
            penalizeToken(out, token, base.countAt(i) + occurrences(extra, extraLength, token));
        }
        for (int j = 0; j < extraLength; j++) {
            int token = extra[j];
            boolean firstInExtra = occurrences(extra, j, token) == 0;
            if (firstInExtra && base.count(token) == 0) {
                penalizeToken(out, token, occurrences(extra, extraLength, token));
            }
        }
        return out;
    }

    private void penalizeToken(float[] logits, int token, int count) {
        if (token < 0 || token >= logits.length) {
            throw new IllegalArgumentException("history token " + token + " outside vocabulary of " + logits.length);
        }
        double logit = logits[token];
        double repetition = params.repetitionPenalty();
        // HF/llama.cpp: dividing a negative logit would raise it, so negative ones are multiplied
        logit = logit > 0 ? logit / repetition : logit * repetition;
        logit -= count * params.frequencyPenalty() + params.presencePenalty();
        // a penalty lowers a token, it never forbids one: a finite logit stays finite however large the penalty
        if (Double.isFinite(logits[token])) {
            logit = Math.clamp(logit, -Float.MAX_VALUE, Float.MAX_VALUE);
        }
        logits[token] = (float) logit;
    }

    private static int occurrences(int[] tokens, int length, int token) {
        int n = 0;
        for (int i = 0; i < length; i++) {
            if (tokens[i] == token) {
                n++;
            }
        }
        return n;
    }

    private static double[] softmax(float[] logits, double temperature) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            if (Float.isNaN(l)) {
                throw new IllegalArgumentException("logits contain NaN");
            }
            max = Math.max(max, l);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity; no token is possible");
        }
        if (max == Float.POSITIVE_INFINITY) {
            // an infinite logit means certainty: share the mass among the infinite ones
            double[] weights = new double[logits.length];
            for (int i = 0; i < logits.length; i++) {
                weights[i] = logits[i] == Float.POSITIVE_INFINITY ? 1 : 0;
            }
            return weights;
        }
        double[] weights = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            weights[i] = Math.exp((logits[i] - (double) max) / temperature);
        }
        return weights;
    }

    /**
     * Top-k then top-p on unnormalized weights: zeroes every token outside the k most probable (ties
     * to the lower index), then outside the smallest most-probable prefix holding at least
     * {@code topP} of the remaining mass. The most probable token always survives.
     */
    private void keepNucleus(double[] weights) {
        double total = 0;
        int positive = 0;
        for (double w : weights) {
            total += w;
            positive += w > 0 ? 1 : 0;
        }
        int topK = params.topK() > 0 && params.topK() < positive ? params.topK() : 0;
        long[] order = descendingCandidates(weights, topK, total);
        int keep = topK > 0 ? topK : order.length;
        if (params.topP() < 1) {
            // top-p measures against what top-k left, or against everything when top-k is off
            double kept = total;
            if (topK > 0) {
                kept = 0;
                for (int r = 0; r < keep; r++) {
                    kept += weights[indexOf(order[r])];
                }
            }
            double target = params.topP() * kept * (1 - TOP_P_TOLERANCE);
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < keep) {
                cumulative += weights[indexOf(order[nucleus])];
                nucleus++;
                if (cumulative >= target) {
                    break;
                }
            }
            keep = nucleus;
        }
        boolean[] survives = new boolean[weights.length];
        for (int r = 0; r < keep; r++) {
            survives[indexOf(order[r])] = true;
        }
        for (int i = 0; i < weights.length; i++) {
            if (!survives[i]) {
                weights[i] = 0;
            }
        }
    }

    /**
     * The tokens that can survive top-k/top-p, most probable first. Sorting a 100k+ vocabulary for
     * every position would dominate decoding, so only tokens above a weight threshold are sorted:
     * enough of them when there are at least k ({@code topK > 0}, already capped below the number of
     * possible tokens) or they hold the top-p share of the {@code total} mass (top-p alone);
     * otherwise the threshold drops and the search widens, down to every token.
     */
    private long[] descendingCandidates(double[] weights, int topK, double total) {
        double max = 0;
        int positive = 0;
        for (double w : weights) {
            max = Math.max(max, w);
            positive += w > 0 ? 1 : 0;
        }
        double requiredMass = params.topP() * total * (1 - TOP_P_TOLERANCE);
        for (double threshold = max * 1e-3; threshold > 0; threshold *= 1e-3) {
            int count = 0;
            double mass = 0;
            for (double w : weights) {
                if (w >= threshold) {
                    count++;
                    mass += w;
                }
            }
            if (topK > 0 ? count >= topK : mass >= requiredMass) {
                return descendingOrder(weights, threshold, count);
            }
            if (threshold < Double.MIN_NORMAL) {
                break;
            }
        }
        return descendingOrder(weights, Double.MIN_VALUE, positive);
    }

    /**
     * The {@code count} tokens of weight at least {@code threshold}, most probable first, lowest
     * index first among equals. Each entry packs the weight (as float bits, which order like the
     * values for non-negative floats) above the complemented index, so one primitive sort does it.
     */
    private static long[] descendingOrder(double[] weights, double threshold, int count) {
        long[] keys = new long[count];
        int n = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] >= threshold) {
                long bits = Float.floatToIntBits((float) weights[i]);
                keys[n++] = (bits << 32) | (Integer.MAX_VALUE - i);
            }
        }
        Arrays.sort(keys);
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            long t = keys[i];
            keys[i] = keys[j];
            keys[j] = t;
        }
        return keys;
    }

    private static int indexOf(long key) {
        return Integer.MAX_VALUE - (int) key;
    }

    /** Index of the largest logit, lowest index on ties (NaN never wins). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best] || Float.isNaN(logits[best])) {
                best = i;
            }
        }
        return best;
    }
}
