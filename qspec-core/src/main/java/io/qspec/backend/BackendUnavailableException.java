package io.qspec.backend;

import io.qspec.QSpecException;

/** A backend was asked for but cannot run here (no GPU, no CUDA library, unsupported device...). */
public class BackendUnavailableException extends QSpecException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
