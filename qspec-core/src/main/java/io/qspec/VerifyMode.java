package io.qspec;

/**
 * How the verify phase runs. QSpec verifies with 16-bit activations against the same 4-bit
 * weights the draft reads (W4A16), so this is the precision whose output QSpec reproduces.
 *
 * @param precision {@link Precision#W4A16}
 */
public record VerifyMode(Precision precision) {
    public VerifyMode {
        if (precision != Precision.W4A16) {
            throw new IllegalArgumentException("verify precision must be W4A16 (weights are shared with the draft), got " + precision);
        }
    }

    public static VerifyMode w4a16() {
        return new VerifyMode(Precision.W4A16);
    }
}
