package io.qspec.cuda;

/**
 * The per-pass index arrays on the GPU (int32), as the attention kernels read them.
 *
 * @param tokens      T, tokens in the pass
 * @param sequences   sequences in the pass
 * @param maxBlocks   width of each block-table row
 * @param tokenIds    [T] token ids
 * @param tokenSeq    [T] sequence of each token
 * @param tokenPos    [T] position of each token
 * @param blockTables [sequences, maxBlocks] pool block ids
 * @param run         the attention's run hint (BatchPlan#attentionRun): the tokens of each sequence where every
 *                    sequence has as many, 1 where no sequence has a prefill tiles' run, else 0
 * @param contexts    what the attention may know of the tokens' contexts
 */
record BatchBuffers(int tokens, int sequences, int maxBlocks, DeviceBuffer tokenIds, DeviceBuffer tokenSeq,
                           DeviceBuffer tokenPos, DeviceBuffer blockTables, int run, ContextBounds contexts) {
    public BatchBuffers {
        java.util.Objects.requireNonNull(contexts, "contexts");
        if (run > 1 && (long) run * sequences != tokens || run < 0) {
            throw new IllegalArgumentException("a run of " + run + " tokens for each of " + sequences
                    + " sequences is not the pass's " + tokens + " tokens");
        }
        KernelArguments.requirePositive("tokens", tokens);
        KernelArguments.requirePositive("sequences", sequences);
        KernelArguments.requirePositive("maxBlocks", maxBlocks);
        KernelArguments.requireBytes("token ids", tokenIds, (long) tokens * 4);
        KernelArguments.requireBytes("token sequences", tokenSeq, (long) tokens * 4);
        KernelArguments.requireBytes("token positions", tokenPos, (long) tokens * 4);
        KernelArguments.requireBytes("block tables", blockTables, (long) sequences * maxBlocks * 4);
    }
}
