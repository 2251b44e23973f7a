package io.qspec.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector shapes shared by the CPU kernels. {@link #F} float lanes per step: the platform's preferred
 * width, clamped to 8..16 lanes so a weight step of {@code F} packed bytes ({@code 2F} values)
 * always divides a group of 32. Results depend on {@code F} (it fixes the summation order), so
 * they are reproducible on one machine and bit-identical between batched and single-row calls.
 */
final class KernelVectors {
    static final int F = Math.clamp(FloatVector.SPECIES_PREFERRED.length(), 8, 16);
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(F * 32));
    static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(F * 8));
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(F * 16));
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(F * 32));

    private KernelVectors() {
    }

    /**
     * Sums the lanes of {@code v} strictly left to right. {@code reduceLanes(ADD)} leaves the order
     * open (the interpreter and the JIT may differ), which would break bit-exact reproducibility.
     */
    static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float s = lanes[0];
        for (int i = 1; i < F; i++) {
            s += lanes[i];
        }
        return s;
    }

    static void checkShapes(int rows, int cols, float[] x, int m, float[] y) {
        if (m < 0) {
            throw new IllegalArgumentException("row count m must be ≥ 0, got " + m);
        }
        if (x.length < (long) m * cols) {
            throw new IllegalArgumentException("x holds " + x.length + " floats, " + m + " rows of " + cols + " need "
                    + (long) m * cols);
        }
        if (y.length < (long) m * rows) {
            throw new IllegalArgumentException("y holds " + y.length + " floats, " + m + " rows of " + rows + " need "
                    + (long) m * rows);
        }
    }
}
