package io.qspec.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Converts stored tensor elements to float: F32, F16, BF16, and GGML's block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
 * in {@link LegacyQuantBlocks}; Q2_K to Q6_K in {@link KQuantBlocks}; IQ4_NL and IQ4_XS in {@link NonLinearQuantBlocks}). All files are little-endian.
 */
public final class TensorDecoding {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Blocks copied out of the (mapped) tensor at a time: 16 KiB or less of bytes for the largest block type. */
    private static final int CHUNK_BLOCKS = 64;

    private TensorDecoding() {
    }

    /** One element, by flat row-major index (block types decode the element's whole block). */
    public static float element(RawTensor t, long index) {
        MemorySegment d = t.data();
        return switch (t.type()) {
            case F32 -> d.get(F32, index * 4);
            case F16 -> Float.float16ToFloat(d.get(I16, index * 2));
            case BF16 -> Float.intBitsToFloat((d.get(I16, index * 2) & 0xFFFF) << 16);
            default -> {
                int block = t.type().blockSize();
                float[] values = new float[block];
                decodeBlocks(t, index / block, 1, values, 0);
                yield values[(int) (index % block)];
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
                int block = t.type().blockSize();
                if (start % block != 0) {
                    throw new IllegalArgumentException(t + ": decoding must start at a block boundary (a multiple of "
                            + block + "), not at element " + start);
                }
                int whole = count / block;
                decodeBlocks(t, start / block, whole, dst, dstOffset);
                int rest = count - whole * block;
                if (rest > 0) {
                    float[] last = new float[block];
                    decodeBlocks(t, start / block + whole, 1, last, 0);
                    System.arraycopy(last, 0, dst, dstOffset + whole * block, rest);
                }
            }
        }
    }

    /** Decodes {@code blocks} whole blocks of a block-quantized tensor, from block {@code first}, into {@code dst[to..]}. */
    private static void decodeBlocks(RawTensor t, long first, int blocks, float[] dst, int to) {
        TensorType type = t.type();
        int blockBytes = type.blockBytes();
        int blockSize = type.blockSize();
        byte[] bytes = new byte[Math.min(blocks, CHUNK_BLOCKS) * blockBytes];
        for (int done = 0; done < blocks; ) {
            int n = Math.min(blocks - done, CHUNK_BLOCKS);
            MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, (first + done) * blockBytes, bytes, 0, n * blockBytes);
            for (int i = 0; i < n; i++) {
                int out = to + (done + i) * blockSize;
                switch (type) {
                    case IQ4_NL, IQ4_XS -> NonLinearQuantBlocks.decode(type, bytes, i * blockBytes, dst, out);
                    case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> KQuantBlocks.decode(type, bytes, i * blockBytes, dst, out);
                    default -> LegacyQuantBlocks.decode(type, bytes, i * blockBytes, dst, out);
                }
            }
            done += n;
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
