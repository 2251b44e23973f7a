package io.qspec.cuda;

import io.qspec.format.RawTensor;
import io.qspec.format.TensorType;
import io.qspec.model.DenseMatrix;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.ModelWeights;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.Int4Quantizer;
import io.qspec.quant.QuantScheme;
import io.qspec.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;

/** Small Llama models with random INT4 weights (and optionally the dense weights they quantize), built in memory for GPU tests. */
final class RandomModels {
    private RandomModels() {
    }

    /** {@code length} random token ids of {@code c}'s vocabulary other than 0, reproducible from {@code seed}. */
    static int[] prompt(ModelConfig c, int length, long seed) {
        Random random = new Random(seed);
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = 1 + random.nextInt(c.vocabSize() - 1);
        }
        return tokens;
    }

    /** A model carrying only INT4 weights (random nibbles and scales), like the synthetic models. */
    static Model build(ModelConfig c, int group, long seed) {
        return build(c, group, seed, false);
    }

    /**
     * A model with dense float32 weights (Gaussian, standard deviation {@code 1 / sqrt(cols)}) and their INT4
     * quantization, as a model loaded with {@code LoadOptions.withDenseWeights(true)} carries.
     */
    static Model buildWithDenseWeights(ModelConfig c, int group, long seed) {
        return build(c, group, seed, true);
    }

    private static Model build(ModelConfig c, int group, long seed, boolean dense) {
        Random random = new Random(seed);
        Arena arena = Arena.ofShared();
        MemorySegment embedding = arena.allocate((long) c.vocabSize() * c.dim() * 4, 64);
        for (long i = 0; i < (long) c.vocabSize() * c.dim(); i++) {
            embedding.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextFloat() * 2 - 1);
        }
        LinearFactory linear = dense ? RandomModels::denseLinear : RandomModels::int4Linear;
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            layers.add(new LayerWeights(norm(random, c.dim()),
                    linear.create(arena, random, "blk." + l + ".attn_q", c.qDim(), c.dim(), group),
                    linear.create(arena, random, "blk." + l + ".attn_k", c.kvDim(), c.dim(), group),
                    linear.create(arena, random, "blk." + l + ".attn_v", c.kvDim(), c.dim(), group),
                    linear.create(arena, random, "blk." + l + ".attn_output", c.dim(), c.qDim(), group),
                    norm(random, c.dim()),
                    linear.create(arena, random, "blk." + l + ".ffn_gate", c.hiddenDim(), c.dim(), group),
                    linear.create(arena, random, "blk." + l + ".ffn_up", c.hiddenDim(), c.dim(), group),
                    linear.create(arena, random, "blk." + l + ".ffn_down", c.dim(), c.hiddenDim(), group)));
        }
        ModelWeights weights = new ModelWeights(
                new RawTensor("token_embd.weight", TensorType.F32, new long[] {c.vocabSize(), c.dim()}, embedding),
                layers, norm(random, c.dim()), linear.create(arena, random, "output", c.vocabSize(), c.dim(), group));
        return new Model((dense ? "random-dense-" : "random-") + seed, null, c, weights, new ByteTokenizer(c.vocabSize()), QuantScheme.grouped(group),
                arena::close);
    }

    private static float[] norm(Random random, int dim) {
        float[] w = new float[dim];
        for (int i = 0; i < dim; i++) {
            w[i] = 0.8f + 0.4f * random.nextFloat();
        }
        return w;
    }

    @FunctionalInterface
    private interface LinearFactory {
        LinearWeight create(Arena arena, Random random, String name, int rows, int cols, int group);
    }

    /** Scales about 1 / (std(q) * sqrt(cols)) keep activations of order one through the layers. */
    private static LinearWeight int4Linear(Arena arena, Random random, String name, int rows, int cols, int group) {
        Int4Matrix m = Int4Matrix.allocate(arena, rows, cols, group);
        float typical = (float) (1.0 / (4.6 * Math.sqrt(cols)));
        for (int n = 0; n < rows; n++) {
            for (int k = 0; k < cols; k++) {
                m.setQ(n, k, random.nextInt(16) - 8);
            }
            for (int g = 0; g < m.groupsPerRow(); g++) {
                m.setScaleBits(n, g, Float.floatToFloat16(typical * (0.5f + random.nextFloat())));
            }
        }
        return new LinearWeight(name, m, Optional.empty());
    }

    /** Gaussian weights of standard deviation 1 / sqrt(cols), kept dense beside their INT4 quantization. */
    private static LinearWeight denseLinear(Arena arena, Random random, String name, int rows, int cols, int group) {
        MemorySegment data = arena.allocate((long) rows * cols * 4, 64);
        double std = 1 / Math.sqrt(cols);
        for (long i = 0; i < (long) rows * cols; i++) {
            data.setAtIndex(DenseMatrix.LAYOUT, i, (float) (random.nextGaussian() * std));
        }
        DenseMatrix dense = new DenseMatrix(rows, cols, data);
        Int4Matrix int4 = Int4Quantizer.quantize(arena, rows, cols, QuantScheme.grouped(group), (row, dst) ->
                MemorySegment.copy(data, DenseMatrix.LAYOUT, (long) row * cols * 4, dst, 0, cols));
        return new LinearWeight(name, int4, Optional.of(dense));
    }

    /** A trivial tokenizer: id i is the byte i % 256. */
    private record ByteTokenizer(int vocabSize) implements Tokenizer {
        @Override
        public int[] encode(String text, boolean addBos) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                ids[i] = bytes[i] & 0xFF;
            }
            return ids;
        }

        @Override
        public String decode(int[] ids) {
            byte[] bytes = new byte[ids.length];
            for (int i = 0; i < ids.length; i++) {
                bytes[i] = (byte) ids[i];
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }

        @Override
        public byte[] tokenBytes(int id) {
            return new byte[] {(byte) id};
        }

        @Override
        public String tokenText(int id) {
            return "<" + id + ">";
        }

        @Override
        public OptionalInt bosId() {
            return OptionalInt.empty();
        }

        @Override
        public OptionalInt eosId() {
            return OptionalInt.empty();
        }
    }
}
