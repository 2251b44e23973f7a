package io.qspec.format;

/**
 * Element encodings of stored tensors that the loaders understand. Block-quantized types store
 * {@link #blockSize()} elements in {@link #blockBytes()} bytes.
 */
public enum TensorType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** GGML Q8_0: blocks of 32 int8 values with one fp16 scale. */
    Q8_0(32, 34),
    /** GGML Q4_0: blocks of 32 4-bit values (stored offset by 8) with one fp16 scale. */
    Q4_0(32, 18),
    /** GGML Q4_1: blocks of 32 unsigned 4-bit values with an fp16 scale and an fp16 minimum. */
    Q4_1(32, 20),
    /** GGML Q5_0: blocks of 32 5-bit values (stored offset by 16) with one fp16 scale. */
    Q5_0(32, 22),
    /** GGML Q5_1: blocks of 32 unsigned 5-bit values with an fp16 scale and an fp16 minimum. */
    Q5_1(32, 24),
    /** GGML Q2_K: super-blocks of 256 2-bit values, 16 sub-blocks with 4-bit scales and minimums. */
    Q2_K(256, 84),
    /** GGML Q3_K: super-blocks of 256 3-bit values, 16 sub-blocks with 6-bit scales. */
    Q3_K(256, 110),
    /** GGML Q4_K: super-blocks of 256 4-bit values, 8 sub-blocks with 6-bit scales and minimums. */
    Q4_K(256, 144),
    /** GGML Q5_K: super-blocks of 256 5-bit values, 8 sub-blocks with 6-bit scales and minimums. */
    Q5_K(256, 176),
    /** GGML Q6_K: super-blocks of 256 6-bit values, 16 sub-blocks with 8-bit scales. */
    Q6_K(256, 210),
    /** GGML IQ4_NL: blocks of 32 4-bit indices into a fixed non-linear table, with one fp16 scale. */
    IQ4_NL(32, 18),
    /** GGML IQ4_XS: super-blocks of 256 IQ4_NL-style indices, 8 sub-blocks with 6-bit scales. */
    IQ4_XS(256, 136);

    private final int blockSize;
    private final int blockBytes;

    TensorType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int blockSize() {
        return blockSize;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /** Whether elements are stored in blocks of {@link #blockSize()} (the GGML quantized types). */
    public boolean isBlockQuantized() {
        return blockSize > 1;
    }

    /** Bytes needed for {@code elements} values, or -1 when {@code elements} is not a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            return -1;
        }
        return elements / blockSize * blockBytes;
    }
}
