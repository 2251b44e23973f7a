package io.qspec.accept;

import java.util.random.RandomGenerator;

/**
 * Decides, after one verify pass, how many of the γ drafted tokens to keep and which token comes
 * next. A policy is a pure function of the {@link Proposal} and the random source: it holds no
 * per-request state, so one instance may serve many requests and threads at once.
 *
 * <p>The next token is either <b>recovered</b> (drawn from the verify distribution at the first
 * rejected position, replacing the rejected draft) or a <b>bonus</b> token (drawn from the verify
 * distribution after the last draft, when all γ were accepted). Built-in policies:
 * {@link StrictGreedyAcceptance} (temperature 0, lossless), {@link RejectionSamplingAcceptance}
 * (any temperature, lossless), and the lossy {@link TypicalAcceptanceLossy} and
 * {@link TopKMatchAcceptanceLossy}; {@link AcceptancePolicies} finds them by name.
 */
public interface AcceptancePolicy {

    /** Decides the outcome of one draft/verify round. */
    AcceptanceDecision decide(Proposal proposal, RandomGenerator random);

    /**
     * Whether the draft phase should sample its tokens from its own distribution (true for
     * rejection sampling) or take its argmax (false for greedy policies).
     */
    boolean draftSamples();

    /** Whether output provably has the verify precision's distribution (or, greedy, its exact tokens). */
    boolean lossless();

    /**
     * Whether {@link #decide} reads logits or probabilities. A policy that reads only the draft tokens
     * and {@link Proposal#verifyArgmax} returns false; for greedy requests the engine then asks the
     * backend for argmax tokens only, and the proposal carries no logits.
     */
    default boolean needsLogits() {
        return true;
    }

    /** Short name for logs, the CLI and reports. */
    String name();
}
