package io.qspec;

/**
 * The numeric scheme one forward pass runs in. QSpec's point is that the three {@code W4*} schemes
 * read the <em>same</em> 4-bit weight bytes and differ only in how activations are represented.
 */
public enum Precision {
    /** Unquantized weights and float activations: the reference the quantized modes are judged against. */
    FP32(false, 32),
    /** 4-bit weights dequantized on the fly, float activations. QSpec's verify precision. */
    W4A16(true, 16),
    /** 4-bit weights, activations quantized per token and group to int8, integer dot products. */
    W4A8(true, 8),
    /** 4-bit weights, activations quantized per token and group to the 4-bit range [-8, 7]. */
    W4A4(true, 4);

    private final boolean int4Weights;
    private final int activationBits;

    Precision(boolean int4Weights, int activationBits) {
        this.int4Weights = int4Weights;
        this.activationBits = activationBits;
    }

    /** Whether this scheme reads the packed INT4 weight set (every scheme except {@link #FP32}). */
    public boolean usesInt4Weights() {
        return int4Weights;
    }

    /** Bits per activation value: 32, 16 (kept as float here), 8 or 4. */
    public int activationBits() {
        return activationBits;
    }

    /** Whether activations are quantized to integers (the draft schemes). */
    public boolean quantizesActivations() {
        return activationBits <= 8;
    }
}
