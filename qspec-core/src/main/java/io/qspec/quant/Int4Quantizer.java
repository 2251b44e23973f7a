package io.qspec.quant;

import io.qspec.cpu.ParallelRows;
import io.qspec.format.RawTensor;
import io.qspec.format.TensorType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Builds the shared {@link Int4Matrix} once at load time: symmetric round-to-nearest quantization
 * of float weights, or a bit-exact transcode of GGML Q4_0 blocks.
 *
 * <p>Quantization, per row and group: {@code scale = fp16(max|w| / 7)}, then with the
 * <em>fp16-rounded</em> scale {@code q = clamp(rint(w / scale), -8, 7)} (ties to even); a zero
 * scale gives all-zero {@code q}. Each dequantized value is then within {@code scale / 2} of the
 * original (fp16 rounding moves {@code max|w| / scale} at most to 7.0035, which still rounds to 7).
 */
public final class Int4Quantizer {
    private static final ValueLayout.OfShort FP16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int Q4_0_BLOCK = 32;

    private Int4Quantizer() {
    }

    /** Quantizes a {@code rows x cols} float matrix read row by row from {@code source}, on all processors. */
    public static Int4Matrix quantize(Arena arena, int rows, int cols, QuantScheme scheme, RowSource source) {
        return quantize(arena, rows, cols, scheme, source, ParallelRows.shared());
    }

    /**
     * As {@link #quantize(Arena, int, int, QuantScheme, RowSource)}, parallel over rows with
     * {@code parallel} (single-threaded when {@code arena} is confined).
     */
    public static Int4Matrix quantize(Arena arena, int rows, int cols, QuantScheme scheme, RowSource source,
                                      ParallelRows parallel) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix shape must be positive, got " + rows + "x" + cols);
        }
        int groupSize = scheme.storedGroupSize(cols);
        Int4Matrix out = Int4Matrix.allocate(arena, rows, cols, groupSize);
        parallel.forSegment(out.packed()).forEach(rows, cols, (start, end) -> {
            float[] row = new float[cols];
            byte[] packedRow = new byte[out.rowBytes()];
            for (int n = start; n < end; n++) {
                source.read(n, row);
                quantizeRow(out, n, row, packedRow);
            }
        });
        return out;
    }

    private static void quantizeRow(Int4Matrix out, int n, float[] row, byte[] packedRow) {
        int cols = out.cols();
        int groupSize = out.groupSize();
        Arrays.fill(packedRow, (byte) 0x88); // nibble 8 is q = 0, also for the padding
        for (int g = 0; g < out.groupsPerRow(); g++) {
            int from = g * groupSize;
            int to = Math.min(cols, from + groupSize);
            float absMax = 0f;
            for (int k = from; k < to; k++) {
                float w = row[k];
                if (!Float.isFinite(w)) {
                    throw new IllegalArgumentException("row " + n + ", column " + k + " is not finite: " + w);
                }
                absMax = Math.max(absMax, Math.abs(w));
            }
            short scaleBits = Float.floatToFloat16(absMax / 7f);
            float scale = Float.float16ToFloat(scaleBits);
            if (Float.isInfinite(scale)) {
                throw new IllegalArgumentException("row " + n + ", group " + g + ": scale " + absMax / 7f
                        + " overflows FP16");
            }
            out.setScaleBits(n, g, scaleBits);
            if (scale == 0f) {
                continue;
            }
            for (int k = from; k < to; k++) {
                int q = (int) Math.max(-8f, Math.min(7f, Math.rint(row[k] / scale)));
                int shift = (k & 1) * 4;
                int b = packedRow[k >>> 1] & ~(0xF << shift);
                packedRow[k >>> 1] = (byte) (b | ((q + 8) << shift));
            }
        }
        MemorySegment.copy(packedRow, 0, out.packed(), ValueLayout.JAVA_BYTE, (long) n * out.rowBytes(), packedRow.length);
    }

    /**
     * Transcodes a GGML Q4_0 tensor {@code [rows, cols]} into the {@link Int4Matrix} layout with group
     * size 32, keeping every fp16 scale and 4-bit code: the dequantized values are bit-identical to
     * the Q4_0 ones. A Q4_0 block holds an fp16 {@code d} and 16 bytes; byte {@code j}'s low nibble is
     * element {@code j}, its high nibble element {@code j + 16}; the value is {@code d * (nibble - 8)}.
     */
    public static Int4Matrix fromQ4_0(Arena arena, RawTensor tensor) {
        if (tensor.type() != TensorType.Q4_0) {
            throw new IllegalArgumentException(tensor.name() + ": expected a Q4_0 tensor, got " + tensor.type());
        }
        if (tensor.rank() != 2) {
            throw new IllegalArgumentException(tensor.name() + ": expected a 2-D [out, in] tensor, got rank " + tensor.rank());
        }
        long rowsL = tensor.dim(0);
        long colsL = tensor.dim(1);
        if (rowsL <= 0 || colsL <= 0 || rowsL > Integer.MAX_VALUE || colsL > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(tensor.name() + ": unsupported shape " + rowsL + "x" + colsL);
        }
        if (colsL % Q4_0_BLOCK != 0) {
            throw new IllegalArgumentException(tensor.name() + ": Q4_0 row length " + colsL + " is not a multiple of 32");
        }
        long expected = TensorType.Q4_0.byteSize(rowsL * colsL);
        if (tensor.data().byteSize() != expected) {
            throw new IllegalArgumentException(tensor.name() + ": Q4_0 " + rowsL + "x" + colsL + " needs " + expected
                    + " bytes, got " + tensor.data().byteSize());
        }
        int rows = (int) rowsL;
        int cols = (int) colsL;
        Int4Matrix out = Int4Matrix.allocate(arena, rows, cols, Q4_0_BLOCK);
        MemorySegment src = tensor.data();
        int blocksPerRow = cols / Q4_0_BLOCK;
        int blockBytes = TensorType.Q4_0.blockBytes();
        ParallelRows.shared().forSegment(out.packed()).forSegment(src).forEach(rows, cols, (start, end) -> {
            byte[] block = new byte[blockBytes];
            byte[] packedRow = new byte[out.rowBytes()];
            for (int n = start; n < end; n++) {
                for (int g = 0; g < blocksPerRow; g++) {
                    long at = ((long) n * blocksPerRow + g) * blockBytes;
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, at, block, 0, blockBytes);
                    out.setScaleBits(n, g, src.get(FP16, at));
                    // our byte i holds elements 2i (low) and 2i+1 (high) of the group
                    for (int i = 0; i < Q4_0_BLOCK / 2; i++) {
                        packedRow[g * 16 + i] = (byte) (q4Nibble(block, 2 * i) | (q4Nibble(block, 2 * i + 1) << 4));
                    }
                }
                MemorySegment.copy(packedRow, 0, out.packed(), ValueLayout.JAVA_BYTE, (long) n * out.rowBytes(),
                        packedRow.length);
            }
        });
        return out;
    }

    /** Nibble of element {@code e} (0..31) of a Q4_0 block whose fp16 scale takes bytes 0-1. */
    private static int q4Nibble(byte[] block, int e) {
        int b = block[2 + (e & 15)] & 0xFF;
        return e < 16 ? b & 0xF : b >>> 4;
    }
}
