package io.qspec.chat;

/**
 * The template itself refused the conversation by calling {@code raise_exception(message)} — for
 * example Llama 2's "Conversation roles must alternate user/assistant/user/assistant/...". The
 * message is the template's own; the conversation, not the template, needs fixing.
 */
public final class ChatTemplateRaisedException extends ChatTemplateException {
    private final String templateMessage;

    public ChatTemplateRaisedException(String templateMessage) {
        super("chat template rejected the conversation: " + templateMessage);
        this.templateMessage = templateMessage;
    }

    /** Exactly what the template passed to {@code raise_exception}. */
    public String templateMessage() {
        return templateMessage;
    }
}
