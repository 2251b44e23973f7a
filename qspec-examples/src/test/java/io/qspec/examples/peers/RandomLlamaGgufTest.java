package io.qspec.examples.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import io.qspec.DecodingMode;
import io.qspec.GenerationRequest;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.quant.Int4Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The random GGUF of {@code qspec peer-llamacpp}: llama.cpp and QSpec read it as the same model. */
class RandomLlamaGgufTest {

    private static Path vocabulary() {
        Path p = RandomLlamaGguf.defaultVocabularySource();
        assumeTrue(Files.exists(p), () -> "vocabulary source not found at " + p + " (set -Dqspec.models.dir)");
        return p;
    }

    @Test
    void llamaCppAndQSpecComputeTheSameModelInFloat(@TempDir Path tmp) {
        Path gguf = RandomLlamaGguf.write(tmp.resolve("tiny-f32.gguf"), PeerShape.TINY, vocabulary(), 1, false);
        String prompt = PeerLlamaCppCommand.PROMPT;
        String theirs;
        try (LlamaModel llama = new LlamaModel(new ModelParameters().setModel(gguf.toString()).setThreads(2)
                .setCtxSize(256).disableLog())) {
            theirs = llama.complete(new InferenceParameters(prompt).setNPredict(12).setTemperature(0f).setTopK(1)
                    .setIgnoreEos(true).setCachePrompt(false));
        }
        try (Model model = Model.load(gguf, LoadOptions.defaults());
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            String ours = engine.generate(GenerationRequest.builder(prompt).maxTokens(12).ignoreEos(true)
                    .mode(DecodingMode.plain(Precision.FP32)).build()).text();
            // the same float weights in both engines (RoPE convention, GQA, norms, head): the greedy paths coincide
            assertThat(theirs).isNotEmpty();
            assertThat(ours).isEqualTo(theirs);
        }
    }

    @Test
    void q4_0FileLoadsAsAnInt4SetOfGroup32WithGgmlsCodes(@TempDir Path tmp) {
        Path gguf = RandomLlamaGguf.write(tmp.resolve("tiny-q4.gguf"), PeerShape.TINY, vocabulary(), 1);
        try (Model model = Model.load(gguf)) {
            Int4Matrix q = model.weights().layers().get(0).wq().int4();
            assertThat(q.groupSize()).isEqualTo(32);
            assertThat(model.hasDenseWeights()).isFalse();
            // ggml's reference quantizer on a known block: the largest magnitude maps to code 0 (q = -8)
            float[] block = new float[32];
            for (int j = 0; j < 32; j++) {
                block[j] = (j - 10) * 0.01f;
            }
            ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
            RandomLlamaGguf.putQ4_0(block, b);
            float d = Float.float16ToFloat(b.getShort(0));
            assertThat(d).isCloseTo(0.21f / -8, org.assertj.core.data.Offset.offset(1e-5f));
            assertThat(b.get(2 + 15) & 0xF0).isEqualTo(0);   // element 31 = 0.21: q = -8, nibble 0
            for (int j = 0; j < 32; j++) {
                int nibble = j < 16 ? b.get(2 + j) & 0x0F : (b.get(2 + j - 16) & 0xFF) >>> 4;
                assertThat(Math.abs((nibble - 8) * d - block[j])).as("element %d", j).isLessThanOrEqualTo(Math.abs(d) * 0.51f);
            }
        }
    }
}
