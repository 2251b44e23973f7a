package io.qspec.cuda;

import io.qspec.model.DenseMatrix;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelWeights;
import io.qspec.model.RopeStyle;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * The W16A16 baseline ({@link io.qspec.Precision#FP32} on the GPU): a dense fp16 copy of every linear
 * layer, kept beside the INT4 set, and the cuBLAS handle that multiplies by it. A layer whose
 * {@link LinearWeight#dense()} matrix was loaded is uploaded from it (rounded to fp16); otherwise its INT4
 * matrix is dequantized on the device ({@code qspec_dequantize_int4}), so the baseline then computes
 * W4A16's function with a dense GEMM.
 *
 * <p>The copy takes 2 bytes per weight, about four times the INT4 set, so a runner builds it only on its
 * first FP32 pass; its allocations have their own {@link DeviceMemory}, freed by {@link #close()} (with
 * the runner) or right away when building fails, e.g. on a {@link CudaOutOfMemoryException}.
 */
final class DenseWeights implements AutoCloseable {
    /** Host staging per upload chunk when converting float32 weights to fp16. */
    private static final long STAGING_BYTES = 64L << 20;

    private final DeviceMemory memory;
    private final CublasGemm cublas;
    /** The dense copy of each INT4 matrix of the runner's {@link DeviceModel}, by identity. */
    private final Map<DeviceLinear, DenseLinear> copies;

    private DenseWeights(DeviceMemory memory, CublasGemm cublas, Map<DeviceLinear, DenseLinear> copies) {
        this.memory = memory;
        this.cublas = cublas;
        this.copies = copies;
    }

    /**
     * Creates the cuBLAS handle on {@code stream} (first, so that a missing cuBLAS costs no upload), then the
     * dense copy of every matrix of {@code device}, {@code model}'s weights on the GPU. Dequantization is
     * queued on {@code stream}, ahead of any GEMM that reads it.
     */
    static DenseWeights build(Model model, DeviceModel device, Kernels kernels, CudaStream stream) {
        CublasGemm cublas = new CublasGemm(stream.handle());
        DeviceMemory memory = new DeviceMemory(stream);
        try {
            Map<DeviceLinear, DenseLinear> copies = new IdentityHashMap<>();
            ModelWeights w = model.weights();
            for (int l = 0; l < device.layers.size(); l++) {
                LayerWeights host = w.layers().get(l);
                DeviceModel.Layer gpu = device.layers.get(l);
                copies.put(gpu.wqkv(), copy(List.of(host.wq(), host.wk(), host.wv()), 2, device.ropeStyle, gpu.wqkv(),
                        model, kernels, memory));
                copies.put(gpu.wo(), copy(List.of(host.wo()), 0, device.ropeStyle, gpu.wo(), model, kernels, memory));
                copies.put(gpu.gateUp(), copy(List.of(host.gate(), host.up()), 0, device.ropeStyle, gpu.gateUp(), model, kernels,
                        memory));
                copies.put(gpu.down(), copy(List.of(host.down()), 0, device.ropeStyle, gpu.down(), model, kernels, memory));
            }
            copies.put(device.output, copy(List.of(w.output()), 0, device.ropeStyle, device.output, model, kernels, memory));
            return new DenseWeights(memory, cublas, copies);
        } catch (RuntimeException | Error e) {
            try {
                stream.synchronize(); // queued dequantization may still write into what is about to be freed
            } catch (RuntimeException syncFailure) {
                e.addSuppressed(syncFailure);
            }
            memory.close();
            try {
                cublas.close();
            } catch (RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    /**
     * The dense copy of {@code int4}, whose rows are those of {@code parts} one after another (one part,
     * or the q|k|v and gate|up stacks): from the parts' dense weights when every part has them, the first
     * {@code rotated} (q and k) with their RoPE pairs in the INT4 matrix's order ({@code ropeStyle}), else
     * dequantized from the INT4 matrix.
     */
    private static DenseLinear copy(List<LinearWeight> parts, int rotated, RopeStyle ropeStyle, DeviceLinear int4,
                                    Model model, Kernels kernels, DeviceMemory memory) {
        DeviceBuffer buffer = memory.allocate((long) int4.rows() * int4.cols() * 2, int4.name() + " dense (fp16)");
        DenseLinear dense = new DenseLinear(int4.name(), buffer, int4.rows(), int4.cols());
        if (parts.stream().allMatch(p -> p.dense().isPresent())) {
            long rowBytes = (long) int4.cols() * 2;
            long firstRow = 0;
            int headDim = model.config().headDim();
            boolean rotatesRows = ropeStyle != model.config().ropeStyle();
            for (int i = 0; i < parts.size(); i++) {
                DenseMatrix m = parts.get(i).dense().get();
                RopeStyle order = i < rotated && rotatesRows ? model.config().ropeStyle() : RopeStyle.INTERLEAVED;
                uploadAsHalf(m, r -> RopeRowOrder.sourceRow(r, headDim, order),
                        buffer.slice(firstRow * rowBytes, (long) m.rows() * rowBytes), memory);
                firstRow += m.rows();
            }
        } else {
            kernels.dequantizeInt4(int4, buffer, int4.cols());
        }
        return dense;
    }

    /** float32 → fp16 (round to nearest even) on the host, a chunk of rows at a time; row r from {@code sourceRow(r)}. */
    private static void uploadAsHalf(DenseMatrix m, IntUnaryOperator sourceRow, DeviceBuffer dst, DeviceMemory memory) {
        long rowBytes = (long) m.cols() * 2;
        int rowsPerChunk = (int) Math.max(1, Math.min(m.rows(), STAGING_BYTES / rowBytes));
        float[] row = new float[m.cols()];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(rowsPerChunk * rowBytes, 64);
            for (int first = 0; first < m.rows(); first += rowsPerChunk) {
                int rows = Math.min(rowsPerChunk, m.rows() - first);
                for (int r = 0; r < rows; r++) {
                    MemorySegment.copy(m.data(), DenseMatrix.LAYOUT, (long) sourceRow.applyAsInt(first + r) * m.cols() * 4,
                            row, 0, row.length);
                    for (int i = 0; i < row.length; i++) {
                        staging.setAtIndex(ValueLayout.JAVA_SHORT, (long) r * m.cols() + i, Float.floatToFloat16(row[i]));
                    }
                }
                memory.copyToDevice(staging.asSlice(0, rows * rowBytes), dst, first * rowBytes);
            }
        }
    }

    /** {@code y_f32[M, N] = x_f16[M, K] W^T} with the dense copy of {@code w}, on the runner's stream. */
    void gemm(DeviceBuffer x, int ldx, DeviceLinear w, DeviceBuffer y, int ldy, int m, boolean accumulate) {
        DenseLinear dense = copies.get(w);
        if (dense == null) {
            throw new IllegalArgumentException(w.name() + " is not a matrix of the model these dense weights copy");
        }
        cublas.gemm(x, ldx, dense, y, ldy, m, accumulate);
    }

    /** Device bytes the dense copy takes. */
    long bytes() {
        return memory.liveBytes();
    }

    /** Destroys the cuBLAS handle and frees the copy; the caller has synchronized the stream. Idempotent. */
    @Override
    public void close() {
        try {
            cublas.close();
        } finally {
            memory.close();
        }
    }
}
