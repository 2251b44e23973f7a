package io.qspec.arch;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import io.qspec.format.TensorSource;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeScaling;
import io.qspec.model.RopeStyle;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Llama 2/3 Hugging Face folders ({@code config.json} with {@code model_type = llama} or
 * {@code architectures = [LlamaForCausalLM]}). Transformers' RoPE rotates halves
 * ({@code rotate_half}); Llama-3 frequency scaling comes from {@code rope_scaling}.
 */
final class HuggingFaceLlamaArchitecture implements Architecture {
    private static final Set<String> MODEL_TYPES = Set.of("llama");
    private static final Set<String> CLASSES = Set.of("LlamaForCausalLM");

    private static final TensorNames NAMES = new TensorNames() {
        @Override
        public String tokenEmbedding() {
            return "model.embed_tokens.weight";
        }

        @Override
        public String finalNorm() {
            return "model.norm.weight";
        }

        @Override
        public String output() {
            return "lm_head.weight";
        }

        @Override
        public String layer(int i, Role role) {
            String suffix = switch (role) {
                case ATTENTION_NORM -> "input_layernorm";
                case Q -> "self_attn.q_proj";
                case K -> "self_attn.k_proj";
                case V -> "self_attn.v_proj";
                case O -> "self_attn.o_proj";
                case FFN_NORM -> "post_attention_layernorm";
                case GATE -> "mlp.gate_proj";
                case UP -> "mlp.up_proj";
                case DOWN -> "mlp.down_proj";
            };
            return "model.layers." + i + "." + suffix + ".weight";
        }
    };

    @Override
    public String displayName() {
        return "llama (Hugging Face)";
    }

    @Override
    public boolean matches(TensorSource source) {
        ModelMetadata m = source.metadata();
        boolean type = m.getString("model_type").map(MODEL_TYPES::contains).orElse(false);
        boolean cls = m.getList("architectures")
                .map(l -> l.stream().anyMatch(o -> o instanceof String name && CLASSES.contains(name))).orElse(false);
        return type || cls;
    }

    @Override
    public ModelConfig config(TensorSource source) {
        ModelMetadata m = source.metadata();
        int dim = requireInt(source, "hidden_size");
        int heads = requireInt(source, "num_attention_heads");
        int kvHeads = HyperParameters.optionalPositive(source, "config.json key", "num_key_value_heads").orElse(heads);
        int headDim = HyperParameters.optionalPositive(source, "config.json key", "head_dim").orElse(dim / heads);
        boolean tied = m.getBoolean("tie_word_embeddings").orElse(false);
        return new ModelConfig(
                "llama",
                dim,
                requireInt(source, "intermediate_size"),
                requireInt(source, "num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                requireInt(source, "vocab_size"),
                requireInt(source, "max_position_embeddings"),
                m.getDouble("rms_norm_eps").orElse(1e-6).floatValue(),
                m.getDouble("rope_theta").orElse(10000.0).floatValue(),
                RopeStyle.HALF_SPLIT,
                ropeScaling(source),
                tied);
    }

    private static Optional<RopeScaling> ropeScaling(TensorSource source) {
        Optional<Object> raw = source.metadata().get("rope_scaling");
        if (raw.isEmpty() || !(raw.get() instanceof Map<?, ?> map)) {
            return Optional.empty();
        }
        Object type = map.get("rope_type") != null ? map.get("rope_type") : map.get("type");
        if (!"llama3".equals(type)) {
            throw new UnsupportedArchitectureException(source.location() + ": rope_scaling type '" + type
                    + "' is not supported (supported: llama3, or none)");
        }
        return Optional.of(RopeScaling.llama3(
                number(map, "factor", 8), number(map, "low_freq_factor", 1), number(map, "high_freq_factor", 4),
                (int) number(map, "original_max_position_embeddings", 8192)));
    }

    private static float number(Map<?, ?> map, String key, double fallback) {
        return map.get(key) instanceof Number n ? n.floatValue() : (float) fallback;
    }

    @Override
    public TensorNames tensorNames() {
        return NAMES;
    }

    private static int requireInt(TensorSource source, String key) {
        return HyperParameters.positive(source, "config.json key", key);
    }

    static List<String> supportedNames() {
        return List.of("model_type llama", "LlamaForCausalLM");
    }
}
