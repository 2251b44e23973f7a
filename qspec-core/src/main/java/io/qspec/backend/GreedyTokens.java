package io.qspec.backend;

/**
 * The argmax token of every logit row of a forward pass, in the row layout of {@link Logits}: what a
 * greedy step needs, without the logits (a GPU then sends the host a few ints instead of a
 * vocabulary-wide row per token). Ties go to the lowest id, as in {@link Logits#argmax}.
 */
public final class GreedyTokens {
    private final int[] tokens;
    private final int[] firstRow;

    /** @param firstRow the first row of each sequence, as in {@link Logits} */
    public GreedyTokens(int[] tokens, int[] firstRow) {
        this.tokens = tokens.clone();
        this.firstRow = firstRow.clone();
    }

    /** The argmax of every row of {@code logits}. */
    public static GreedyTokens of(Logits logits) {
        int rows = logits.rows();
        int[] tokens = new int[rows];
        int[] firstRow = logits.firstRows();
        for (int s = 0; s < firstRow.length; s++) {
            int end = s + 1 < firstRow.length ? firstRow[s + 1] : rows;
            for (int r = firstRow[s]; r < end; r++) {
                tokens[r] = logits.argmax(s, r - firstRow[s]);
            }
        }
        return new GreedyTokens(tokens, firstRow);
    }

    /** The argmax token of row {@code row} of sequence {@code sequence}. */
    public int token(int sequence, int row) {
        int rows = (sequence + 1 < firstRow.length ? firstRow[sequence + 1] : tokens.length) - firstRow[sequence];
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("sequence " + sequence + " has " + rows + " rows, asked for " + row);
        }
        return tokens[firstRow[sequence] + row];
    }
}
