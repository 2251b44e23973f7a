package io.qspec.arch;

/**
 * Where a format stores each Llama weight. {@code layer(i, role)} gives the tensor name of a
 * per-layer weight; roles are the fixed set {@link Role}.
 */
public interface TensorNames {

    /** Per-layer weights of a Llama block. */
    enum Role { ATTENTION_NORM, Q, K, V, O, FFN_NORM, GATE, UP, DOWN }

    String tokenEmbedding();

    String finalNorm();

    /** The output projection; absent in files with tied embeddings. */
    String output();

    String layer(int index, Role role);
}
