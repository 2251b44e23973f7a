package io.qspec.examples.peers;

import java.util.Locale;

/**
 * The shape of a random-weight Llama model written for a peer comparison.
 *
 * @param name          CLI name of the shape
 * @param dim           hidden size
 * @param hiddenDim     SwiGLU intermediate size
 * @param layers        transformer blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads (grouped-query attention)
 * @param vocabSize     rows of the embedding and the output head
 * @param ropeTheta     RoPE base
 * @param tiedEmbeddings whether the output head reuses the embedding (no {@code lm_head.weight} written)
 */
public record PeerShape(String name, int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize,
                        double ropeTheta, boolean tiedEmbeddings) {

    /** About 90M parameters: large enough that matmuls dominate, small enough for a 2-core run. */
    public static final PeerShape SMALL = new PeerShape("small", 1024, 2816, 8, 16, 4, 2048, 10_000.0, false);

    /**
     * Llama-3.2-1B's shape (dim 2048, 16 layers, 32/8 heads, 128256 tokens). The real model ties its head to
     * the embedding; here the head is written separately so that both engines run it in 4 bits (Jlama keeps
     * its embedding, and so a tied head, in BF16).
     */
    public static final PeerShape LLAMA_3_2_1B = new PeerShape("llama-3.2-1b", 2048, 8192, 16, 32, 8, 128_256, 500_000.0, false);

    /** A shape small enough for unit tests. */
    public static final PeerShape TINY = new PeerShape("tiny", 128, 384, 2, 8, 4, 2048, 10_000.0, false);

    public PeerShape {
        if (dim % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("dim must divide into heads and heads into kvHeads: " + dim + "/" + heads + "/" + kvHeads);
        }
    }

    /** Looks a shape up by its CLI name: {@code small}, {@code llama-3.2-1b}, {@code tiny}. */
    public static PeerShape fromCliName(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "small" -> SMALL;
            case "llama-3.2-1b", "llama3.2-1b" -> LLAMA_3_2_1B;
            case "tiny" -> TINY;
            default -> throw new IllegalArgumentException("unknown shape '" + name + "'; use small, llama-3.2-1b or tiny");
        };
    }

    /** Width of one attention head. */
    public int headDim() {
        return dim / heads;
    }

    /** Parameters in the written file (embedding, blocks, final norm, and the head unless tied). */
    public long parameters() {
        long kvDim = (long) kvHeads * headDim();
        long block = 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hiddenDim + 2L * dim;
        return (long) vocabSize * dim * (tiedEmbeddings ? 1 : 2) + layers * block + dim;
    }
}
