package io.qspec.examples.bench;

import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import java.util.random.RandomGenerator;

/**
 * FOR SPEED MEASUREMENTS ON RANDOM WEIGHTS ONLY — lossy and meaningless for text. On a
 * random-weight model the draft and verify precisions rarely agree, so acceptance would not reflect
 * a trained model. This policy accepts each draft token independently with probability α, so a
 * benchmark runs the same passes a trained model with acceptance rate α would; every figure made
 * with it is labelled "synthetic acceptance α=…".
 */
public final class SyntheticAcceptance implements AcceptancePolicy {
    private final double alpha;

    public SyntheticAcceptance(double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("synthetic acceptance rate must be in [0, 1], got " + alpha);
        }
        this.alpha = alpha;
    }

    public double alpha() {
        return alpha;
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        for (int i = 0; i < proposal.gamma(); i++) {
            if (random.nextDouble() >= alpha) {
                return new AcceptanceDecision(i, proposal.verifyArgmax(i));
            }
        }
        return new AcceptanceDecision(proposal.gamma(), proposal.verifyArgmax(proposal.gamma()));
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
        return false;
    }

    @Override
    public String name() {
        return "synthetic-" + alpha;
    }
}
