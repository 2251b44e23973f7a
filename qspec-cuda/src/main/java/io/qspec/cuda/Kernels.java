package io.qspec.cuda;

import static io.qspec.cuda.KernelArguments.matrixBytes;
import static io.qspec.cuda.KernelArguments.requireA16Gemm;
import static io.qspec.cuda.KernelArguments.requireApart;
import static io.qspec.cuda.KernelArguments.requireBytes;
import static io.qspec.cuda.KernelArguments.requireDequantizeOutput;
import static io.qspec.cuda.KernelArguments.requireGroup;
import static io.qspec.cuda.KernelArguments.requireMatrix;
import static io.qspec.cuda.KernelArguments.requireOneTokenPerSequence;
import static io.qspec.cuda.KernelArguments.requirePositive;
import static io.qspec.cuda.KernelArguments.requireQuantizedGemm;
import static io.qspec.cuda.KernelArguments.requireQuantizedOutput;
import static io.qspec.cuda.KernelArguments.requireTicket;

import io.qspec.cuda.KernelArguments.Extent;
import io.qspec.cuda.ffm.QSpecKernels;
import io.qspec.cuda.ffm.qspec_draw;
import io.qspec.cuda.ffm.qspec_rejection;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel library seen from Java: each method checks its arguments with {@link KernelArguments},
 * launches on one stream and turns a failing status into a {@link CudaException}. Buffers are typed by
 * the header's conventions (fp16 activations as 2-byte elements, fp32 as 4, int32 indices as 4).
 */
final class Kernels {
    private final MemorySegment stream;

    public Kernels(MemorySegment stream) {
        this.stream = stream;
    }

    /**
     * The order in which the GEMM of {@code m} tokens over {@code w} reads its tokens without a pass that permutes
     * them ({@code qspec_tokens_order}): {@code bits} 16 for W4A16, 8 or 4 for the draft.
     */
    public TokenOrder tokenOrder(int bits, int m, DeviceLinear w) {
        requirePositive("M", m);
        return TokenOrder.of(QSpecKernels.qspec_tokens_order(bits, m, w.rows(), w.cols(), w.group()));
    }

    /**
     * Verify GEMM (W4A16): {@code y[M, N] = x_f16[M, K] W^T}, or with {@code accumulate} {@code y += x W^T}; the rows
     * of {@code x} in {@code xOrder} (MMA order only where {@link #tokenOrder} names it).
     */
    public void w4a16Gemm(DeviceBuffer x, int ldx, DeviceLinear w, DeviceBuffer y, int ldy, int m, boolean accumulate,
                          TokenOrder xOrder) {
        requireA16Gemm(x, ldx, w, y, ldy, m);
        xOrder.requireRowsOf("x of " + w.name(), w.cols());
        CudaCalls.check(QSpecKernels.qspec_w4a16_gemm(x.pointer(), ldx, w.packed().pointer(), w.scales().pointer(),
                y.pointer(), ldy, m, w.rows(), w.cols(), w.group(), accumulate ? 1 : 0, xOrder.code(), stream),
                "qspec_w4a16_gemm(" + w.name() + ", tokens in " + xOrder + " order)");
    }

    /**
     * The residual add of {@code w} with the next RMSNorm: {@code y[M, N] += x_f16 W^T}, then {@code out_f16 =
     * rmsnorm(y) * normWeight} as {@link #rmsnormF16} writes it, bit for bit; in decode passes the GEMV's last CTA
     * normalises (one launch fewer). {@code ticket}: a device word that is 0 and that the call leaves at 0.
     */
    public void w4a16GemmAddRmsnorm(DeviceBuffer x, int ldx, DeviceLinear w, DeviceBuffer y, int m, DeviceBuffer normWeight,
                                    float eps, DeviceBuffer out, DeviceBuffer ticket) {
        int n = w.rows();
        requireA16Gemm(x, ldx, w, y, n, m);
        requireBytes("rmsnorm weight", normWeight, (long) n * 4);
        requireMatrix("rmsnorm output (fp16)", out, m, n, n, 2);
        requireTicket(ticket);
        long outBytes = (long) m * n * 2;
        requireApart(List.of(new Extent("rmsnorm output", out, outBytes), new Extent("ticket", ticket, 4)),
                List.of(new Extent("x", x, matrixBytes("x", m, w.cols(), ldx, 2)),
                        new Extent("y", y, (long) m * n * 4), new Extent("rmsnorm weight", normWeight, (long) n * 4),
                        new Extent(w.name() + " weights", w.packed(), w.packed().bytes()),
                        new Extent(w.name() + " scales", w.scales(), w.scales().bytes())));
        requireApart(List.of(new Extent("ticket", ticket, 4)), List.of(new Extent("rmsnorm output", out, outBytes)));
        CudaCalls.check(QSpecKernels.qspec_w4a16_gemm_add_rmsnorm(x.pointer(), ldx, w.packed().pointer(),
                w.scales().pointer(), y.pointer(), m, n, w.cols(), w.group(), normWeight.pointer(), eps, out.pointer(),
                ticket.pointer(), stream), "qspec_w4a16_gemm_add_rmsnorm(" + w.name() + ")");
    }

