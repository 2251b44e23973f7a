package io.qspec.accept;

import java.util.random.RandomGenerator;

/**
 * Temperature-0 acceptance: keep draft tokens while each equals the verify pass's argmax at its
 * position; the next token is the verify argmax at the first mismatch (recovered) or after the last
 * draft (bonus). Deterministic — it ignores the random source — so the output is token for token
 * what plain W4A16 greedy decoding produces. (The official QSpec code accepts probabilistically at
 * temperature 0; that is not lossless, and not what this does.)
 */
public final class StrictGreedyAcceptance implements AcceptancePolicy {
    public static final StrictGreedyAcceptance INSTANCE = new StrictGreedyAcceptance();

    private StrictGreedyAcceptance() {
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        int gamma = proposal.gamma();
        for (int i = 0; i < gamma; i++) {
            int target = proposal.verifyArgmax(i);
            if (proposal.draftToken(i) != target) {
                return new AcceptanceDecision(i, target);
            }
        }
        return new AcceptanceDecision(gamma, proposal.verifyArgmax(gamma));
    }

    @Override
    public boolean needsLogits() {
        return false;
    }

    @Override
    public boolean draftSamples() {
        return false;
    }

    @Override
    public boolean lossless() {
        return true;
    }

    @Override
    public String name() {
        return "greedy";
    }
}
