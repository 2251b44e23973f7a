package io.qspec.quant;

/**
 * How linear weights are quantized to 4 bits: symmetric, one FP16 scale per group of
 * {@code groupSize} consecutive input features of one output row, or per output channel.
 *
 * @param groupSize 32, 64 or 128; or {@link #PER_CHANNEL}
 */
public record QuantScheme(int groupSize) {
    /** Marker group size meaning "one scale per output row". */
    public static final int PER_CHANNEL = -1;

    /** The default of the paper and of most INT4 kernels: group size 128. */
    public static final QuantScheme DEFAULT = new QuantScheme(128);

    public QuantScheme {
        if (groupSize != PER_CHANNEL && groupSize != 32 && groupSize != 64 && groupSize != 128) {
            throw new IllegalArgumentException("group size must be 32, 64, 128 or per-channel, got " + groupSize);
        }
    }

    public static QuantScheme perChannel() {
        return new QuantScheme(PER_CHANNEL);
    }

    public static QuantScheme grouped(int groupSize) {
        return new QuantScheme(groupSize);
    }

    public boolean isPerChannel() {
        return groupSize == PER_CHANNEL;
    }

    /**
     * The stored group length for a row of {@code cols} inputs: the group size, or for
     * per-channel the row length rounded up to a multiple of 32 (so kernels see whole groups).
     */
    public int storedGroupSize(int cols) {
        return isPerChannel() ? Math.ceilDiv(cols, 32) * 32 : groupSize;
    }

    @Override
    public String toString() {
        return isPerChannel() ? "per-channel" : "g" + groupSize;
    }
}
