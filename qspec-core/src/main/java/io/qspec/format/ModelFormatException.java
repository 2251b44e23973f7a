package io.qspec.format;

import io.qspec.QSpecException;
import java.nio.file.Path;

/**
 * A model file (or folder) is corrupt, truncated, or not what it claims to be. The message names
 * the file, where in it the problem was found, and what was expected.
 */
public class ModelFormatException extends QSpecException {
    private final Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that was being read. */
    public Path file() {
        return file;
    }
}
