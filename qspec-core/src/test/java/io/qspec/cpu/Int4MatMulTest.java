package io.qspec.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.qspec.Precision;
import io.qspec.quant.Int4Matrix;
import io.qspec.quant.QuantScheme;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the INT4 kernels against float64 references on seeded Gaussian data.
 *
 * <p>Tolerances:
 * <ul>
 *   <li>W4A16 vs {@code sum_k deq(W)[n][k] * x[k]} in double: {@code 1e-5 * sum_k |terms|}. The
 *       kernel's longest chain of float roundings (group FMAs per lane + one scale FMA per group +
 *       16 lane sums) is under 40 steps of 2^-24 each, i.e. below 2.4e-6 of the sum of |terms|.</li>
 *   <li>W4A8/W4A4 vs a double reference applying the same activation quantization
 *       ({@link ActivationQuantizer}): integer dots are exact, so only the float rescale
 *       {@code (sw * sa) * dot} (2 roundings) and the sum over at most 12 groups round:
 *       {@code 2e-6 * sum_g |sw * sa * dot|}.</li>
 *   <li>W4A8/W4A4 vs the unquantized-activation product: each activation moves by at most half its
 *       group's scale, so {@code |y - ref| <= sum_g sa[g] / 2 * sum_(k in g) |deq(W)[n][k]|} plus the
 *       float rounding terms above.</li>
 * </ul>
 */
class Int4MatMulTest {
    private static final int N = 37; // not a multiple of any vector width
    private static final Arena ARENA = Arena.ofShared(); // shared so that kernels may use worker threads
    private static final Int4MatMul ONE_THREAD = new Int4MatMul(new ParallelRows(1));
    private static final Int4MatMul TWO_THREADS = new Int4MatMul(new ParallelRows(2, 1));

    @AfterAll
    static void close() {
        ARENA.close();
    }

    static Stream<Arguments> shapes() {
        return Stream.of(64, 172, 200, 384, 640, 768).flatMap(k -> Stream.of(32, 64, 128, QuantScheme.PER_CHANNEL)
                .flatMap(g -> Stream.of(1, 3, 8, 17).map(m -> Arguments.of(k, new QuantScheme(g), m))));
    }

    static Stream<Arguments> batchShapes() {
        return Stream.of(64, 172, 200, 384, 640, 768).flatMap(k -> Stream.of(32, 64, 128, QuantScheme.PER_CHANNEL)
                .flatMap(g -> Stream.of(Precision.W4A16, Precision.W4A8, Precision.W4A4)
                        .map(p -> Arguments.of(k, new QuantScheme(g), p))));
    }

    private static Int4Matrix weights(int k, QuantScheme scheme) {
        return KernelTestData.int4(ARENA, 1000L * k + scheme.groupSize(), N, k, scheme);
    }

    private static float[] run(Int4MatMul kernel, Int4Matrix w, float[] x, int m, Precision p) {
        float[] y = new float[m * w.rows()];
        Arrays.fill(y, Float.NaN); // every output must be written
        kernel.multiply(w, x, m, y, p);
        return y;
    }

    @ParameterizedTest(name = "K={0} {1} m={2}")
    @MethodSource("shapes")
    void a16MatchesFloat64ReferenceOfDequantizedWeights(int k, QuantScheme scheme, int m) {
        Int4Matrix w = weights(k, scheme);
        float[] x = KernelTestData.gaussian(7L * k + m, m * k);
        float[] y = run(TWO_THREADS, w, x, m, Precision.W4A16);
        for (int r = 0; r < m; r++) {
            for (int n = 0; n < N; n++) {
                double ref = 0;
                double abs = 0;
                for (int c = 0; c < k; c++) {
                    double term = (double) w.dequantized(n, c) * x[r * k + c];
                    ref += term;
                    abs += Math.abs(term);
                }
                assertThat((double) y[r * N + n]).as("row %d out %d", r, n).isCloseTo(ref, offset(1e-5 * abs));
            }
        }
    }

