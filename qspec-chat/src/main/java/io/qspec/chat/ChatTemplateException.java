package io.qspec.chat;

import io.qspec.QSpecException;

/** A chat template could not be parsed or rendered (a bug in the template, or a feature it needs that is not supported). */
public class ChatTemplateException extends QSpecException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
