package io.qspec.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.qspec.model.DenseMatrix;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The FP32 kernel against a float64 reference, tolerance {@code 1e-5 * sum_k |terms|}: the longest
 * chain of float roundings is K/F lane FMAs + F lane sums + K mod F tail adds, under 45 for K ≤ 384.
 */
class DenseMatMulTest {
    private static final int N = 37;
    private static final Arena ARENA = Arena.ofShared();
    private static final DenseMatMul ONE_THREAD = new DenseMatMul(new ParallelRows(1));
    private static final DenseMatMul TWO_THREADS = new DenseMatMul(new ParallelRows(2, 1));

    @AfterAll
    static void close() {
        ARENA.close();
    }

    @ParameterizedTest(name = "K={0}")
    @ValueSource(ints = {64, 172, 200, 384, 7})
    void matchesFloat64ReferenceAndBatchedRowsEqualSingleRows(int k) {
        DenseMatrix w = KernelTestData.dense(ARENA, k, N, k);
        for (int m : new int[] {1, 3, 8, 17}) {
            float[] x = KernelTestData.gaussian(k * 3L + m, m * k);
            float[] y = new float[m * N];
            Arrays.fill(y, Float.NaN);
            TWO_THREADS.multiply(w, x, m, y);
            float[] single = new float[m * N];
            for (int r = 0; r < m; r++) {
                float[] yr = new float[N];
                ONE_THREAD.multiply(w, Arrays.copyOfRange(x, r * k, (r + 1) * k), 1, yr);
                System.arraycopy(yr, 0, single, r * N, N);
                for (int n = 0; n < N; n++) {
                    double ref = 0;
                    double abs = 0;
                    for (int c = 0; c < k; c++) {
                        double term = (double) w.get(n, c) * x[r * k + c];
                        ref += term;
                        abs += Math.abs(term);
                    }
                    assertThat((double) y[r * N + n]).as("m=%d row %d out %d", m, r, n).isCloseTo(ref, offset(1e-5 * abs));
                }
            }
            assertThat(KernelTestData.bits(y)).as("m=%d batched vs single", m).isEqualTo(KernelTestData.bits(single));
        }
    }

    /** Scalar emulation of the documented order: F lane FMAs, lanes summed left to right, scalar tail. */
    private static float emulated(DenseMatrix w, int n, float[] x, int xOff) {
        int f = KernelVectors.F;
        int k = w.cols();
        int vecCols = k - k % f;
        float[] acc = new float[f];
        for (int c = 0; c < vecCols; c++) {
            acc[c % f] = Math.fma(w.get(n, c), x[xOff + c], acc[c % f]);
        }
        float s = acc[0];
        for (int l = 1; l < f; l++) {
            s += acc[l];
        }
        for (int c = vecCols; c < k; c++) {
            s += w.get(n, c) * x[xOff + c];
        }
        return s;
    }

    @ParameterizedTest(name = "K={0}")
    @ValueSource(ints = {64, 172, 200, 384, 7})
    void matchesItsDocumentedOperationOrderBitForBit(int k) {
        DenseMatrix w = KernelTestData.dense(ARENA, k + 1, N, k);
        int m = 6;
        float[] x = KernelTestData.gaussian(k, m * k);
        float[] y = new float[m * N];
        TWO_THREADS.multiply(w, x, m, y);
        for (int r = 0; r < m; r++) {
            for (int n = 0; n < N; n++) {
                assertThat(Float.floatToRawIntBits(y[r * N + n])).as("row %d out %d", r, n)
                        .isEqualTo(Float.floatToRawIntBits(emulated(w, n, x, r * k)));
            }
        }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        DenseMatrix w = KernelTestData.dense(ARENA, 5, 203, 200);
        float[] x = KernelTestData.gaussian(6, 5 * 200);
        float[] y1 = new float[5 * 203];
        float[] y2 = new float[5 * 203];
        ONE_THREAD.multiply(w, x, 5, y1);
        TWO_THREADS.multiply(w, x, 5, y2);
        assertThat(KernelTestData.bits(y2)).isEqualTo(KernelTestData.bits(y1));
    }

    @Test
    void resultsStayBitIdenticalOnceTheJitCompilesTheKernel() {
        DenseMatrix w = KernelTestData.dense(ARENA, 9, N, 172);
        float[] x = KernelTestData.gaussian(10, 5 * 172);
        float[] first = new float[5 * N];
        ONE_THREAD.multiply(w, x, 5, first);
        float[] y = new float[5 * N];
        for (int i = 0; i < 5000; i++) {
            ONE_THREAD.multiply(w, x, 5, y);
        }
        assertThat(KernelTestData.bits(y)).isEqualTo(KernelTestData.bits(first));
    }

    @Test
    void rejectsShortBuffers() {
        DenseMatrix w = KernelTestData.dense(ARENA, 1, N, 64);
        assertThatThrownBy(() -> ONE_THREAD.multiply(w, new float[64], 1, new float[N - 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y holds");
    }
}
