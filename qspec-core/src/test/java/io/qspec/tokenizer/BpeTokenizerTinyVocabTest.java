package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.qspec.format.ModelFormatException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A Llama-2-style tokenizer.json built here with a vocabulary small enough that every expected id
 * can be worked out by hand from the merge ranks.
 */
class BpeTokenizerTinyVocabTest {
    // Ids: <unk> 0, <s> 1, </s> 2, byte pieces <0x00>..<0xFF> 3..258, then the pieces below.
    static final int UNK = 0;
    static final int BOS = 1;
    static final int EOS = 2;
    static final int SPACE = 259; // "▁"
    static final int A = 260;
    static final int B = 261;
    static final int C = 262;
    static final int BC = 263;
    static final int AB = 264;
    static final int ABC = 265;
    static final int SPACE_ABC = 266; // "▁abc"
    static final int AA = 267;

    static int byteId(int b) {
        return 3 + b;
    }

    /** Llama-2 layout: Prepend+Replace normalizer, no pre-tokenizer, Replace/ByteFallback/Fuse/Strip decoder. */
    static JsonObject llamaStyle(JsonArray merges) {
        JsonObject vocab = new JsonObject();
        vocab.addProperty("<unk>", UNK);
        vocab.addProperty("<s>", BOS);
        vocab.addProperty("</s>", EOS);
        for (int b = 0; b < 256; b++) {
            vocab.addProperty(String.format("<0x%02X>", b), byteId(b));
        }
        String[] pieces = {"▁", "a", "b", "c", "bc", "ab", "abc", "▁abc", "aa"};
        for (int i = 0; i < pieces.length; i++) {
            vocab.addProperty(pieces[i], SPACE + i);
        }
        JsonObject root = JsonParser.parseString("""
                {"version": "1.0",
                 "added_tokens": [
                   {"id": 0, "content": "<unk>", "normalized": false, "special": true},
                   {"id": 1, "content": "<s>", "normalized": false, "special": true},
                   {"id": 2, "content": "</s>", "normalized": false, "special": true}],
                 "normalizer": {"type": "Sequence", "normalizers": [
                   {"type": "Prepend", "prepend": "▁"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
                 "pre_tokenizer": null,
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
                 "decoder": {"type": "Sequence", "decoders": [
                   {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                   {"type": "ByteFallback"}, {"type": "Fuse"},
                   {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                 "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true}}
                """).getAsJsonObject();
        root.getAsJsonObject("model").add("vocab", vocab);
        root.getAsJsonObject("model").add("merges", merges);
        return root;
    }

    static JsonArray stringMerges(String... merges) {
        JsonArray a = new JsonArray();
        for (String m : merges) {
            a.add(m);
        }
        return a;
    }

    /** Merges in the newer ["left", "right"] form. */
    static JsonArray pairMerges(String... pairs) {
        JsonArray a = new JsonArray();
        for (String p : pairs) {
            JsonArray pair = new JsonArray();
            pair.add(p.substring(0, p.indexOf(' ')));
            pair.add(p.substring(p.indexOf(' ') + 1));
            a.add(pair);
        }
        return a;
    }

    /** Ranks: 0 "b c", 1 "a b", 2 "a bc", 3 "▁ abc", 4 "a a". */
    static BpeTokenizer rankedBcFirst() {
        return BpeTokenizer.fromTokenizerJson(llamaStyle(stringMerges("b c", "a b", "a bc", "▁ abc", "a a")).toString());
    }

    @Test
    void mergesApplyLowestRankFirst() {
        BpeTokenizer t = rankedBcFirst();
        // "abc" → "▁abc" → ▁ a b c; rank 0 "b c" → ▁ a bc; rank 2 "a bc" → ▁ abc; rank 3 "▁ abc" → ▁abc.
        assertThat(t.encode("abc", false)).containsExactly(SPACE_ABC);
        // "ab" → ▁ a b; rank 1 "a b" → ▁ ab; no merge "▁ ab" exists.
        assertThat(t.encode("ab", false)).containsExactly(SPACE, AB);
        // "aaa" → ▁ a a a; "a a" applies at the leftmost pair first → ▁ aa a.
        assertThat(t.encode("aaa", false)).containsExactly(SPACE, AA, A);
        // Two words: the normalizer makes "▁abc▁abc"; each "▁ abc" merges.
        assertThat(t.encode("abc abc", false)).containsExactly(SPACE_ABC, SPACE_ABC);
    }

