package io.qspec;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real test models in {@code ../shared/models} (system property {@code qspec.models.dir},
 * set by the build). Tests that need them are skipped, with a message saying where we looked,
 * when they are absent — never silently passed.
 */
public final class TestModels {
    private TestModels() {
    }

    public static Path modelsDir() {
        String dir = System.getProperty("qspec.models.dir", "../shared/models");
        return Path.of(dir).toAbsolutePath().normalize();
    }

    /** stories260K.gguf (GGUF v3, F32, SentencePiece tokenizer, dim 64). */
    public static Path stories260K() {
        return require(modelsDir().resolve("stories260K/stories260K.gguf"));
    }

    /** TinyStories-656K Hugging Face folder (safetensors F32, tokenizer.json, tied embeddings). */
    public static Path tinyStories656K() {
        return require(modelsDir().resolve("TinyStories-656K"));
    }

    private static Path require(Path p) {
        assumeTrue(Files.exists(p), () -> "test model not found at " + p + " (set -Dqspec.models.dir)");
        return p;
    }
}