    /**
     * The stacked gate|up projection with SwiGLU: {@code out_f16[M, H] = silu(gate) * up} of {@code x_f16 W^T}, as
     * {@link #w4a16Gemm} followed by {@link #swigluF16} computes it, bit for bit; in decode passes each CTA of the GEMV
     * stores the SwiGLU of its hidden units (one launch fewer). {@code gateUp}: fp32 {@code [M, 2H]} scratch.
     */
    public void w4a16GemmSwiglu(DeviceBuffer x, int ldx, DeviceLinear gateUpWeights, DeviceBuffer gateUp, int m,
                                DeviceBuffer out, TokenOrder xOrder, TokenOrder outOrder) {
        int n = gateUpWeights.rows();
        if (n % 2 != 0) {
            throw new IllegalArgumentException(gateUpWeights.name() + " has " + n + " rows; a stacked gate|up has 2H");
        }
        int h = n / 2;
        requireA16Gemm(x, ldx, gateUpWeights, gateUp, n, m);
        requireMatrix("swiglu output (fp16)", out, m, h, h, 2);
        xOrder.requireRowsOf("x of " + gateUpWeights.name(), gateUpWeights.cols());
        outOrder.requireRowsOf("swiglu output", h);
        requireApart(List.of(new Extent("swiglu output", out, (long) m * h * 2)),
                List.of(new Extent("x", x, matrixBytes("x", m, gateUpWeights.cols(), ldx, 2)),
                        new Extent("gate|up", gateUp, (long) m * n * 4),
                        new Extent(gateUpWeights.name() + " weights", gateUpWeights.packed(), gateUpWeights.packed().bytes()),
                        new Extent(gateUpWeights.name() + " scales", gateUpWeights.scales(),
                                gateUpWeights.scales().bytes())));
        CudaCalls.check(QSpecKernels.qspec_w4a16_gemm_swiglu(x.pointer(), ldx, gateUpWeights.packed().pointer(),
                gateUpWeights.scales().pointer(), gateUp.pointer(), m, h, gateUpWeights.cols(), gateUpWeights.group(),
                out.pointer(), xOrder.code(), outOrder.code(), stream),
                "qspec_w4a16_gemm_swiglu(" + gateUpWeights.name() + ")");
    }

    /**
     * {@code y[M, N] = rmsnorm(r) W^T} with {@code rmsnorm(r)} the fp16 rows {@link #rmsnormF16} writes for the fp32
     * rows {@code r[M, K]}, bit for bit {@link #rmsnormF16} then {@link #w4a16Gemm}; in decode passes each CTA of the
     * GEMV normalises the rows itself (one launch fewer). {@code normed}: fp16 {@code [M, K]} scratch the two launches
     * use where the GEMV cannot normalise.
     */
    public void rmsnormW4a16Gemm(DeviceBuffer r, DeviceBuffer normWeight, float eps, DeviceBuffer normed, DeviceLinear w,
                                 DeviceBuffer y, int ldy, int m) {
        requireNormHead(r, normWeight, normed, w, m);
        requireMatrix("y (fp32) of " + w.name(), y, m, w.rows(), ldy, 4);
        Extent output = new Extent("y", y, matrixBytes("y", m, w.rows(), ldy, 4));
        Extent scratch = new Extent("rmsnorm scratch", normed, (long) m * w.cols() * 2);
        requireApart(List.of(output, scratch), normHeadInputs(r, normWeight, w, m));
        requireApart(List.of(output), List.of(scratch));
        CudaCalls.check(QSpecKernels.qspec_rmsnorm_w4a16_gemm(r.pointer(), normWeight.pointer(), eps, normed.pointer(),
                w.packed().pointer(), w.scales().pointer(), y.pointer(), ldy, m, w.rows(), w.cols(), w.group(), stream),
                "qspec_rmsnorm_w4a16_gemm(" + w.name() + ")");
    }

    /**
     * {@link #rmsnormW4a16Gemm} on the stacked gate|up matrix with the SwiGLU of {@link #w4a16GemmSwiglu}: bit for
     * bit {@link #rmsnormF16} then {@link #w4a16GemmSwiglu}. {@code gateUp}: fp32 {@code [M, 2H]} scratch.
     */
    public void rmsnormW4a16GemmSwiglu(DeviceBuffer r, DeviceBuffer normWeight, float eps, DeviceBuffer normed,
                                       DeviceLinear gateUpWeights, DeviceBuffer gateUp, int m, DeviceBuffer out) {
        int n = gateUpWeights.rows();
        if (n % 2 != 0) {
            throw new IllegalArgumentException(gateUpWeights.name() + " has " + n + " rows; a stacked gate|up has 2H");
        }
        int h = n / 2;
        requireNormHead(r, normWeight, normed, gateUpWeights, m);
        requireMatrix("gate|up (fp32)", gateUp, m, n, n, 4);
        requireMatrix("swiglu output (fp16)", out, m, h, h, 2);
        List<Extent> outputs = List.of(new Extent("gate|up", gateUp, (long) m * n * 4),
                new Extent("swiglu output", out, (long) m * h * 2),
                new Extent("rmsnorm scratch", normed, (long) m * gateUpWeights.cols() * 2));
        requireApart(outputs, normHeadInputs(r, normWeight, gateUpWeights, m));
        for (int i = 0; i < outputs.size(); i++) {
            requireApart(List.of(outputs.get(i)), outputs.subList(i + 1, outputs.size()));
        }
        CudaCalls.check(QSpecKernels.qspec_rmsnorm_w4a16_gemm_swiglu(r.pointer(), normWeight.pointer(), eps,
                normed.pointer(), gateUpWeights.packed().pointer(), gateUpWeights.scales().pointer(), gateUp.pointer(), m,
                h, gateUpWeights.cols(), gateUpWeights.group(), out.pointer(), stream),
                "qspec_rmsnorm_w4a16_gemm_swiglu(" + gateUpWeights.name() + ")");
    }

