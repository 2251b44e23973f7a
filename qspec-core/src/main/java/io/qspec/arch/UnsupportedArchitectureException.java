package io.qspec.arch;

import io.qspec.QSpecException;

/** The model file describes an architecture (or a variant of one) this SDK cannot run. */
public class UnsupportedArchitectureException extends QSpecException {
    public UnsupportedArchitectureException(String message) {
        super(message);
    }
}
