package io.qspec.backend;

import io.qspec.kv.KvCache;
import java.util.Objects;

/**
 * One sequence's share of a batched forward pass: {@code tokens} are appended at positions
 * {@code [cache.length(), cache.length() + tokens.length)}.
 *
 * @param cache     the sequence's cache, created by the same {@link ModelRunner}
 * @param tokens    the new tokens (at least one)
 * @param allLogits whether logits are wanted for every new position (verify) or only the last (decode, prefill)
 */
public record SequenceInput(KvCache cache, int[] tokens, boolean allLogits) {
    public SequenceInput {
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence in a forward pass needs at least one token");
        }
    }

    /** Rows of logits this sequence gets back. */
    public int logitRows() {
        return allLogits ? tokens.length : 1;
    }
}
