package io.qspec.sampling;

import java.util.Arrays;

/**
 * How often each token occurs in a history: the input of the repetition, frequency and presence
 * penalties. Sparse (only tokens that occur), immutable, built once per round and shared by its
 * positions.
 */
public final class TokenCounts {
    /** No history. */
    public static final TokenCounts EMPTY = new TokenCounts(new int[0], new int[0]);

    /** Distinct tokens, ascending. */
    private final int[] tokens;
    /** {@code counts[i]} is the number of occurrences of {@code tokens[i]}. */
    private final int[] counts;

    private TokenCounts(int[] tokens, int[] counts) {
        this.tokens = tokens;
        this.counts = counts;
    }

    /** The counts of {@code history} (may be null or empty). */
    public static TokenCounts of(int[] history) {
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

    /** Distinct tokens. */
    public int distinct() {
        return tokens.length;
    }

    /** The {@code i}-th distinct token, ascending. */
    public int token(int i) {
        return tokens[i];
    }

    /** Occurrences of {@link #token(int) token(i)}. */
    public int countAt(int i) {
        return counts[i];
    }

    /** These counts with {@code extra[0..length)} added (a round's draft prefix: a handful of tokens). */
    public TokenCounts plus(int[] extra, int length) {
        if (length == 0) {
            return this;
        }
        TokenCounts added = of(Arrays.copyOf(extra, length));
        int[] mergedTokens = new int[tokens.length + added.tokens.length];
        int[] mergedCounts = new int[mergedTokens.length];
        int a = 0;
        int b = 0;
        int n = 0;
        while (a < tokens.length || b < added.tokens.length) {
            if (b == added.tokens.length || a < tokens.length && tokens[a] < added.tokens[b]) {
                mergedTokens[n] = tokens[a];
                mergedCounts[n++] = counts[a++];
            } else if (a == tokens.length || added.tokens[b] < tokens[a]) {
                mergedTokens[n] = added.tokens[b];
                mergedCounts[n++] = added.counts[b++];
            } else {
                mergedTokens[n] = tokens[a];
                mergedCounts[n++] = counts[a++] + added.counts[b++];
            }
        }
        return new TokenCounts(Arrays.copyOf(mergedTokens, n), Arrays.copyOf(mergedCounts, n));
    }

    /** Occurrences of {@code token}. */
    public int count(int token) {
        int at = Arrays.binarySearch(tokens, token);
        return at >= 0 ? counts[at] : 0;
    }
}
