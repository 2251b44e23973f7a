package io.qspec.model;

import io.qspec.quant.Int4Matrix;
import java.util.Objects;
import java.util.Optional;

/**
 * Weights of one linear layer {@code y = W x}: always the shared 4-bit set, plus the unquantized
 * matrix when the model was loaded with dense weights for the FP32 baseline.
 */
public record LinearWeight(String name, Int4Matrix int4, Optional<DenseMatrix> dense) {
    public LinearWeight {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(int4, "int4");
        Objects.requireNonNull(dense, "dense");
        dense.ifPresent(d -> {
            if (d.rows() != int4.rows() || d.cols() != int4.cols()) {
                throw new IllegalArgumentException(name + ": dense " + d.rows() + "x" + d.cols()
                        + " does not match int4 " + int4.rows() + "x" + int4.cols());
            }
        });
    }

    public int outFeatures() {
        return int4.rows();
    }

    public int inFeatures() {
        return int4.cols();
    }
}
