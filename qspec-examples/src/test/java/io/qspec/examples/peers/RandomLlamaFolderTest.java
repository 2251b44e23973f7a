package io.qspec.examples.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.tjake.jlama.safetensors.DType;
import io.qspec.DecodingMode;
import io.qspec.GenerationRequest;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The random Llama folder loads in QSpec with the requested shape, and in Jlama (float and Q4), which computes the same model. */
class RandomLlamaFolderTest {

    static Path tokenizerSource() {
        Path dir = RandomLlamaFolder.defaultTokenizerSource();
        assumeTrue(Files.isRegularFile(dir.resolve("tokenizer.json")), () -> "tokenizer source not found at " + dir);
        return dir;
    }

    @Test
    void writesAFolderOurLoaderReadsWithTheRequestedShape(@TempDir Path tmp) throws Exception {
        PeerShape shape = PeerShape.TINY;
        Path folder = RandomLlamaFolder.write(tmp.resolve("m"), shape, tokenizerSource(), 1);

        // BF16: two bytes a parameter after the 8-byte length and the JSON header
        long size = Files.size(folder.resolve("model.safetensors"));
        assertThat(size).isGreaterThan(2 * shape.parameters()).isLessThan(2 * shape.parameters() + 64 * 1024);

        try (Model model = Model.load(folder)) {
            ModelConfig c = model.config();
            assertThat(c.dim()).isEqualTo(shape.dim());
            assertThat(c.hiddenDim()).isEqualTo(shape.hiddenDim());
            assertThat(c.layers()).isEqualTo(shape.layers());
            assertThat(c.heads()).isEqualTo(shape.heads());
            assertThat(c.kvHeads()).isEqualTo(shape.kvHeads());
            assertThat(c.headDim()).isEqualTo(shape.headDim());
            assertThat(c.vocabSize()).isEqualTo(shape.vocabSize());
            assertThat(c.tiedEmbeddings()).isFalse();
            assertThat(model.tokenizer().bosId()).hasValue(1);
        }
    }

    @Test
    void padsTheCopiedVocabularyUpToTheShapesVocabulary(@TempDir Path tmp) {
        PeerShape padded = new PeerShape("padded", 128, 384, 1, 8, 4, 2100, 10_000.0, false);
        Path folder = RandomLlamaFolder.write(tmp.resolve("m"), padded, tokenizerSource(), 1);
        try (Model model = Model.load(folder)) {
            assertThat(model.config().vocabSize()).isEqualTo(2100);
            assertThat(model.tokenizer().vocabSize()).isEqualTo(2100);
            assertThat(model.tokenizer().decode(new int[] {2099})).isEqualTo("<|extra_2099|>");
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertThat(Bf16SafetensorsWriter.toBf16(1f)).isEqualTo((short) 0x3F80);
        assertThat(Bf16SafetensorsWriter.toBf16(-2f)).isEqualTo((short) 0xC000);
        // 1 + 2^-8 is halfway between two bf16 values; ties go to the even one (1.0)
        assertThat(Bf16SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80);
        assertThat(Bf16SafetensorsWriter.toBf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82);
    }

    @Test
    void jlamaQuantizesLoadsAndDecodesTheSameFolder(@TempDir Path tmp) throws Exception {
        Path folder = RandomLlamaFolder.write(tmp.resolve("m"), PeerShape.TINY, tokenizerSource(), 1);
        Path q4 = JlamaGreedyBenchmark.quantize(folder, tmp.resolve("q4"));
        PeerResult r = JlamaGreedyBenchmark.run(q4, DType.I8, new int[] {1, 40, 41, 42}, 4, 1, 0);
        assertThat(r.medianTokensPerSecond()).isPositive();
    }

    @Test
    void jlamaAndQSpecComputeTheSameModelInFloat(@TempDir Path tmp) {
        Path folder = RandomLlamaFolder.write(tmp.resolve("m"), PeerShape.TINY, tokenizerSource(), 1);
        int[] prompt = {1, 40, 41, 42, 300, 301};
        int[] jlama = JlamaGreedyBenchmark.greedyTokensInFloat(folder, prompt, 12);
        try (Model model = Model.load(folder, LoadOptions.defaults().withDenseWeights(true));
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            int[] ours = engine.generate(GenerationRequest.builder(prompt).maxTokens(12).ignoreEos(true)
                    .mode(DecodingMode.plain(Precision.FP32)).build()).tokenIds();
            // same BF16 weights computed in float by both: the greedy paths must coincide
            assertThat(ours).containsExactly(jlama);
        }
    }
}
