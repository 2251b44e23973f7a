package io.qspec.backend;

import io.qspec.Precision;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.sampling.TokenDraw;
import java.util.List;
import java.util.Optional;

/**
 * A model made ready to run on one backend (weights uploaded or mapped, work buffers allocated).
 * This is the whole contract between the engine and a backend: caches, and one batched forward
 * pass in a chosen {@link Precision}. Implementations are thread-safe for calls on different caches
 * only if they say so; the engine serialises calls.
 *
 * <p><b>Row independence.</b> A backend must compute each token's logits exactly as it would if
 * that token were alone in the pass (same reduction order whatever the batch size). This is what
 * makes QSpec's verify pass reproduce plain W4A16 decoding bit for bit.
 */
public interface ModelRunner extends AutoCloseable {

    /** The model this runner executes. */
    Model model();

    /** Name of the backend, e.g. {@code cpu} or {@code cuda}, for logs and reports. */
    String backendName();

    /**
     * A new, empty cache for one sequence with room for {@code capacity} positions, reserved from
     * the runner's KV memory at once; closing the cache returns it. Throws
     * {@link io.qspec.kv.KvCacheExhaustedException} when the memory cannot hold that many more.
     */
    KvCache newCache(int capacity);

    /** KV positions that {@link #newCache} can still reserve (admission control for batching). */
    long availableKvPositions();

    /** KV positions the runner's KV memory holds in all (its configured budget). */
    long totalKvPositions();

    /**
     * Why this runner cannot run passes in {@code precision}, or empty when it can. The engine asks
     * when a request is submitted, so that a request it could never serve fails there, not mid-way.
     */
    default Optional<String> unsupported(Precision precision) {
        return Optional.empty();
    }

    /**
     * Runs one forward pass over every sequence of {@code batch} in {@code precision}: writes their
     * K/V entries and returns their logits. Every cache must come from this runner and have room.
     */
    Logits forward(List<SequenceInput> batch, Precision precision);

    /**
     * As {@link #forward}, for a greedy step: returns only the argmax token of every logit row. The
     * caches advance exactly as with {@link #forward}. A backend whose logits live elsewhere (a GPU)
     * overrides this to take the argmax there, so that only token ids cross to the host.
     */
    default GreedyTokens forwardGreedy(List<SequenceInput> batch, Precision precision) {
        return GreedyTokens.of(forward(batch, precision));
    }

    /**
     * As {@link #forward}, for a sampling step: draws one token from the last logit row of every
     * sequence with that sequence's {@link TokenDraw}, and returns the tokens in batch order. The
     * caches advance exactly as with {@link #forward}. This default takes the logits to the host and
     * draws there ({@link TokenDraw#choose}); a backend whose logits live elsewhere (a GPU) overrides
     * it to draw there, so that only token ids cross to the host.
     *
     * @throws IllegalArgumentException when {@code draws} does not match the batch, or a row cannot
     *                                  be drawn from (NaN logits; every logit -infinity)
     */
    default int[] forwardSampled(List<SequenceInput> batch, Precision precision, List<TokenDraw> draws) {
        if (draws.size() != batch.size()) {
            throw new IllegalArgumentException(draws.size() + " draws for a batch of " + batch.size() + " sequences");
        }
        Logits logits = forward(batch, precision);
        int[] tokens = new int[batch.size()];
        for (int s = 0; s < tokens.length; s++) {
            tokens[s] = draws.get(s).choose(logits.row(s, batch.get(s).logitRows() - 1));
        }
        return tokens;
    }

    /**
     * A speculative round of {@code lanes} sequences, each drafting at most {@code maxGamma} tokens,
     * decided by lossless rejection sampling where the logits are ({@link RejectionRound}). This
     * default keeps the logits on the host ({@link #forward}); a backend whose logits live elsewhere (a
     * GPU) overrides it so that only token ids cross to the host. A runner serves one round at a time.
     */
    default RejectionRound newRejectionRound(int lanes, int maxGamma) {
        RejectionRounds.checkShape(lanes, maxGamma);
        return new HostRejectionRound(this, lanes, maxGamma);
    }

    @Override
    void close();
}