    /**
     * The draft GEMM of {@code w} on the quantized RMSNorm of the fp32 rows {@code r[M, K]}: bit for bit
     * {@link #rmsnormQuantize} (groups of {@code w.group()}) then {@link #w4axGemm}; in decode passes each CTA of the
     * GEMV normalises and quantizes the rows itself (one launch fewer). {@code xq}, {@code xscale}: the quantized rows'
     * scratch the two launches use where the GEMV cannot.
     */
    public void rmsnormQuantizeW4axGemm(DeviceBuffer r, DeviceBuffer normWeight, float eps, DeviceBuffer xq,
                                        DeviceBuffer xscale, DeviceLinear w, DeviceBuffer y, int ldy, int m, int bits) {
        requireGroup(w.group());
        requireMatrix("rmsnorm input of " + w.name(), r, m, w.cols(), w.cols(), 4);
        requireBytes("rmsnorm weight", normWeight, (long) w.cols() * 4);
        requireQuantizedGemm(xq, xscale, w, y, ldy, m, bits);
        long codes = (long) m * Math.ceilDiv(w.cols(), w.group()) * w.group();
        long scales = (long) m * Math.ceilDiv(w.cols(), w.group()) * 4;
        List<Extent> outputs = List.of(new Extent("y", y, matrixBytes("y", m, w.rows(), ldy, 4)),
                new Extent("quantized activations", xq, codes), new Extent("activation scales", xscale, scales));
        requireApart(outputs, normHeadInputs(r, normWeight, w, m));
        for (int i = 0; i < outputs.size(); i++) {
            requireApart(List.of(outputs.get(i)), outputs.subList(i + 1, outputs.size()));
        }
        CudaCalls.check(QSpecKernels.qspec_rmsnorm_quantize_w4ax_gemm(r.pointer(), normWeight.pointer(), eps,
                xq.pointer(), xscale.pointer(), w.packed().pointer(), w.scales().pointer(), y.pointer(), ldy, m, w.rows(),
                w.cols(), w.group(), bits, stream), "qspec_rmsnorm_quantize_w4ax_gemm(" + w.name() + ", A" + bits + ")");
    }

    /** The rows, gains and scratch of a GEMM that normalises its input: {@code r[M, K]}, {@code K} gains, fp16 scratch. */
    private static void requireNormHead(DeviceBuffer r, DeviceBuffer normWeight, DeviceBuffer normed, DeviceLinear w,
                                        int m) {
        requireGroup(w.group());
        requireMatrix("rmsnorm input of " + w.name(), r, m, w.cols(), w.cols(), 4);
        requireBytes("rmsnorm weight", normWeight, (long) w.cols() * 4);
        requireMatrix("rmsnorm scratch (fp16) for " + w.name(), normed, m, w.cols(), w.cols(), 2);
    }

    private static List<Extent> normHeadInputs(DeviceBuffer r, DeviceBuffer normWeight, DeviceLinear w, int m) {
        return List.of(new Extent("rmsnorm input", r, (long) m * w.cols() * 4),
                new Extent("rmsnorm weight", normWeight, (long) w.cols() * 4),
                new Extent(w.name() + " weights", w.packed(), w.packed().bytes()),
                new Extent(w.name() + " scales", w.scales(), w.scales().bytes()));
    }

    /** {@code out_f16[n, k] = scale[n, k / group] * q[n, k]} for {@code k < K}: the dense copy of {@code w} (W16A16). */
    public void dequantizeInt4(DeviceLinear w, DeviceBuffer out, int ldo) {
        requireDequantizeOutput(w, out, ldo);
        CudaCalls.check(QSpecKernels.qspec_dequantize_int4(w.packed().pointer(), w.scales().pointer(), w.rows(),
                w.cols(), w.group(), out.pointer(), ldo, stream), "qspec_dequantize_int4(" + w.name() + ")");
    }

    /** Per-token, per-group activation quantization of fp16 {@code x[M, K]}, the codes' rows in {@code outOrder}. */
    public void quantizeActivations(DeviceBuffer x, int ldx, int m, int k, int group, int bits, DeviceBuffer xq,
                                    DeviceBuffer xscale, TokenOrder outOrder) {
        requireMatrix("x (fp16) to quantize", x, m, k, ldx, 2);
        requireQuantizedOutput(xq, xscale, m, k, group, bits);
        outOrder.requireRowsOf("quantized activations", k);
        CudaCalls.check(QSpecKernels.qspec_quantize_activations(x.pointer(), ldx, m, k, group, bits, xq.pointer(),
                xscale.pointer(), outOrder.code(), stream), "qspec_quantize_activations");
    }

