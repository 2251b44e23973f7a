package io.qspec.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The GGUF block-type decoders against llama.cpp's own {@code dequantize_row_*} ({@link LlamaCpp}), bit for bit, on blocks that
 * llama.cpp's quantizer made from random data: Gaussian rows of different scales, with outliers and a row of
 * nearly constant values (which exercises the minimums of the asymmetric types).
 */
class GgmlBlockDecodingTest {
    private static final int ROWS = 6;
    private static final int COLS = 1024;

    /**
     * Bound on the decoded values' RMS error against the original data, relative to the data's RMS: a check that
     * the quantizer and both decoders agree on what the blocks mean, not just with each other.
     */
    private static double errorBound(TensorType type) {
        return switch (type) {
            case Q8_0 -> 0.01;
            case Q6_K -> 0.04;
            case Q5_0, Q5_1, Q5_K -> 0.08;
            case Q4_0, Q4_1, Q4_K, IQ4_NL, IQ4_XS -> 0.16;
            case Q3_K -> 0.3;
            case Q2_K -> 0.6;
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    static float[] randomRows(long seed) {
        Random random = new Random(seed);
        float[] x = new float[ROWS * COLS];
        for (int r = 0; r < ROWS; r++) {
            double scale = Math.pow(10, r - 3);   // 1e-3 .. 1e2
            double offset = r == 4 ? 5 * scale : 0;   // row 4: large mean, small spread
            double spread = r == 4 ? 0.05 : 1;
            for (int c = 0; c < COLS; c++) {
                double v = offset + spread * scale * random.nextGaussian();
                if (random.nextInt(200) == 0) {
                    v *= 8;   // outliers, as real weights have
                }
                x[r * COLS + c] = (float) v;
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    void decodesWhatLlamaCppDecodes(TensorType type) {
        LlamaCpp ggml = LlamaCpp.get();
        float[] original = randomRows(type.ordinal());
        byte[] blocks = ggml.quantize(type, original, ROWS, COLS);
        float[] expected = ggml.dequantize(type, blocks, ROWS * COLS);
        RawTensor t = new RawTensor("w", type, new long[] {ROWS, COLS}, MemorySegment.ofArray(blocks));

        float[] all = TensorDecoding.toFloatArray(t);
        float[] row = new float[COLS];
        for (int r = 0; r < ROWS; r++) {
            TensorDecoding.decodeRow(t, r, row);
            double errSq = 0;
            double sq = 0;
            for (int c = 0; c < COLS; c++) {
                double e = expected[r * COLS + c] - original[r * COLS + c];
                errSq += e * e;
                sq += (double) original[r * COLS + c] * original[r * COLS + c];
            }
            // bit for bit: the decoders use ggml's order of operations, and this build of ggml does not contract
            // d * q - m into an FMA
            for (int c = 0; c < COLS; c++) {
                int i = r * COLS + c;
                assertThat(all[i]).as("%s row %d element %d", type, r, c).isEqualTo(expected[i]);
                assertThat(row[c]).as("%s decodeRow", type).isEqualTo(all[i]);
            }
            assertThat(Math.sqrt(errSq / sq)).as("%s row %d relative RMS error against the original", type, r)
                    .isLessThan(errorBound(type));
        }
        for (int i : new int[] {0, 1, 31, 32, 255, 256, 1000, ROWS * COLS - 1}) {
            assertThat(t.getFloat(i)).as("%s element %d", type, i).isEqualTo(all[i]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q5_1", "Q6_K", "IQ4_XS"})
    void decodesPartialBlocksFromBlockBoundariesOnly(TensorType type) {
        LlamaCpp ggml = LlamaCpp.get();
        float[] original = randomRows(99);
        byte[] blocks = ggml.quantize(type, original, ROWS, COLS);
        RawTensor t = new RawTensor("w", type, new long[] {ROWS * COLS}, MemorySegment.ofArray(blocks));
        float[] all = TensorDecoding.toFloatArray(t);
        int block = type.blockSize();
        float[] part = new float[block + 7];
        TensorDecoding.decode(t, 2L * block, part.length, part, 0);
        for (int i = 0; i < part.length; i++) {
            assertThat(part[i]).isEqualTo(all[2 * block + i]);
        }
        assertThatThrownBy(() -> TensorDecoding.decode(t, block + 1, 4, part, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("block boundary (a multiple of " + block + "), not at element " + (block + 1));
    }
}
