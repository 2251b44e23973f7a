package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The GPT-2, Llama 3 and Qwen2 split regexes on tricky text. Each expectation is derived from the
 * regex: alternatives are tried left to right at each position, quantifiers are greedy and backtrack.
 */
class ByteLevelPreTokenizerRegexTest {
    private static final String TRICKY = "I'M  here's 12345 héllo世界 😀!!\n\nbye";

    private static List<String> words(String regex, String text) {
        return SplitBehavior.ISOLATED.split(text, PreTokenizerRegex.compile(regex), false);
    }

    @Test
    void gpt2() {
        // "'M": contractions are lower-case only, so "'" is punctuation ( ?[^\s\p{L}\p{N}]+) and "M" a word.
        // "  here": \s+(?!\S) takes the first space only (backtracking so that no non-space follows), and the
        //   second space joins the word ( ?\p{L}+).
        // " 12345": ?\p{N}+ takes all digits. "世界" are letters (Lo). " 😀!!": emoji and "!" are neither space,
        //   letter nor digit. "\n\n": \s+(?!\S) can take only the first newline; the second, followed by "b",
        //   falls to the final \s+.
        assertThat(words(PreTokenizerRegex.GPT2, TRICKY)).containsExactly(
                "I", "'", "M", " ", " here", "'s", " 12345", " héllo世界", " 😀!!", "\n", "\n", "bye");
        assertThat(words(PreTokenizerRegex.GPT2, "you'll   go")).containsExactly("you", "'ll", "  ", " go");
    }

    @Test
    void llama3() {
        // "'M": (?i:...) contractions. " 12345": the space is followed by a digit, so no word takes it
        //   ([^\r\n\p{L}\p{N}]?\p{L}+ needs a letter, \s+(?!\S) a following space) and it is a word alone
        //   (\s+); digits go in runs of at most three: "123", "45".
        // " 😀!!\n\n": ?[^\s\p{L}\p{N}]+[\r\n]* keeps trailing newlines with the punctuation.
        assertThat(words(PreTokenizerRegex.LLAMA3, TRICKY)).containsExactly(
                "I", "'M", " ", " here", "'s", " ", "123", "45", " héllo世界", " 😀!!\n\n", "bye");
        // \s*[\r\n]+ takes the newlines (not the spaces after them, which are not followed by a newline);
        // the spaces then split as "  x" → " " + " x", and the one non-letter before a word joins it: "(x".
        assertThat(words(PreTokenizerRegex.LLAMA3, "a\n\n  b(x")).containsExactly("a", "\n\n", " ", " b", "(x");
        // \p{N} covers non-ASCII digits: Arabic-Indic ٣٤٥٦ → "٣٤٥", "٦".
        assertThat(words(PreTokenizerRegex.LLAMA3, "٣٤٥٦")).containsExactly("٣٤٥", "٦");
        // Unicode case folding: the long s "ſ" folds to "s", so "'ſ" is a contraction (as in Oniguruma).
        assertThat(words(PreTokenizerRegex.LLAMA3, "it'ſ")).containsExactly("it", "'ſ");
    }

    @Test
    void qwen2() {
        // Llama 3's regex with single digits.
        assertThat(words(PreTokenizerRegex.QWEN2, TRICKY)).containsExactly(
                "I", "'M", " ", " here", "'s", " ", "1", "2", "3", "4", "5", " héllo世界", " 😀!!\n\n", "bye");
    }

    @Test
    void cjkAndEmojiSequencesStayWhole() {
        for (String regex : List.of(PreTokenizerRegex.GPT2, PreTokenizerRegex.LLAMA3, PreTokenizerRegex.QWEN2)) {
            // All CJK characters and kana are letters; the family emoji is three emoji joined by U+200D (a format
            // character, neither space, letter nor digit), so one punctuation run including the leading space.
            assertThat(words(regex, "日本語のテキスト 👨‍👩‍👧")).as(regex).containsExactly("日本語のテキスト", " 👨‍👩‍👧");
        }
    }

    @Test
    void whitespaceIsUnicodeWhitespaceAsInTheReferenceEngine() {
        // NBSP (U+00A0) is White_Space: \s+(?!\S) takes the first (the second is not \S), \s+ the second.
        String nbsp = "a\u00A0\u00A0b";
        assertThat(words(PreTokenizerRegex.GPT2, nbsp)).containsExactly("a", "\u00A0", "\u00A0", "b");
        // Java's default \s is ASCII-only and would make the NBSPs one punctuation run: the flag matters.
        assertThat(SplitBehavior.ISOLATED.split(nbsp, Pattern.compile(PreTokenizerRegex.GPT2), false))
                .containsExactly("a", "\u00A0\u00A0", "b");
        // The ideographic space U+3000 likewise; before a letter Llama 3 glues it to the word (one non-letter).
        assertThat(words(PreTokenizerRegex.LLAMA3, "世\u3000界")).containsExactly("世", "\u3000界");
    }

    @Test
    void splitBehaviorsMatchHuggingFaceDocumentation() {
        // The tokenizers docs' example: "the-final--countdown" split on "-".
        Pattern dash = Pattern.compile("-");
        String text = "the-final--countdown";
        assertThat(SplitBehavior.REMOVED.split(text, dash, false)).containsExactly("the", "final", "countdown");
        assertThat(SplitBehavior.ISOLATED.split(text, dash, false)).containsExactly("the", "-", "final", "-", "-", "countdown");
        assertThat(SplitBehavior.MERGED_WITH_PREVIOUS.split(text, dash, false)).containsExactly("the-", "final-", "-", "countdown");
        assertThat(SplitBehavior.MERGED_WITH_NEXT.split(text, dash, false)).containsExactly("the", "-final", "-", "-countdown");
        assertThat(SplitBehavior.CONTIGUOUS.split(text, dash, false)).containsExactly("the", "-", "final", "--", "countdown");
        // invert: the text between dashes plays the part of the matches, so Removed keeps only the dashes.
        assertThat(SplitBehavior.REMOVED.split(text, dash, true)).containsExactly("-", "-", "-");
    }

    @Test
    void llamaCppDefaultAppliesItsFourRegexesOneAfterAnother() {
        PreTokenizer p = new PreTokenizer.Sequence(PreTokenizerRegex.LLAMA_CPP_DEFAULT.stream()
                .<PreTokenizer>map(r -> new PreTokenizer.Split(PreTokenizerRegex.compile(r), SplitBehavior.ISOLATED, false))
                .toList());
        // 1: punctuation and $+<=>^~| runs: "a" "," " 12345 " "$" "x".
        // 2: GPT-2 words: " 12345 " → " 12345" + " " (\s+(?!\S) at the end of the piece).
        // 3: digit runs: " 12345" → " " + "12345".  4: groups of three ASCII digits: "123" + "45".
        assertThat(p.split("a, 12345 $x", true)).containsExactly("a", ",", " ", "123", "45", " ", "$", "x");
    }

    @Test
    void byteLevelWithItsOwnRegexSpellsWordsInTheByteAlphabet() {
        // ByteLevel(use_regex=true) splits with the GPT-2 regex, then spells bytes: " é" → "Ġ" + "Ã©".
        PreTokenizer p = new PreTokenizer.ByteLevel(false, true);
        assertThat(p.split("a é\n", true)).containsExactly("a", "ĠÃ©", "Ċ");
        assertThat(new PreTokenizer.ByteLevel(true, true).split("a", true)).containsExactly("Ġa");
    }
}
