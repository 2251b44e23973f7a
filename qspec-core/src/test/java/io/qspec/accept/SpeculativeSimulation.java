package io.qspec.accept;

import io.qspec.sampling.Sampler;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A toy draft/verify loop for distribution tests: generates the first tokens of a sequence the way
 * the engine does (draft γ tokens from q, verify γ+1 positions, let the policy decide, repeat) over
 * synthetic logits, so the distribution of what a policy emits can be compared with sampling from
 * the verify distribution alone.
 */
final class SpeculativeSimulation {

    /** Raw logits of one precision at a sequence position, given the tokens before it. */
    interface LogitSource {
        float[] logits(int position, int[] history);
    }

    /** The request's distribution function: logits after a history to probabilities. */
    interface Distribution {
        float[] probabilities(int[] history, float[] logits);
    }

    /** Builds the per-round {@link PositionalProbabilities} the engine would hand the proposal. */
    interface RoundDistribution {
        PositionalProbabilities forRound(int[] committed, int[] draftTokens);
    }

    private final LogitSource draft;
    private final LogitSource verify;
    private final Distribution distribution;
    private final RoundDistribution roundDistribution;
    private final int gamma;

    SpeculativeSimulation(LogitSource draft, LogitSource verify, Distribution distribution,
                          RoundDistribution roundDistribution, int gamma) {
        this.draft = draft;
        this.verify = verify;
        this.distribution = distribution;
        this.roundDistribution = roundDistribution;
        this.gamma = gamma;
    }

    /** For synthetic "logits" that already are probabilities: the identity distribution, no history effects. */
    static SpeculativeSimulation ofProbabilities(LogitSource draft, LogitSource verify, int gamma) {
        return new SpeculativeSimulation(draft, verify, (history, p) -> p,
                (committed, drafts) -> (position, p) -> p, gamma);
    }

    /** The verify distribution at {@code history.length}: what the emitted token there must follow. */
    float[] target(int[] history) {
        return distribution.probabilities(history, verify.logits(history.length, history));
    }

    /** Runs rounds until at least {@code count} tokens are emitted; returns the first {@code count}. */
    int[] generate(AcceptancePolicy policy, int count, RandomGenerator random) {
        int[] emitted = new int[count + gamma + 1];
        int length = 0;
        while (length < count) {
            int[] committed = Arrays.copyOf(emitted, length);
            int[] history = Arrays.copyOf(emitted, length + gamma + 1);
            int[] draftTokens = new int[gamma];
            float[][] draftLogits = new float[gamma][];
            float[][] verifyLogits = new float[gamma + 1][];
            for (int i = 0; i < gamma; i++) {
                int[] before = Arrays.copyOf(history, length + i);
                draftLogits[i] = draft.logits(length + i, before);
                verifyLogits[i] = verify.logits(length + i, before);
                float[] q = distribution.probabilities(before, draftLogits[i]);
                draftTokens[i] = policy.draftSamples() ? Sampler.sample(q, random) : io.qspec.engine.TokenChoice.argmax(q);
                history[length + i] = draftTokens[i];
            }
            verifyLogits[gamma] = verify.logits(length + gamma, Arrays.copyOf(history, length + gamma));
            Proposal proposal = new Proposal(draftTokens, draftLogits, verifyLogits,
                    roundDistribution.forRound(committed, draftTokens));
            AcceptanceDecision decision = policy.decide(proposal, random);
            System.arraycopy(draftTokens, 0, emitted, length, decision.accepted());
            length += decision.accepted();
            emitted[length++] = decision.nextToken();
        }
        return Arrays.copyOf(emitted, count);
    }
}
