package io.qspec.cuda;

import io.qspec.kv.KvCacheExhaustedException;
import java.util.List;

/**
 * The host-side layout of one batched forward pass, computed and checked before anything reaches
 * the GPU: the flat token list, each token's sequence and position, which rows get logits, and the
 * block tables of the paged cache.
 */
final class BatchPlan {

    /**
     * One sequence as the plan sees it.
     *
     * @param start     its cache length before the pass (first new position)
     * @param capacity  the most positions its cache may hold
     * @param tokens    the new tokens
     * @param allLogits logits for every new token, or only the last
     */
    public record SequenceShape(int start, int capacity, int[] tokens, boolean allLogits) {
        /** Takes its own copy of the ids: they are checked and then uploaded, and the caller's array may change between. */
        public SequenceShape {
            tokens = tokens.clone();
        }
    }

    private final int[] tokens;
    private final int[] tokenSeq;
    private final int[] tokenPos;
    private final int[] logitSourceRows;
    private final int[] firstLogitRow;
    private final int[] ends;

    private BatchPlan(int[] tokens, int[] tokenSeq, int[] tokenPos, int[] logitSourceRows, int[] firstLogitRow, int[] ends) {
        this.tokens = tokens;
        this.tokenSeq = tokenSeq;
        this.tokenPos = tokenPos;
        this.logitSourceRows = logitSourceRows;
        this.firstLogitRow = firstLogitRow;
        this.ends = ends;
    }

