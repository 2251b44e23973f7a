package io.qspec.cuda;

import io.qspec.quant.Int4Matrix;

/**
 * One linear layer's INT4 weights on the GPU, each row byte for byte the host {@link Int4Matrix} layout
 * (packed nibbles {@code [rows, paddedCols/2]}, fp16 scales {@code [rows, groupsPerRow]}); stacked matrices and
 * the RoPE row order are {@link DeviceModel}'s.
 */
record DeviceLinear(String name, DeviceBuffer packed, DeviceBuffer scales, int rows, int cols, int group) {
    public DeviceLinear {
        if (rows <= 0 || cols <= 0 || group <= 0 || group % 32 != 0) {
            throw new IllegalArgumentException(name + ": bad shape " + rows + "x" + cols + " group " + group);
        }
        long groups = Math.ceilDiv(cols, group);
        if (packed.bytes() != rows * groups * group / 2) {
            throw new IllegalArgumentException(name + ": packed buffer has " + packed.bytes() + " bytes, layout needs "
                    + rows * groups * group / 2);
        }
        if (scales.bytes() != rows * groups * 2) {
            throw new IllegalArgumentException(name + ": scale buffer has " + scales.bytes() + " bytes, layout needs "
                    + rows * groups * 2);
        }
    }

    public int groupsPerRow() {
        return Math.ceilDiv(cols, group);
    }

    /** Stored inputs per row, a whole number of groups. */
    public int paddedCols() {
        return groupsPerRow() * group;
    }
}
