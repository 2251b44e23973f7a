package io.qspec.cuda;

/**
 * One linear layer's dense fp16 weights on the GPU, for the W16A16 baseline: {@code [rows = out features,
 * cols = in features]} row-major, leading dimension {@code cols} (what cuBLAS reads as a column-major
 * {@code cols x rows} matrix).
 */
record DenseLinear(String name, DeviceBuffer weights, int rows, int cols) {
    public DenseLinear {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": bad shape " + rows + "x" + cols);
        }
        if (weights.bytes() != (long) rows * cols * 2) {
            throw new IllegalArgumentException(name + ": dense buffer has " + weights.bytes() + " bytes, " + rows + "x"
                    + cols + " fp16 needs " + (long) rows * cols * 2);
        }
    }
}
