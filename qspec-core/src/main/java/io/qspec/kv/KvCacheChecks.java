package io.qspec.kv;

/** The argument checks every {@link KvCache} implementation makes, in one place (same messages everywhere). */
public final class KvCacheChecks {
    private KvCacheChecks() {
    }

    /** {@code newLength} must be in [0, length]. */
    public static void checkTruncate(int newLength, int length) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " outside [0, " + length + "]");
        }
    }

    /** {@code layer} must be in [0, layers) and {@code position} in [0, length). */
    public static void checkRead(int layer, int layers, int position, int length) {
        if (layer < 0 || layer >= layers || position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("layer " + layer + ", position " + position + " outside "
                    + layers + " layers x " + length + " valid positions");
        }
    }
}
