package io.qspec.accept;

import io.qspec.engine.TokenChoice;
import io.qspec.sampling.Sampler;

import java.util.random.RandomGenerator;

/**
 * LOSSY: draft token x<sub>i</sub> is <b>accepted</b> while it is among the k most probable tokens
 * of the verify distribution p<sub>i</sub> (fewer than k tokens strictly more probable, and
 * p<sub>i</sub>(x<sub>i</sub>) &gt; 0, so ties at the k-th place are accepted). The first rejected
 * position gets the <b>recovered</b> token argmax p<sub>i</sub>; when all γ are accepted the
 * <b>bonus</b> token is sampled from p<sub>γ</sub>. With k = 1 at temperature 0 this is
 * {@link StrictGreedyAcceptance}; larger k accepts more and departs further from the verify
 * distribution. The draft takes its argmax.
 */
public final class TopKMatchAcceptanceLossy implements AcceptancePolicy {
    private final int k;

    /** @param k how many of verify's most probable tokens count as a match, at least 1 */
    public TopKMatchAcceptanceLossy(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("top-k match needs k >= 1, got " + k);
        }
        this.k = k;
    }

    public int k() {
        return k;
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        int gamma = proposal.gamma();
        for (int i = 0; i < gamma; i++) {
            float[] p = proposal.verifyProbabilities(i);
            if (!inTopK(p, proposal.draftToken(i))) {
                return new AcceptanceDecision(i, TokenChoice.argmax(p));
            }
        }
        return new AcceptanceDecision(gamma, Sampler.sample(proposal.verifyProbabilities(gamma), random));
    }

    private boolean inTopK(float[] p, int token) {
        float mine = p[token];
        if (!(mine > 0)) {
            return false;
        }
        int moreProbable = 0;
        for (float other : p) {
            if (other > mine && ++moreProbable >= k) {
                return false;
            }
        }
        return true;
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
        return "topk:" + k;
    }
}
