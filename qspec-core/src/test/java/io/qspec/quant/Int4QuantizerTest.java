package io.qspec.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.cpu.ParallelRows;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Int4QuantizerTest {
    private static final ValueLayout.OfShort FP16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Stream<Arguments> shapes() {
        return Stream.of(64, 172, 200, 384).flatMap(cols -> Stream.of(32, 64, 128, QuantScheme.PER_CHANNEL)
                .map(g -> Arguments.of(cols, new QuantScheme(g))));
    }

    private static float[] gaussian(long seed, int count) {
        Random random = new Random(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.05);
        }
        return v;
    }

    private static RowSource rowsOf(float[] w, int cols) {
        return (row, dst) -> System.arraycopy(w, row * cols, dst, 0, cols);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void dequantizedWeightsAreWithinHalfAScaleAndScalesAreFp16OfAbsMaxOver7(int cols, QuantScheme scheme) {
        int rows = 9;
        float[] w = gaussian(cols * 31L + scheme.groupSize(), rows * cols);
        try (Arena arena = Arena.ofConfined()) {
            Int4Matrix q = Int4Quantizer.quantize(arena, rows, cols, scheme, rowsOf(w, cols));
            assertThat(q.rows()).isEqualTo(rows);
            assertThat(q.cols()).isEqualTo(cols);
            assertThat(q.groupSize()).isEqualTo(scheme.storedGroupSize(cols));
            for (int n = 0; n < rows; n++) {
                for (int g = 0; g < q.groupsPerRow(); g++) {
                    float absMax = 0f;
                    for (int k = g * q.groupSize(); k < Math.min(cols, (g + 1) * q.groupSize()); k++) {
                        absMax = Math.max(absMax, Math.abs(w[n * cols + k]));
                    }
                    short expected = Float.floatToFloat16(absMax / 7f);
                    assertThat(q.scales().get(FP16, ((long) n * q.groupsPerRow() + g) * 2)).isEqualTo(expected);
                }
                for (int k = 0; k < cols; k++) {
                    float scale = q.scale(n, k / q.groupSize());
                    double error = Math.abs((double) w[n * cols + k] - q.dequantized(n, k));
                    assertThat(error).as("row %d col %d", n, k).isLessThanOrEqualTo(scale * 0.5 * (1 + 1e-6));
                }
                for (int k = cols; k < q.paddedCols(); k++) {
                    assertThat(q.q(n, k)).as("padding at %d", k).isZero();
                }
            }
        }
    }

    @Test
    void resultDoesNotDependOnThreadCount() {
        // a shared arena: a confined one would keep the work on the calling thread
        int rows = 40;
        int cols = 172;
        float[] w = gaussian(5, rows * cols);
        try (Arena arena = Arena.ofShared()) {
            Int4Matrix one = Int4Quantizer.quantize(arena, rows, cols, QuantScheme.DEFAULT, rowsOf(w, cols), new ParallelRows(1));
            Int4Matrix two = Int4Quantizer.quantize(arena, rows, cols, QuantScheme.DEFAULT, rowsOf(w, cols), new ParallelRows(2, 1));
            assertThat(one.packed().mismatch(two.packed())).isEqualTo(-1);
            assertThat(one.scales().mismatch(two.scales())).isEqualTo(-1);
        }
    }

    @Test
    void zeroGroupGetsZeroScaleAndZeroCodes() {
        int cols = 64;
        float[] w = gaussian(3, cols);
        for (int k = 0; k < 32; k++) {
            w[k] = 0f;
        }
        try (Arena arena = Arena.ofConfined()) {
            Int4Matrix q = Int4Quantizer.quantize(arena, 1, cols, QuantScheme.grouped(32), rowsOf(w, cols));
            assertThat(q.scale(0, 0)).isZero();
            assertThat(q.scale(0, 1)).isPositive();
            for (int k = 0; k < 32; k++) {
                assertThat(q.q(0, k)).isZero();
            }
        }
    }

    @Test
    void rejectsNonFiniteWeightsAndBadShapes() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> Int4Quantizer.quantize(arena, 1, 32, QuantScheme.DEFAULT,
                    (row, dst) -> dst[3] = Float.NaN)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not finite");
            assertThatThrownBy(() -> Int4Quantizer.quantize(arena, 0, 32, QuantScheme.DEFAULT, (row, dst) -> { }))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x32");
        }
    }

    /** A random Q4_0 tensor: per block a Gaussian fp16 scale (either sign) and random nibbles. */
    private static RawTensor randomQ4_0(int rows, int cols, long seed) {
        Random random = new Random(seed);
        int blocks = rows * cols / 32;
        MemorySegment data = MemorySegment.ofArray(new byte[blocks * 18]);
        for (int b = 0; b < blocks; b++) {
            data.set(FP16, b * 18L, Float.floatToFloat16((float) (random.nextGaussian() * 0.01)));
            for (int j = 0; j < 16; j++) {
                data.set(ValueLayout.JAVA_BYTE, b * 18L + 2 + j, (byte) random.nextInt(256));
            }
        }
        return new RawTensor("blk.0.ffn_up.weight", TensorType.Q4_0, new long[] {rows, cols}, data);
    }

    @Test
    void q4_0TranscodeIsBitExactAgainstTensorDecoding() {
        int rows = 7;
        int cols = 96;
        RawTensor t = randomQ4_0(rows, cols, 99);
        try (Arena arena = Arena.ofConfined()) {
            Int4Matrix q = Int4Quantizer.fromQ4_0(arena, t);
            assertThat(q.groupSize()).isEqualTo(32);
            assertThat(q.paddedCols()).isEqualTo(cols);
            for (int n = 0; n < rows; n++) {
                for (int k = 0; k < cols; k++) {
                    float expected = TensorDecoding.element(t, (long) n * cols + k);
                    assertThat(Float.floatToRawIntBits(q.dequantized(n, k))).as("row %d col %d", n, k)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }

    @Test
    void q4_0TranscodeValidatesItsInput() {
        try (Arena arena = Arena.ofConfined()) {
            RawTensor f32 = new RawTensor("w", TensorType.F32, new long[] {2, 32}, MemorySegment.ofArray(new byte[256]));
            assertThatThrownBy(() -> Int4Quantizer.fromQ4_0(arena, f32)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected a Q4_0 tensor");
            RawTensor rank1 = new RawTensor("w", TensorType.Q4_0, new long[] {64}, MemorySegment.ofArray(new byte[36]));
            assertThatThrownBy(() -> Int4Quantizer.fromQ4_0(arena, rank1)).hasMessageContaining("2-D");
            RawTensor ragged = new RawTensor("w", TensorType.Q4_0, new long[] {2, 48}, MemorySegment.ofArray(new byte[54]));
            assertThatThrownBy(() -> Int4Quantizer.fromQ4_0(arena, ragged)).hasMessageContaining("multiple of 32");
            RawTensor shortData = new RawTensor("w", TensorType.Q4_0, new long[] {2, 32}, MemorySegment.ofArray(new byte[20]));
            assertThatThrownBy(() -> Int4Quantizer.fromQ4_0(arena, shortData)).hasMessageContaining("needs 36 bytes");
        }
    }
}
