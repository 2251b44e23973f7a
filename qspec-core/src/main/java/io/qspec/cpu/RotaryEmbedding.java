package io.qspec.cpu;

import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;

/**
 * Rotary position embedding for one model: inverse frequencies (with Llama-3 scaling when the
 * model has it) computed once; angles per position computed in double and rounded to float, so the
 * result for a token never depends on which pass or batch it is in.
 */
final class RotaryEmbedding {
    private final int headDim;
    private final RopeStyle style;
    private final double[] inverseFrequency;

    RotaryEmbedding(ModelConfig config) {
        this.headDim = config.headDim();
        this.style = config.ropeStyle();
        this.inverseFrequency = config.ropeInverseFrequencies();
    }

    /** Fills {@code cos} and {@code sin} (length headDim/2) for {@code position}. */
    void angles(int position, float[] cos, float[] sin) {
        for (int i = 0; i < inverseFrequency.length; i++) {
            double a = position * inverseFrequency[i];
            cos[i] = (float) Math.cos(a);
            sin[i] = (float) Math.sin(a);
        }
    }

    /** Rotates {@code heads} consecutive head vectors of {@code x} starting at {@code offset}. */
    void rotate(float[] x, int offset, int heads, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = style == RopeStyle.INTERLEAVED ? base + 2 * i : base + i;
                int b = style == RopeStyle.INTERLEAVED ? a + 1 : a + half;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = x0 * cos[i] - x1 * sin[i];
                x[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
