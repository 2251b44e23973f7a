package io.qspec.tokenizer;

import static io.qspec.tokenizer.ByteLevelTinyVocab.BEGIN;
import static io.qspec.tokenizer.ByteLevelTinyVocab.END;
import static io.qspec.tokenizer.ByteLevelTinyVocab.HELLO;
import static io.qspec.tokenizer.ByteLevelTinyVocab.LL;
import static io.qspec.tokenizer.ByteLevelTinyVocab.LO;
import static io.qspec.tokenizer.ByteLevelTinyVocab.SPACE_HELLO;
import static io.qspec.tokenizer.ByteLevelTinyVocab.SPACE_HI;
import static io.qspec.tokenizer.ByteLevelTinyVocab.THINK;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Byte-level tokenizer.json files (Llama 3 and GPT-2 layouts) over {@link ByteLevelTinyVocab}; ids worked out by hand. */
class ByteLevelBpeTokenizerTest {

    private static BpeTokenizer llama3(boolean ignoreMerges) {
        return BpeTokenizer.fromTokenizerJson(ByteLevelTinyVocab.tokenizerJson(PreTokenizerRegex.LLAMA3, ignoreMerges).toString());
    }

    /** GPT-2 layout: a lone ByteLevel pre-tokenizer that splits with its built-in regex. */
    private static BpeTokenizer gpt2(boolean addPrefixSpace) {
        JsonObject json = ByteLevelTinyVocab.tokenizerJson(PreTokenizerRegex.GPT2, false);
        json.add("pre_tokenizer", JsonParser.parseString(
                "{\"type\": \"ByteLevel\", \"add_prefix_space\": " + addPrefixSpace + ", \"trim_offsets\": true, \"use_regex\": true}"));
        return BpeTokenizer.fromTokenizerJson(json.toString());
    }

    @Test
    void mergesByRankOverTheByteAlphabet() {
        BpeTokenizer t = llama3(false);
        // "hello": h e l l o → rank 0 "he" → rank 1 "ll" (beats "lo", rank 2) → rank 3 "hell" → rank 4 "hello".
        // " hello" is one Llama 3 word: Ġ h e l l o → ... → Ġ hello → rank 5 "Ġhello".
        // "!\n" is one word ( ?[^\s\p{L}\p{N}]+[\r\n]*) with no merges: bytes 0x21 and 0x0A, ids 33 and 10.
        assertThat(t.encode("hello hello!\n", false)).containsExactly(HELLO, SPACE_HELLO, 33, 10);
        // "llo": "ll" (rank 1) is applied before "lo" (rank 2), leaving "o" (111) alone.
        assertThat(t.encode("llo", false)).containsExactly(LL, 'o');
        assertThat(t.encode("lo", false)).containsExactly(LO);
        // No merges for these: one id per UTF-8 byte. "😀" is F0 9F 98 80, "é" is C3 A9.
        assertThat(t.encode("😀", false)).containsExactly(0xF0, 0x9F, 0x98, 0x80);
        assertThat(t.encode("é", false)).containsExactly(0xC3, 0xA9);
        assertThat(t.tokenText(SPACE_HELLO)).isEqualTo("Ġhello");
        assertThat(t.tokenBytes(SPACE_HELLO)).isEqualTo(" hello".getBytes(StandardCharsets.UTF_8));
        assertThat(t.tokenBytes(0xF0)).containsExactly((byte) 0xF0);
        assertThat(t.vocabSize()).isEqualTo(266);
    }

    @Test
    void specialAndAddedTokensAreMatchedWholeBeforeSplitting() {
        BpeTokenizer t = llama3(false);
        // Without added-token matching "<|" would be split as punctuation and never reach id 262.
        assertThat(t.encode("<|begin_of_text|>hello<|end_of_text|>", false)).containsExactly(BEGIN, HELLO, END);
        // The text after an added token is split on its own: " hello" is still one word.
        assertThat(t.encode("<think> hello", false)).containsExactly(THINK, SPACE_HELLO);
        // Special tokens decode to nothing, non-special added tokens to their text.
        assertThat(t.decode(new int[] {BEGIN, THINK, SPACE_HELLO, END})).isEqualTo("<think> hello");
        assertThat(t.isSpecial(BEGIN)).isTrue();
        assertThat(t.isSpecial(THINK)).isFalse();
        assertThat(t.tokenBytes(BEGIN)).isEmpty();
        assertThat(t.tokenBytes(THINK)).isEqualTo("<think>".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bosComesFromTheTemplateInsideASequencePostProcessor() {
        BpeTokenizer t = llama3(false);
        assertThat(t.bosId()).hasValue(BEGIN);
        assertThat(t.addBosByDefault()).isTrue();
        assertThat(t.encode("hello", true)).containsExactly(BEGIN, HELLO);
    }

    @Test
    void ignoreMergesTakesAWordThatIsInTheVocabularyWhole() {
        // " hi" is one word; "Ġhi" (265) is in the vocabulary but no merge builds it.
        assertThat(llama3(true).encode(" hi", false)).containsExactly(SPACE_HI);
        assertThat(llama3(false).encode(" hi", false)).containsExactly(' ', 'h', 'i');
        // Words not in the vocabulary are still merged.
        assertThat(llama3(true).encode("llo", false)).containsExactly(LL, 'o');
    }

    @Test
    void decodeInvertsEncodeForAnyText() {
        BpeTokenizer t = llama3(true);
        String[] texts = {"", "hello", "  hello  world\n\n\tfoo", "I'M here's 12345", "日本語のテキスト, 世界!",
                "👨‍👩‍👧 😀😀", "naïve café\r\n", "\u00A0\u3000x", "e\u0301 (combining)", "<think>hello<|end_of_text|>"};
        for (String s : texts) {
            String expected = s.replace("<|end_of_text|>", "");   // special tokens decode to nothing
            assertThat(t.decode(t.encode(s, false))).as(s).isEqualTo(expected);
        }
    }

    @Test
    void gpt2LayoutSplitsWithTheByteLevelRegex() {
        // GPT-2 regex: "hello", " hello", "!!" → ids 260, 261, 33, 33.
        assertThat(gpt2(false).encode("hello hello!!", false)).containsExactly(HELLO, SPACE_HELLO, '!', '!');
        // add_prefix_space: "hello" is read as " hello"; as in Hugging Face the decoder keeps that space.
        BpeTokenizer prefixed = gpt2(true);
        assertThat(prefixed.encode("hello", false)).containsExactly(SPACE_HELLO);
        assertThat(prefixed.decode(prefixed.encode("hello", false))).isEqualTo(" hello");
    }

    @Test
    void invalidUtf8FromPartialTokensDecodesToReplacementCharacters() {
        // The first two of the four bytes of "😀" are not complete UTF-8.
        assertThat(llama3(false).decode(new int[] {0xF0, 0x9F, 'a'})).endsWith("a").contains("\uFFFD");
    }

    @Test
    void readsAHuggingFaceFolder(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), ByteLevelTinyVocab.tokenizerJson(PreTokenizerRegex.QWEN2, false).toString());
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": null, \"eos_token\": \"<|end_of_text|>\", \"add_bos_token\": false}");
        BpeTokenizer t = BpeTokenizer.fromHuggingFaceFolder(dir);
        assertThat(t.eosId()).hasValue(END);
        assertThat(t.addBosByDefault()).isFalse();
        assertThat(t.encode(" hello12", false)).containsExactly(SPACE_HELLO, '1', '2');
    }
}
