package io.qspec;

/**
 * A request cannot be served as given (prompt too long for the context, empty prompt, unknown token id, text the
 * tokenizer cannot encode...).
 */
public class InvalidRequestException extends QSpecException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
