package io.qspec.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * An unquantized float32 weight matrix {@code [rows = out, cols = in]}, row-major, little-endian:
 * the FP32 baseline's weights. Often a zero-copy view of a memory-mapped F32 tensor.
 */
public record DenseMatrix(int rows, int cols, MemorySegment data) {
    public static final ValueLayout.OfFloat LAYOUT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public DenseMatrix {
        Objects.requireNonNull(data, "data");
        if (data.byteSize() != (long) rows * cols * 4) {
            throw new IllegalArgumentException("dense " + rows + "x" + cols + " needs " + (long) rows * cols * 4
                    + " bytes, got " + data.byteSize());
        }
    }

    public float get(int row, int col) {
        return data.get(LAYOUT, ((long) row * cols + col) * 4);
    }
}
