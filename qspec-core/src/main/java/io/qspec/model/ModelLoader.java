package io.qspec.model;

import java.nio.file.Path;

/** Entry point that turns a model file or folder into a {@link Model}. */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static Model load(Path path, LoadOptions options) {
        throw new UnsupportedOperationException("not yet wired");
    }
}
