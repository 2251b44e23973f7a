package io.qspec.model;

import io.qspec.quant.QuantScheme;
import io.qspec.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A loaded model: configuration, weights (the shared INT4 set, plus dense weights if asked for)
 * and tokenizer. Immutable and thread-safe; it knows nothing of backends, which read its weights to
 * run it. Closing it releases the weight memory and unmaps the files; runners must be closed first.
 */
public final class Model implements AutoCloseable {
    private final String name;
    private final Path source;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;
    private final QuantScheme quantScheme;
    private final AutoCloseable resources;
    private boolean closed;
    private final String chatTemplate;

    public Model(String name, Path source, ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
                 QuantScheme quantScheme, AutoCloseable resources) {
        this(name, source, config, weights, tokenizer, quantScheme, null, resources);
    }

    /** @param chatTemplate the model's Jinja chat template as found in its files, or null */
    public Model(String name, Path source, ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
                 QuantScheme quantScheme, String chatTemplate, AutoCloseable resources) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = source;
        this.config = Objects.requireNonNull(config, "config");
        this.weights = Objects.requireNonNull(weights, "weights");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.quantScheme = Objects.requireNonNull(quantScheme, "quantScheme");
        this.resources = Objects.requireNonNull(resources, "resources");
        this.chatTemplate = chatTemplate;
    }

    /** The model's own chat template (GGUF {@code tokenizer.chat_template}, or {@code tokenizer_config.json}'s), if it has one. */
    public java.util.Optional<String> chatTemplate() {
        return java.util.Optional.ofNullable(chatTemplate);
    }

    /** Loads a {@code .gguf} file or a Hugging Face model folder with default options. */
    public static Model load(Path path) {
        return ModelLoader.load(Objects.requireNonNull(path, "path"), LoadOptions.defaults());
    }

    /** Loads a {@code .gguf} file or a Hugging Face model folder. */
    public static Model load(Path path, LoadOptions options) {
        return ModelLoader.load(Objects.requireNonNull(path, "path"), Objects.requireNonNull(options, "options"));
    }

    /** A human-readable name (file or folder name, or the synthetic shape). */
    public String name() {
        return name;
    }

    /** Where the model was loaded from; {@code null} for models built in memory. */
    public Path source() {
        return source;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** How the shared 4-bit weight set was quantized. */
    public QuantScheme quantScheme() {
        return quantScheme;
    }

    /** Whether the unquantized weights were kept, so the FP32 baseline can run. */
    public boolean hasDenseWeights() {
        return weights.output().dense().isPresent();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;  // idempotent, as AutoCloseable suggests
        }
        closed = true;
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model " + name + " failed", e);
        }
    }

    @Override
    public String toString() {
        return "Model[" + name + ", " + config.architecture() + ", dim " + config.dim() + ", " + config.layers()
                + " layers, vocab " + config.vocabSize() + ", int4 " + quantScheme + "]";
    }
}
