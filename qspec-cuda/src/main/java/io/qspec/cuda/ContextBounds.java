package io.qspec.cuda;

/**
 * What a pass tells the attention of its tokens' contexts (a token's context: its position + 1), so that the library
 * launches only the kernels those contexts take ({@code qspec_attention_pass}): the decode tiles take the tokens whose
 * context holds {@code tilesFrom} positions or more, the row kernels the others.
 *
 * <p>The bounds are coarsened to the side of the threshold a pass lies on ({@link #of}), not the exact contexts: a
 * captured pass bakes its arguments into the graph, so bounds that moved with every step would cost a capture a step.
 * Three values per threshold keep the graphs few, and give the library the same decision as the exact bounds would.
 *
 * @param min every token's context holds at least this many positions (0: unknown)
 * @param max no token's context holds more (0: unknown)
 */
record ContextBounds(int min, int max) {
    /** Nothing known: the library decides from the block table alone. */
    static final ContextBounds UNKNOWN = new ContextBounds(0, 0);

    ContextBounds {
        if (min < 0 || max < 0 || (max > 0 && min > max)) {
            throw new IllegalArgumentException("context bounds [" + min + ", " + max + "]: need 0 <= min <= max, or max 0");
        }
    }

    /**
     * The bounds of a pass whose contexts lie in {@code [shortest, longest]}, against the decode tiles' threshold
     * ({@code qspec_attention_decode_tiles_from}: 0 every token on the tiles, negative none): every token at or past
     * it, every token below it, or unknown (both sides, or nothing to decide).
     */
    static ContextBounds of(int tilesFrom, int shortest, int longest) {
        if (shortest < 1 || longest < shortest) {
            throw new IllegalArgumentException("contexts [" + shortest + ", " + longest + "] of a pass");
        }
        if (tilesFrom <= 0) {
            return UNKNOWN;
        }
        if (shortest >= tilesFrom) {
            return new ContextBounds(tilesFrom, 0);
        }
        return longest < tilesFrom ? new ContextBounds(0, tilesFrom - 1) : UNKNOWN;
    }
}
