package io.qspec;

/** Why generation stopped. */
public enum FinishReason {
    /** The model produced its end-of-sequence token. */
    EOS,
    /** A token listed in the request's stop token ids was produced. */
    STOP_TOKEN,
    /** The request's token limit was reached. */
    MAX_TOKENS,
    /** The model's context length was reached. */
    CONTEXT_FULL,
    /** The caller cancelled the request. */
    CANCELLED;

    /** Lower-case name used in JSON output. */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