    /**
     * Lays out {@code sequences}, checking every token id against {@code vocabSize} and every sequence's
     * new length against its capacity.
     */
    public static BatchPlan of(List<SequenceShape> batch, int vocabSize) {
        List<SequenceShape> sequences = List.copyOf(batch);  // read once: what was checked is what is planned
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a forward pass needs at least one sequence");
        }
        long total = 0;
        long rows = 0;
        for (int s = 0; s < sequences.size(); s++) {
            SequenceShape seq = sequences.get(s);
            if (seq.tokens().length == 0) {
                throw new IllegalArgumentException("sequence " + s + " has no tokens");
            }
            if (seq.start() < 0) {
                throw new IllegalArgumentException("sequence " + s + " starts at negative position " + seq.start());
            }
            long end = (long) seq.start() + seq.tokens().length;
            if (end > seq.capacity()) {
                throw new KvCacheExhaustedException("sequence " + s + " needs " + end + " positions, its cache holds "
                        + seq.capacity());
            }
            for (int i = 0; i < seq.tokens().length; i++) {
                int id = seq.tokens()[i];
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("sequence " + s + ", token " + i + ": id " + id
                            + " outside the vocabulary [0, " + vocabSize + ")");
                }
            }
            total += seq.tokens().length;
            rows += seq.allLogits() ? seq.tokens().length : 1;
        }
        if (total > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("batch of " + total + " tokens is too large");
        }
        int t = (int) total;
        int[] tokens = new int[t];
        int[] tokenSeq = new int[t];
        int[] tokenPos = new int[t];
        int[] logitSourceRows = new int[(int) rows];
        int[] firstLogitRow = new int[sequences.size()];
        int[] ends = new int[sequences.size()];
        int at = 0;
        int row = 0;
        for (int s = 0; s < sequences.size(); s++) {
            SequenceShape seq = sequences.get(s);
            int n = seq.tokens().length;
            firstLogitRow[s] = row;
            for (int i = 0; i < n; i++) {
                tokens[at + i] = seq.tokens()[i];
                tokenSeq[at + i] = s;
                tokenPos[at + i] = seq.start() + i;
                if (seq.allLogits() || i == n - 1) {
                    logitSourceRows[row++] = at + i;
                }
            }
            ends[s] = seq.start() + n;
            at += n;
        }
        return new BatchPlan(tokens, tokenSeq, tokenPos, logitSourceRows, firstLogitRow, ends);
    }

    /**
     * The flattened block tables, {@code [sequences, maxBlocks]}, from each sequence's block ids (at least
     * enough for its end); unused entries are 0 (never read: attention stops at each token's position).
     *
     * @param poolBlocks number of blocks in the pool; every id used must be below it
     */
    public int[] blockTables(int[][] blockIds, int blockSize, int poolBlocks) {
        return blockTables(blockIds, blockSize, poolBlocks, maxBlocks(blockSize));
    }

    /** As {@link #blockTables(int[][], int, int)} with rows {@code width} wide (at least {@link #maxBlocks}). */
    public int[] blockTables(int[][] blockIds, int blockSize, int poolBlocks, int width) {
        if (blockIds.length != ends.length) {
            throw new IllegalArgumentException(blockIds.length + " block lists for " + ends.length + " sequences");
        }
        if (width < maxBlocks(blockSize)) {
            throw new IllegalArgumentException("table width " + width + " below the " + maxBlocks(blockSize) + " blocks needed");
        }
        int maxBlocks = width;
        int[] table = new int[ends.length * maxBlocks];
        for (int s = 0; s < ends.length; s++) {
            int needed = Math.ceilDiv(ends[s], blockSize);
            if (blockIds[s].length < needed) {
                throw new IllegalStateException("sequence " + s + " has " + blockIds[s].length + " blocks, needs " + needed);
            }
            for (int b = 0; b < needed; b++) {
                int id = blockIds[s][b];
                if (id < 0 || id >= poolBlocks) {
                    throw new IllegalStateException("sequence " + s + ": block id " + id + " outside the pool [0, "
                            + poolBlocks + ")");
                }
                table[s * maxBlocks + b] = id;
            }
        }
        return table;
    }

    /** The fewest positions a token of the pass attends to (its position + 1). */
    public int shortestContext() {
        int min = Integer.MAX_VALUE;
        for (int p : tokenPos) {
            min = Math.min(min, p + 1);
        }
        return min;
    }

    /** The most positions a token of the pass attends to: the longest sequence's end. */
    public int longestContext() {
        int max = 0;
        for (int end : ends) {
            max = Math.max(max, end);
        }
        return max;
    }

    /** Width of the block table: blocks of the longest sequence after this pass. */
    public int maxBlocks(int blockSize) {
        int max = 1;
        for (int end : ends) {
            max = Math.max(max, Math.ceilDiv(end, blockSize));
        }
        return max;
    }

    /** Total tokens of the pass ({@code T}). */
    public int tokenCount() {
        return tokens.length;
    }

    public int sequenceCount() {
        return ends.length;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public int[] tokenSeq() {
        return tokenSeq.clone();
    }

    public int[] tokenPos() {
        return tokenPos.clone();
    }

    /** For each logit row, in output order, the index of the token (in {@code [0, T)}) it belongs to. */
    public int[] logitSourceRows() {
        return logitSourceRows.clone();
    }

    /** First logit row of each sequence, as {@link io.qspec.backend.Logits} takes it. */
    public int[] firstLogitRow() {
        return firstLogitRow.clone();
    }

    /**
     * The attention's run hint ({@code qspec_attention_runs}): the tokens every sequence of the pass has, where they
     * all have as many (a decode or verify pass, a prefill of prompts of one length); else 1 where no sequence has
     * {@link KernelLimits#PREFILL_TILE_RUN} tokens (the row kernels for every token), else 0: a pass that mixes a
     * prompt's prefill with other lengths, for {@code qspec_attention}.
     */
    public int attentionRun() {
        int[] counts = new int[ends.length];
        for (int s : tokenSeq) {
            counts[s]++;
        }
        boolean uniform = true;
        int longest = 0;
        for (int c : counts) {
            uniform &= c == counts[0];
            longest = Math.max(longest, c);
        }
        return uniform ? counts[0] : longest < KernelLimits.PREFILL_TILE_RUN ? 1 : 0;
    }

    /** Each sequence's cache length after the pass. */
    public int end(int sequence) {
        return ends[sequence];
    }
}
