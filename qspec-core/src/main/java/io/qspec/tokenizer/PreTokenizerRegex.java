package io.qspec.tokenizer;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The word-splitting regexes of byte-level BPE models, and how to compile tokenizer.json regexes so
 * that Java matches what Hugging Face's Oniguruma engine matches.
 */
final class PreTokenizerRegex {
    /** GPT-2 (also the ByteLevel pre-tokenizer's built-in regex with {@code use_regex: true}). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Llama 3: case-insensitive contractions, one leading non-letter glued to words, digits in runs of up to three. */
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Qwen2: Llama 3's regex with every digit a word of its own. */
    static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * llama.cpp's fallback for GGUF files whose {@code tokenizer.ggml.pre} is "default": these
     * regexes are applied one after another, each splitting the pieces of the previous one and
     * keeping both matches and the text between them.
     */
    static final List<String> LLAMA_CPP_DEFAULT = List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "\\p{N}+",
            "[0-9][0-9][0-9]");

    private static final Pattern GPT2_PATTERN = compile(GPT2);

    private PreTokenizerRegex() {
    }

    /**
     * Compiles a tokenizer regex. {@code UNICODE_CHARACTER_CLASS} makes {@code \s} the Unicode
     * White_Space set (not just ASCII blanks) and {@code (?i)} fold case by Unicode rules, as in
     * Oniguruma; {@code \p{L}} and {@code \p{N}} are Unicode categories either way, and Java
     * matches by code point, so emoji and other supplementary characters are one character.
     */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    static Pattern gpt2() {
        return GPT2_PATTERN;
    }
}
