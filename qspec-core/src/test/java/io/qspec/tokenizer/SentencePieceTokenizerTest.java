package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.TestModels;
import io.qspec.format.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SentencePiece tokenizer of the real stories260K.gguf (512 tokens). */
class SentencePieceTokenizerTest {
    private static SentencePieceTokenizer tokenizer;

    @BeforeAll
    static void load() {
        try (GgufFile gguf = GgufFile.open(TestModels.stories260K())) {
            tokenizer = SentencePieceTokenizer.fromGguf(gguf.metadata(), gguf.location());
        }
    }

    @Test
    void vocabularyAndSpecialTokens() {
        assertThat(tokenizer.vocabSize()).isEqualTo(512);
        assertThat(tokenizer.bosId()).hasValue(1);
        assertThat(tokenizer.eosId()).hasValue(2);
        assertThat(tokenizer.addBosByDefault()).isTrue();
        assertThat(tokenizer.tokenText(0)).isEqualTo("<unk>");
        assertThat(tokenizer.tokenText(1)).isEqualTo("<s>");
        assertThat(tokenizer.tokenText(3)).isEqualTo("<0x00>");
        assertThat(tokenizer.tokenText(403)).isEqualTo("\u2581Once");
    }

    /**
     * llama2.c's run.c prints these ids for stories260K. Why they are right: the pieces concatenate
     * to the escaped text "▁Once▁upon▁a▁time", and no two adjacent pieces concatenate to a
     * vocabulary piece, so no further merge was possible; the merge order is cross-checked against
     * a literal port of llama2.c's encoder in {@link #agreesWithLlama2cReferenceEncoderOnRandomText}.
     */
    @Test
    void encodesOnceUponATimeLikeLlama2c() {
        int[] ids = tokenizer.encode("Once upon a time", true);
        assertThat(ids).containsExactly(1, 403, 407, 261, 378);
        assertThat(pieces(ids)).containsExactly("<s>", "\u2581Once", "\u2581upon", "\u2581a", "\u2581time");
        assertThat(String.join("", pieces(Arrays.copyOfRange(ids, 1, ids.length))))
                .isEqualTo("\u2581Once\u2581upon\u2581a\u2581time");
        List<String> vocab = new ArrayList<>();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            vocab.add(tokenizer.tokenText(id));
        }
        for (int i = 1; i + 1 < ids.length; i++) {
            assertThat(vocab).doesNotContain(tokenizer.tokenText(ids[i]) + tokenizer.tokenText(ids[i + 1]));
        }
        assertThat(tokenizer.encode("Once upon a time", false)).containsExactly(403, 407, 261, 378);
    }

    @Test
    void encodesKnownTextsWithIdsFromTheReferenceEncoder() {
        // ids computed with a Python port of llama2.c's encode() over the same vocabulary
        assertThat(tokenizer.encode("Hello world", true)).containsExactly(1, 346, 306, 414, 263, 304, 341);
        assertThat(tokenizer.encode("  two  spaces", true))
                .containsExactly(1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419);
    }

    @Test
    void fallsBackToUtf8ByteTokensForCharactersOutsideTheVocabulary() {
        int[] ids = tokenizer.encode("Lily likes the café 😀!", true);
        // 'é' is a piece of its own (485); 😀 (F0 9F 98 80) is not, so it becomes four byte tokens
        assertThat(ids).containsExactly(1, 317, 397, 354, 419, 265, 280, 412, 431, 485, 410, 243, 162, 155, 131, 443);
        assertThat(pieces(Arrays.copyOfRange(ids, 11, 15))).containsExactly("<0xF0>", "<0x9F>", "<0x98>", "<0x80>");
        assertThat(tokenizer.decode(ids)).isEqualTo("Lily likes the café 😀!");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "Once upon a time, there was a little girl named Lily.", " leading space",
            "trailing space ", "two  spaces", "   ", "line\nbreak\ttab", "日本語のテキスト", "emoji 😀👍🏽 and flags 🇩🇪",
            "mixed é ß ü ñ €", "<s> literal </s> <0x41>", "nul\u0000char"})
    void decodeInvertsEncode(String text) {
        assertThat(tokenizer.decode(tokenizer.encode(text, false))).isEqualTo(text);
        assertThat(tokenizer.decode(tokenizer.encode(text, true))).isEqualTo(text);
    }

    /** Like llama.cpp and llama2.c: the space marker is the escaped space, so a literal one comes back as a space. */
    @Test
    void literalSpaceMarkerInInputDecodesAsSpace() {
        String text = "a\u2581b";
        assertThat(tokenizer.encode(text, false)).containsExactly(tokenizer.encode("a b", false));
        assertThat(tokenizer.decode(tokenizer.encode(text, false))).isEqualTo("a b");
    }

    @Test
    void controlTokensDecodeToNothingAndOnlyTheDummyPrefixSpaceIsStripped() {
        assertThat(tokenizer.decode(new int[] {1, 403, 407, 261, 378, 2})).isEqualTo("Once upon a time");
        // a second sentence keeps its space: only the start of the sequence carries the dummy prefix
        assertThat(tokenizer.decode(new int[] {403, 403})).isEqualTo("Once Once");
        assertThat(tokenizer.decode(new int[] {})).isEmpty();
        assertThat(tokenizer.decode(new int[] {1, 2})).isEmpty();
    }

    @Test
    void tokenBytesAreTheRawUtf8OfEachPiece() {
        assertThat(tokenizer.tokenBytes(403)).isEqualTo(" Once".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(243)).containsExactly((byte) 0xF0);
        assertThat(tokenizer.tokenBytes(3)).containsExactly((byte) 0x00);
        assertThat(tokenizer.tokenBytes(1)).isEmpty();
        assertThat(tokenizer.tokenBytes(2)).isEmpty();
        // tokenBytes returns a copy: callers cannot corrupt the vocabulary
        tokenizer.tokenBytes(403)[0] = 'X';
        assertThat(tokenizer.tokenBytes(403)[0]).isEqualTo((byte) ' ');

        String text = "Stream 😀 me";
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int id : tokenizer.encode(text, true)) {
            joined.writeBytes(tokenizer.tokenBytes(id));
        }
        assertThat(joined.toString(StandardCharsets.UTF_8)).isEqualTo(" " + text);
    }

    @Test
    void rejectsIdsOutsideTheVocabulary() {
        assertThatThrownBy(() -> tokenizer.tokenBytes(512)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("512");
        assertThatThrownBy(() -> tokenizer.decode(new int[] {1, -1})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tokenizer.tokenText(9999)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void agreesWithLlama2cReferenceEncoderOnRandomText() {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,!?'\"éü€日";
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(40);
            for (int i = 0; i < length; i++) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String s = text.toString();
            assertThat(tokenizer.encode(s, true)).as(s).containsExactly(llama2cEncode(s));
            assertThat(tokenizer.decode(tokenizer.encode(s, true))).isEqualTo(s);
        }
        for (String story : List.of("Once upon a time, there was a little girl named Lily. She loved to play outside.",
                "The cat sat on the mat and looked at the big red ball.")) {
            assertThat(tokenizer.encode(story, true)).as(story).containsExactly(llama2cEncode(story));
        }
    }

    @Test
    void encodesLongTextQuickly() {
        String story = "Once upon a time, there was a little girl named Lily. She liked to play in the park. ";
        String text = story.repeat(2000);   // 172k characters
        long start = System.nanoTime();
        int[] ids = tokenizer.encode(text, true);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
        // the O(n^2) llama2.c scan would take minutes here; a priority queue takes well under a second
        assertThat(millis).isLessThan(10_000);
    }

    private static List<String> pieces(int[] ids) {
        return Arrays.stream(ids).mapToObj(tokenizer::tokenText).toList();
    }

    /**
     * A literal port of llama2.c's encode(): byte fallback at id byte + 3, then repeated full scans
     * for the adjacent pair with the best score, leftmost on ties.
     */
    private static int[] llama2cEncode(String text) {
        List<String> vocab = new ArrayList<>();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            vocab.add(tokenizer.tokenText(id));
        }
        List<Integer> ids = new ArrayList<>(List.of(1));
        String escaped = "\u2581" + text.replace(' ', '\u2581');
        escaped.codePoints().forEach(cp -> {
            String ch = Character.toString(cp);
            int id = vocab.indexOf(ch);
            if (id >= 0) {
                ids.add(id);
            } else {
                for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    ids.add((b & 0xFF) + 3);
                }
            }
        });
        while (true) {
            float bestScore = -1e10f;
            int bestIndex = -1;
            int bestId = -1;
            for (int i = 1; i + 1 < ids.size(); i++) {
                int id = vocab.indexOf(vocab.get(ids.get(i)) + vocab.get(ids.get(i + 1)));
                if (id >= 0 && tokenizer.tokenScore(id) > bestScore) {
                    bestScore = tokenizer.tokenScore(id);
                    bestIndex = i;
                    bestId = id;
                }
            }
            if (bestIndex < 0) {
                break;
            }
            ids.set(bestIndex, bestId);
            ids.remove(bestIndex + 1);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
