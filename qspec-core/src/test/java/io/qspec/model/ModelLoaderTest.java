package io.qspec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.QSpecException;
import io.qspec.TestModels;
import io.qspec.arch.UnsupportedArchitectureException;
import io.qspec.format.ModelFormatException;
import io.qspec.model.RopeStyle;
import io.qspec.quant.QuantScheme;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-model loading: hyper-parameters from metadata, the INT4 set, and typed errors for bad models. */
class ModelLoaderTest {

    @Test
    void loadsStories260KFromGguf() {
        try (Model m = Model.load(TestModels.stories260K())) {
            ModelConfig c = m.config();
            assertThat(c.dim()).isEqualTo(64);
            assertThat(c.hiddenDim()).isEqualTo(172);
            assertThat(c.layers()).isEqualTo(5);
            assertThat(c.heads()).isEqualTo(8);
            assertThat(c.kvHeads()).isEqualTo(4);
            assertThat(c.vocabSize()).isEqualTo(512);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
            assertThat(c.tiedEmbeddings()).isFalse();
            // K = 172 is not a multiple of 128: two groups per row, the second padded with zero weights
            var down = m.weights().layers().get(0).down().int4();
            assertThat(down.cols()).isEqualTo(172);
            assertThat(down.groupsPerRow()).isEqualTo(2);
            assertThat(m.tokenizer().bosId()).hasValue(1);
            assertThat(m.hasDenseWeights()).isTrue();
        }
    }

    @Test
    void loadsTinyStories656KFromHuggingFaceWithTiedEmbeddings() {
        try (Model m = Model.load(TestModels.tinyStories656K(), LoadOptions.defaults().withQuantScheme(QuantScheme.grouped(32)))) {
            ModelConfig c = m.config();
            assertThat(c.dim()).isEqualTo(128);
            assertThat(c.hiddenDim()).isEqualTo(384);
            assertThat(c.layers()).isEqualTo(2);
            assertThat(c.kvHeads()).isEqualTo(4);
            assertThat(c.vocabSize()).isEqualTo(2048);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.HALF_SPLIT);
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(m.weights().tokenEmbedding().name()).isEqualTo("lm_head.weight");
            assertThat(m.weights().output().int4().groupSize()).isEqualTo(32);
        }
    }

    @Test
    void missingModelIsAClearError() {
        assertThatThrownBy(() -> Model.load(Path.of("/nonexistent/model.gguf")))
                .isInstanceOf(QSpecException.class)
                .hasMessageContaining("model not found")
                .hasMessageContaining("/nonexistent/model.gguf");
    }

    @Test
    void unsupportedGgufArchitectureIsNamed(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        byte[] key = "general.architecture".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(bytes, key);
        assertThat(at).isPositive();
        // key, then u32 value type (8 = string), u64 length 5, then "llama"
        int value = at + key.length + 4 + 8;
        assertThat(new String(bytes, value, 5, StandardCharsets.US_ASCII)).isEqualTo("llama");
        System.arraycopy("gemma".getBytes(StandardCharsets.US_ASCII), 0, bytes, value, 5);
        Path patched = Files.write(dir.resolve("patched.gguf"), bytes);
        assertThatThrownBy(() -> Model.load(patched))
                .isInstanceOf(UnsupportedArchitectureException.class)
                .hasMessageContaining("gemma")
                .hasMessageContaining("patched.gguf")
                .hasMessageContaining("supported");
    }

    @Test
    void ggufTokenizerKindIsDispatchedAndAnUnknownOneNamed(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        byte[] key = "tokenizer.ggml.model".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(bytes, key);
        assertThat(at).isPositive();
        // key, then u32 value type (8 = string), u64 length 5, then "llama"
        int value = at + key.length + 4 + 8;
        assertThat(new String(bytes, value, 5, StandardCharsets.US_ASCII)).isEqualTo("llama");
        System.arraycopy("xyzzy".getBytes(StandardCharsets.US_ASCII), 0, bytes, value, 5);
        Path patched = Files.write(dir.resolve("patched.gguf"), bytes);
        assertThatThrownBy(() -> Model.load(patched))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContainingAll("patched.gguf", "'xyzzy'", "'llama'", "'gpt2'");
    }

    @Test
    void unsupportedHuggingFaceArchitectureIsNamed(@TempDir Path dir) throws IOException {
        Path folder = copyFolder(TestModels.tinyStories656K(), dir.resolve("m"));
        Path config = folder.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"llama\"", "\"gpt_neox\"").replace("LlamaForCausalLM", "GPTNeoXForCausalLM"));
        assertThatThrownBy(() -> Model.load(folder))
                .isInstanceOf(UnsupportedArchitectureException.class)
                .hasMessageContaining("gpt_neox");
    }

    @Test
    void tensorShapesAreCheckedAgainstTheHyperParameters(@TempDir Path dir) throws IOException {
        Path folder = copyFolder(TestModels.tinyStories656K(), dir.resolve("m"));
        Path config = folder.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\": 384", "\"intermediate_size\": 512"));
        assertThat(Files.readString(config)).contains("512");
        assertThatThrownBy(() -> Model.load(folder))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("wrong shape")
                .hasMessageContaining("mlp");
    }

    private static Path copyFolder(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