    /**
     * Draft GEMM (W4A8 / W4A4) over quantized activations, their rows in {@code xOrder} (MMA order only where
     * {@link #tokenOrder} names it); {@code accumulate} adds to {@code y}.
     */
    public void w4axGemm(DeviceBuffer xq, DeviceBuffer xscale, DeviceLinear w, DeviceBuffer y, int ldy, int m, int bits,
                         boolean accumulate, TokenOrder xOrder) {
        requireQuantizedGemm(xq, xscale, w, y, ldy, m, bits);
        xOrder.requireRowsOf("quantized activations of " + w.name(), w.cols());
        CudaCalls.check(QSpecKernels.qspec_w4ax_gemm(xq.pointer(), xscale.pointer(), w.packed().pointer(),
                w.scales().pointer(), y.pointer(), ldy, m, w.rows(), w.cols(), w.group(), bits, accumulate ? 1 : 0,
                xOrder.code(), stream), "qspec_w4ax_gemm(" + w.name() + ", A" + bits + ", tokens in " + xOrder + " order)");
    }

    /**
     * The draft's residual add of {@code w} with the next RMSNorm quantized: {@code y[M, N] += x W^T} from quantized
     * activations, then the codes and scales {@link #rmsnormQuantize} writes for {@code rmsnorm(y) * normWeight} in
     * groups of {@code outGroup}, bit for bit; in decode passes the GEMV's last CTA normalises. {@code ticket} as for
     * {@link #w4a16GemmAddRmsnorm}.
     */
    public void w4axGemmAddRmsnormQuantize(DeviceBuffer xq, DeviceBuffer xscale, DeviceLinear w, DeviceBuffer y, int m,
                                           int bits, DeviceBuffer normWeight, float eps, int outGroup, DeviceBuffer outQ,
                                           DeviceBuffer outScales, DeviceBuffer ticket) {
        int n = w.rows();
        requireQuantizedGemm(xq, xscale, w, y, n, m, bits);
        requireBytes("rmsnorm weight", normWeight, (long) n * 4);
        requireQuantizedOutput(outQ, outScales, m, n, outGroup, bits);
        requireTicket(ticket);
        int outGroups = Math.ceilDiv(n, outGroup);
        List<Extent> outputs = List.of(new Extent("quantized rmsnorm output", outQ, (long) m * outGroups * outGroup),
                new Extent("its scales", outScales, (long) m * outGroups * 4));
        requireApart(outputs, List.of(new Extent("quantized activations", xq, (long) m * w.paddedCols()),
                new Extent("activation scales", xscale, (long) m * w.groupsPerRow() * 4),
                new Extent("y", y, (long) m * n * 4), new Extent("rmsnorm weight", normWeight, (long) n * 4),
                new Extent(w.name() + " weights", w.packed(), w.packed().bytes()),
                new Extent(w.name() + " scales", w.scales(), w.scales().bytes()), new Extent("ticket", ticket, 4)));
        requireApart(List.of(outputs.get(0)), List.of(outputs.get(1)));
        CudaCalls.check(QSpecKernels.qspec_w4ax_gemm_add_rmsnorm_quantize(xq.pointer(), xscale.pointer(),
                w.packed().pointer(), w.scales().pointer(), y.pointer(), m, n, w.cols(), w.group(), bits,
                normWeight.pointer(), eps, outGroup, outQ.pointer(), outScales.pointer(), ticket.pointer(), stream),
                "qspec_w4ax_gemm_add_rmsnorm_quantize(" + w.name() + ", A" + bits + ")");
    }

    /** {@code x[T, dim]} = fp16 table rows of {@code tokens} (ids already checked against the vocabulary). */
    public void embedding(DeviceBuffer tokens, DeviceBuffer table, int vocab, DeviceBuffer x, int t, int dim) {
        requirePositive("T", t);
        requirePositive("dim", dim);
        requireBytes("token ids", tokens, (long) t * 4);
        requireBytes("embedding table", table, (long) vocab * dim * 2);
        requireBytes("embedding output", x, (long) t * dim * 4);
        CudaCalls.check(QSpecKernels.qspec_embedding(tokens.pointer(), table.pointer(), x.pointer(), t, dim, stream),
                "qspec_embedding");
    }

    /** {@code y_f16[M, D] = rmsnorm(x[M, D]) * w}, the rows of {@code y} in {@code outOrder}. */
    public void rmsnormF16(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int m, int d, float eps, TokenOrder outOrder) {
        requireMatrix("rmsnorm input", x, m, d, d, 4);
        requireBytes("rmsnorm weight", w, (long) d * 4);
        requireMatrix("rmsnorm output (fp16)", y, m, d, d, 2);
        outOrder.requireRowsOf("rmsnorm output", d);
        CudaCalls.check(QSpecKernels.qspec_rmsnorm_f16(x.pointer(), w.pointer(), y.pointer(), m, d, eps, outOrder.code(),
                stream), "qspec_rmsnorm_f16");
    }

