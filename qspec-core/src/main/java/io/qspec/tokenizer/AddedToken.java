package io.qspec.tokenizer;

/**
 * An entry of tokenizer.json's {@code added_tokens}: a string matched whole in the input before
 * BPE runs, so it is never split. {@code special} tokens (BOS, EOS, unk) are left out of decoded
 * text; {@code normalized} ones are looked for after normalization, the others in the raw input.
 */
record AddedToken(int id, String content, boolean special, boolean normalized, boolean lstrip, boolean rstrip,
        boolean singleWord) {
}
