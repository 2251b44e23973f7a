package io.qspec.format.gguf;

import java.util.Optional;

/**
 * The value types of GGUF metadata, by their number in the file. {@link #minBytes} is the smallest
 * encoding of one value, used to reject array counts that could not possibly fit in the file.
 */
enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1),
    /** uint64 length + bytes. */
    STRING(8),
    /** uint32 element type + uint64 count + elements. */
    ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    private final int minBytes;

    GgufValueType(int minBytes) {
        this.minBytes = minBytes;
    }

    int minBytes() {
        return minBytes;
    }

    /** The type with file number {@code id} (its ordinal: GGUF numbers them 0..12 in this order). */
    static Optional<GgufValueType> byId(int id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? Optional.of(all[id]) : Optional.empty();
    }
}
