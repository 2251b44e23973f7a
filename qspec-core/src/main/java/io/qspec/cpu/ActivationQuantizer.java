package io.qspec.cpu;

import io.qspec.Precision;

/**
 * The draft schemes' activation quantization: per token (row) and per group of {@code groupSize}
 * inputs (the weight group size, along K), symmetric, with a float scale.
 * <ul>
 *   <li>{@link Precision#W4A8}: {@code scale = absmax / 127}, {@code q = clamp(rint(x / scale), -127, 127)}</li>
 *   <li>{@link Precision#W4A4}: {@code scale = absmax / 7}, {@code q = clamp(rint(x / scale), -8, 7)}</li>
 * </ul>
 * A zero scale gives all-zero {@code q}. This class is the single definition of these numerics:
 * the kernels call {@link #scale} and {@link #quantize} per element.
 */
public final class ActivationQuantizer {
    private ActivationQuantizer() {
    }

    /** The largest {@code |q|} produced for {@code p} (127 or 7). */
    public static int maxLevel(Precision p) {
        return switch (p) {
            case W4A8 -> 127;
            case W4A4 -> 7;
            default -> throw new IllegalArgumentException("activations are not quantized in " + p);
        };
    }

    /** The group's scale for an absolute maximum {@code absMax}. */
    public static float scale(float absMax, Precision p) {
        return absMax / maxLevel(p);
    }

    /** The integer code of {@code x} under {@code scale} (0 when the scale is 0). */
    public static int quantize(float x, float scale, Precision p) {
        if (scale == 0f) {
            return 0;
        }
        int max = maxLevel(p);
        int min = p == Precision.W4A4 ? -8 : -127;
        return (int) Math.max(min, Math.min(max, Math.rint(x / scale)));
    }

    /**
     * Quantizes {@code x[xOff .. xOff + cols)} group by group into {@code q[qOff ..]} (natural order)
     * and {@code scales[sOff .. sOff + ceil(cols / groupSize))}.
     */
    public static void quantizeRow(float[] x, int xOff, int cols, int groupSize, Precision p,
                                   int[] q, int qOff, float[] scales, int sOff) {
        int groups = Math.ceilDiv(cols, groupSize);
        for (int g = 0; g < groups; g++) {
            int from = g * groupSize;
            int to = Math.min(cols, from + groupSize);
            float scale = scale(absMax(x, xOff + from, xOff + to), p);
            scales[sOff + g] = scale;
            for (int k = from; k < to; k++) {
                q[qOff + k] = quantize(x[xOff + k], scale, p);
            }
        }
    }

    /** {@code max |x[from .. to)|}. */
    public static float absMax(float[] x, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }
}