    @ParameterizedTest(name = "K={0} {1} m={2}")
    @MethodSource("shapes")
    void a8AndA4MatchReferenceWithSameActivationQuantizationAndStayNearTheFloatProduct(int k, QuantScheme scheme, int m) {
        Int4Matrix w = weights(k, scheme);
        float[] x = KernelTestData.gaussian(13L * k + m, m * k);
        int group = w.groupSize();
        int groups = w.groupsPerRow();
        for (Precision p : new Precision[] {Precision.W4A8, Precision.W4A4}) {
            float[] y = run(TWO_THREADS, w, x, m, p);
            int[] q = new int[k];
            float[] sa = new float[groups];
            for (int r = 0; r < m; r++) {
                ActivationQuantizer.quantizeRow(x, r * k, k, group, p, q, 0, sa, 0);
                for (int n = 0; n < N; n++) {
                    double sameQuant = 0;
                    double groupTermsAbs = 0;
                    double floatRef = 0;
                    double quantBound = 0;
                    for (int g = 0; g < groups; g++) {
                        long dot = 0;
                        double weightAbs = 0;
                        for (int c = g * group; c < Math.min(k, (g + 1) * group); c++) {
                            dot += (long) w.q(n, c) * q[c];
                            floatRef += (double) w.dequantized(n, c) * x[r * k + c];
                            weightAbs += Math.abs(w.dequantized(n, c));
                        }
                        double term = (double) w.scale(n, g) * sa[g] * dot;
                        sameQuant += term;
                        groupTermsAbs += Math.abs(term);
                        quantBound += sa[g] / 2.0 * weightAbs;
                    }
                    double actual = y[r * N + n];
                    assertThat(actual).as("%s row %d out %d vs same quantization", p, r, n)
                            .isCloseTo(sameQuant, offset(2e-6 * groupTermsAbs + 1e-30));
                    assertThat(Math.abs(actual - floatRef)).as("%s row %d out %d vs float activations", p, r, n)
                            .isLessThanOrEqualTo(quantBound * (1 + 1e-5) + 2e-6 * groupTermsAbs + 1e-30);
                }
            }
        }
    }

