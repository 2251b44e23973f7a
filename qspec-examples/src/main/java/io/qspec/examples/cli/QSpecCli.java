package io.qspec.examples.cli;

import io.qspec.QSpecException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qspec} command line: {@code generate}, {@code bench}, {@code eval}, {@code peer-jlama}, {@code peer-llamacpp}. */
@Command(name = "qspec", mixinStandardHelpOptions = true, version = "qspec 0.1.0",
        description = "Quantized speculative decoding (QSpec) on the JVM.",
        subcommands = {GenerateCommand.class, ChatCommand.class, io.qspec.examples.bench.BenchCommand.class,
                io.qspec.examples.eval.EvalCommand.class, io.qspec.examples.peers.PeerJlamaCommand.class,
                io.qspec.examples.peers.PeerLlamaCppCommand.class})
public final class QSpecCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new QSpecCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean verbose = parsed.hasMatchedOption("--verbose");
            if (verbose) {
                e.printStackTrace(cmd.getErr());
            } else {
                cmd.getErr().println("qspec: " + oneLine(e));
            }
            return e instanceof QSpecException || e instanceof IllegalArgumentException ? 2 : 1;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("qspec: " + e.getMessage());
            CommandLine failed = e.getCommandLine();
            String command = failed.getParent() == null ? "qspec" : "qspec " + failed.getCommandName();
            failed.getErr().println("Try '" + command + " --help'.");
            return 2;
        });
        return cli.execute(args);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return m.replace('\n', ' ');
    }

}