    /** RMSNorm fused with draft activation quantization, the codes' rows in {@code outOrder}. */
    public void rmsnormQuantize(DeviceBuffer x, DeviceBuffer w, DeviceBuffer xq, DeviceBuffer xscale, int m, int d,
                                int group, int bits, float eps, TokenOrder outOrder) {
        requireMatrix("rmsnorm input", x, m, d, d, 4);
        requireBytes("rmsnorm weight", w, (long) d * 4);
        requireQuantizedOutput(xq, xscale, m, d, group, bits);
        outOrder.requireRowsOf("quantized rmsnorm output", d);
        CudaCalls.check(QSpecKernels.qspec_rmsnorm_quantize(x.pointer(), w.pointer(), xq.pointer(), xscale.pointer(),
                m, d, group, bits, eps, outOrder.code(), stream), "qspec_rmsnorm_quantize");
    }

    /**
     * RoPE and the KV write of one layer from the fused q|k|v GEMM output {@code qkv} (rows {@code ld}
     * wide): rotated q into {@code qOut}, rotated k and v into the paged cache.
     */
    public void ropeWriteKv(DeviceBuffer qkv, int ld, DeviceBuffer qOut, KvBlockPool kv, int layer, BatchBuffers batch,
                            DeviceBuffer invFreq, int ropeStyle) {
        int t = batch.tokens();
        int qDim = kv.heads() * kv.headDim();
        requireMatrix("q|k|v rows", qkv, t, qDim + 2 * kv.kvDim(), ld, 4);
        requireMatrix("rotated q", qOut, t, qDim, qDim, 4);
        requireBytes("inv_freq", invFreq, (long) kv.headDim() / 2 * 4);
        kv.check(layer, batch);
        DeviceBuffer k = qkv.slice((long) qDim * 4, qkv.bytes() - (long) qDim * 4);
        DeviceBuffer v = qkv.slice((long) (qDim + kv.kvDim()) * 4, qkv.bytes() - (long) (qDim + kv.kvDim()) * 4);
        CudaCalls.check(QSpecKernels.qspec_rope_write_kv(qkv.pointer(), k.pointer(), v.pointer(), ld, qOut.pointer(),
                kv.keys(layer).pointer(), kv.values(layer).pointer(), batch.tokenSeq().pointer(),
                batch.tokenPos().pointer(), batch.blockTables().pointer(), batch.maxBlocks(), kv.blockSize(), t,
                kv.heads(), kv.kvHeads(), kv.headDim(), invFreq.pointer(), ropeStyle, stream), "qspec_rope_write_kv");
    }

    /**
     * The stacked q|k|v projection of {@code layer} with RoPE and the KV write: {@code qkv = x_f16 W^T}, then what
     * {@link #ropeWriteKv} writes from it (rotated q into {@code qOut}, rotated k and v into the cache), bit for bit;
     * in decode passes with interleaved pairs the GEMV's threads rotate and store the pairs they hold (one launch
     * fewer).
     */
    public void w4a16GemmRopeKv(DeviceBuffer x, int ldx, DeviceLinear wqkv, DeviceBuffer qkv, DeviceBuffer qOut,
                                KvBlockPool kv, int layer, BatchBuffers batch, DeviceBuffer invFreq, int ropeStyle,
                                TokenOrder xOrder) {
        int t = batch.tokens();
        requireA16Gemm(x, ldx, wqkv, qkv, wqkv.rows(), t);
        xOrder.requireRowsOf("x of " + wqkv.name(), wqkv.cols());
        requireRopeKv(List.of(new Extent("x", x, matrixBytes("x", t, wqkv.cols(), ldx, 2))), wqkv, qkv, qOut, kv, layer,
                batch, invFreq);
        CudaCalls.check(QSpecKernels.qspec_w4a16_gemm_rope_kv(x.pointer(), ldx, wqkv.packed().pointer(),
                wqkv.scales().pointer(), qkv.pointer(), t, wqkv.cols(), wqkv.group(), qOut.pointer(),
                kv.keys(layer).pointer(), kv.values(layer).pointer(), batch.tokenSeq().pointer(),
                batch.tokenPos().pointer(), batch.blockTables().pointer(), batch.maxBlocks(), kv.blockSize(), kv.heads(),
                kv.kvHeads(), kv.headDim(), invFreq.pointer(), ropeStyle, xOrder.code(), stream),
                "qspec_w4a16_gemm_rope_kv(" + wqkv.name() + ")");
    }

