package io.qspec.model;

import io.qspec.quant.QuantScheme;
import java.util.Objects;

/**
 * How to load a model.
 *
 * @param quantScheme  group size of the shared 4-bit weight set (default: groups of 128)
 * @param denseWeights whether to keep the unquantized weights as float32 too, which the FP32 baseline needs
 *                     (default: {@link DenseWeights#WHEN_FREE})
 * @param reuseQ4_0    use GGUF Q4_0 tensors directly as the 4-bit set (group 32) instead of
 *                     dequantizing and quantizing them again
 */
public record LoadOptions(QuantScheme quantScheme, DenseWeights denseWeights, boolean reuseQ4_0) {

    /** When a model keeps float32 copies of its linear weights beside the INT4 set. */
    public enum DenseWeights {
        /** Always: F32 tensors are used in place, other types are decoded into 4 bytes a weight of memory. */
        ALWAYS,
        /**
         * Only when every linear weight is stored as F32, so the copies are the memory-mapped file itself and cost
         * nothing. An F16, BF16 or quantized file (an 8B model in Q4_K_M would need 32 GB) keeps the INT4 set only.
         */
        WHEN_FREE,
        /** Never: the INT4 set only. */
        NEVER
    }

    public LoadOptions {
        Objects.requireNonNull(quantScheme, "quantScheme");
        Objects.requireNonNull(denseWeights, "denseWeights");
    }

    public static LoadOptions defaults() {
        return new LoadOptions(QuantScheme.DEFAULT, DenseWeights.WHEN_FREE, true);
    }

    public LoadOptions withQuantScheme(QuantScheme scheme) {
        return new LoadOptions(scheme, denseWeights, reuseQ4_0);
    }

    public LoadOptions withDenseWeights(DenseWeights when) {
        return new LoadOptions(quantScheme, when, reuseQ4_0);
    }

    /** {@code true}: {@link DenseWeights#ALWAYS}; {@code false}: {@link DenseWeights#NEVER}. */
    public LoadOptions withDenseWeights(boolean keep) {
        return withDenseWeights(keep ? DenseWeights.ALWAYS : DenseWeights.NEVER);
    }

    public LoadOptions withReuseQ4_0(boolean reuse) {
        return new LoadOptions(quantScheme, denseWeights, reuse);
    }
}
