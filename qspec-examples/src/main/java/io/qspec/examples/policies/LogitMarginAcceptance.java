package io.qspec.examples.policies;

import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.engine.TokenChoice;
import java.util.random.RandomGenerator;

/**
 * An example of a user-written {@link AcceptancePolicy} — LOSSY: a draft token is accepted when the
 * verify pass scores it within {@code margin} logits of its own best token, so near-ties that
 * strict greedy would reject are kept. With {@code margin = 0} it is exactly strict greedy
 * (ties aside). The recovered or bonus token is the verify argmax.
 *
 * <p>Plug it in with
 * {@code new DecodingMode.Speculative(DraftMode.a4(), VerifyMode.w4a16(), new LogitMarginAcceptance(0.5f))}.
 */
public final class LogitMarginAcceptance implements AcceptancePolicy {
    private final float margin;

    public LogitMarginAcceptance(float margin) {
        if (!(margin >= 0)) {
            throw new IllegalArgumentException("margin must be >= 0, got " + margin);
        }
        this.margin = margin;
    }

    @Override
    public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
        for (int i = 0; i < proposal.gamma(); i++) {
            float[] verify = proposal.verifyLogits(i);
            int best = TokenChoice.argmax(verify);
            if (verify[proposal.draftToken(i)] < verify[best] - margin) {
                return new AcceptanceDecision(i, best);
            }
        }
        return new AcceptanceDecision(proposal.gamma(), TokenChoice.argmax(proposal.verifyLogits(proposal.gamma())));
    }

    @Override
    public boolean draftSamples() {
        return false;
    }

    @Override
    public boolean lossless() {
        return margin == 0;
    }

    @Override
    public String name() {
        return "logit-margin-" + margin + "-lossy";
    }
}
