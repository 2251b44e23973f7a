package io.qspec.cuda;

import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import io.qspec.cuda.ffm.QSpecKernels;

/** The RoPE inputs the kernels take: the (Llama-3 scaled) inverse-frequency table and the style code. */
final class RopeFrequencies {
    private RopeFrequencies() {
    }

    /** {@code inv_freq[i] = theta^(-2i / headDim)}, scaled by {@link ModelConfig#ropeScaling()} when present. */
    public static float[] inverseFrequencies(ModelConfig config) {
        double[] inverse = config.ropeInverseFrequencies();
        float[] table = new float[inverse.length];
        for (int i = 0; i < table.length; i++) {
            table[i] = (float) inverse[i];
        }
        return table;
    }

    /** The header's {@code rope_style} code. */
    public static int styleCode(RopeStyle style) {
        return switch (style) {
            case INTERLEAVED -> QSpecKernels.ROPE_INTERLEAVED;
            case HALF_SPLIT -> QSpecKernels.ROPE_HALF_SPLIT;
        };
    }
}
