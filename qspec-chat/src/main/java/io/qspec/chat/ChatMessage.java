package io.qspec.chat;

import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation, as chat templates see it ({@code message['role']},
 * {@code message['content']}).
 *
 * @param role    who speaks: usually {@code system}, {@code user} or {@code assistant}
 * @param content what was said
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("role must not be blank");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** The dictionary form templates index into. */
    Map<String, Object> asTemplateValue() {
        return Map.of("role", role, "content", content);
    }
}
