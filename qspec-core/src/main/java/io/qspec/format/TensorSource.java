package io.qspec.format;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors and metadata of one model file or folder, as stored: what a format reader
 * (GGUF, safetensors) hands to the architecture registry. Closing it unmaps the files; tensors
 * obtained from it must not be used afterwards.
 */
public interface TensorSource extends AutoCloseable {

    /** The file or folder this came from, for messages. */
    Path location();

    /** Names of all tensors. */
    Set<String> tensorNames();

    /** The tensor called {@code name}, if present. */
    Optional<RawTensor> find(String name);

    /** The tensor called {@code name}; a {@link ModelFormatException} naming the file when absent. */
    default RawTensor require(String name) {
        return find(name).orElseThrow(() -> new ModelFormatException(location(),
                "required tensor '" + name + "' is missing (the file holds " + tensorNames().size() + " tensors)"));
    }

    /** Model metadata in a format-neutral view (GGUF key/values or Hugging Face config.json). */
    ModelMetadata metadata();

    @Override
    void close();
}
