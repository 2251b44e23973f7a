package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.qspec.model.RopeStyle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RopeRowOrderTest {
    @Test
    void halfSplitPairsBecomeNeighboursWithinEachHead() {
        int[] rows = new int[16];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = RopeRowOrder.sourceRow(r, 8, RopeStyle.HALF_SPLIT);
        }
        assertThat(rows).containsExactly(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
        assertThat(RopeRowOrder.sourceRow(13, 8, RopeStyle.INTERLEAVED)).isEqualTo(13);
    }

    /**
     * The interleaved rotation of the reordered rows is the half-split rotation of the model's rows, value for value
     * (the same products per pair), and q·k of the rotated rows agrees up to the order of its terms.
     */
    @Test
    void interleavedRotationOfReorderedRowsIsTheModelsRotation() {
        int headDim = 16;
        int heads = 3;
        Random random = new Random(7);
        float[] q = new float[heads * headDim];
        float[] k = new float[heads * headDim];
        for (int i = 0; i < q.length; i++) {
            q[i] = random.nextFloat() * 2 - 1;
            k[i] = random.nextFloat() * 2 - 1;
        }
        int position = 37;
        float[] modelQ = rotate(q, headDim, position, RopeStyle.HALF_SPLIT);
        float[] modelK = rotate(k, headDim, position, RopeStyle.HALF_SPLIT);
        float[] gpuQ = rotate(reordered(q, headDim), headDim, position, RopeStyle.INTERLEAVED);
        float[] gpuK = rotate(reordered(k, headDim), headDim, position, RopeStyle.INTERLEAVED);
        for (int r = 0; r < q.length; r++) {
            assertThat(gpuQ[r]).isEqualTo(modelQ[RopeRowOrder.sourceRow(r, headDim, RopeStyle.HALF_SPLIT)]);
        }
        for (int h = 0; h < heads; h++) {
            assertThat(dot(gpuQ, gpuK, h, headDim)).isCloseTo(dot(modelQ, modelK, h, headDim), within(1e-5));
        }
    }

    @Test
    void reorderMovesWholeRowsAndRefusesPartialHeads() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rows = arena.allocate(4 * 3);
            for (int i = 0; i < 12; i++) {
                rows.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            assertThat(RopeRowOrder.reorder(rows, 3, 4, RopeStyle.INTERLEAVED, arena)).isSameAs(rows);
            MemorySegment out = RopeRowOrder.reorder(rows, 3, 4, RopeStyle.HALF_SPLIT, arena);
            assertThat(out.toArray(ValueLayout.JAVA_BYTE)).containsExactly(0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11);
            assertThatThrownBy(() -> RopeRowOrder.reorder(rows.asSlice(0, 9), 3, 4, RopeStyle.HALF_SPLIT, arena))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole heads of 4 rows");
        }
    }

    private static float[] reordered(float[] rows, int headDim) {
        float[] out = new float[rows.length];
        for (int r = 0; r < rows.length; r++) {
            out[r] = rows[RopeRowOrder.sourceRow(r, headDim, RopeStyle.HALF_SPLIT)];
        }
        return out;
    }

    /** RoPE of every head at {@code position}, theta 10000, in float as the kernels round it. */
    private static float[] rotate(float[] x, int headDim, int position, RopeStyle style) {
        float[] out = new float[x.length];
        int half = headDim / 2;
        for (int base = 0; base < x.length; base += headDim) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (position * Math.pow(10000, -2.0 * i / headDim));
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int a = style == RopeStyle.INTERLEAVED ? base + 2 * i : base + i;
                int b = style == RopeStyle.INTERLEAVED ? a + 1 : a + half;
                out[a] = x[a] * c - x[b] * s;
                out[b] = x[a] * s + x[b] * c;
            }
        }
        return out;
    }

    private static double dot(float[] a, float[] b, int head, int headDim) {
        double sum = 0;
        for (int d = head * headDim; d < (head + 1) * headDim; d++) {
            sum += a[d] * b[d];
        }
        return sum;
    }
}
