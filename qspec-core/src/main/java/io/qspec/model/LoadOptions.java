package io.qspec.model;

import io.qspec.quant.QuantScheme;
import java.util.Objects;

/**
 * How to load a model.
 *
 * @param quantScheme  group size of the shared 4-bit weight set (default: groups of 128)
 * @param denseWeights keep unquantized float32 weights too, so the FP32 baseline can run
 *                     (free for memory-mapped F32 files; costs 4 bytes a weight otherwise)
 * @param reuseQ4_0    use GGUF Q4_0 tensors directly as the 4-bit set (group 32) instead of
 *                     dequantizing and quantizing them again
 */
public record LoadOptions(QuantScheme quantScheme, boolean denseWeights, boolean reuseQ4_0) {
    public LoadOptions {
        Objects.requireNonNull(quantScheme, "quantScheme");
    }

    public static LoadOptions defaults() {
        return new LoadOptions(QuantScheme.DEFAULT, true, true);
    }

    public LoadOptions withQuantScheme(QuantScheme scheme) {
        return new LoadOptions(scheme, denseWeights, reuseQ4_0);
    }

    public LoadOptions withDenseWeights(boolean keep) {
        return new LoadOptions(quantScheme, keep, reuseQ4_0);
    }
}
