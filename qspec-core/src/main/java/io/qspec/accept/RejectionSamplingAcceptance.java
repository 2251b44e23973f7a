package io.qspec.accept;

import io.qspec.sampling.Sampler;

import java.util.random.RandomGenerator;

/**
 * Lossless speculative sampling (Leviathan et al. 2023, "Fast Inference from Transformers via
 * Speculative Decoding"; Chen et al. 2023, "Accelerating Large Language Model Decoding with
 * Speculative Sampling"): the emitted tokens have exactly the distribution of sampling from the
 * verify precision alone, whatever the draft proposes.
 *
 * <p>With q<sub>i</sub> the draft distribution draft token x<sub>i</sub> was sampled from and
 * p<sub>i</sub> the verify distribution at the same position (both from
 * {@link Proposal#draftProbabilities} / {@link Proposal#verifyProbabilities}, the same processed
 * distribution function), for i = 0 .. γ−1 in order:
 * <ul>
 *   <li><b>accepted</b>: x<sub>i</sub> is kept with probability
 *       min(1, p<sub>i</sub>(x<sub>i</sub>) / q<sub>i</sub>(x<sub>i</sub>)) (one uniform draw u; kept iff
 *       u &lt; p/q). A token the draft could not have produced (q = 0) is kept iff p &gt; 0.</li>
 *   <li><b>recovered</b>: at the first rejection the round stops and the next token is drawn from the
 *       residual normalize(max(0, p<sub>i</sub> − q<sub>i</sub>)); where the residual is all zero
 *       (p<sub>i</sub> = q<sub>i</sub>, so rejection is a rounding accident) it is drawn from
 *       p<sub>i</sub>.</li>
 *   <li><b>bonus</b>: if all γ are accepted, one more token is drawn from p<sub>γ</sub>.</li>
 * </ul>
 * Every round therefore emits between 1 and γ+1 tokens. At temperature 0 both distributions are
 * one-hot and this reduces to {@link StrictGreedyAcceptance}. Draws come from the given random
 * source in a fixed order, so a seeded source reproduces the output.
 */
public final class RejectionSamplingAcceptance implements AcceptancePolicy {
    public static final RejectionSamplingAcceptance INSTANCE = new RejectionSamplingAcceptance();

    private RejectionSamplingAcceptance() {
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        int gamma = proposal.gamma();
        for (int i = 0; i < gamma; i++) {
            int token = proposal.draftToken(i);
            float[] p = proposal.verifyProbabilities(i);
            float[] q = proposal.draftProbabilities(i);
            if (!accepts(p[token], q[token], random.nextDouble())) {
                return new AcceptanceDecision(i, Sampler.sample(residual(p, q), random));
            }
        }
        return new AcceptanceDecision(gamma, Sampler.sample(proposal.verifyProbabilities(gamma), random));
    }

    /** u &lt; p/q, written without dividing so q = 0 needs no special value. */
    private static boolean accepts(float p, float q, double u) {
        if (q <= 0) {
            return p > 0;
        }
        return u * q < p;
    }

    /** max(0, p − q), or p itself where that is all zero; {@link Sampler} normalizes. */
    private static float[] residual(float[] p, float[] q) {
        float[] residual = new float[p.length];
        boolean anyPositive = false;
        for (int t = 0; t < p.length; t++) {
            float r = p[t] - q[t];
            if (r > 0) {
                residual[t] = r;
                anyPositive = true;
            }
        }
        return anyPositive ? residual : p;
    }

    @Override
    public boolean draftSamples() {
        return true;
    }

    @Override
    public boolean lossless() {
        return true;
    }

    @Override
    public String name() {
        return "rejection";
    }
}
