package io.qspec;

/**
 * Receives a request's output as it is produced. Text arrives in pieces that are always whole
 * UTF-8 characters (a character split across tokens is held back until complete). Callbacks run on
 * the engine's scheduler thread: keep them short.
 */
public interface StreamHandler {

    /** New text, in order; never splits a character. */
    default void onText(String text) {
    }

    /** The request finished (including by cancellation); {@code result} holds everything. */
    default void onComplete(GenerationResult result) {
    }

    /** The request failed; no further callbacks follow. */
    default void onError(Throwable error) {
    }

    /** A handler that ignores everything. */
    StreamHandler NONE = new StreamHandler() {
    };
}
