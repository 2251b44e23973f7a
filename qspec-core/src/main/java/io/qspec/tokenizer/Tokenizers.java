package io.qspec.tokenizer;

import io.qspec.format.ModelFormatException;
import io.qspec.format.ModelMetadata;
import java.nio.file.Path;

/** Chooses the tokenizer implementation for a GGUF file by its {@code tokenizer.ggml.model}. */
public final class Tokenizers {
    private static final String MODEL_KEY = "tokenizer.ggml.model";

    private Tokenizers() {
    }

    /**
     * The tokenizer of a GGUF file: {@code "llama"} (SentencePiece BPE) → {@link SentencePieceTokenizer},
     * {@code "gpt2"} (byte-level BPE) → {@link BpeTokenizer#fromGguf}.
     *
     * @param forMessages the model file, named in error messages
     * @throws ModelFormatException when the file has no tokenizer or one of another kind
     */
    public static Tokenizer fromGguf(ModelMetadata metadata, Path forMessages) {
        Object model = metadata.get(MODEL_KEY).orElseThrow(() -> new ModelFormatException(forMessages,
                "metadata '" + MODEL_KEY + "' is missing; this file has no tokenizer"));
        return switch (String.valueOf(model)) {
            case "llama" -> SentencePieceTokenizer.fromGguf(metadata, forMessages);
            case "gpt2" -> BpeTokenizer.fromGguf(metadata, forMessages);
            default -> throw new ModelFormatException(forMessages, "metadata '" + MODEL_KEY + "' is '" + model
                    + "', a tokenizer kind QSpec does not support; supported: 'llama' (SentencePiece BPE),"
                    + " 'gpt2' (byte-level BPE)");
        };
    }
}