    @Test
    void differentRankingGivesDifferentTokensAndArrayFormMergesWork() {
        // Ranks: 0 "a b", 1 "b c", 2 "a bc", 3 "ab c". For ▁ a b c, "a b" (rank 0) wins over "b c" (rank 1),
        // giving ▁ ab c; then "ab c" (rank 3) → ▁ abc. There is no "▁ abc" merge here.
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(llamaStyle(pairMerges("a b", "b c", "a bc", "ab c")).toString());
        assertThat(t.encode("abc", false)).containsExactly(SPACE, ABC);
        // ▁ b c → rank 1 "b c" → ▁ bc.
        assertThat(t.encode("bc", false)).containsExactly(SPACE, BC);
    }

    @Test
    void charactersOutsideTheVocabularyFallBackToBytesAndRoundTrip() {
        BpeTokenizer t = rankedBcFirst();
        // "é" is U+00E9 = UTF-8 C3 A9.
        assertThat(t.encode("aé", false)).containsExactly(SPACE, A, byteId(0xC3), byteId(0xA9));
        for (String s : new String[] {"aé", "😀 abc", "日本語 ab", "Ünïcödé  a\n\tb", " leading", "trailing ", "", "abc"}) {
            assertThat(t.decode(t.encode(s, false))).as(s).isEqualTo(s);
            assertThat(t.decode(t.encode(s, true))).as(s).isEqualTo(s);
        }
        // 😀 = F0 9F 98 80.
        assertThat(t.encode("😀", false)).containsExactly(SPACE, byteId(0xF0), byteId(0x9F), byteId(0x98), byteId(0x80));
    }

    @Test
    void tokenBytesGivesRawBytesForBytePiecesAndSpacesForMarkers() {
        BpeTokenizer t = rankedBcFirst();
        assertThat(t.tokenBytes(byteId(0xC3))).containsExactly((byte) 0xC3);
        assertThat(t.tokenBytes(SPACE_ABC)).isEqualTo(" abc".getBytes(StandardCharsets.UTF_8));
        assertThat(t.tokenBytes(BOS)).isEmpty();
        assertThat(t.tokenBytes(UNK)).isEmpty();
        assertThat(t.tokenText(SPACE_ABC)).isEqualTo("▁abc");
        assertThat(t.tokenText(byteId(0x0A))).isEqualTo("<0x0A>");
        assertThat(t.vocabSize()).isEqualTo(268);
    }

    @Test
    void invalidUtf8ByteRunsDecodeToReplacementCharacters() {
        BpeTokenizer t = rankedBcFirst();
        // A lone continuation byte: one U+FFFD per byte of the run, as in Hugging Face.
        assertThat(t.decode(new int[] {A, byteId(0xA9), byteId(0xA9), B})).isEqualTo("a\uFFFD\uFFFDb");
    }

    @Test
    void specialTokensInTextAreMatchedWholeAndSkippedByDecode() {
        BpeTokenizer t = rankedBcFirst();
        // These added tokens are not normalized, so they are cut out of the raw text first and each
        // remaining piece is normalized on its own: "a" → "▁a", "b" → "▁b" (Hugging Face's behaviour).
        assertThat(t.encode("a</s>b", false)).containsExactly(SPACE, A, EOS, SPACE, B);
        assertThat(t.encode("<s>abc", false)).containsExactly(BOS, SPACE_ABC);
        assertThat(t.encode("</s></s>", false)).containsExactly(EOS, EOS);
        assertThat(t.decode(new int[] {BOS, SPACE_ABC, EOS})).isEqualTo("abc");
        assertThat(t.isSpecial(EOS)).isTrue();
        assertThat(t.isSpecial(A)).isFalse();
    }

