package io.qspec.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.tokenizer.BpeTokenizer;
import io.qspec.tokenizer.Tokenizer;
import io.qspec.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A byte-level ("gpt2") vocabulary written into a real GGUF file and read back through
 * {@link GgufFile} and {@link Tokenizers#fromGguf}, so the parsed value types (int32 arrays, bools,
 * uint32 ids) are the ones the tokenizer sees from llama.cpp conversions.
 */
class GgufByteLevelTokenizerFileTest {
    private static final int STRING = 8;
    private static final int INT32 = 5;
    private static final int BOOL = 7;
    private static final int ARRAY = 9;

    /** GPT-2's bytes_to_unicode, written out independently of the production table. */
    private static String byteChar(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) {
            return String.valueOf((char) b);
        }
        int shifted = 0;
        for (int c = 0; c < b; c++) {
            boolean p = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
            shifted += p ? 0 : 1;
        }
        return String.valueOf((char) (256 + shifted));
    }

    @Test
    void gpt2VocabularyFromAGgufFile(@TempDir Path dir) {
        // Ids 0..255 single bytes; 256 "he", 257 "ll", 258 "hell", 259 "hello", 260 "Ġhello"; 261 <|endoftext|> (control).
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(byteChar(b));
        }
        tokens.addAll(List.of("he", "ll", "hell", "hello", "Ġhello", "<|endoftext|>"));
        List<String> merges = List.of("h e", "l l", "he ll", "hell o", "Ġ hello");
        GgufTestWriter w = new GgufTestWriter()
                .kvString("general.architecture", "gpt2")
                .kvString("tokenizer.ggml.model", "gpt2")
                .kvString("tokenizer.ggml.pre", "gpt-2")
                .kv("tokenizer.ggml.tokens", ARRAY, b -> {
                    b.u32(STRING).u64(tokens.size());
                    tokens.forEach(b::string);
                })
                .kv("tokenizer.ggml.token_type", ARRAY, b -> {
                    b.u32(INT32).u64(tokens.size());
                    for (int id = 0; id < tokens.size(); id++) {
                        b.u32(id == 261 ? 3 : 1);
                    }
                })
                .kv("tokenizer.ggml.merges", ARRAY, b -> {
                    b.u32(STRING).u64(merges.size());
                    merges.forEach(b::string);
                })
                .kvU32("tokenizer.ggml.bos_token_id", 261)
                .kvU32("tokenizer.ggml.eos_token_id", 261)
                .kv("tokenizer.ggml.add_bos_token", BOOL, b -> b.u8(0));
        Path file = w.writeTo(dir.resolve("tiny-gpt2.gguf"));

        Tokenizer t;
        try (GgufFile gguf = GgufFile.open(file)) {
            t = Tokenizers.fromGguf(gguf.metadata(), file);
        }
        assertThat(t).isInstanceOf(BpeTokenizer.class);
        assertThat(t.vocabSize()).isEqualTo(262);
        // GPT-2 words "hello", " hello", then the control token matched whole; "!" is byte 0x21 = id 33.
        assertThat(t.encode("hello hello<|endoftext|>!", false)).containsExactly(259, 260, 261, 33);
        assertThat(t.eosId()).hasValue(261);
        assertThat(((BpeTokenizer) t).addBosByDefault()).isFalse();
        assertThat(t.decode(t.encode("hello hello<|endoftext|> 世界 😀", false))).isEqualTo("hello hello 世界 😀");
    }
}
