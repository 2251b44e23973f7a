package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.TestModels;
import io.qspec.format.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real TinyStories-656K tokenizer.json: Llama-style BPE (Prepend+Replace normalizer, no
 * pre-tokenizer), 2048 pieces, 1967 merges, byte_fallback set but no {@code <0xXX>} pieces in the
 * vocabulary, so characters outside it become {@code <unk>} (fused).
 */
class BpeTokenizerTinyStoriesTest {
    static BpeTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = BpeTokenizer.fromHuggingFaceFolder(TestModels.tinyStories656K());
    }

    @Test
    void vocabularyAndSpecialTokens() {
        assertThat(tokenizer.vocabSize()).isEqualTo(2048);
        assertThat(tokenizer.bosId()).hasValue(1); // tokenizer_config bos_token "<|start_story|>"
        assertThat(tokenizer.eosId()).hasValue(2); // "<|end_story|>"
        assertThat(tokenizer.addBosByDefault()).isTrue();
        assertThat(tokenizer.tokenText(1)).isEqualTo("<|start_story|>");
        assertThat(tokenizer.tokenText(282)).isEqualTo("upon▁a▁tim");
        assertThat(tokenizer.pieceId("▁the▁")).hasValue(108);
    }

    @Test
    void onceUponATime() {
        // Normalized to "▁Once▁upon▁a▁time". Merges by rank (0-based index in "merges"):
        //   0 "e ▁", 4 "▁ a", 23 "▁a ▁", 29 "i m", 30 "o n", 66 "O n", 108 "u p", 120 "c e▁",
        //   149 "t im", 178 "on ▁a▁", 200 "up on▁a▁", 201 "upon▁a▁ tim".
        // The leading "▁" never merges with "On" (no "▁ On" merge), the final "e" has no "▁" after it.
        // Result: ▁(80) On(147) ce▁(201) upon▁a▁tim(282) e(57); checked with an independent naive
        // Python BPE over the same file.
        assertThat(tokenizer.encode("Once upon a time", false)).containsExactly(80, 147, 201, 282, 57);
        assertThat(tokenizer.encode("Once upon a time", true)).containsExactly(1, 80, 147, 201, 282, 57);
    }

    @Test
    void helloWorld() {
        // "▁Hello▁world": 32 "l l", 36 "o r", 58 "o ▁", 329 "w or", 389 "e ll", 474 "l d", 1207 "H ell"
        // → ▁(80) Hell(1288) o▁(139) wor(410) ld(555).
        assertThat(tokenizer.encode("Hello world", false)).containsExactly(80, 1288, 139, 410, 555);
        assertThat(tokenizer.decode(new int[] {80, 1288, 139, 410, 555})).isEqualTo("Hello world");
    }

    @Test
    void specialTokensInTextAreNotSplit() {
        // These added tokens are "normalized": the whole text becomes "▁a<|end_story|>b" and is cut
        // there: "▁a" (85, merge "▁ a"), <|end_story|> (2), "b" (54).
        assertThat(tokenizer.encode("a<|end_story|>b", false)).containsExactly(85, 2, 54);
        // The vocabulary also holds "▁<|start_story|>…" pieces learned from raw training text; the added
        // token is matched first, so they are never produced from text.
        assertThat(tokenizer.encode("<|start_story|>Once upon a time", false)).containsExactly(80, 1, 147, 201, 282, 57);
        assertThat(tokenizer.decode(tokenizer.encode("<|start_story|>Hi<|end_story|>", true))).isEqualTo("Hi");
    }

    @Test
    void charactersOutsideTheVocabularyBecomeUnk() {
        // 🍕 has no piece and there are no byte pieces: <unk> (0), which decoding skips as special.
        assertThat(tokenizer.encode("I like 🍕", false)).containsExactly(80, 276, 399, 0);
        // fuse_unk: three unknown CJK characters in a row give one <unk>.
        assertThat(tokenizer.encode("日本語", false)).containsExactly(80, 0);
        assertThat(tokenizer.decode(tokenizer.encode("I like 🍕", false))).isEqualTo("I like ");
    }

    @Test
    void roundTripsTextTheVocabularyCovers() {
        String[] texts = {
            "Once upon a time, there was a little girl named Lily.",
            "  two leading spaces, trailing one ",
            "Tom said, \"Let's play!\"\nThey played all day.\n\nThe end.",
            "",
            " ",
            "a",
        };
        for (String s : texts) {
            assertThat(tokenizer.decode(tokenizer.encode(s, false))).as(s).isEqualTo(s);
            assertThat(tokenizer.decode(tokenizer.encode(s, true))).as(s).isEqualTo(s);
        }
    }

    @Test
    void tokenBytes() {
        assertThat(tokenizer.tokenBytes(80)).isEqualTo(" ".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(201)).isEqualTo("ce ".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(1)).isEmpty();
        assertThat(tokenizer.tokenBytes(0)).isEmpty();
        assertThatThrownBy(() -> tokenizer.tokenBytes(2048)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodesALongStoryQuicklyAndExactly() {
        StringBuilder story = new StringBuilder();
        for (int i = 0; story.length() < 200_000; i++) {
            story.append("Once upon a time, there was a little dog named Max").append(i % 7)
                    .append(". He liked to run and play in the park with his friend.\n");
        }
        String text = story.toString();
        long start = System.nanoTime();
        int[] ids = tokenizer.encode(text, true);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(ids.length).isBetween(text.length() / 10, text.length() / 2);
        assertThat(millis).as("encode of %d chars took %d ms", text.length(), millis).isLessThan(10_000);
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
    }

    @Test
    void folderWithoutTokenizerJson(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("tokenizer.model"), "x");
        assertThatThrownBy(() -> BpeTokenizer.fromHuggingFaceFolder(tmp))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll(tmp.getFileName().toString(), "tokenizer.json");
    }
}
