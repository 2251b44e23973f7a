package io.qspec.quant;

/**
 * Supplies one row of a float matrix at a time, so a weight can be quantized straight from its
 * stored form (F32, F16, BF16, ...) without a full float copy. Must be safe to call from several
 * threads at once for different rows.
 */
@FunctionalInterface
public interface RowSource {
    /** Writes row {@code row} into {@code dst[0 .. cols)}. */
    void read(int row, float[] dst);
}
