package io.qspec.backend;

import io.qspec.DraftMode;
import io.qspec.sampling.TokenDraw;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/** The argument checks every {@link RejectionRound} makes before it runs a pass. */
public final class RejectionRounds {
    private RejectionRounds() {
    }

    /** Checks the size of a new round: at least one lane, and γ in [1, {@link DraftMode#MAX_GAMMA}]. */
    public static void checkShape(int lanes, int maxGamma) {
        if (lanes < 1) {
            throw new IllegalArgumentException("a round needs at least one lane, got " + lanes);
        }
        if (maxGamma < 1 || maxGamma > DraftMode.MAX_GAMMA) {
            throw new IllegalArgumentException("a round's γ must be in [1, " + DraftMode.MAX_GAMMA + "], got " + maxGamma);
        }
    }

    /**
     * Checks a {@link RejectionRound#draft} call: one lane and one draw per sequence, lanes distinct and
     * inside the round, and room for one more draft in each (at most {@code maxGamma}).
     *
     * @param drafted how many drafts a lane already has
     */
    public static void checkDraft(List<SequenceInput> batch, int[] lanes, List<TokenDraw> draws, int laneCount,
                                  int maxGamma, IntUnaryOperator drafted) {
        if (lanes.length != batch.size() || draws.size() != batch.size()) {
            throw new IllegalArgumentException("draft step: " + batch.size() + " sequences, " + lanes.length + " lanes and "
                    + draws.size() + " draws; need one lane and one draw per sequence");
        }
        boolean[] seen = new boolean[laneCount];
        for (int lane : lanes) {
            if (lane < 0 || lane >= laneCount) {
                throw new IllegalArgumentException("draft step: lane " + lane + " outside the round's [0, " + laneCount + ")");
            }
            if (seen[lane]) {
                throw new IllegalArgumentException("draft step: lane " + lane + " appears twice");
            }
            seen[lane] = true;
            if (drafted.applyAsInt(lane) >= maxGamma) {
                throw new IllegalArgumentException("draft step: lane " + lane + " already has " + maxGamma
                        + " drafts, the round's γ");
            }
        }
    }

    /**
     * Checks a {@link RejectionRound#verify} call: every lane once, in order, each scoring
     * {@code [last, its drafts]} with all logits, and γ+1 draws for a lane of γ drafts.
     *
     * @param draftsOf the drafts a lane got, in order
     */
    public static void checkVerify(List<SequenceInput> batch, List<List<TokenDraw>> draws, int laneCount,
                                   IntFunction<int[]> draftsOf) {
        if (batch.size() != laneCount || draws.size() != laneCount) {
            throw new IllegalArgumentException("verify: " + batch.size() + " sequences and " + draws.size()
                    + " draw lists for a round of " + laneCount + " lanes; need every lane once");
        }
        for (int lane = 0; lane < laneCount; lane++) {
            int[] drafts = draftsOf.apply(lane);
            SequenceInput in = batch.get(lane);
            if (drafts.length == 0) {
                throw new IllegalArgumentException("verify: lane " + lane + " drafted nothing");
            }
            if (!in.allLogits() || in.tokens().length != drafts.length + 1
                    || !Arrays.equals(in.tokens(), 1, in.tokens().length, drafts, 0, drafts.length)) {
                throw new IllegalArgumentException("verify: lane " + lane + " must score [last, its " + drafts.length
                        + " drafts] with all logits, got " + in.tokens().length + " tokens (allLogits " + in.allLogits() + ")");
            }
            if (draws.get(lane).size() != drafts.length + 1) {
                throw new IllegalArgumentException("verify: lane " + lane + " has " + drafts.length + " drafts and "
                        + draws.get(lane).size() + " draws; need γ+1 = " + (drafts.length + 1));
            }
        }
    }
}
