package io.qspec.examples.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** What every command shares: logging set-up. */
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
}
