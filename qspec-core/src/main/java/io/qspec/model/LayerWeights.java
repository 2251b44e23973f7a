package io.qspec.model;

/** One transformer block: pre-attention RMSNorm, attention projections, pre-FFN RMSNorm, SwiGLU FFN. */
public record LayerWeights(
        float[] attentionNorm,
        LinearWeight wq,
        LinearWeight wk,
        LinearWeight wv,
        LinearWeight wo,
        float[] ffnNorm,
        LinearWeight gate,
        LinearWeight up,
        LinearWeight down) {
}
