package io.qspec.synthetic;

import io.qspec.format.RawTensor;
import io.qspec.format.TensorType;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.ModelWeights;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.QuantScheme;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random-weight models of real shapes, built directly in the INT4 layout: for speed measurements
 * that need the real byte traffic (never zeros), and for engine tests. Weights follow the
 * statistics of trained models (4-bit values from a rounded Gaussian, scales around 0.02/3 per
 * group, embeddings N(0, 0.02²)); what they compute is meaningless, so acceptance rates measured
 * on them are too.
 */
public final class SyntheticModels {
    private SyntheticModels() {
    }

    /** A model of {@code shape} with weights drawn from {@code seed}, no dense weights. */
    public static Model build(ModelShape shape, QuantScheme scheme, long seed) {
        return build(shape.config(), shape.cliName(), scheme, seed);
    }

    public static Model build(ModelConfig config, String name, QuantScheme scheme, long seed) {
        Arena arena = Arena.ofShared();
        SplittableRandom random = new SplittableRandom(seed);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            String p = "layers." + i + ".";
            layers.add(new LayerWeights(norm(config.dim()),
                    linear(arena, p + "q", config.qDim(), config.dim(), scheme, random.split()),
                    linear(arena, p + "k", config.kvDim(), config.dim(), scheme, random.split()),
                    linear(arena, p + "v", config.kvDim(), config.dim(), scheme, random.split()),
                    linear(arena, p + "o", config.dim(), config.qDim(), scheme, random.split()),
                    norm(config.dim()),
                    linear(arena, p + "gate", config.hiddenDim(), config.dim(), scheme, random.split()),
                    linear(arena, p + "up", config.hiddenDim(), config.dim(), scheme, random.split()),
                    linear(arena, p + "down", config.dim(), config.hiddenDim(), scheme, random.split())));
        }
        RawTensor embedding = embedding(arena, config, random.split());
        LinearWeight output = linear(arena, "output", config.vocabSize(), config.dim(), scheme, random.split());
        ModelWeights weights = new ModelWeights(embedding, layers, norm(config.dim()), output);
        return new Model("synthetic-" + name, null, config, weights, new ByteTokenizer(config.vocabSize()), scheme, arena::close);
    }

    private static float[] norm(int dim) {
        float[] w = new float[dim];
        java.util.Arrays.fill(w, 1f);
        return w;
    }

    private static LinearWeight linear(Arena arena, String name, int rows, int cols, QuantScheme scheme, SplittableRandom random) {
        int group = scheme.storedGroupSize(cols);
        Int4Matrix m = Int4Matrix.allocate(arena, rows, cols, group);
        long seed = random.nextLong();
        IntStream.range(0, rows).parallel().forEach(n -> {
            SplittableRandom r = new SplittableRandom(seed + n * 0x9E3779B97F4A7C15L);
            long base = (long) n * m.rowBytes();
            for (int b = 0; b < cols / 2; b++) {
                int lo = quantizedGaussian(r);
                int hi = quantizedGaussian(r);
                m.packed().set(ValueLayout.JAVA_BYTE, base + b, (byte) ((lo + 8) | ((hi + 8) << 4)));
            }
            if (cols % 2 == 1) {
                m.setQ(n, cols - 1, quantizedGaussian(r));
            }
            for (int g = 0; g < m.groupsPerRow(); g++) {
                m.setScaleBits(n, g, Float.floatToFloat16((float) (0.02 / 3 * (0.75 + 0.5 * r.nextDouble()))));
            }
        });
        return new LinearWeight(name, m, Optional.empty());
    }

    /** A 4-bit value whose distribution resembles quantized trained weights: N(0, 2.3²) rounded and clamped. */
    private static int quantizedGaussian(SplittableRandom r) {
        long q = Math.round(gaussian(r) * 2.3);
        return (int) Math.max(-8, Math.min(7, q));
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    private static RawTensor embedding(Arena arena, ModelConfig config, SplittableRandom random) {
        long count = (long) config.vocabSize() * config.dim();
        MemorySegment data = arena.allocate(count * 2, 64);
        long seed = random.nextLong();
        IntStream.range(0, config.vocabSize()).parallel().forEach(row -> {
            SplittableRandom r = new SplittableRandom(seed + row * 0x9E3779B97F4A7C15L);
            long base = (long) row * config.dim() * 2;
            for (int i = 0; i < config.dim(); i++) {
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * i, Float.floatToFloat16((float) (gaussian(r) * 0.02)));
            }
        });
        return new RawTensor("token_embedding", TensorType.F16, new long[] {config.vocabSize(), config.dim()}, data);
    }
}
