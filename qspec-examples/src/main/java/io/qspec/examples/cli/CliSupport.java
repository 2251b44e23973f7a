package io.qspec.examples.cli;

import io.qspec.quant.QuantScheme;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** What every command shares: logging set-up and the meaning of {@code --group-size}. */
public final class CliSupport {
    private CliSupport() {
    }

    /** Shows the SDK's log lines (which backend, and why) on stderr only when asked. */
    public static void configureLogging(boolean verbose) {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        System.setProperty("java.util.logging.SimpleFormatter.format", "[%4$s] %5$s%n");
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new SimpleFormatter());
        handler.setLevel(Level.ALL);
        root.addHandler(handler);
        root.setLevel(verbose ? Level.INFO : Level.WARNING);
    }

    /** {@code --group-size}: 32, 64 or 128, or 0 for one scale per output channel. */
    public static QuantScheme quantScheme(int groupSize) {
        if (groupSize < 0) {  // QuantScheme's own marker for per-channel is not an option value
            throw new IllegalArgumentException("--group-size must be 32, 64 or 128, or 0 for per-channel; got " + groupSize);
        }
        return groupSize == 0 ? QuantScheme.perChannel() : QuantScheme.grouped(groupSize);
    }
}
