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
    Q4_0(32, 18);

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

    /** Bytes needed for {@code elements} values, or -1 when {@code elements} is not a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            return -1;
        }
        return elements / blockSize * blockBytes;
    }
}
