package io.qspec.cuda;

import io.qspec.model.RopeStyle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The order of the q and k rows on the GPU where the q|k|v GEMV rotates: RoPE pairs interleaved, whatever the
 * model's style ({@link DeviceModel#ropeStyle}). A half-split model's pair (i, i + headDim/2) of a head becomes rows (2i, 2i + 1), the pair
 * {@link RopeStyle#INTERLEAVED} rotates with the same frequency. q and k are reordered alike, so every q·k product
 * (all attention reads of them) is the same sum; only its order of terms changes. With both rows of a pair 1 apart,
 * the q|k|v GEMV's threads that hold them can rotate and store them ({@code qspec_w4a16_gemm_rope_kv}).
 */
final class RopeRowOrder {
    private RopeRowOrder() {
    }

    /** The model's row of q (or k) that the GPU's row {@code row} holds. */
    static int sourceRow(int row, int headDim, RopeStyle style) {
        if (style == RopeStyle.INTERLEAVED) {
            return row;
        }
        int head = row / headDim;
        int d = row % headDim;
        return head * headDim + (d % 2 == 0 ? d / 2 : d / 2 + headDim / 2);
    }

    /**
     * {@code rows} (row-major, {@code rowBytes} a row) in the GPU's order: the segment itself where the order is the
     * model's, else a copy in {@code arena}.
     */
    static MemorySegment reorder(MemorySegment rows, long rowBytes, int headDim, RopeStyle style, Arena arena) {
        if (style == RopeStyle.INTERLEAVED) {
            return rows;
        }
        long count = rows.byteSize() / rowBytes;
        if (count * rowBytes != rows.byteSize() || count % headDim != 0) {
            throw new IllegalArgumentException(rows.byteSize() + " bytes are not whole heads of " + headDim + " rows of "
                    + rowBytes + " bytes");
        }
        MemorySegment out = arena.allocate(rows.byteSize(), 16);
        for (int r = 0; r < count; r++) {
            MemorySegment.copy(rows, sourceRow(r, headDim, style) * rowBytes, out, r * rowBytes, rowBytes);
        }
        return out;
    }
}
