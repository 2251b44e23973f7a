package io.qspec.model;

/** Which two elements of a head vector one RoPE rotation acts on. */
public enum RopeStyle {
    /** Adjacent pairs (x[2i], x[2i+1]): llama.cpp's "normal" mode, llama2.c, GGUF Llama files. */
    INTERLEAVED,
    /** Halves (x[i], x[i + headDim/2]): Hugging Face {@code rotate_half}, "NeoX" mode. */
    HALF_SPLIT
}