    @Test
    void bosComesFromTheTemplateOrFromTokenizerConfig() {
        BpeTokenizer fromTemplate = rankedBcFirst();
        assertThat(fromTemplate.bosId()).hasValue(BOS);
        assertThat(fromTemplate.eosId()).isEmpty();
        assertThat(fromTemplate.addBosByDefault()).isTrue();
        assertThat(fromTemplate.encode("ab", true)).containsExactly(BOS, SPACE, AB);

        String json = llamaStyle(stringMerges("a b")).toString();
        BpeTokenizer configured = BpeTokenizer.fromTokenizerJson(json,
                "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\", \"add_bos_token\": false}");
        assertThat(configured.bosId()).hasValue(BOS);
        assertThat(configured.eosId()).hasValue(EOS);
        assertThat(configured.addBosByDefault()).isFalse();

        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(json, "{\"eos_token\": \"<|eot|>\"}"))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer_config.json", "eos_token", "<|eot|>");
    }

    @Test
    void withoutByteFallbackUnknownCharactersBecomeOneFusedUnk() {
        JsonObject json = llamaStyle(stringMerges("a b"));
        json.getAsJsonObject("model").addProperty("byte_fallback", false);
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(json.toString());
        assertThat(t.encode("a日本b", false)).containsExactly(SPACE, A, UNK, B);
        assertThat(t.decode(t.encode("a日本b", false))).isEqualTo("ab");
    }

    @Test
    void metaspacePreTokenizerAndDecoder() {
        JsonObject json = llamaStyle(stringMerges("b c", "a b", "a bc", "▁ abc"));
        json.add("normalizer", null);
        json.add("pre_tokenizer", JsonParser.parseString(
                "{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"prepend_scheme\": \"first\", \"split\": true}"));
        json.add("decoder", JsonParser.parseString(
                "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Metaspace\", \"replacement\": \"▁\", \"prepend_scheme\": \"first\"},"
                        + " {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}]}"));
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(json.toString());
        // Split into words "▁abc", "▁ab": each merged on its own.
        assertThat(t.encode("abc ab", false)).containsExactly(SPACE_ABC, SPACE, AB);
        // "first": after a special token, the next piece gets no marker.
        assertThat(t.encode("</s>abc", false)).containsExactly(EOS, ABC);
        for (String s : new String[] {"abc ab", "x é 😀", "a  b"}) {
            assertThat(t.decode(t.encode(s, false))).as(s).isEqualTo(s);
        }
    }

    @Test
    void unsupportedComponentsAreNamed() {
        assertUnsupported("normalizer", "{\"type\": \"BertNormalizer\"}", "BertNormalizer");
        assertUnsupported("pre_tokenizer", "{\"type\": \"BertPreTokenizer\"}", "BertPreTokenizer");
        assertUnsupported("decoder", "{\"type\": \"WordPiece\"}", "WordPiece");
        assertUnsupported("normalizer", "{\"type\": \"Replace\", \"pattern\": {\"Regex\": \" +\"}, \"content\": \"▁\"}", "Regex");
        JsonObject unigram = llamaStyle(stringMerges());
        unigram.getAsJsonObject("model").addProperty("type", "Unigram");
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(unigram.toString()))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.json", "model", "Unigram");
    }

    @Test
    void mergesOfUnknownPiecesAndMalformedJsonAreRejected() {
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(llamaStyle(stringMerges("a z")).toString()))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.json", "merge 0", "'z'");
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(llamaStyle(stringMerges("abc")).toString()))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("merge 0", "two pieces");
        JsonObject wrongKind = llamaStyle(stringMerges());
        wrongKind.getAsJsonObject("model").add("merges", JsonParser.parseString("[[\"a\", {\"b\": 1}]]"));
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(wrongKind.toString()))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.json", "malformed");
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson("{\"model\": {"))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.json", "not valid JSON");
    }

    private static void assertUnsupported(String section, String component, String named) {
        JsonObject json = llamaStyle(stringMerges("a b"));
        json.add(section, JsonParser.parseString(component));
        assertThatThrownBy(() -> BpeTokenizer.fromTokenizerJson(json.toString()))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.json", section, named);
    }
}
