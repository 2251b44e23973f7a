package io.qspec;

/**
 * Base of every exception the SDK throws on purpose. Unchecked, so that the common path stays
 * readable; each subclass says what was wrong, where, and what to do about it.
 */
public class QSpecException extends RuntimeException {
    public QSpecException(String message) {
        super(message);
    }

    public QSpecException(String message, Throwable cause) {
        super(message, cause);
    }
}
