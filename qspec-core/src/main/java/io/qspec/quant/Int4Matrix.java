package io.qspec.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The one 4-bit weight set of a linear layer {@code y = W x}, {@code W} of shape
 * {@code [rows = out features, cols = in features]}, in the single layout that every kernel
 * (CPU A16/A8/A4, GPU verify and draft) reads directly. It is packed once at load and never
 * transformed per call.
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>Each row is split into {@code groupsPerRow = ceil(cols / groupSize)} groups of
 *       {@code groupSize} inputs; the last group is padded with zero weights, so a stored row has
 *       {@code paddedCols = groupsPerRow * groupSize} values.</li>
 *   <li>{@code packed}: {@code rows * rowBytes} bytes, {@code rowBytes = paddedCols / 2}; row
 *       {@code n} starts at byte {@code n * rowBytes}. Input {@code k} of row {@code n} is in byte
 *       {@code n * rowBytes + k / 2}: the <b>low</b> nibble holds even {@code k}, the high nibble odd
 *       {@code k}. A nibble {@code u} in [0, 15] encodes the integer {@code q = u - 8} in [-8, 7].</li>
 *   <li>{@code scales}: {@code rows * groupsPerRow} IEEE FP16 values (little-endian), scale of
 *       group {@code g} of row {@code n} at index {@code n * groupsPerRow + g}.</li>
 *   <li>The weight is {@code W[n][k] = scale[n][k / groupSize] * q[n][k]}.</li>
 * </ul>
 * Both segments are 64-byte aligned when this class allocates them.
 */
public final class Int4Matrix {
    private static final ValueLayout.OfShort FP16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int rows;
    private final int cols;
    private final int groupSize;
    private final int groupsPerRow;
    private final int rowBytes;
    private final MemorySegment packed;
    private final MemorySegment scales;

    /** Wraps existing storage laid out as described above; sizes are checked. */
    public Int4Matrix(int rows, int cols, int groupSize, MemorySegment packed, MemorySegment scales) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("rows and cols must be positive: " + rows + "x" + cols);
        }
        if (groupSize <= 0 || groupSize % 32 != 0) {
            throw new IllegalArgumentException("stored group size must be a positive multiple of 32, got " + groupSize);
        }
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.groupsPerRow = Math.ceilDiv(cols, groupSize);
        this.rowBytes = groupsPerRow * groupSize / 2;
        this.packed = Objects.requireNonNull(packed, "packed");
        this.scales = Objects.requireNonNull(scales, "scales");
        if (packed.byteSize() != (long) rows * rowBytes) {
            throw new IllegalArgumentException("packed holds " + packed.byteSize() + " bytes, layout needs " + (long) rows * rowBytes);
        }
        if (scales.byteSize() != (long) rows * groupsPerRow * 2) {
            throw new IllegalArgumentException("scales hold " + scales.byteSize() + " bytes, layout needs " + (long) rows * groupsPerRow * 2);
        }
    }

    /** Allocates zero-filled storage (every nibble 8, i.e. weight 0; every scale 0) in {@code arena}. */
    public static Int4Matrix allocate(Arena arena, int rows, int cols, int groupSize) {
        int groups = Math.ceilDiv(cols, groupSize);
        long rowBytes = (long) groups * groupSize / 2;
        MemorySegment packed = arena.allocate(rows * rowBytes, 64);
        packed.fill((byte) 0x88);
        MemorySegment scales = arena.allocate((long) rows * groups * 2, 64);
        return new Int4Matrix(rows, cols, groupSize, packed, scales);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int groupSize() {
        return groupSize;
    }

    public int groupsPerRow() {
        return groupsPerRow;
    }

    /** Stored values per row, {@code groupsPerRow * groupSize} (≥ cols). */
    public int paddedCols() {
        return groupsPerRow * groupSize;
    }

    public int rowBytes() {
        return rowBytes;
    }

    public MemorySegment packed() {
        return packed;
    }

    public MemorySegment scales() {
        return scales;
    }

    /** The integer {@code q} in [-8, 7] at row {@code n}, input {@code k}. */
    public int q(int n, int k) {
        int b = packed.get(ValueLayout.JAVA_BYTE, (long) n * rowBytes + (k >>> 1)) & 0xFF;
        return ((k & 1) == 0 ? (b & 0xF) : (b >>> 4)) - 8;
    }

    /** The FP16 scale of group {@code g} of row {@code n}, widened to float. */
    public float scale(int n, int g) {
        return Float.float16ToFloat(scales.get(FP16, ((long) n * groupsPerRow + g) * 2));
    }

    /** Sets the FP16 bits of the scale of group {@code g} of row {@code n}. */
    public void setScaleBits(int n, int g, short fp16) {
        scales.set(FP16, ((long) n * groupsPerRow + g) * 2, fp16);
    }

    /** Stores the integer {@code q} in [-8, 7] at row {@code n}, input {@code k}. */
    public void setQ(int n, int k, int q) {
        if (q < -8 || q > 7) {
            throw new IllegalArgumentException("q out of range [-8, 7]: " + q);
        }
        long at = (long) n * rowBytes + (k >>> 1);
        int b = packed.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
        int u = q + 8;
        b = (k & 1) == 0 ? (b & 0xF0) | u : (b & 0x0F) | (u << 4);
        packed.set(ValueLayout.JAVA_BYTE, at, (byte) b);
    }

    /** The dequantized weight {@code scale * q} (for references and tests; kernels never call this). */
    public float dequantized(int n, int k) {
        return scale(n, k / groupSize) * q(n, k);
    }

    /** Bytes of weight data (packed values plus scales): what one pass over this matrix reads. */
    public long byteSize() {
        return packed.byteSize() + scales.byteSize();
    }

    @Override
    public String toString() {
        return "Int4Matrix[" + rows + "x" + cols + ", group " + groupSize + "]";
    }
}
