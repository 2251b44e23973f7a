package io.qspec.engine;

import io.qspec.DraftMode;
import io.qspec.Precision;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RejectionRound;
import io.qspec.backend.SequenceInput;
import io.qspec.draft.DraftLengthPolicy;
import io.qspec.kv.KvCache;
import io.qspec.sampling.TokenDraw;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One QSpec draft/verify round for a batch of sequences (after gpt-fast's {@code speculative_decode}).
 *
 * <p>On entry each sequence's cache holds positions {@code [0, L)} and {@code last} is its newest
 * committed token (not yet in the cache). Then:
 * <ol>
 *   <li><b>draft</b>: γ passes in the draft precision, one token each, appending low-precision K/V
 *       (all sequences still drafting share each pass; each may have its own γ);</li>
 *   <li><b>verify</b>: roll every cache back to its {@code L} and run <em>one</em> W4A16 pass over
 *       each sequence's {@code [last, d1..dγ]}, which rewrites those γ+1 positions with
 *       high-precision K/V — the single shared cache, no second copy;</li>
 *   <li><b>accept</b>: the policy keeps {@code k} drafts and picks the next token (recovered or
 *       bonus); the cache is rolled back to {@code L + 1 + k}, so every kept entry came from the
 *       verify pass.</li>
 * </ol>
 */
public final class SpeculativeRound {
    private SpeculativeRound() {
    }

    /**
     * One sequence's part in a round.
     *
     * @param gamma   most tokens to draft this round (a confidence policy may stop earlier)
     * @param sampler the sequence's token choice, distributions and random source
     */
    public record Lane(KvCache cache, int last, DraftMode draft, int gamma, AcceptancePolicy policy,
                       DraftLengthPolicy lengthPolicy, SequenceSampler sampler) {
        public Lane {
            if (gamma < 1 || gamma > DraftMode.MAX_GAMMA) {
                throw new IllegalArgumentException("gamma must be in [1, " + DraftMode.MAX_GAMMA + "], got " + gamma);
            }
        }
    }

    /**
     * Tokens committed by a round (accepted drafts, then the recovered or bonus token) and timing; or, when the lane's
     * own policy failed or broke its contract ({@code failure} not null), nothing: the lane's cache is back where the
     * round began, and only that lane's request fails.
     */
    public record Outcome(int[] tokens, int drafted, int accepted, long draftNanos, long verifyNanos,
                          RuntimeException failure) {
        public Outcome(int[] tokens, int drafted, int accepted, long draftNanos, long verifyNanos) {
            this(tokens, drafted, accepted, draftNanos, verifyNanos, null);
        }

        static Outcome failed(RuntimeException failure, long draftNanos, long verifyNanos) {
            return new Outcome(new int[0], 0, 0, draftNanos, verifyNanos, failure);
        }
    }

    /**
     * Whether a lane's round needs no logits on the host: greedy choices, argmax drafts, a policy that
     * reads only argmax tokens and no confidence cut-off. Such lanes get token ids from the backend.
     */
    private static boolean argmaxOnly(Lane lane) {
        return lane.sampler().choosesArgmax() && !lane.policy().draftSamples() && !lane.policy().needsLogits()
                && !lane.lengthPolicy().usesConfidence();
    }

    /** A round for a single sequence with a fixed γ. */
    public static Outcome run(ModelRunner runner, KvCache cache, int last, DraftMode draft, int gamma,
                              AcceptancePolicy policy, SequenceSampler sampler) {
        return run(runner, List.of(new Lane(cache, last, draft, gamma, policy, DraftLengthPolicy.fixed(), sampler))).getFirst();
    }

    /**
     * Whether a lane's round is decided by the built-in rejection sampler where the logits are
     * ({@link ModelRunner#newRejectionRound}): its policy is {@link RejectionSamplingAcceptance}, whose
     * decision the backend reproduces, and no confidence cut-off reads the draft's logits.
     */
    private static boolean rejectionSampled(Lane lane) {
        return lane.policy() instanceof RejectionSamplingAcceptance && !lane.lengthPolicy().usesConfidence();
    }

    /** A round for every lane, batched: one pass per draft step and precision, one verify pass in all. */
    public static List<Outcome> run(ModelRunner runner, List<Lane> lanes) {
        if (lanes.stream().allMatch(SpeculativeRound::rejectionSampled)) {
            return runRejectionSampled(runner, lanes);
        }
        int n = lanes.size();
        int[] start = cacheLengths(lanes);
        int[] current = lastTokens(lanes);
        int[][] drafts = emptyDrafts(lanes);
        int[] gamma = lanes.stream().mapToInt(Lane::gamma).toArray();
        int maxGamma = Arrays.stream(gamma).max().orElseThrow();
        float[][][] draftLogits = new float[n][][];
        for (int s = 0; s < n; s++) {
            draftLogits[s] = new float[gamma[s]][];
        }
        // what a lane's own policy threw: that lane stops drafting and fails alone
        RuntimeException[] failures = new RuntimeException[n];

        long t0 = System.nanoTime();
        for (int i = 0; i < maxGamma; i++) {
            for (Precision precision : List.of(Precision.W4A8, Precision.W4A4)) {
                List<Integer> group = new ArrayList<>();
                List<SequenceInput> inputs = new ArrayList<>();
                for (int s = 0; s < n; s++) {
                    Lane lane = lanes.get(s);
                    if (gamma[s] > i && lane.draft().precision() == precision) {
                        group.add(s);
                        inputs.add(new SequenceInput(lane.cache(), new int[] {current[s]}, false));
                    }
                }
                if (group.isEmpty()) {
                    continue;
                }
                if (group.stream().allMatch(s -> argmaxOnly(lanes.get(s)))) {
                    GreedyTokens tokens = runner.forwardGreedy(inputs, precision);
                    for (int g = 0; g < group.size(); g++) {
                        int s = group.get(g);
                        current[s] = tokens.token(g, 0);
                        drafts[s][i] = current[s];
                    }
                    continue;
                }
                Logits logits = runner.forward(inputs, precision);
                for (int g = 0; g < group.size(); g++) {
                    int s = group.get(g);
                    Lane lane = lanes.get(s);
                    float[] row = logits.row(g, 0);
                    draftLogits[s][i] = row;
                    current[s] = lane.sampler().draft(row, drafts[s], i, lane.policy().draftSamples());
                    drafts[s][i] = current[s];
                    try {
                        if (lane.lengthPolicy().usesConfidence() && i + 1 < gamma[s]
                                && !lane.lengthPolicy().keepDrafting(lane.sampler().topProbability(row, drafts[s], i))) {
                            gamma[s] = i + 1; // the draft is unsure: verify what we have
                        }
                    } catch (RuntimeException e) {
                        failures[s] = e;
                        gamma[s] = i + 1;
                    }
                }
            }
        }
        long t1 = System.nanoTime();

        List<SequenceInput> verifyInputs = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
            Lane lane = lanes.get(s);
            drafts[s] = Arrays.copyOf(drafts[s], gamma[s]);
            draftLogits[s] = Arrays.copyOf(draftLogits[s], gamma[s]);
            verifyInputs.add(rewindForVerify(lane, start[s], drafts[s]));
        }
        // only token ids come back when no lane's policy reads logits (greedy QSpec)
        boolean greedyVerify = lanes.stream().allMatch(SpeculativeRound::argmaxOnly);
        GreedyTokens verifiedTokens = greedyVerify ? runner.forwardGreedy(verifyInputs, Precision.W4A16) : null;
        Logits verified = greedyVerify ? null : runner.forward(verifyInputs, Precision.W4A16);

        AcceptanceDecision[] decisions = new AcceptanceDecision[n];
        for (int s = 0; s < n; s++) {
            Lane lane = lanes.get(s);
            Proposal proposal;
            if (argmaxOnly(lane)) {
                int[] verifyArgmax = new int[gamma[s] + 1];
                for (int i = 0; i <= gamma[s]; i++) {
                    verifyArgmax[i] = greedyVerify ? verifiedTokens.token(s, i) : verified.argmax(s, i);
                }
                proposal = Proposal.ofArgmax(drafts[s], verifyArgmax);
            } else {
                float[][] verifyLogits = new float[gamma[s] + 1][];
                for (int i = 0; i <= gamma[s]; i++) {
                    verifyLogits[i] = verified.row(s, i);
                }
                proposal = new Proposal(drafts[s], draftLogits[s], verifyLogits, lane.sampler().forRound(drafts[s]));
            }
            if (failures[s] == null) {
                try {
                    decisions[s] = checked(lane, lane.policy().decide(proposal, lane.sampler().random()), gamma[s],
                            runner.model().config().vocabSize());
                } catch (RuntimeException e) {
                    failures[s] = e;
                }
            }
        }
        return commit(lanes, start, drafts, decisions, failures, t1 - t0, System.nanoTime() - t1);
    }

    /** A policy's decision, if it keeps the contract: at most the drafts, and a next token in the vocabulary. */
    private static AcceptanceDecision checked(Lane lane, AcceptanceDecision decision, int drafted, int vocab) {
        if (decision == null) {
            throw new IllegalStateException("acceptance policy " + lane.policy().name() + " returned no decision");
        }
        if (decision.accepted() > drafted) {
            throw new IllegalStateException("acceptance policy " + lane.policy().name() + " accepted "
                    + decision.accepted() + " of " + drafted + " draft tokens");
        }
        if (decision.nextToken() < 0 || decision.nextToken() >= vocab) {
            throw new IllegalStateException("acceptance policy " + lane.policy().name() + " chose token "
                    + decision.nextToken() + ", outside the vocabulary [0, " + vocab + ")");
        }
        return decision;
    }

    /**
     * The round of {@link #run} with every lane rejection-sampled on the backend: draft tokens are drawn
     * where the logits are, each from the distribution the backend keeps, and the verify pass decides
     * each lane there. The request's random source yields the same variates in the same order as the
     * policy's path (one per draft, then γ+1), so both give the same tokens for the same logits.
     */
    private static List<Outcome> runRejectionSampled(ModelRunner runner, List<Lane> lanes) {
        int n = lanes.size();
        int[] start = cacheLengths(lanes);
        int[] current = lastTokens(lanes);
        int[][] drafts = emptyDrafts(lanes);
        int maxGamma = lanes.stream().mapToInt(Lane::gamma).max().orElseThrow();
        try (RejectionRound round = runner.newRejectionRound(n, maxGamma)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < maxGamma; i++) {
                for (Precision precision : List.of(Precision.W4A8, Precision.W4A4)) {
                    List<Integer> group = new ArrayList<>();
                    List<SequenceInput> inputs = new ArrayList<>();
                    List<TokenDraw> draws = new ArrayList<>();
                    for (int s = 0; s < n; s++) {
                        Lane lane = lanes.get(s);
                        if (lane.gamma() > i && lane.draft().precision() == precision) {
                            group.add(s);
                            inputs.add(new SequenceInput(lane.cache(), new int[] {current[s]}, false));
                            draws.add(lane.sampler().draftDraw(drafts[s], i));
                        }
                    }
                    if (group.isEmpty()) {
                        continue;
                    }
                    int[] tokens = round.draft(inputs, precision, group.stream().mapToInt(Integer::intValue).toArray(), draws);
                    for (int g = 0; g < group.size(); g++) {
                        int s = group.get(g);
                        current[s] = tokens[g];
                        drafts[s][i] = tokens[g];
                    }
                }
            }
            long t1 = System.nanoTime();
            List<SequenceInput> verifyInputs = new ArrayList<>(n);
            List<List<TokenDraw>> verifyDraws = new ArrayList<>(n);
            for (int s = 0; s < n; s++) {
                Lane lane = lanes.get(s);
                verifyInputs.add(rewindForVerify(lane, start[s], drafts[s]));
                double[] uniforms = RejectionSamplingAcceptance.uniforms(drafts[s].length, lane.sampler().random());
                verifyDraws.add(lane.sampler().verifyDraws(drafts[s], uniforms));
            }
            AcceptanceDecision[] decisions = round.verify(verifyInputs, verifyDraws);
            return commit(lanes, start, drafts, decisions, new RuntimeException[n], t1 - t0, System.nanoTime() - t1);
        }
    }

    /** Where each lane's round begins: its cache length. */
    private static int[] cacheLengths(List<Lane> lanes) {
        return lanes.stream().mapToInt(lane -> lane.cache().length()).toArray();
    }

    /** Each lane's newest committed token, the input of its first draft step. */
    private static int[] lastTokens(List<Lane> lanes) {
        return lanes.stream().mapToInt(Lane::last).toArray();
    }

    /** Room for each lane's γ drafts. */
    private static int[][] emptyDrafts(List<Lane> lanes) {
        return lanes.stream().map(lane -> new int[lane.gamma()]).toArray(int[][]::new);
    }

    /**
     * Rolls a lane's cache back to where the round began ({@code start}) and returns its verify input,
     * {@code [last, drafts]} with logits for every position.
     */
    private static SequenceInput rewindForVerify(Lane lane, int start, int[] drafts) {
        lane.cache().truncate(start);
        int[] tokens = new int[drafts.length + 1];
        tokens[0] = lane.last();
        System.arraycopy(drafts, 0, tokens, 1, drafts.length);
        return new SequenceInput(lane.cache(), tokens, true);
    }

    /**
     * Rolls every cache back to what the decisions keep and returns the committed tokens; a lane that failed is rolled
     * back to where the round began.
     */
    private static List<Outcome> commit(List<Lane> lanes, int[] start, int[][] drafts, AcceptanceDecision[] decisions,
                                        RuntimeException[] failures, long draftNanos, long verifyNanos) {
        List<Outcome> outcomes = new ArrayList<>(lanes.size());
        for (int s = 0; s < lanes.size(); s++) {
            Lane lane = lanes.get(s);
            if (failures[s] != null) {
                lane.cache().truncate(start[s]);
                outcomes.add(Outcome.failed(failures[s], draftNanos, verifyNanos));
                continue;
            }
            AcceptanceDecision decision = decisions[s];
            int gamma = drafts[s].length;
            if (decision.accepted() > gamma) {
                throw new IllegalStateException("acceptance policy " + lane.policy().name() + " accepted "
                        + decision.accepted() + " of " + gamma + " draft tokens");
            }
            lane.cache().truncate(start[s] + 1 + decision.accepted());
            int[] committed = Arrays.copyOf(drafts[s], decision.accepted() + 1);
            committed[decision.accepted()] = decision.nextToken();
            outcomes.add(new Outcome(committed, gamma, decision.accepted(), draftNanos, verifyNanos));
        }
        return outcomes;
    }
}
