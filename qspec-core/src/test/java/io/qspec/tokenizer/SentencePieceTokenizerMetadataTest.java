package io.qspec.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Building the tokenizer from hand-made metadata: merge rules on a tiny vocabulary, and every validation error. */
class SentencePieceTokenizerMetadataTest {
    private static final Path FILE = Path.of("tiny-model.gguf");

    /** A vocabulary of {@code <unk> <s> </s>}, 256 byte tokens, then the given pieces with the given scores. */
    private static Map<String, Object> vocabulary(List<String> pieces, List<Double> scores) {
        List<Object> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Object> allScores = new ArrayList<>(List.of(0.0, 0.0, 0.0));
        List<Object> types = new ArrayList<>(List.of(2L, 3L, 3L));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            allScores.add(0.0);
            types.add(6L);
        }
        tokens.addAll(pieces);
        allScores.addAll(scores);
        pieces.forEach(p -> types.add(1L));
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.scores", allScores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        return md;
    }

    private static ModelMetadata metadata(Map<String, Object> map) {
        return () -> map;
    }

    private static SentencePieceTokenizer tokenizer(Map<String, Object> map) {
        return SentencePieceTokenizer.fromGguf(metadata(map), FILE);
    }

    @Test
    void mergesTheHighestScoringPairFirst() {
        // ids 259.. : ▁ a b c ab bc ▁a
        var t = tokenizer(vocabulary(List.of("▁", "a", "b", "c", "ab", "bc", "▁a"),
                List.of(-10.0, -10.0, -10.0, -10.0, -2.0, -1.0, -5.0)));
        // "▁abc": bc (-1) beats ab (-2) and ▁a (-5); then ▁a merges
        assertThat(pieces(t, t.encode("abc", false))).containsExactly("▁a", "bc");
    }

    @Test
    void breaksScoreTiesLeftmostFirst() {
        var t = tokenizer(vocabulary(List.of("▁", "a", "aa"), List.of(-10.0, -10.0, -1.0)));
        assertThat(pieces(t, t.encode("aaa", false))).containsExactly("▁", "aa", "a");
    }

    @Test
    void addSpacePrefixFalseEncodesWithoutDummyPrefix() {
        Map<String, Object> md = vocabulary(List.of("▁", "a", "b", "ab"), List.of(-10.0, -10.0, -10.0, -1.0));
        md.put("tokenizer.ggml.add_space_prefix", false);
        md.put("tokenizer.ggml.add_bos_token", false);
        var t = tokenizer(md);
        assertThat(pieces(t, t.encode("ab a", false))).containsExactly("ab", "▁", "a");
        assertThat(t.decode(t.encode(" ab", false))).isEqualTo(" ab");
        assertThat(t.addBosByDefault()).isFalse();
    }

    @Test
    void withoutByteTokensUnknownCharactersBecomeTheUnknownToken() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "▁", "a"));
        md.put("tokenizer.ggml.scores", List.of(0.0, 0.0, 0.0, -1.0, -1.0));
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        var t = tokenizer(md);   // no token_type: types are inferred
        assertThat(t.encode("a€a", true)).containsExactly(1, 3, 4, 0, 4);
        assertThat(t.tokenBytes(1)).isEmpty();
    }

    @Test
    void typesAreInferredWhenTokenTypeIsAbsent() {
        Map<String, Object> md = vocabulary(List.of("▁", "a"), List.of(-1.0, -1.0));
        md.remove("tokenizer.ggml.token_type");
        var t = tokenizer(md);
        assertThat(t.encode("a😀", false)).hasSize(2 + 4);
        assertThat(t.decode(t.encode("a😀", true))).isEqualTo("a😀");
        assertThat(t.tokenBytes(2)).isEmpty();
    }

    @Test
    void rejectsMissingOrForeignTokenizerModel() {
        Map<String, Object> md = vocabulary(List.of(), List.of());
        md.remove("tokenizer.ggml.model");
        assertFormatError(md, "'tokenizer.ggml.model' is missing");
        md.put("tokenizer.ggml.model", "gpt2");
        assertFormatError(md, "'tokenizer.ggml.model' is 'gpt2'");
    }

    @Test
    void rejectsMissingTokensOrScores() {
        Map<String, Object> md = vocabulary(List.of(), List.of());
        md.remove("tokenizer.ggml.scores");
        assertFormatError(md, "'tokenizer.ggml.scores' is missing");
        md = vocabulary(List.of(), List.of());
        md.put("tokenizer.ggml.tokens", "not a list");
        assertFormatError(md, "'tokenizer.ggml.tokens' is String");
        md.put("tokenizer.ggml.tokens", List.of());
        assertFormatError(md, "'tokenizer.ggml.tokens' is empty");
    }

    @Test
    void rejectsLengthMismatches() {
        Map<String, Object> md = vocabulary(List.of("a"), List.of(-1.0));
        md.put("tokenizer.ggml.scores", List.of(0.0, 0.0));
        assertFormatError(md, "'tokenizer.ggml.scores' has 2 entries but 'tokenizer.ggml.tokens' has 260");
        md = vocabulary(List.of("a"), List.of(-1.0));
        md.put("tokenizer.ggml.token_type", List.of(1L));
        assertFormatError(md, "'tokenizer.ggml.token_type' has 1 entries but 'tokenizer.ggml.tokens' has 260");
    }

    @Test
    void rejectsBadEntries() {
        Map<String, Object> md = vocabulary(List.of("a"), List.of(-1.0));
        @SuppressWarnings("unchecked")
        List<Object> types = new ArrayList<>((List<Object>) md.get("tokenizer.ggml.token_type"));
        types.set(259, 9L);
        md.put("tokenizer.ggml.token_type", types);
        assertFormatError(md, "'tokenizer.ggml.token_type' entry 259 is Long 9");
        types.set(259, 6L);   // "a" marked as a byte token
        assertFormatError(md, "token 259 'a' is marked as a byte token");

        md = vocabulary(List.of("a"), List.of(-1.0));
        md.put("tokenizer.ggml.bos_token_id", 260L);
        assertFormatError(md, "'tokenizer.ggml.bos_token_id' is 260, outside the vocabulary of 260 tokens");
        md.put("tokenizer.ggml.bos_token_id", "one");
        assertFormatError(md, "'tokenizer.ggml.bos_token_id' is String one");
    }

    @Test
    void noneValuedSpecialIdsMeanAbsent() {
        Map<String, Object> md = vocabulary(List.of("a"), List.of(-1.0));
        md.put("tokenizer.ggml.eos_token_id", 0xFFFF_FFFFL);
        var t = tokenizer(md);
        assertThat(t.eosId()).isEmpty();
        assertThat(t.bosId()).hasValue(1);
    }

    private static List<String> pieces(SentencePieceTokenizer t, int[] ids) {
        return Arrays.stream(ids).mapToObj(t::tokenText).toList();
    }

    private static void assertFormatError(Map<String, Object> md, String problem) {
        assertThatThrownBy(() -> tokenizer(md))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tiny-model.gguf")
                .hasMessageContaining(problem);
    }
}
