package io.qspec.cuda;

import io.qspec.Precision;

/**
 * The order in which each GEMM of one forward pass reads its tokens ({@link Kernels#tokenOrder}), so that the norm,
 * quantizer or SwiGLU that writes a GEMM's input writes it in that order and the GEMM needs no pass that permutes it:
 * the q|k|v, o, gate|up and down projections of every block (all blocks have the same shapes) and the output
 * projection over the rows that get logits. Row order wherever the writer cannot give another: W4A16's o projection
 * reads attention's output, W16A16 runs cuBLAS, and the fused calls that normalise a GEMM's input themselves (the norm
 * head, the norm tail) write it in row order.
 */
record PassTokenOrders(TokenOrder qkv, TokenOrder o, TokenOrder gateUp, TokenOrder down, TokenOrder output) {
    static final PassTokenOrders ROW = new PassTokenOrders(TokenOrder.ROW, TokenOrder.ROW, TokenOrder.ROW,
            TokenOrder.ROW, TokenOrder.ROW);

    /**
     * The orders of a pass of {@code tokens} tokens, {@code logitRows} of which get logits, over blocks shaped as
     * {@code block}. {@code normHead}: the GEMMs normalise their own inputs (and W4A16's gate|up runs the SwiGLU), all
     * in row order; {@code normTail}: the residual adds normalise the q|k|v and gate|up inputs, in row order.
     */
    static PassTokenOrders of(Kernels kernels, DeviceModel.Layer block, DeviceLinear output, int tokens, int logitRows,
                              Precision precision, boolean normHead, boolean normTail) {
        if (!precision.usesInt4Weights() || normHead) {
            return ROW;
        }
        int bits = precision.activationBits();
        return new PassTokenOrders(
                normTail ? TokenOrder.ROW : kernels.tokenOrder(bits, tokens, block.wqkv()),
                precision.quantizesActivations() ? kernels.tokenOrder(bits, tokens, block.wo()) : TokenOrder.ROW,
                normTail ? TokenOrder.ROW : kernels.tokenOrder(bits, tokens, block.gateUp()),
                kernels.tokenOrder(bits, tokens, block.down()),
                logitRows == 0 ? TokenOrder.ROW : kernels.tokenOrder(bits, logitRows, output));
    }
}
