package io.qspec.chat;

import java.time.Clock;
import java.time.ZonedDateTime;

/**
 * The global functions Hugging Face gives chat templates, as the template engine calls them:
 * {@code raise_exception(message)} and {@code strftime_now(format)}. Public only because the
 * engine invokes them reflectively; applications call {@link ChatTemplate#render} instead.
 */
public final class TemplateFunctions {
    /** What the render running on this thread needs: its clock, and the message of a raise_exception. */
    private static final ThreadLocal<RenderState> CURRENT = new ThreadLocal<>();

    private TemplateFunctions() {
    }

    /** {@code raise_exception(message)}: aborts the render with a {@link ChatTemplateRaisedException}. */
    public static String raiseException(String message) {
        RenderState state = CURRENT.get();
        if (state != null && state.raisedMessage == null) {
            state.raisedMessage = message;
        }
        // the engine may swallow this into its error list; ChatTemplate rethrows from the recorded state
        throw new ChatTemplateRaisedException(message);
    }

    /** {@code strftime_now(format)}: the render's current time in Python strftime format. */
    public static String strftimeNow(String format) {
        RenderState state = CURRENT.get();
        Clock clock = state != null ? state.clock : Clock.systemDefaultZone();
        return PythonStrftime.format(format, ZonedDateTime.now(clock));
    }

    static RenderState begin(Clock clock) {
        RenderState state = new RenderState(clock);
        CURRENT.set(state);
        return state;
    }

    static void end() {
        CURRENT.remove();
    }

    /** Per-render state shared between {@link ChatTemplate} and the functions it exposes. */
    static final class RenderState {
        final Clock clock;
        String raisedMessage;

        private RenderState(Clock clock) {
            this.clock = clock;
        }
    }
}
