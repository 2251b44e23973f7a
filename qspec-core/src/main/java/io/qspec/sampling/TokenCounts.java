package io.qspec.sampling;

import java.util.Arrays;

/**
 * How often each token occurs in a history: the input of the repetition, frequency and presence
 * penalties. Sparse (only tokens that occur), immutable, built once per round and shared by its
 * positions.
 */
final class TokenCounts {
    static final TokenCounts EMPTY = new TokenCounts(new int[0], new int[0]);

    /** Distinct tokens, ascending. */
    private final int[] tokens;
    /** {@code counts[i]} is the number of occurrences of {@code tokens[i]}. */
    private final int[] counts;

    private TokenCounts(int[] tokens, int[] counts) {
        this.tokens = tokens;
        this.counts = counts;
    }

    static TokenCounts of(int[] history) {
        if (history == null || history.length == 0) {
            return EMPTY;
        }
        int[] sorted = history.clone();
        Arrays.sort(sorted);
        int[] tokens = new int[sorted.length];
        int[] counts = new int[sorted.length];
        int distinct = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (distinct > 0 && tokens[distinct - 1] == sorted[i]) {
                counts[distinct - 1]++;
            } else {
                tokens[distinct] = sorted[i];
                counts[distinct] = 1;
                distinct++;
            }
        }
        return new TokenCounts(Arrays.copyOf(tokens, distinct), Arrays.copyOf(counts, distinct));
    }

    int distinct() {
        return tokens.length;
    }

    int token(int i) {
        return tokens[i];
    }

    int countAt(int i) {
        return counts[i];
    }

    int count(int token) {
        int at = Arrays.binarySearch(tokens, token);
        return at >= 0 ? counts[at] : 0;
    }
}
