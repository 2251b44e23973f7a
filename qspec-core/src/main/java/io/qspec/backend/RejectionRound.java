package io.qspec.backend;

import io.qspec.Precision;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.sampling.TokenDraw;
import java.util.List;

/**
 * One speculative round decided by lossless rejection sampling
 * ({@link io.qspec.accept.RejectionSamplingAcceptance}) on the backend that holds the logits: each draft
 * pass draws its tokens and keeps the distributions they were drawn from, and the verify pass decides
 * every lane there, so only token ids cross to the host. Lanes are numbered {@code [0, lanes)} as in
 * {@link ModelRunner#newRejectionRound(int, int)}.
 *
 * <p>Use: {@link #draft} once per draft position (a lane may skip later positions: its γ is how many
 * drafts it got), then {@link #verify} once, then {@link #close}. Not thread-safe.
 */
public interface RejectionRound extends AutoCloseable {

    /**
     * One draft pass over {@code batch} in {@code precision}: {@code batch.get(b)} belongs to lane
     * {@code lanes[b]} and its next draft token is drawn from its last logit row with
     * {@code draws.get(b)} ({@link TokenDraw#choose}'s token for the same logits). The distribution it
     * was drawn from is kept for {@link #verify}.
     *
     * @return the drawn tokens, in batch order
     * @throws IllegalArgumentException when the sizes disagree, a lane is outside the round or already
     *                                  has the round's most drafts, or a row cannot be drawn from
     */
    int[] draft(List<SequenceInput> batch, Precision precision, int[] lanes, List<TokenDraw> draws);

    /**
     * The verify pass (W4A16) over every lane's {@code [last, d1..dγ]} ({@code batch.get(lane)}, all
     * logits), then each lane's decision. {@code draws.get(lane)} holds γ+1 draws: draw {@code i} carries
     * position {@code i}'s filters and penalty history (committed tokens and drafts before {@code i}),
     * and its variate u<sub>i</sub>; u<sub>i</sub> (i &lt; γ) tests draft {@code i} and u<sub>γ</sub> draws
     * the recovered or bonus token ({@link io.qspec.accept.RejectionSamplingAcceptance#uniforms}).
     *
     * @return one decision per lane
     * @throws IllegalArgumentException when the batch or the draws do not match what was drafted, or a
     *                                  distribution cannot be formed (NaN logits, every logit -infinity)
     */
    AcceptanceDecision[] verify(List<SequenceInput> batch, List<List<TokenDraw>> draws);

    /** Releases what the round kept (on a device: nothing is freed, its buffers are reused). */
    @Override
    void close();
}
