package io.qspec.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Converts stored tensor elements (F32, F16, BF16, Q8_0, Q4_0) to float. All files are little-endian. */
public final class TensorDecoding {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorDecoding() {
    }

    /** One element, by flat row-major index. */
    public static float element(RawTensor t, long index) {
        MemorySegment d = t.data();
        return switch (t.type()) {
            case F32 -> d.get(F32, index * 4);
            case F16 -> Float.float16ToFloat(d.get(I16, index * 2));
            case BF16 -> Float.intBitsToFloat((d.get(I16, index * 2) & 0xFFFF) << 16);
            case Q8_0 -> {
                long block = index / 32;
                int j = (int) (index % 32);
                long base = block * 34;
                float scale = Float.float16ToFloat(d.get(I16, base));
                yield scale * d.get(ValueLayout.JAVA_BYTE, base + 2 + j);
            }
            case Q4_0 -> {
                long block = index / 32;
                int j = (int) (index % 32);
                long base = block * 18;
                float scale = Float.float16ToFloat(d.get(I16, base));
                int b = d.get(ValueLayout.JAVA_BYTE, base + 2 + (j & 15)) & 0xFF;
                int nibble = j < 16 ? (b & 0x0F) : (b >>> 4);
                yield scale * (nibble - 8);
            }
        };
    }

    /**
     * Decodes {@code count} consecutive elements starting at flat index {@code start} into
     * {@code dst[dstOffset..]}. For block types, {@code start} must be block-aligned.
     */
    public static void decode(RawTensor t, long start, int count, float[] dst, int dstOffset) {
        MemorySegment d = t.data();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(d, F32, start * 4, dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(d.get(I16, (start + i) * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat((d.get(I16, (start + i) * 2) & 0xFFFF) << 16);
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = element(t, start + i);
                }
            }
        }
    }

    /** Decodes a whole row {@code row} of a 2-D tensor {@code [rows, cols]}. */
    public static void decodeRow(RawTensor t, long row, float[] dst) {
        int cols = (int) t.dim(t.rank() - 1);
        decode(t, row * cols, cols, dst, 0);
    }

    /** The whole tensor as a float array (for small tensors: norms, tests). */
    public static float[] toFloatArray(RawTensor t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(t + " is too large for a float[]");
        }
        float[] out = new float[(int) n];
        decode(t, 0, (int) n, out, 0);
        return out;
    }
}