    /** {@link #w4a16GemmRopeKv} with the draft's GEMM ({@link #w4axGemm}) on quantized activations. */
    public void w4axGemmRopeKv(DeviceBuffer xq, DeviceBuffer xscale, DeviceLinear wqkv, int bits, DeviceBuffer qkv,
                               DeviceBuffer qOut, KvBlockPool kv, int layer, BatchBuffers batch, DeviceBuffer invFreq,
                               int ropeStyle, TokenOrder xOrder) {
        int t = batch.tokens();
        requireQuantizedGemm(xq, xscale, wqkv, qkv, wqkv.rows(), t, bits);
        xOrder.requireRowsOf("quantized activations of " + wqkv.name(), wqkv.cols());
        requireRopeKv(List.of(new Extent("quantized activations", xq, (long) t * wqkv.paddedCols()),
                new Extent("activation scales", xscale, (long) t * wqkv.groupsPerRow() * 4)), wqkv, qkv, qOut, kv, layer,
                batch, invFreq);
        CudaCalls.check(QSpecKernels.qspec_w4ax_gemm_rope_kv(xq.pointer(), xscale.pointer(), wqkv.packed().pointer(),
                wqkv.scales().pointer(), qkv.pointer(), t, wqkv.cols(), wqkv.group(), bits, qOut.pointer(),
                kv.keys(layer).pointer(), kv.values(layer).pointer(), batch.tokenSeq().pointer(),
                batch.tokenPos().pointer(), batch.blockTables().pointer(), batch.maxBlocks(), kv.blockSize(), kv.heads(),
                kv.kvHeads(), kv.headDim(), invFreq.pointer(), ropeStyle, xOrder.code(), stream),
                "qspec_w4ax_gemm_rope_kv(" + wqkv.name() + ", A" + bits + ")");
    }

    /** The checks of the q|k|v GEMMs with RoPE: the stacked shape, the RoPE operands, outputs apart from the inputs. */
    private static void requireRopeKv(List<Extent> activations, DeviceLinear wqkv, DeviceBuffer qkv, DeviceBuffer qOut,
                                      KvBlockPool kv, int layer, BatchBuffers batch, DeviceBuffer invFreq) {
        int t = batch.tokens();
        int qDim = kv.heads() * kv.headDim();
        if (wqkv.rows() != qDim + 2 * kv.kvDim()) {
            throw new IllegalArgumentException(wqkv.name() + " has " + wqkv.rows() + " rows; the stacked q|k|v of "
                    + kv.heads() + " heads and " + kv.kvHeads() + " kv heads of " + kv.headDim() + " has "
                    + (qDim + 2 * kv.kvDim()));
        }
        requireMatrix("rotated q", qOut, t, qDim, qDim, 4);
        requireBytes("inv_freq", invFreq, (long) kv.headDim() / 2 * 4);
        kv.check(layer, batch);
        List<Extent> inputs = new ArrayList<>(activations);
        inputs.add(new Extent(wqkv.name() + " weights", wqkv.packed(), wqkv.packed().bytes()));
        inputs.add(new Extent(wqkv.name() + " scales", wqkv.scales(), wqkv.scales().bytes()));
        inputs.add(new Extent("inv_freq", invFreq, (long) kv.headDim() / 2 * 4));
        inputs.add(new Extent("q|k|v rows", qkv, (long) t * wqkv.rows() * 4));
        requireApart(List.of(new Extent("rotated q", qOut, (long) t * qDim * 4)), inputs);
    }

    /**
     * Causal attention over the paged cache; {@code out} fp16 {@code [T, heads * headDim]}. {@code workspace}
     * (may be null) lets long contexts split over more blocks; the result has the same bits either way. The pass goes
     * to {@code qspec_attention_pass} with its run hint ({@link BatchPlan#attentionRun}) and its context bounds
     * ({@link ContextBounds}). On the GPU the tokens of a sequence with {@link KernelLimits#PREFILL_TILE_RUN} or more
     * in the pass take the tensor-core prefill tiles, the tokens whose context reaches the decode tiles' threshold
     * ({@link #decodeTilesFrom}) the decode tiles, and the others the row kernels; a token's kernel follows its own
     * position, so a verify token shares its decode's bits.
     */
    public void attention(DeviceBuffer q, KvBlockPool kv, int layer, BatchBuffers batch, DeviceBuffer workspace,
                          DeviceBuffer out) {
        int t = batch.tokens();
        int qDim = kv.heads() * kv.headDim();
        requireMatrix("q", q, t, qDim, qDim, 4);
        requireMatrix("attention output (fp16)", out, t, qDim, qDim, 2);
        kv.check(layer, batch);
        MemorySegment ws = workspace == null ? MemorySegment.NULL : workspace.pointer();
        long wsBytes = workspace == null ? 0 : workspace.bytes();
        ContextBounds contexts = batch.contexts();
        int status = QSpecKernels.qspec_attention_pass(q.pointer(), kv.keys(layer).pointer(),
                kv.values(layer).pointer(), batch.tokenSeq().pointer(), batch.tokenPos().pointer(),
                batch.blockTables().pointer(), batch.maxBlocks(), kv.blockSize(), t, kv.heads(), kv.kvHeads(),
                kv.headDim(), batch.run(), contexts.min(), contexts.max(), ws, wsBytes, out.pointer(), stream);
        CudaCalls.check(status, "qspec_attention_pass(layer " + layer + ")");
    }

    /**
     * The fewest positions a token's context must hold for the GPU's decode tiles to take it, at these heads: 0 every
     * token, negative none (off with {@code QSPEC_ATTENTION_DECODE_TILES=0}, or heads the tiles do not serve).
     */
    public static int decodeTilesFrom(int heads, int kvHeads, int headDim) {
        return QSpecKernels.qspec_attention_decode_tiles_from(heads, kvHeads, headDim);
    }

