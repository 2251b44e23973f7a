package io.qspec.format.safetensors;

import io.qspec.format.ModelMetadata;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metadata of a Hugging Face model folder: the members of {@code config.json} under their own
 * names (e.g. {@code hidden_size}), followed by those of {@code generation_config.json} and
 * {@code tokenizer_config.json} under the prefixes {@code generation_config.} and
 * {@code tokenizer_config.} (each member whole: {@code tokenizer_config.bos_token} may be a string
 * or a map with {@code content}).
 */
public record HuggingFaceMetadata(Map<String, Object> asMap) implements ModelMetadata {

    /** Prefix of the members of {@code generation_config.json}. */
    public static final String GENERATION_CONFIG_PREFIX = "generation_config.";
    /** Prefix of the members of {@code tokenizer_config.json}. */
    public static final String TOKENIZER_CONFIG_PREFIX = "tokenizer_config.";

    public HuggingFaceMetadata {
        asMap = Collections.unmodifiableMap(new LinkedHashMap<>(asMap));
    }

    /** Combines the three files' members (the optional ones as empty maps when absent). */
    public static HuggingFaceMetadata of(Map<String, Object> config, Map<String, Object> generationConfig,
            Map<String, Object> tokenizerConfig) {
        Map<String, Object> all = new LinkedHashMap<>(config);
        generationConfig.forEach((k, v) -> all.put(GENERATION_CONFIG_PREFIX + k, v));
        tokenizerConfig.forEach((k, v) -> all.put(TOKENIZER_CONFIG_PREFIX + k, v));
        return new HuggingFaceMetadata(all);
    }
}
