package io.qspec.backend;

/**
 * Logits returned by a forward pass: for each sequence of the batch, {@link SequenceInput#logitRows()}
 * rows of {@code vocabSize} floats, sequences in batch order, packed into one array.
 */
public final class Logits {
    private final float[] data;
    private final int vocabSize;
    private final int[] firstRow;

    public Logits(float[] data, int vocabSize, int[] firstRow) {
        this.data = data;
        this.vocabSize = vocabSize;
        this.firstRow = firstRow.clone();
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** Rows in all. */
    public int rows() {
        return data.length / vocabSize;
    }

    /** The first row of each sequence (a copy). */
    public int[] firstRows() {
        return firstRow.clone();
    }

    /** Logits of row {@code row} of sequence {@code sequence} (a copy). */
    public float[] row(int sequence, int row) {
        float[] out = new float[vocabSize];
        System.arraycopy(data, offset(sequence, row), out, 0, vocabSize);
        return out;
    }

    /** Index of the largest logit of a row; ties go to the lowest id. */
    public int argmax(int sequence, int row) {
        int base = offset(sequence, row);
        int best = 0;
        float bestValue = data[base];
        for (int i = 1; i < vocabSize; i++) {
            if (data[base + i] > bestValue) {
                bestValue = data[base + i];
                best = i;
            }
        }
        return best;
    }

    private int offset(int sequence, int row) {
        int rows = (sequence + 1 < firstRow.length ? firstRow[sequence + 1] : data.length / vocabSize) - firstRow[sequence];
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("sequence " + sequence + " has " + rows + " logit rows, asked for " + row);
        }
        return (firstRow[sequence] + row) * vocabSize;
    }
}
