package io.qspec.cpu;

import io.qspec.model.DenseMatrix;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.Int4Quantizer;
import io.qspec.quant.QuantScheme;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Seeded Gaussian test matrices and activations (never zeros), small enough for fast tests. */
final class KernelTestData {
    private KernelTestData() {
    }

    static float[] gaussian(long seed, int count) {
        Random random = new Random(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    static Int4Matrix int4(Arena arena, long seed, int rows, int cols, QuantScheme scheme) {
        float[] w = gaussian(seed, rows * cols);
        return Int4Quantizer.quantize(arena, rows, cols, scheme,
                (row, dst) -> System.arraycopy(w, row * cols, dst, 0, cols), new ParallelRows(1));
    }

    static DenseMatrix dense(Arena arena, long seed, int rows, int cols) {
        float[] w = gaussian(seed, rows * cols);
        MemorySegment data = arena.allocate((long) rows * cols * Float.BYTES, 64);
        MemorySegment.copy(w, 0, data, DenseMatrix.LAYOUT, 0, w.length);
        return new DenseMatrix(rows, cols, data);
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
