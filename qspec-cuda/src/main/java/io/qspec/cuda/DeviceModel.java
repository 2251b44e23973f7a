package io.qspec.cuda;

import io.qspec.format.RawTensor;
import io.qspec.format.TensorDecoding;
import io.qspec.format.TensorType;
import io.qspec.model.LayerWeights;
import io.qspec.model.LinearWeight;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.ModelWeights;
import io.qspec.model.RopeStyle;
import io.qspec.quant.Int4Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's weights uploaded once to the GPU: every INT4 row copied byte for byte (the kernels read the host
 * layout directly), the token embedding as fp16, norms as fp32 and the RoPE frequency table.
 *
 * <p>Matrices that read the same input are stacked into one: q, k and v rows into {@code wqkv}, gate and
 * up rows into {@code gateUp}. The layout is row-major, so stacking is copying the parts one after
 * another; one GEMM then streams all of them (a decode step's small k/v GEMMs alone reach a tenth of
 * the memory bandwidth), and its output rows hold q|k|v or gate|up side by side. Where the q|k|v GEMV rotates
 * (the runner's choice) a half-split model's q and k rows are uploaded with their RoPE pairs interleaved
 * ({@link RopeRowOrder}); {@link #ropeStyle} is the style every kernel that rotates is then told.
 */
final class DeviceModel {
    /** Rows of the embedding converted per host staging chunk, to bound host memory for large vocabularies. */
    private static final long STAGING_BYTES = 64L << 20;

    record Layer(DeviceBuffer attentionNorm, DeviceLinear wqkv, DeviceLinear wo, DeviceBuffer ffnNorm,
                 DeviceLinear gateUp, DeviceLinear down) {
    }

    final DeviceBuffer embedding;
    final List<Layer> layers;
    final DeviceBuffer finalNorm;
    final DeviceLinear output;
    final DeviceBuffer invFreq;
    /** The RoPE pairs of the q and k rows as uploaded: the model's style, or interleaved where they were reordered. */
    final RopeStyle ropeStyle;
    /** Widest stored row over all matrices, and most groups per row: sizes of the quantized-activation buffers. */
    final int maxPaddedCols;
    final int maxGroupsPerRow;

    private DeviceModel(DeviceBuffer embedding, List<Layer> layers, DeviceBuffer finalNorm, DeviceLinear output,
                        DeviceBuffer invFreq, RopeStyle ropeStyle, int maxPaddedCols, int maxGroupsPerRow) {
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.output = output;
        this.invFreq = invFreq;
        this.ropeStyle = ropeStyle;
        this.maxPaddedCols = maxPaddedCols;
        this.maxGroupsPerRow = maxGroupsPerRow;
    }

    /** Uploads {@code model}; {@code interleaveRopePairs}: q and k rows in interleaved RoPE order whatever its style. */
    static DeviceModel upload(Model model, DeviceMemory memory, boolean interleaveRopePairs) {
        ModelConfig c = model.config();
        // the style whose pairs RopeRowOrder moves next to each other (INTERLEAVED: none move)
        RopeStyle reorderFrom = interleaveRopePairs ? c.ropeStyle() : RopeStyle.INTERLEAVED;
        ModelWeights w = model.weights();
        if (w.layers().size() != c.layers()) {
            throw new IllegalArgumentException("model has " + w.layers().size() + " layers, config says " + c.layers());
        }
        DeviceBuffer embedding = uploadEmbedding(w.tokenEmbedding(), c, memory);
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers().get(l);
            layers.add(new Layer(
                    uploadNorm(lw.attentionNorm(), c.dim(), "attention norm " + l, memory),
                    uploadStacked("layers." + l + ".qkv", List.of(lw.wq(), lw.wk(), lw.wv()),
                            new int[] {c.qDim(), c.kvDim(), c.kvDim()}, c.dim(), 2, reorderFrom, c, memory),
                    uploadLinear(lw.wo(), c.dim(), c.qDim(), memory),
                    uploadNorm(lw.ffnNorm(), c.dim(), "ffn norm " + l, memory),
                    uploadStacked("layers." + l + ".gate_up", List.of(lw.gate(), lw.up()),
                            new int[] {c.hiddenDim(), c.hiddenDim()}, c.dim(), 0, reorderFrom, c, memory),
                    uploadLinear(lw.down(), c.dim(), c.hiddenDim(), memory)));
        }
        DeviceBuffer finalNorm = uploadNorm(w.finalNorm(), c.dim(), "final norm", memory);
        DeviceLinear output = uploadLinear(w.output(), c.vocabSize(), c.dim(), memory);
        DeviceBuffer invFreq = memory.uploadFloats(RopeFrequencies.inverseFrequencies(c), "RoPE inv_freq");
        int maxPadded = 0;
        int maxGroups = 0;
        for (LinearWeight lw : w.linearLayers()) {
            maxPadded = Math.max(maxPadded, lw.int4().paddedCols());
            maxGroups = Math.max(maxGroups, lw.int4().groupsPerRow());
        }
        RopeStyle uploaded = interleaveRopePairs ? RopeStyle.INTERLEAVED : c.ropeStyle();
        return new DeviceModel(embedding, List.copyOf(layers), finalNorm, output, invFreq, uploaded, maxPadded,
                maxGroups);
    }

    private static DeviceLinear uploadLinear(LinearWeight weight, int rows, int cols, DeviceMemory memory) {
        Int4Matrix m = weight.int4();
        if (m.rows() != rows || m.cols() != cols) {
            throw new IllegalArgumentException(weight.name() + " is " + m.rows() + "x" + m.cols() + ", the config needs "
                    + rows + "x" + cols);
        }
        DeviceBuffer packed = memory.upload(m.packed(), weight.name() + " packed");
        DeviceBuffer scales = memory.upload(m.scales(), weight.name() + " scales");
        return new DeviceLinear(weight.name(), packed, scales, m.rows(), m.cols(), m.groupSize());
    }

    /**
     * The parts' rows one after another in one matrix; the parts must share input size and group. The first
     * {@code rotated} parts (q and k) go with the pairs of {@code reorderFrom} interleaved ({@link RopeRowOrder}).
     */
    private static DeviceLinear uploadStacked(String name, List<LinearWeight> parts, int[] rows, int cols, int rotated,
                                              RopeStyle reorderFrom, ModelConfig config, DeviceMemory memory) {
        int group = parts.getFirst().int4().groupSize();
        long packedBytes = 0;
        long scaleBytes = 0;
        int totalRows = 0;
        for (int i = 0; i < parts.size(); i++) {
            Int4Matrix m = parts.get(i).int4();
            if (m.rows() != rows[i] || m.cols() != cols) {
                throw new IllegalArgumentException(parts.get(i).name() + " is " + m.rows() + "x" + m.cols()
                        + ", the config needs " + rows[i] + "x" + cols);
            }
            if (m.groupSize() != group) {
                throw new IllegalArgumentException(parts.get(i).name() + " has group " + m.groupSize() + " but "
                        + parts.getFirst().name() + " has " + group + ": matrices reading the same input are"
                        + " stacked and must share their group size");
            }
            packedBytes += m.packed().byteSize();
            scaleBytes += m.scales().byteSize();
            totalRows += m.rows();
        }
        DeviceBuffer packed = memory.allocate(packedBytes, name + " packed");
        DeviceBuffer scales = memory.allocate(scaleBytes, name + " scales");
        long packedAt = 0;
        long scalesAt = 0;
        for (int i = 0; i < parts.size(); i++) {
            Int4Matrix m = parts.get(i).int4();
            RopeStyle order = i < rotated ? reorderFrom : RopeStyle.INTERLEAVED;
            try (Arena arena = Arena.ofConfined()) {
                memory.copyToDevice(RopeRowOrder.reorder(m.packed(), m.rowBytes(), config.headDim(), order, arena), packed,
                        packedAt);
                memory.copyToDevice(RopeRowOrder.reorder(m.scales(), m.groupsPerRow() * 2L, config.headDim(), order,
                        arena), scales, scalesAt);
            }
            packedAt += m.packed().byteSize();
            scalesAt += m.scales().byteSize();
        }
        return new DeviceLinear(name, packed, scales, totalRows, cols, group);
    }

    private static DeviceBuffer uploadNorm(float[] weight, int dim, String what, DeviceMemory memory) {
        if (weight.length != dim) {
            throw new IllegalArgumentException(what + " has " + weight.length + " weights, dim is " + dim);
        }
        return memory.uploadFloats(weight, what);
    }

    private static DeviceBuffer uploadEmbedding(RawTensor table, ModelConfig c, DeviceMemory memory) {
        if (table.rank() != 2 || table.dim(0) != c.vocabSize() || table.dim(1) != c.dim()) {
            throw new IllegalArgumentException("token embedding " + table + " is not [" + c.vocabSize() + ", " + c.dim() + "]");
        }
        long rowBytes = (long) c.dim() * 2;
        DeviceBuffer device = memory.allocate(c.vocabSize() * rowBytes, "token embedding (fp16)");
        if (table.type() == TensorType.F16) {
            memory.copyToDevice(table.data().asSlice(0, c.vocabSize() * rowBytes), device, 0);
            return device;
        }
        int rowsPerChunk = (int) Math.max(1, Math.min(c.vocabSize(), STAGING_BYTES / rowBytes));
        float[] row = new float[c.dim()];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(rowsPerChunk * rowBytes, 64);
            for (int first = 0; first < c.vocabSize(); first += rowsPerChunk) {
                int rows = Math.min(rowsPerChunk, c.vocabSize() - first);
                for (int r = 0; r < rows; r++) {
                    TensorDecoding.decodeRow(table, first + r, row);
                    for (int i = 0; i < row.length; i++) {
                        staging.setAtIndex(ValueLayout.JAVA_SHORT, (long) r * c.dim() + i, Float.floatToFloat16(row[i]));
                    }
                }
                memory.copyToDevice(staging.asSlice(0, rows * rowBytes), device, first * rowBytes);
            }
        }
        return device;
    }
}
