package io.qspec.arch;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.TensorSource;
import io.qspec.model.ModelConfig;
import io.qspec.format.TensorDecoding;
import io.qspec.model.RopeScaling;
import io.qspec.model.RopeStyle;
import java.util.Optional;
import java.util.Set;

/**
 * Llama 2/3 in GGUF files ({@code general.architecture = llama}): keys under {@code llama.*},
 * tensors {@code blk.N.attn_q.weight} etc. llama.cpp's converter permutes Q/K rows so that RoPE
 * rotates adjacent pairs; hence {@link RopeStyle#INTERLEAVED}. Llama-3.1 scaling arrives as the
 * tensor {@code rope_freqs.weight} (one divisor per rotation).
 */
final class GgufLlamaArchitecture implements Architecture {
    private static final Set<String> ARCHITECTURES = Set.of("llama");
    /** Llama 3.1+ GGUF files store the Llama-3 RoPE scaling as per-pair frequency divisors here. */
    private static final String ROPE_FREQS = "rope_freqs.weight";

    private static final TensorNames NAMES = new TensorNames() {
        @Override
        public String tokenEmbedding() {
            return "token_embd.weight";
        }

        @Override
        public String finalNorm() {
            return "output_norm.weight";
        }

        @Override
        public String output() {
            return "output.weight";
        }

        @Override
        public String layer(int i, Role role) {
            String suffix = switch (role) {
                case ATTENTION_NORM -> "attn_norm";
                case Q -> "attn_q";
                case K -> "attn_k";
                case V -> "attn_v";
                case O -> "attn_output";
                case FFN_NORM -> "ffn_norm";
                case GATE -> "ffn_gate";
                case UP -> "ffn_up";
                case DOWN -> "ffn_down";
            };
            return "blk." + i + "." + suffix + ".weight";
        }
    };

    @Override
    public String displayName() {
        return "llama (GGUF)";
    }

    @Override
    public boolean matches(TensorSource source) {
        return source.metadata().getString("general.architecture").map(ARCHITECTURES::contains).orElse(false);
    }

    @Override
    public ModelConfig config(TensorSource source) {
        ModelMetadata m = source.metadata();
        String a = m.getString("general.architecture").orElseThrow();
        int dim = requireInt(source, a + ".embedding_length");
        int heads = requireInt(source, a + ".attention.head_count");
        int kvHeads = optionalInt(source, a + ".attention.head_count_kv").orElse(heads);
        int headDim = optionalInt(source, a + ".attention.key_length").orElse(dim / heads);
        int vocab = optionalInt(source, a + ".vocab_size")
                .or(() -> m.getList("tokenizer.ggml.tokens").map(java.util.List::size))
                .orElseGet(() -> Math.toIntExact(source.require(NAMES.tokenEmbedding()).dim(0)));
        Optional<RopeScaling> ropeScaling = source.find(ROPE_FREQS).map(t -> {
            if (t.elementCount() != headDim / 2) {
                throw new ModelFormatException(source.location(), "tensor " + t + " should hold headDim/2 = "
                        + headDim / 2 + " RoPE frequency factors");
            }
            return new RopeScaling.FrequencyFactors(TensorDecoding.toFloatArray(t));
        });
        return new ModelConfig(
                a,
                dim,
                requireInt(source, a + ".feed_forward_length"),
                requireInt(source, a + ".block_count"),
                heads,
                kvHeads,
                headDim,
                vocab,
                requireInt(source, a + ".context_length"),
                m.getDouble(a + ".attention.layer_norm_rms_epsilon").orElse(1e-5).floatValue(),
                m.getDouble(a + ".rope.freq_base").orElse(10000.0).floatValue(),
                RopeStyle.INTERLEAVED,
                ropeScaling,
                source.find(NAMES.output()).isEmpty());
    }

    @Override
    public TensorNames tensorNames() {
        return NAMES;
    }

    private static int requireInt(TensorSource source, String key) {
        return HyperParameters.positive(source, "metadata key", key);
    }

    private static Optional<Integer> optionalInt(TensorSource source, String key) {
        return HyperParameters.optionalPositive(source, "metadata key", key);
    }
}
