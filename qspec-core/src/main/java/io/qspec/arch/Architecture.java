package io.qspec.arch;

import io.qspec.format.TensorSource;
import io.qspec.model.ModelConfig;

/** How to read one architecture from one family of files: its hyper-parameters and tensor names. */
public interface Architecture {

    /** Name for messages, e.g. {@code llama (GGUF)}. */
    String displayName();

    /** Whether this entry understands {@code source}'s metadata. */
    boolean matches(TensorSource source);

    /** The hyper-parameters, read from the metadata (and tensor shapes where metadata is silent). */
    ModelConfig config(TensorSource source);

    /** Tensor naming of this format. */
    TensorNames tensorNames();
}
