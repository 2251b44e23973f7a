package io.qspec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.format.LlamaCpp;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import io.qspec.format.gguf.GgufFile;
import io.qspec.quant.QuantScheme;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GGUF files with quantized tensors, as llama.cpp writes them: every tensor quantized by llama.cpp's quantizer and
 * the file written by its GGUF writer ({@link LlamaCpp}), with the shared stories260K model's tokenizer. Each file
 * has a twin holding, as F32, the values llama.cpp's own dequantizer reads from it. The model loaded from the
 * quantized file must be the twin's: every tensor decodes to the twin's values bit for bit, so the INT4 set, the
 * dense weights and every generated token are the same.
 */
class QuantizedGgufModelTest {
    /** Where llama.cpp would keep F32: norms. */
    private static final LoadOptions OPTIONS = LoadOptions.defaults().withDenseWeights(true).withReuseQ4_0(false);

    /**
     * A random-weight Llama as wide as k-quants need (rows of 256 or more), two layers, with eleven GGUF block types
     * (all but Q4_0, which is transcoded rather than decoded) spread over its matrices as llama.cpp's Q*_K_M mixes
     * spread them (output and ffn_down in higher precision).
     */
    @Test
    void kQuantModelIsItsDequantizedTwin(@TempDir Path dir) {
        int dim = 256;
        int hidden = 768;
        int kvDim = 128;
        Map<String, TensorType> types = new LinkedHashMap<>();
        types.put("token_embd.weight", TensorType.Q4_K);
        types.put("output.weight", TensorType.Q6_K);
        String[][] layers = {
                {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_0"},
                {"Q5_1", "Q8_0", "IQ4_NL", "IQ4_XS", "Q4_K", "Q4_K", "Q6_K"}};
        String[] names = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (int l = 0; l < layers.length; l++) {
            for (int i = 0; i < names.length; i++) {
                types.put("blk." + l + "." + names[i] + ".weight", TensorType.valueOf(layers[l][i]));
            }
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();   // GGUF order: contiguous dimension first
        shapes.put("token_embd.weight", new long[] {dim, 512});
        shapes.put("output.weight", new long[] {dim, 512});
        shapes.put("output_norm.weight", new long[] {dim});
        for (int l = 0; l < layers.length; l++) {
            String p = "blk." + l + ".";
            shapes.put(p + "attn_norm.weight", new long[] {dim});
            shapes.put(p + "ffn_norm.weight", new long[] {dim});
            shapes.put(p + "attn_q.weight", new long[] {dim, dim});
            shapes.put(p + "attn_k.weight", new long[] {dim, kvDim});
            shapes.put(p + "attn_v.weight", new long[] {dim, kvDim});
            shapes.put(p + "attn_output.weight", new long[] {dim, dim});
            shapes.put(p + "ffn_gate.weight", new long[] {dim, hidden});
            shapes.put(p + "ffn_up.weight", new long[] {dim, hidden});
            shapes.put(p + "ffn_down.weight", new long[] {hidden, dim});
        }
        Map<String, Integer> sizes = Map.of("llama.embedding_length", dim, "llama.feed_forward_length", hidden,
                "llama.block_count", layers.length, "llama.attention.head_count", 4, "llama.attention.head_count_kv", 2,
                "llama.rope.dimension_count", 64);
        Path quantized = dir.resolve("random-kquants.gguf");
        Path twin = dir.resolve("random-kquants-dequantized.gguf");
        writePair(shapes, types, sizes, new Random(11), quantized, twin);
        assertSameModel(quantized, twin, types.size());
    }

    /** The real stories260K weights in the 32-element types (its rows of 64 and 172 are too short for k-quants). */
    @Test
    void realWeightsInLegacyBlockTypesAreTheirDequantizedTwin(@TempDir Path dir) {
        Map<String, TensorType> types = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (GgufFile original = GgufFile.open(TestModels.stories260K())) {
            TensorType[] cycle = {TensorType.Q8_0, TensorType.Q5_1, TensorType.Q4_1, TensorType.Q5_0};
            int i = 0;
            for (RawTensor t : original.tensors()) {
                long[] dims = ggufDims(t);
                shapes.put(t.name(), dims);
                if (dims.length == 2 && dims[0] % 32 == 0) {
                    types.put(t.name(), cycle[i++ % cycle.length]);
                }
            }
            Path quantized = dir.resolve("stories260K-legacy.gguf");
            Path twin = dir.resolve("stories260K-legacy-dequantized.gguf");
            writePair(shapes, types, Map.of(), null, quantized, twin, original);
            assertSameModel(quantized, twin, types.size());

            // by default, float32 copies are kept only where they are the mapped file itself
            try (Model q = Model.load(quantized); Model f = Model.load(twin);
                 QSpecEngine engine = QSpecEngine.builder(q).backend("cpu").build()) {
                assertThat(q.hasDenseWeights()).isFalse();
                assertThat(f.hasDenseWeights()).isTrue();
                // refused when submitted, before anything is queued
                assertThatThrownBy(() -> engine.submit(GenerationRequest.builder("Once").maxTokens(2)
                        .mode(DecodingMode.plain(Precision.FP32)).build(), io.qspec.StreamHandler.NONE))
                        .isInstanceOf(io.qspec.InvalidRequestException.class)
                        .hasMessageContaining("cpu backend cannot decode in FP32")
                        .hasMessageContaining("FP32 needs the unquantized weights, but stories260K-legacy.gguf was loaded"
                                + " without them")
                        .hasMessageContaining("LoadOptions.defaults().withDenseWeights(true)");
            }
        }
    }

    private static long[] ggufDims(RawTensor t) {
        long[] dims = new long[t.rank()];
        for (int d = 0; d < dims.length; d++) {
            dims[d] = t.dim(t.rank() - 1 - d);
        }
        return dims;
    }

    private static void writePair(Map<String, long[]> shapes, Map<String, TensorType> types, Map<String, Integer> sizes,
                                  Random random, Path quantized, Path twin) {
        try (GgufFile template = GgufFile.open(TestModels.stories260K())) {
            writePair(shapes, types, sizes, random, quantized, twin, template);
        }
    }

    /**
     * Writes {@code quantized} (tensors in {@code types}, the rest F32) and its F32 {@code twin}. Values are drawn
     * from {@code random} (norms near 1, weights Gaussian), or read from {@code source} when {@code random} is null.
     */
    private static void writePair(Map<String, long[]> shapes, Map<String, TensorType> types, Map<String, Integer> sizes,
                                  Random random, Path quantized, Path twin, GgufFile source) {
        LlamaCpp ggml = LlamaCpp.get();
        LlamaCpp.Writer q = ggml.writer(TestModels.stories260K());
        LlamaCpp.Writer f = ggml.writer(TestModels.stories260K());
        sizes.forEach((k, v) -> {
            q.u32(k, v);
            f.u32(k, v);
        });
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] dims = e.getValue();
            int perRow = (int) dims[0];
            int rows = dims.length == 2 ? (int) dims[1] : 1;
            float[] values;
            if (random == null) {
                values = TensorDecoding.toFloatArray(source.require(e.getKey()));
            } else {
                values = new float[rows * perRow];
                double std = dims.length == 1 ? 0.1 : 1 / Math.sqrt(perRow);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) ((dims.length == 1 ? 1 : 0) + std * random.nextGaussian());
                }
            }
            TensorType type = types.getOrDefault(e.getKey(), TensorType.F32);
            byte[] blocks = type == TensorType.F32 ? floatBytes(values) : ggml.quantize(type, values, rows, perRow);
            float[] decoded = type == TensorType.F32 ? values : ggml.dequantize(type, blocks, values.length);
            q.tensor(e.getKey(), type, blocks, dims);
            f.tensor(e.getKey(), TensorType.F32, floatBytes(decoded), dims);
        }
        q.write(quantized);
        f.write(twin);
    }

    private static byte[] floatBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    private static void assertSameModel(Path quantized, Path twin, int quantizedTensors) {
        int seen = 0;
        try (GgufFile q = GgufFile.open(quantized); GgufFile f = GgufFile.open(twin)) {
            assertThat(q.tensorNames()).isEqualTo(f.tensorNames());
            for (RawTensor t : q.tensors()) {
                RawTensor reference = f.require(t.name());
                assertThat(t.shape()).isEqualTo(reference.shape());
                if (t.type() != TensorType.F32) {
                    seen++;
                }
                assertThat(TensorDecoding.toFloatArray(t)).as("%s", t).isEqualTo(TensorDecoding.toFloatArray(reference));
            }
        }
        assertThat(seen).isEqualTo(quantizedTensors);

        try (Model qm = Model.load(quantized, OPTIONS); Model fm = Model.load(twin, OPTIONS);
             QSpecEngine qe = QSpecEngine.builder(qm).backend("cpu").build();
             QSpecEngine fe = QSpecEngine.builder(fm).backend("cpu").build()) {
            assertThat(qm.config()).isEqualTo(fm.config());
            List<DecodingMode> modes = new ArrayList<>(List.of(DecodingMode.plain(Precision.FP32),
                    DecodingMode.plain(Precision.W4A16), DecodingMode.plain(Precision.W4A8)));
            for (String prompt : List.of("Once upon a time", "The little dog")) {
                for (DecodingMode mode : modes) {
                    GenerationResult a = qe.generate(GenerationRequest.builder(prompt).maxTokens(24).mode(mode).build());
                    GenerationResult b = fe.generate(GenerationRequest.builder(prompt).maxTokens(24).mode(mode).build());
                    assertThat(a.tokenIds()).as("%s, %s", mode, prompt).isNotEmpty().containsExactly(b.tokenIds());
                }
                // and QSpec on the quantized file is its plain W4A16 decoding
                GenerationResult plain = qe.generate(GenerationRequest.builder(prompt).maxTokens(24)
                        .mode(DecodingMode.plain(Precision.W4A16)).build());
                GenerationResult spec = qe.generate(GenerationRequest.builder(prompt).maxTokens(24)
                        .mode(DecodingMode.qspec(DraftMode.a8())).build());
                assertThat(spec.tokenIds()).containsExactly(plain.tokenIds());
            }
        }
    }
}
