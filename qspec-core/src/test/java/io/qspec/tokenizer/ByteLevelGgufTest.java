package io.qspec.tokenizer;

import static io.qspec.tokenizer.ByteLevelTinyVocab.BEGIN;
import static io.qspec.tokenizer.ByteLevelTinyVocab.END;
import static io.qspec.tokenizer.ByteLevelTinyVocab.SPACE_HI;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** GGUF "gpt2" vocabularies built as metadata maps, against the equivalent tokenizer.json; and the GGUF dispatcher. */
class ByteLevelGgufTest {
    private static final Path FILE = Path.of("tiny-bpe.gguf");
    private static final String[] TEXTS = {"hello hello!\n", "<|begin_of_text|>I'M  here's 12345 llo",
            "日本語 😀 naïve\r\n\n  x", "<think> hi<|end_of_text|>", " hi hello"};

    private static Tokenizer fromGguf(Map<String, Object> metadata) {
        ModelMetadata md = () -> metadata;
        return Tokenizers.fromGguf(md, FILE);
    }

    @Test
    void llamaBpeEncodesLikeTheLlama3TokenizerJson() {
        Tokenizer gguf = fromGguf(ByteLevelTinyVocab.ggufMetadata("llama-bpe"));
        BpeTokenizer json = BpeTokenizer.fromTokenizerJson(ByteLevelTinyVocab.tokenizerJson(PreTokenizerRegex.LLAMA3, true).toString());
        assertThat(gguf).isInstanceOf(BpeTokenizer.class);
        for (String s : TEXTS) {
            assertThat(gguf.encode(s, false)).as(s).containsExactly(json.encode(s, false));
        }
        // llama-bpe implies ignore_merges: " hi" is the unreachable vocabulary word 265.
        assertThat(gguf.encode(" hi", false)).containsExactly(SPACE_HI);
        assertThat(gguf.bosId()).hasValue(BEGIN);
        assertThat(gguf.eosId()).hasValue(END);
        assertThat(((BpeTokenizer) gguf).addBosByDefault()).isTrue();
        assertThat(gguf.encode("hello", true)).startsWith(BEGIN);
        assertThat(gguf.vocabSize()).isEqualTo(json.vocabSize());
        assertThat(gguf.decode(gguf.encode("<|begin_of_text|>日本語 😀", false))).isEqualTo("日本語 😀");
    }

    @Test
    void qwen2AndGpt2PreTokenizersMatchTheirTokenizerJson() {
        for (var pre : Map.of("qwen2", PreTokenizerRegex.QWEN2, "gpt2", PreTokenizerRegex.GPT2).entrySet()) {
            Tokenizer gguf = fromGguf(ByteLevelTinyVocab.ggufMetadata(pre.getKey()));
            BpeTokenizer json = BpeTokenizer.fromTokenizerJson(ByteLevelTinyVocab.tokenizerJson(pre.getValue(), false).toString());
            for (String s : TEXTS) {
                assertThat(gguf.encode(s, false)).as(pre.getKey() + ": " + s).containsExactly(json.encode(s, false));
            }
            // Without ignore_merges " hi" stays three bytes.
            assertThat(gguf.encode(" hi", false)).containsExactly(' ', 'h', 'i');
        }
        // Qwen2 splits digits one by one, GPT-2 keeps the run (and merges nothing in it here): same ids, different words.
        assertThat(fromGguf(ByteLevelTinyVocab.ggufMetadata("qwen2")).encode("123", false)).containsExactly('1', '2', '3');
    }

    @Test
    void llamaCppAliasesAndBosDefaults() {
        // Llama 3 names default to BOS and ignore_merges; others to neither, unless add_bos_token says so.
        for (String name : List.of("llama3", "llama-v3", "llama-bpe")) {
            Map<String, Object> md = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata(name));
            md.remove("tokenizer.ggml.add_bos_token");
            BpeTokenizer t = (BpeTokenizer) fromGguf(md);
            assertThat(t.addBosByDefault()).as(name).isTrue();
            assertThat(t.encode(" hi", false)).as(name).containsExactly(SPACE_HI);
        }
        for (String name : List.of("gpt-2", "qwen2", "default")) {
            Map<String, Object> md = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata(name));
            md.remove("tokenizer.ggml.add_bos_token");
            assertThat(((BpeTokenizer) fromGguf(md)).addBosByDefault()).as(name).isFalse();
        }
        // No tokenizer.ggml.pre at all: llama.cpp's "default".
        Map<String, Object> noPre = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata("gpt2"));
        noPre.remove("tokenizer.ggml.pre");
        assertThat(fromGguf(noPre).encode("hello hello", false)).containsExactly(ByteLevelTinyVocab.HELLO, ByteLevelTinyVocab.SPACE_HELLO);
    }

    @Test
    void llamaModelStillGetsTheSentencePieceTokenizer() {
        Map<String, Object> md = Map.of(
                "tokenizer.ggml.model", "llama",
                "tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "▁", "a"),
                "tokenizer.ggml.scores", List.of(0.0, 0.0, 0.0, -1.0, -1.0));
        assertThat(fromGguf(md)).isInstanceOf(SentencePieceTokenizer.class);
    }

    @Test
    void unsupportedTokenizerKindIsNamedWithTheSupportedOnes() {
        Map<String, Object> md = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata("gpt2"));
        md.put("tokenizer.ggml.model", "bert");
        assertThatThrownBy(() -> fromGguf(md))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tiny-bpe.gguf", "'bert'", "'llama'", "'gpt2'");
        md.remove("tokenizer.ggml.model");
        assertThatThrownBy(() -> fromGguf(md))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.ggml.model");
    }

    @Test
    void unknownPreTokenizerAndBrokenMetadataAreRejected() {
        assertThatThrownBy(() -> fromGguf(ByteLevelTinyVocab.ggufMetadata("deepseek-coder")))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("tokenizer.ggml.pre", "deepseek-coder", "llama-bpe", "qwen2");
        Map<String, Object> noMerges = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata("gpt2"));
        noMerges.remove("tokenizer.ggml.merges");
        assertThatThrownBy(() -> fromGguf(noMerges))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.ggml.merges");
        Map<String, Object> badMerge = new java.util.HashMap<>(ByteLevelTinyVocab.ggufMetadata("gpt2"));
        badMerge.put("tokenizer.ggml.merges", List.of("h e", "hz"));
        assertThatThrownBy(() -> fromGguf(badMerge))
                .isExactlyInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("merges", "entry 1");
    }
}