    @ParameterizedTest(name = "K={0} {1} {2}")
    @MethodSource("batchShapes")
    void batchedRowsAreBitIdenticalToSingleRowCalls(int k, QuantScheme scheme, Precision p) {
        Int4Matrix w = weights(k, scheme);
        for (int m : new int[] {3, 8, 17}) {
            float[] x = KernelTestData.gaussian(31L * k + m, m * k);
            float[] batched = run(TWO_THREADS, w, x, m, p);
            float[] single = new float[m * N];
            for (int r = 0; r < m; r++) {
                float[] y = run(ONE_THREAD, w, Arrays.copyOfRange(x, r * k, (r + 1) * k), 1, p);
                System.arraycopy(y, 0, single, r * N, N);
            }
            assertThat(KernelTestData.bits(batched)).as("m=%d", m).isEqualTo(KernelTestData.bits(single));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void resultsDoNotDependOnThreadCount(Precision p) {
        int rows = 203;
        Int4Matrix w = KernelTestData.int4(ARENA, 77, rows, 200, QuantScheme.grouped(64));
        float[] x = KernelTestData.gaussian(78, 5 * 200);
        float[] y1 = new float[5 * rows];
        float[] y2 = new float[5 * rows];
        ONE_THREAD.multiply(w, x, 5, y1, p);
        TWO_THREADS.multiply(w, x, 5, y2, p);
        assertThat(KernelTestData.bits(y2)).isEqualTo(KernelTestData.bits(y1));
        new Int4MatMul(new ParallelRows(3, 1)).multiply(w, x, 5, y2, p);
        assertThat(KernelTestData.bits(y2)).isEqualTo(KernelTestData.bits(y1));
    }

    /**
     * Scalar emulation of the kernels' documented operation order (F lanes, per-lane FMAs over the
     * group, one scale FMA per group, lanes summed left to right; for A8/A4 exact integer dots and
     * {@code s += (sw * sa) * dot} group by group). Equality with it, bit for bit, shows the vector
     * code has exactly that order, whatever the JIT does.
     */
    private static float emulatedA16(Int4Matrix w, int n, float[] x, int xOff) {
        int f = KernelVectors.F;
        int k = w.cols();
        float[] total = new float[f];
        for (int g = 0; g < w.groupsPerRow(); g++) {
            float[] acc = new float[f];
            for (int block = g * w.groupSize(); block < (g + 1) * w.groupSize(); block += 2 * f) {
                for (int l = 0; l < f; l++) {
                    int even = block + 2 * l;
                    acc[l] = Math.fma((float) w.q(n, even), even < k ? x[xOff + even] : 0f, acc[l]);
                    acc[l] = Math.fma((float) w.q(n, even + 1), even + 1 < k ? x[xOff + even + 1] : 0f, acc[l]);
                }
            }
            for (int l = 0; l < f; l++) {
                total[l] = Math.fma(acc[l], w.scale(n, g), total[l]);
            }
        }
        float sum = total[0];
        for (int l = 1; l < f; l++) {
            sum += total[l];
        }
        return sum;
    }

    private static float emulatedIntegerPath(Int4Matrix w, int n, int[] q, float[] sa) {
        float sum = 0f;
        for (int g = 0; g < w.groupsPerRow(); g++) {
            int dot = 0;
            for (int c = g * w.groupSize(); c < Math.min(w.cols(), (g + 1) * w.groupSize()); c++) {
                dot += w.q(n, c) * q[c];
            }
            sum += (w.scale(n, g) * sa[g]) * dot;
        }
        return sum;
    }

    @ParameterizedTest(name = "K={0} {1} m={2}")
    @MethodSource("shapes")
    void matchesItsDocumentedOperationOrderBitForBit(int k, QuantScheme scheme, int m) {
        Int4Matrix w = weights(k, scheme);
        float[] x = KernelTestData.gaussian(17L * k + m, m * k);
        float[] a16 = run(TWO_THREADS, w, x, m, Precision.W4A16);
        float[] a8 = run(TWO_THREADS, w, x, m, Precision.W4A8);
        float[] a4 = run(TWO_THREADS, w, x, m, Precision.W4A4);
        int[] q8 = new int[k];
        int[] q4 = new int[k];
        float[] sa8 = new float[w.groupsPerRow()];
        float[] sa4 = new float[w.groupsPerRow()];
        for (int r = 0; r < m; r++) {
            ActivationQuantizer.quantizeRow(x, r * k, k, w.groupSize(), Precision.W4A8, q8, 0, sa8, 0);
            ActivationQuantizer.quantizeRow(x, r * k, k, w.groupSize(), Precision.W4A4, q4, 0, sa4, 0);
            for (int n = 0; n < N; n++) {
                assertThat(Float.floatToRawIntBits(a16[r * N + n])).as("A16 row %d out %d", r, n)
                        .isEqualTo(Float.floatToRawIntBits(emulatedA16(w, n, x, r * k)));
                assertThat(Float.floatToRawIntBits(a8[r * N + n])).as("A8 row %d out %d", r, n)
                        .isEqualTo(Float.floatToRawIntBits(emulatedIntegerPath(w, n, q8, sa8)));
                assertThat(Float.floatToRawIntBits(a4[r * N + n])).as("A4 row %d out %d", r, n)
                        .isEqualTo(Float.floatToRawIntBits(emulatedIntegerPath(w, n, q4, sa4)));
            }
        }
    }

    @Test
    void resultsStayBitIdenticalOnceTheJitCompilesTheKernels() {
        // the first calls run interpreted, later ones C2-compiled vector code: both must agree exactly
        Int4Matrix w = weights(172, QuantScheme.grouped(32));
        float[] x = KernelTestData.gaussian(3, 5 * 172);
        for (Precision p : new Precision[] {Precision.W4A16, Precision.W4A8, Precision.W4A4}) {
            int[] first = KernelTestData.bits(run(ONE_THREAD, w, x, 5, p));
            float[] y = new float[5 * N];
            for (int i = 0; i < 3000; i++) {
                ONE_THREAD.multiply(w, x, 5, y, p);
            }
            assertThat(KernelTestData.bits(y)).as("%s", p).isEqualTo(first);
        }
    }

    @Test
    void rejectsFp32AndShortBuffers() {
        Int4Matrix w = weights(64, QuantScheme.DEFAULT);
        assertThatThrownBy(() -> ONE_THREAD.multiply(w, new float[64], 1, new float[N], Precision.FP32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("DenseMatMul");
        assertThatThrownBy(() -> ONE_THREAD.multiply(w, new float[63], 1, new float[N], Precision.W4A16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x holds 63");
        assertThatThrownBy(() -> ONE_THREAD.multiply(w, new float[128], 2, new float[N], Precision.W4A8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y holds");
    }
}
