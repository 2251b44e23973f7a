package io.qspec.cuda;

import io.qspec.cuda.ffm.QSpecKernels;

/**
 * The order of the inputs within a GEMM's token rows (ABI 13, {@code qspec_cuda.h}): {@link #ROW}, input k at
 * element k; or {@link #MMA}, each 128-input step of a row in the order the sm_90a warpgroup kernels' MMAs read it.
 * A GEMM reads MMA order without the pass that would otherwise permute its tokens, where
 * {@link Kernels#tokenOrder} names it; the norms, quantizers and SwiGLU that feed it write that order. Both give the
 * same sums, bit for bit.
 */
enum TokenOrder {
    ROW(QSpecKernels.QSPEC_TOKENS_ROW),
    MMA(QSpecKernels.QSPEC_TOKENS_MMA);

    /** Inputs a permutation spans: rows in MMA order are a whole number of steps. */
    static final int STEP = 128;

    private final int code;

    TokenOrder(int code) {
        this.code = code;
    }

    /** The value of the C ABI's {@code x_order} / {@code out_order}. */
    int code() {
        return code;
    }

    /** The order the C ABI names {@code code}. */
    static TokenOrder of(int code) {
        for (TokenOrder order : values()) {
            if (order.code == code) {
                return order;
            }
        }
        throw new IllegalStateException("qspec_tokens_order returned " + code + ", which names no token order");
    }

    /** Throws unless rows of {@code inputs} inputs can be held in this order (MMA order needs whole steps). */
    void requireRowsOf(String what, int inputs) {
        if (this == MMA && inputs % STEP != 0) {
            throw new IllegalArgumentException(what + " has rows of " + inputs + " inputs; tokens in MMA order need a"
                    + " multiple of " + STEP);
        }
    }
}
