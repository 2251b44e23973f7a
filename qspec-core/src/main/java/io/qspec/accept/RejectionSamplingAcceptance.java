package io.qspec.accept;

import io.qspec.sampling.Sampler;

import java.util.function.IntFunction;
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
 *       min(1, p<sub>i</sub>(x<sub>i</sub>) / q<sub>i</sub>(x<sub>i</sub>)) (kept iff
 *       u<sub>i</sub> &lt; p/q). A token the draft could not have produced (q = 0) is kept iff p &gt; 0.</li>
 *   <li><b>recovered</b>: at the first rejection the round stops and the next token is drawn from the
 *       residual normalize(max(0, p<sub>i</sub> − q<sub>i</sub>)); where the residual is all zero
 *       (p<sub>i</sub> = q<sub>i</sub>, so rejection is a rounding accident) it is drawn from
 *       p<sub>i</sub>.</li>
 *   <li><b>bonus</b>: if all γ are accepted, one more token is drawn from p<sub>γ</sub>.</li>
 * </ul>
 * Every round therefore emits between 1 and γ+1 tokens. At temperature 0 both distributions are
 * one-hot and this reduces to {@link StrictGreedyAcceptance}. A round takes γ+1 variates from the
 * random source up front ({@link #uniforms}): u<sub>i</sub> tests draft i and u<sub>γ</sub> draws the
 * recovered or bonus token, so a seeded source reproduces the output on every backend.
 */
public final class RejectionSamplingAcceptance implements AcceptancePolicy {
    public static final RejectionSamplingAcceptance INSTANCE = new RejectionSamplingAcceptance();

    private RejectionSamplingAcceptance() {
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        int gamma = proposal.gamma();
        int[] drafts = new int[gamma];
        for (int i = 0; i < gamma; i++) {
            drafts[i] = proposal.draftToken(i);
        }
        return decide(drafts, proposal::draftProbabilities, proposal::verifyProbabilities, uniforms(gamma, random));
    }

    /**
     * The γ+1 variates of a round, all taken from {@code random} before any is used: {@code u[i]} tests
     * draft {@code i} and {@code u[γ]} draws the recovered or bonus token. Taking them up front makes a
     * round consume the same variates whatever it decides, so a backend that decides where the logits
     * are ({@link io.qspec.backend.RejectionRound}) is handed exactly the variates this policy uses.
     */
    public static double[] uniforms(int gamma, RandomGenerator random) {
        double[] u = new double[gamma + 1];
        for (int i = 0; i <= gamma; i++) {
            u[i] = random.nextDouble();
        }
        return u;
    }

    /**
     * The decision for draft tokens {@code drafts} drawn from {@code q(i)}, verify distributions
     * {@code p(i)} (i in [0, γ]) and the round's variates ({@link #uniforms}): the one statement of
     * accepted / recovered / bonus that every backend follows.
     */
    public static AcceptanceDecision decide(int[] drafts, IntFunction<float[]> q, IntFunction<float[]> p, double[] uniforms) {
        int gamma = drafts.length;
        if (uniforms.length != gamma + 1) {
            throw new IllegalArgumentException("need γ+1 = " + (gamma + 1) + " variates, got " + uniforms.length);
        }
        for (int i = 0; i < gamma; i++) {
            int token = drafts[i];
            float[] pi = p.apply(i);
            float[] qi = q.apply(i);
            if (!accepts(pi[token], qi[token], uniforms[i])) {
                return new AcceptanceDecision(i, Sampler.sample(residual(pi, qi), uniforms[gamma]));
            }
        }
        return new AcceptanceDecision(gamma, Sampler.sample(p.apply(gamma), uniforms[gamma]));
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
