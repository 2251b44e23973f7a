package io.qspec.tokenizer;

import java.util.OptionalInt;

/**
 * Text ⇄ token ids for one model. Implementations are immutable and thread-safe.
 * {@code decode(encode(s, false))} returns {@code s} for any string the vocabulary can represent
 * (every string, for tokenizers with byte fallback).
 */
public interface Tokenizer {

    /** Number of token ids (the model's vocabulary size). */
    int vocabSize();

    /** Ids for {@code text}; with {@code addBos} the beginning-of-sequence id is prepended when the model has one. */
    int[] encode(String text, boolean addBos);

    /** Text of a sequence of ids (special tokens such as BOS/EOS contribute nothing). */
    String decode(int[] ids);

    /**
     * The raw bytes token {@code id} stands for (UTF-8 fragments, possibly an incomplete character;
     * empty for control tokens). Streaming decoders join these and emit only complete characters.
     */
    byte[] tokenBytes(int id);

    /** The vocabulary entry of {@code id}, as written in the model file (for debugging and tests). */
    String tokenText(int id);

    /** Beginning-of-sequence id, if the model defines one. */
    OptionalInt bosId();

    /** End-of-sequence id, if the model defines one. */
    OptionalInt eosId();
}
