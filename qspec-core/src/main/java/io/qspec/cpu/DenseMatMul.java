package io.qspec.cpu;

import static io.qspec.cpu.KernelVectors.F;
import static io.qspec.cpu.KernelVectors.FLOATS;

import io.qspec.model.DenseMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * {@code y = x W^T} for an unquantized FP32 {@link DenseMatrix}: the FP32 baseline's linear layer.
 * {@code x} holds {@code m} rows of {@code w.cols()} floats, {@code y} receives {@code m} rows of
 * {@code w.rows()}.
 *
 * <p>Row independence: every {@code y[r][n]} is computed with the same operation sequence (vector
 * FMA over full steps of {@code F} inputs, lanes summed left to right, then the scalar tail), however
 * many rows the call has and however output rows are split over threads. Batched rows reuse each
 * loaded weight vector across up to four activation rows. Weights in a confined arena are
 * processed on the calling thread only.
 */
public final class DenseMatMul {
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[F]);

    private final ParallelRows parallel;

    /** A kernel running on {@link ParallelRows#shared()}. */
    public DenseMatMul() {
        this(ParallelRows.shared());
    }

    public DenseMatMul(ParallelRows parallel) {
        this.parallel = parallel;
    }

    /** Computes {@code m} rows of {@code y = W x}; {@code y[r * rows + n]} is overwritten. */
    public void multiply(DenseMatrix w, float[] x, int m, float[] y) {
        KernelVectors.checkShapes(w.rows(), w.cols(), x, m, y);
        if (m == 0) {
            return;
        }
        parallel.forSegment(w.data()).forEach(w.rows(), (long) m * w.cols(), (start, end) -> rows(w, x, m, y, start, end));
    }

    private static void rows(DenseMatrix w, float[] x, int m, float[] y, int start, int end) {
        float[] lanes = LANES.get();
        int cols = w.cols();
        int rows = w.rows();
        MemorySegment data = w.data();
        for (int n = start; n < end; n++) {
            long rowAt = (long) n * cols * Float.BYTES;
            int r = 0;
            for (; r + 4 <= m; r += 4) {
                dot4(data, rowAt, cols, x, r * cols, y, r * rows + n, rows, lanes);
            }
            for (; r < m; r++) {
                y[r * rows + n] = dot(data, rowAt, cols, x, r * cols, lanes);
            }
        }
    }

    private static float dot(MemorySegment data, long rowAt, int cols, float[] x, int xOff, float[] lanes) {
        int vecCols = cols - cols % F;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int k = 0; k < vecCols; k += F) {
            FloatVector wv = FloatVector.fromMemorySegment(FLOATS, data, rowAt + (long) k * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            acc = wv.fma(FloatVector.fromArray(FLOATS, x, xOff + k), acc);
        }
        float s = KernelVectors.sumLanes(acc, lanes);
        for (int k = vecCols; k < cols; k++) {
            s += data.get(DenseMatrix.LAYOUT, rowAt + (long) k * Float.BYTES) * x[xOff + k];
        }
        return s;
    }

    /** Four activation rows against one weight row; per row the same operations as {@link #dot}. */
    private static void dot4(MemorySegment data, long rowAt, int cols, float[] x, int xOff, float[] y, int yAt,
                             int yStride, float[] lanes) {
        int vecCols = cols - cols % F;
        int x1 = xOff + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FLOATS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int k = 0; k < vecCols; k += F) {
            FloatVector wv = FloatVector.fromMemorySegment(FLOATS, data, rowAt + (long) k * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            a0 = wv.fma(FloatVector.fromArray(FLOATS, x, xOff + k), a0);
            a1 = wv.fma(FloatVector.fromArray(FLOATS, x, x1 + k), a1);
            a2 = wv.fma(FloatVector.fromArray(FLOATS, x, x2 + k), a2);
            a3 = wv.fma(FloatVector.fromArray(FLOATS, x, x3 + k), a3);
        }
        float s0 = KernelVectors.sumLanes(a0, lanes);
        float s1 = KernelVectors.sumLanes(a1, lanes);
        float s2 = KernelVectors.sumLanes(a2, lanes);
        float s3 = KernelVectors.sumLanes(a3, lanes);
        for (int k = vecCols; k < cols; k++) {
            float wk = data.get(DenseMatrix.LAYOUT, rowAt + (long) k * Float.BYTES);
            s0 += wk * x[xOff + k];
            s1 += wk * x[x1 + k];
            s2 += wk * x[x2 + k];
            s3 += wk * x[x3 + k];
        }
        y[yAt] = s0;
        y[yAt + yStride] = s1;
        y[yAt + 2 * yStride] = s2;
        y[yAt + 3 * yStride] = s3;
    }
}
