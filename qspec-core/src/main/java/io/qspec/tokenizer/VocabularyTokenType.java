package io.qspec.tokenizer;

import java.util.Optional;

/**
 * Kinds of vocabulary entries, numbered as in GGUF's {@code tokenizer.ggml.token_type} (llama.cpp's
 * {@code llama_token_type}). The kind decides how a token is matched when encoding and what it
 * decodes to.
 */
enum VocabularyTokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    static Optional<VocabularyTokenType> byId(long id) {
        VocabularyTokenType[] all = values();
        return id >= 0 && id < all.length ? Optional.of(all[(int) id]) : Optional.empty();
    }

    /** Whether text can be encoded to this token by merging (control, byte and unknown tokens are never produced that way). */
    boolean mergeable() {
        return this == NORMAL || this == USER_DEFINED || this == UNDEFINED;
    }
}