    /**
     * {@link #ropeWriteKv} and {@link #attention} in one launch, with the same cache contents and the same output
     * bits, for a pass in which every token is the only token of its sequence (decode and draft passes): the kernel
     * reads a token's own new k and v from where it computed them, not from the cache, which is safe only when no
     * other token of the pass needs them.
     *
     * @return false, having launched nothing, where the library leaves the pass to the two calls: with the decode
     *     tiles on ({@code QSPEC_ATTENTION_DECODE_TILES}) a token may take their arithmetic, which the fused kernel
     *     does not have
     */
    public boolean ropeAttention(DeviceBuffer qkv, int ld, KvBlockPool kv, int layer, BatchBuffers batch,
                              DeviceBuffer invFreq, int ropeStyle, DeviceBuffer workspace, DeviceBuffer out) {
        int t = batch.tokens();
        requireOneTokenPerSequence(t, batch.sequences());
        int qDim = kv.heads() * kv.headDim();
        requireMatrix("q|k|v rows", qkv, t, qDim + 2 * kv.kvDim(), ld, 4);
        requireMatrix("attention output (fp16)", out, t, qDim, qDim, 2);
        requireBytes("inv_freq", invFreq, (long) kv.headDim() / 2 * 4);
        kv.check(layer, batch);
        int status = QSpecKernels.qspec_rope_attention(qkv.pointer(), ld, kv.keys(layer).pointer(),
                kv.values(layer).pointer(), batch.tokenSeq().pointer(), batch.tokenPos().pointer(),
                batch.blockTables().pointer(), batch.maxBlocks(), kv.blockSize(), t, kv.heads(), kv.kvHeads(),
                kv.headDim(), invFreq.pointer(), ropeStyle, workspace == null ? MemorySegment.NULL : workspace.pointer(),
                workspace == null ? 0 : workspace.bytes(), out.pointer(), stream);
        if (status == QSpecKernels.QSPEC_ERR_UNSUPPORTED) {
            return false;  // the shapes were checked above: the decode tiles' refusal
        }
        CudaCalls.check(status, "qspec_rope_attention(layer " + layer + ")");
        return true;
    }

    /**
     * {@code out_f16[M, H] = silu(gate) * up} from the fused gate|up GEMM output (rows {@code ld} wide), the rows of
     * {@code out} in {@code outOrder}.
     */
    public void swigluF16(DeviceBuffer gateUp, int ld, DeviceBuffer out, int m, int h, TokenOrder outOrder) {
        requireMatrix("gate|up rows", gateUp, m, 2 * h, ld, 4);
        requireMatrix("swiglu output (fp16)", out, m, h, h, 2);
        outOrder.requireRowsOf("swiglu output", h);
        DeviceBuffer up = gateUp.slice((long) h * 4, gateUp.bytes() - (long) h * 4);
        CudaCalls.check(QSpecKernels.qspec_swiglu_f16(gateUp.pointer(), up.pointer(), ld, out.pointer(), m, h,
                outOrder.code(), stream), "qspec_swiglu_f16");
    }

    /**
     * SwiGLU of the fused gate|up GEMM output quantized for the draft's down projection: the values of
     * {@link #swigluF16} quantized as {@link #quantizeActivations} would, in one kernel, the codes' rows in
     * {@code outOrder}.
     */
    public void swigluQuantize(DeviceBuffer gateUp, int ld, int m, int h, int group, int bits, DeviceBuffer xq,
                               DeviceBuffer xscale, TokenOrder outOrder) {
        requireMatrix("gate|up rows", gateUp, m, 2 * h, ld, 4);
        requireQuantizedOutput(xq, xscale, m, h, group, bits);
        outOrder.requireRowsOf("quantized swiglu output", h);
        DeviceBuffer up = gateUp.slice((long) h * 4, gateUp.bytes() - (long) h * 4);
        CudaCalls.check(QSpecKernels.qspec_swiglu_quantize(gateUp.pointer(), up.pointer(), ld, m, h, group, bits,
                xq.pointer(), xscale.pointer(), outOrder.code(), stream), "qspec_swiglu_quantize");
    }

    /** fp32 → fp16, {@code n} elements. */
    public void f32ToF16(DeviceBuffer x, DeviceBuffer y, long n) {
        requirePositive("n", n);
        requireBytes("fp32 input", x, n * 4);
        requireBytes("fp16 output", y, n * 2);
        CudaCalls.check(QSpecKernels.qspec_f32_to_f16(x.pointer(), y.pointer(), n, stream), "qspec_f32_to_f16");
    }

    /** {@code x += y}, fp32, {@code n} elements. */
    public void addInPlace(DeviceBuffer x, DeviceBuffer y, long n) {
        requirePositive("n", n);
        requireBytes("x", x, n * 4);
        requireBytes("y", y, n * 4);
        CudaCalls.check(QSpecKernels.qspec_add_inplace(x.pointer(), y.pointer(), n, stream), "qspec_add_inplace");
    }

    /** {@code out[m] = argmax logits[m, :]} (lowest index on ties). */
    public void argmax(DeviceBuffer logits, int m, int v, DeviceBuffer out) {
        requireMatrix("logits", logits, m, v, v, 4);
        requireBytes("argmax output", out, (long) m * 4);
        CudaCalls.check(QSpecKernels.qspec_argmax(logits.pointer(), m, v, out.pointer(), stream), "qspec_argmax");
    }

