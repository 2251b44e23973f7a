package io.qspec.cuda;

import io.qspec.model.ModelConfig;
import java.lang.foreign.Arena;

/**
 * The activation and index buffers of a forward pass, sized for a number of tokens and grown (never
 * shrunk) when a larger batch arrives, so that steady-state decoding allocates nothing.
 */
final class WorkBuffers {
    private final DeviceMemory memory;
    private final ModelConfig config;
    private final int maxPaddedCols;
    private final int maxGroupsPerRow;

    private int tokenCapacity;
    private int rowCapacity;
    private int tableCapacity;

    DeviceBuffer tokenIds;
    DeviceBuffer tokenSeq;
    DeviceBuffer tokenPos;
    DeviceBuffer blockTables;
    /** Residual stream, fp32 [T, dim]. */
    DeviceBuffer residual;
    /** A16 GEMM input, fp16 [T, max(dim, qDim, hidden)]. */
    DeviceBuffer half;
    /** Draft GEMM input, int8 [T, maxPaddedCols], and its scales fp32 [T, maxGroupsPerRow]. */
    DeviceBuffer quantized;
    DeviceBuffer quantScales;
    /**
     * RMSNorm output, the input of the q|k|v and gate|up GEMMs: fp16 [T, dim] (A16), or int8 [T, maxPaddedCols] and
     * scales fp32 [T, maxGroupsPerRow] (draft). Apart from {@link #half} and {@link #quantized}, which hold the
     * input of the GEMM whose norm tail writes these.
     */
    DeviceBuffer normedHalf;
    DeviceBuffer normedQuantized;
    DeviceBuffer normedScales;
    /** Output of the stacked q|k|v GEMM, fp32 [T, qDim + 2 kvDim]. */
    DeviceBuffer qkv;
    /** q after RoPE, fp32 [T, qDim]: the attention's input. */
    DeviceBuffer q;
    /** Output of the stacked gate|up GEMM, fp32 [T, 2 hidden]. */
    DeviceBuffer gateUp;
    /** Residual rows that get logits, fp32 [R, dim]. */
    DeviceBuffer selectedRows;
    /** fp32 [R, vocab]. */
    DeviceBuffer logits;
    /** int32 [R]: each logit row's argmax, for greedy passes. */
    DeviceBuffer argmax;
    /** Partial softmaxes of split attention (fixed size; null when 0 bytes were asked for). */
    final DeviceBuffer attentionWorkspace;
    /** The norm tails' ticket: one device word, 0 between launches (each launch leaves it at 0). */
    final DeviceBuffer normTicket;

    WorkBuffers(DeviceMemory memory, ModelConfig config, int maxPaddedCols, int maxGroupsPerRow,
                long attentionWorkspaceBytes) {
        this.memory = memory;
        this.config = config;
        this.maxPaddedCols = maxPaddedCols;
        this.maxGroupsPerRow = maxGroupsPerRow;
        this.attentionWorkspace = attentionWorkspaceBytes > 0
                ? memory.allocate(attentionWorkspaceBytes, "attention workspace") : null;
        try (Arena arena = Arena.ofConfined()) {
            this.normTicket = memory.upload(arena.allocate(4, 4), "norm tail ticket");  // zero-filled
        }
    }

    /** Whether {@link #ensure} with these arguments would move any buffer (graphs captured over them go stale). */
    boolean wouldGrow(int tokens, int rows, int tableEntries) {
        return tokens > tokenCapacity || rows > rowCapacity || tableEntries > tableCapacity;
    }

    /**
     * Makes room for {@code tokens} tokens, {@code rows} logit rows and {@code tableEntries} block-table ints.
     * A group that grows is freed before its new size is allocated, so the peak is the larger size, not both. If
     * an allocation fails ({@link CudaOutOfMemoryException}), that group is left empty, with no field naming freed
     * memory, and the next call allocates it afresh: a pass that asked too much fails alone. Graphs captured over
     * the buffers go stale when {@link #wouldGrow} says so, whether or not this succeeds.
     */
    void ensure(int tokens, int rows, int tableEntries) {
        if (tokens > tokenCapacity) {
            int capacity = Math.max(tokens, Math.max(16, tokenCapacity * 2));
            freeTokenBuffers();
            try {
                allocateTokenBuffers(capacity);
            } catch (RuntimeException e) {
                freeTokenBuffers();
                throw e;
            }
            tokenCapacity = capacity;
        }
        if (rows > rowCapacity) {
            int capacity = Math.max(rows, Math.max(4, rowCapacity * 2));
            freeRowBuffers();
            try {
                logits = memory.allocate((long) capacity * config.vocabSize() * 4, "logits");
                argmax = memory.allocate((long) capacity * 4, "argmax tokens");
                selectedRows = memory.allocate((long) capacity * config.dim() * 4, "rows for logits");
            } catch (RuntimeException e) {
                freeRowBuffers();
                throw e;
            }
            rowCapacity = capacity;
        }
        if (tableEntries > tableCapacity) {
            int capacity = Math.max(tableEntries, Math.max(64, tableCapacity * 2));
            tableCapacity = 0;
            blockTables = free(blockTables);
            blockTables = memory.allocate((long) capacity * 4, "block tables");
            tableCapacity = capacity;
        }
    }

    private void allocateTokenBuffers(int t) {
        int halfWidth = Math.max(config.dim(), Math.max(config.qDim(), config.hiddenDim()));
        tokenIds = memory.allocate((long) t * 4, "token ids");
        tokenSeq = memory.allocate((long) t * 4, "token sequences");
        tokenPos = memory.allocate((long) t * 4, "token positions");
        residual = memory.allocate((long) t * config.dim() * 4, "residual");
        half = memory.allocate((long) t * halfWidth * 2, "fp16 activations");
        quantized = memory.allocate((long) t * maxPaddedCols, "quantized activations");
        quantScales = memory.allocate((long) t * maxGroupsPerRow * 4, "activation scales");
        normedHalf = memory.allocate((long) t * config.dim() * 2, "normalised activations");
        normedQuantized = memory.allocate((long) t * maxPaddedCols, "quantized normalised activations");
        normedScales = memory.allocate((long) t * maxGroupsPerRow * 4, "scales of the quantized normalised activations");
        qkv = memory.allocate((long) t * (config.qDim() + 2L * config.kvDim()) * 4, "q|k|v");
        q = memory.allocate((long) t * config.qDim() * 4, "rotated q");
        gateUp = memory.allocate((long) t * 2L * config.hiddenDim() * 4, "gate|up");
    }

    /** Frees whatever token buffers are allocated and forgets them all (capacity 0). */
    private void freeTokenBuffers() {
        tokenCapacity = 0;
        tokenIds = free(tokenIds);
        tokenSeq = free(tokenSeq);
        tokenPos = free(tokenPos);
        residual = free(residual);
        half = free(half);
        quantized = free(quantized);
        quantScales = free(quantScales);
        normedHalf = free(normedHalf);
        normedQuantized = free(normedQuantized);
        normedScales = free(normedScales);
        qkv = free(qkv);
        q = free(q);
        gateUp = free(gateUp);
    }

    private void freeRowBuffers() {
        rowCapacity = 0;
        logits = free(logits);
        argmax = free(argmax);
        selectedRows = free(selectedRows);
    }

    /** Frees {@code buffer} if there is one; always returns null, for the field it came from. */
    private DeviceBuffer free(DeviceBuffer buffer) {
        if (buffer != null) {
            memory.free(buffer);
        }
        return null;
    }
}
