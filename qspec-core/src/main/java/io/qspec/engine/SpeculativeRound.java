package io.qspec.engine;

import io.qspec.DraftMode;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * One QSpec draft/verify round for one sequence, as a short function (after gpt-fast's
 * {@code speculative_decode}).
 *
 * <p>On entry the cache holds positions {@code [0, L)} and {@code last} is the newest committed
 * token (not yet in the cache). Then:
 * <ol>
 *   <li><b>draft</b>: γ passes in the draft precision, one token each, appending low-precision K/V;</li>
 *   <li><b>verify</b>: roll the cache back to {@code L} and run <em>one</em> W4A16 pass over
 *       {@code [last, d1..dγ]}, which rewrites those γ+1 positions with high-precision K/V —
 *       the single shared cache, no second copy;</li>
 *   <li><b>accept</b>: the policy keeps {@code k} drafts and picks the next token; the cache is
 *       rolled back to {@code L + 1 + k}, so every kept entry came from the verify pass.</li>
 * </ol>
 */
public final class SpeculativeRound {
    private SpeculativeRound() {
    }

    /** Tokens committed by a round (accepted drafts, then the recovered or bonus token) and timing. */
    public record Outcome(int[] tokens, int drafted, int accepted, long draftNanos, long verifyNanos) {
    }

    /**
     * Runs one round drafting {@code gamma} tokens (≥ 1). {@code toProbabilities} maps logits to the
     * request's sampling distribution; it is used for draft sampling when the policy samples.
     */
    public static Outcome run(ModelRunner runner, KvCache cache, int last, DraftMode draft, int gamma,
                              AcceptancePolicy policy, Function<float[], float[]> toProbabilities,
                              RandomGenerator random) {
        int start = cache.length();
        int[] drafts = new int[gamma];
        float[][] draftLogits = new float[gamma][];
        long t0 = System.nanoTime();
        int token = last;
        for (int i = 0; i < gamma; i++) {
            Logits logits = runner.forward(List.of(new SequenceInput(cache, new int[] {token}, false)), draft.precision());
            draftLogits[i] = logits.row(0, 0);
            token = policy.draftSamples()
                    ? TokenChoice.sample(toProbabilities.apply(draftLogits[i]), random)
                    : TokenChoice.argmax(draftLogits[i]);
            drafts[i] = token;
        }
        long t1 = System.nanoTime();

        cache.truncate(start);
        int[] verifyTokens = new int[gamma + 1];
        verifyTokens[0] = last;
        System.arraycopy(drafts, 0, verifyTokens, 1, gamma);
        Logits verified = runner.forward(List.of(new SequenceInput(cache, verifyTokens, true)), io.qspec.Precision.W4A16);
        float[][] verifyLogits = new float[gamma + 1][];
        for (int i = 0; i <= gamma; i++) {
            verifyLogits[i] = verified.row(0, i);
        }
        AcceptanceDecision decision = policy.decide(new Proposal(drafts, draftLogits, verifyLogits, toProbabilities), random);
        if (decision.accepted() > gamma) {
            throw new IllegalStateException("acceptance policy " + policy.name() + " accepted " + decision.accepted()
                    + " of " + gamma + " draft tokens");
        }
        cache.truncate(start + 1 + decision.accepted());
        long t2 = System.nanoTime();

        int[] committed = Arrays.copyOf(drafts, decision.accepted() + 1);
        committed[decision.accepted()] = decision.nextToken();
        return new Outcome(committed, gamma, decision.accepted(), t1 - t0, t2 - t1);
    }
}