    /**
     * {@code out[d]} = the token drawn for draw {@code d} of {@code draws} (an array of {@code qspec_draw}
     * structs whose rows, history ranges and tokens the caller has checked), or -1 for a row with NaN,
     * -2 for a row with no possible token.
     */
    public void sample(DeviceBuffer logits, int rows, int v, DeviceBuffer draws, int n, DeviceBuffer historyTokens,
                       DeviceBuffer historyCounts, DeviceBuffer workspace, DeviceBuffer out) {
        requirePositive("draws", n);
        requireSamplingVocab(v);
        requireMatrix("logits", logits, rows, v, v, 4);
        requireBytes("draws", draws, n * qspec_draw.sizeof());
        requireBytes("sampling workspace", workspace, QSpecKernels.qspec_sample_workspace_bytes(n, v));
        requireBytes("sampled tokens", out, (long) n * 4);
        CudaCalls.check(QSpecKernels.qspec_sample(logits.pointer(), v, v, draws.pointer(), n, historyTokens.pointer(),
                historyCounts.pointer(), workspace.pointer(), workspace.bytes(), out.pointer(), stream), "qspec_sample");
    }

    /**
     * As {@link #sample}, keeping each draw's distribution: draw {@code d}'s filtered weights go to slot
     * {@code slots[d]} of {@code kept} ({@code v} floats a slot) and their fixed-point total to
     * {@code totals[slots[d]]}. The caller has checked that the slots are distinct and below
     * {@code keptSlots}.
     */
    public void sampleKeep(DeviceBuffer logits, int rows, int v, DeviceBuffer draws, int n, DeviceBuffer historyTokens,
                           DeviceBuffer historyCounts, DeviceBuffer slots, DeviceBuffer kept, DeviceBuffer totals,
                           int keptSlots, DeviceBuffer out) {
        requirePositive("draws", n);
        requireSamplingVocab(v);
        requireMatrix("logits", logits, rows, v, v, 4);
        requireBytes("draws", draws, n * qspec_draw.sizeof());
        requireBytes("kept slots", slots, (long) n * 4);
        requireMatrix("kept distributions", kept, keptSlots, v, v, 4);
        requireBytes("kept totals", totals, (long) keptSlots * 8);
        requireBytes("sampled tokens", out, (long) n * 4);
        CudaCalls.check(QSpecKernels.qspec_sample_keep(logits.pointer(), v, v, draws.pointer(), n, historyTokens.pointer(),
                historyCounts.pointer(), slots.pointer(), kept.pointer(), totals.pointer(), out.pointer(), stream),
                "qspec_sample_keep");
    }

    /**
     * Rejection sampling of {@code lanes} rounds over distributions kept by {@link #sampleKeep}
     * ({@code qspec_rejection_sample}): {@code accepted[l]} drafts kept and {@code next[l]} the recovered
     * or bonus token, -1 when a distribution of the lane could not be formed. The caller has checked every
     * offset, slot ({@code < keptSlots}) and token ({@code < v}) the lane structs and arrays name:
     * {@code draftEntries} entries of draft tokens and slots, {@code verifyEntries} of verify slots and
     * variates.
     */
    public void rejectionSample(DeviceBuffer kept, DeviceBuffer totals, int keptSlots, int v, DeviceBuffer lanes, int n,
                                DeviceBuffer draftTokens, DeviceBuffer draftSlots, int draftEntries,
                                DeviceBuffer verifySlots, DeviceBuffer uniforms, int verifyEntries,
                                DeviceBuffer accepted, DeviceBuffer next) {
        requirePositive("lanes", n);
        requireSamplingVocab(v);
        requireMatrix("kept distributions", kept, keptSlots, v, v, 4);
        requireBytes("kept totals", totals, (long) keptSlots * 8);
        requireBytes("lanes", lanes, n * qspec_rejection.sizeof());
        requireBytes("draft tokens", draftTokens, (long) draftEntries * 4);
        requireBytes("draft slots", draftSlots, (long) draftEntries * 4);
        requireBytes("verify slots", verifySlots, (long) verifyEntries * 4);
        requireBytes("variates", uniforms, (long) verifyEntries * 8);
        requireBytes("accepted counts", accepted, (long) n * 4);
        requireBytes("next tokens", next, (long) n * 4);
        CudaCalls.check(QSpecKernels.qspec_rejection_sample(kept.pointer(), totals.pointer(), v, lanes.pointer(), n,
                draftTokens.pointer(), draftSlots.pointer(), verifySlots.pointer(), uniforms.pointer(),
                accepted.pointer(), next.pointer(), stream), "qspec_rejection_sample");
    }

    private static void requireSamplingVocab(int v) {
        if (v <= 0 || v > QSpecKernels.MAX_SAMPLING_VOCAB) {
            throw new IllegalArgumentException("vocabulary of " + v + " outside the sampling kernels' [1, "
                    + QSpecKernels.MAX_SAMPLING_VOCAB + "]");
        }
    }
}
