package io.qspec.accept;

import io.qspec.engine.TokenChoice;
import io.qspec.sampling.Sampler;

import java.util.random.RandomGenerator;

/**
 * LOSSY: Medusa's typical acceptance (Cai et al. 2024, "Medusa", §2.3.1; the {@code typical} branch
 * of {@code evaluate_posterior} in the Medusa code, also vLLM's {@code TypicalAcceptanceSampler}).
 * Output does <em>not</em> follow the verify distribution; it trades fidelity for more accepted
 * tokens at temperature &gt; 0.
 *
 * <p>Draft token x<sub>i</sub> is <b>accepted</b> while
 * p<sub>i</sub>(x<sub>i</sub>) &gt; min(ε, α·exp(−H(p<sub>i</sub>))), with
 * H(p) = −Σ p·log(p + 10<sup>−5</sup>) exactly as Medusa computes it: a confident (low-entropy)
 * verify distribution demands a probability near ε, a flat one accepts more. The first rejected
 * position gets the <b>recovered</b> token argmax p<sub>i</sub> (vLLM's choice); when all γ are
 * accepted, the <b>bonus</b> token is sampled from p<sub>γ</sub>. Defaults are Medusa's:
 * posterior threshold ε = 0.09, α = √ε = 0.3. At temperature 0 (one-hot p) it accepts exactly the
 * argmax, like {@link StrictGreedyAcceptance}.
 *
 * <p>The draft takes its argmax ({@link #draftSamples()} false): as in Medusa, candidates are the
 * draft's most likely tokens, which maximizes how many pass the threshold.
 */
public final class TypicalAcceptanceLossy implements AcceptancePolicy {
    public static final double DEFAULT_POSTERIOR_THRESHOLD = 0.09;
    public static final double DEFAULT_POSTERIOR_ALPHA = Math.sqrt(DEFAULT_POSTERIOR_THRESHOLD);
    /** Medusa adds this inside the log so zero probabilities contribute 0 to the entropy. */
    private static final double ENTROPY_EPSILON = 1e-5;

    private final double posteriorThreshold;
    private final double posteriorAlpha;

    /** Medusa's defaults: ε = 0.09, α = 0.3. */
    public TypicalAcceptanceLossy() {
        this(DEFAULT_POSTERIOR_THRESHOLD, DEFAULT_POSTERIOR_ALPHA);
    }

    /**
     * @param posteriorThreshold ε, the hard cap of the threshold, in (0, 1]
     * @param posteriorAlpha     α, scales the entropy-dependent threshold, in (0, 1]
     */
    public TypicalAcceptanceLossy(double posteriorThreshold, double posteriorAlpha) {
        if (!(posteriorThreshold > 0 && posteriorThreshold <= 1)) {
            throw new IllegalArgumentException("posterior threshold ε must be in (0, 1], got " + posteriorThreshold);
        }
        if (!(posteriorAlpha > 0 && posteriorAlpha <= 1)) {
            throw new IllegalArgumentException("posterior alpha α must be in (0, 1], got " + posteriorAlpha);
        }
        this.posteriorThreshold = posteriorThreshold;
        this.posteriorAlpha = posteriorAlpha;
    }

    public double posteriorThreshold() {
        return posteriorThreshold;
    }

    public double posteriorAlpha() {
        return posteriorAlpha;
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        int gamma = proposal.gamma();
        for (int i = 0; i < gamma; i++) {
            float[] p = proposal.verifyProbabilities(i);
            if (!(p[proposal.draftToken(i)] > threshold(p))) {
                return new AcceptanceDecision(i, argmax(p));
            }
        }
        return new AcceptanceDecision(gamma, Sampler.sample(proposal.verifyProbabilities(gamma), random));
    }

    /** min(ε, α·exp(−H(p))). */
    double threshold(float[] p) {
        double entropy = 0;
        for (float pi : p) {
            if (pi > 0) {
                entropy -= pi * Math.log(pi + ENTROPY_EPSILON);
            }
        }
        return Math.min(posteriorThreshold, posteriorAlpha * Math.exp(-entropy));
    }

    static int argmax(float[] probabilities) {
        return TokenChoice.argmax(probabilities);
    }

    @Override
    public boolean draftSamples() {
        return false;
    }

    @Override
    public boolean lossless() {
        return false;
    }

    @Override
    public String name() {
        return posteriorThreshold == DEFAULT_POSTERIOR_THRESHOLD && posteriorAlpha == DEFAULT_POSTERIOR_ALPHA
                ? "typical"
                : "typical:" + posteriorThreshold + ":" + posteriorAlpha;
    }
}
