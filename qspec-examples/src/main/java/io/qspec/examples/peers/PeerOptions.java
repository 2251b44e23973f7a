package io.qspec.examples.peers;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The options every {@code qspec peer-*} command takes, and the report header lines they share. */
final class PeerOptions {

    @Option(names = "--out", required = true, description = "Folder for peer.txt, peer.csv and peer.json.")
    Path out;

    @Option(names = "--shape", defaultValue = "small", description = "small (dim 1024, 8 layers, ~90M params), llama-3.2-1b or tiny (default ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--tokens", defaultValue = "64", description = "Tokens generated per run (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--runs", defaultValue = "3", description = "Timed runs per configuration after one warm-up; the median is reported (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--gamma", defaultValue = "3", description = "QSpec draft length (default ${DEFAULT-VALUE}).")
    int gamma;

    @Option(names = "--verbose", description = "Log backend selection; full stack traces on errors.")
    boolean verbose;

    PeerShape peerShape() {
        return PeerShape.fromCliName(shape);
    }

    /**
     * The report header: the command as typed, the shape, {@code weights}, the peer ({@code peerKey}: {@code peerValue}),
     * threads, processors, Java, the decoding rule and the date.
     */
    static Map<String, Object> header(CommandSpec spec, PeerShape s, String weights, String peerKey, String peerValue, int threads) {
        Map<String, Object> h = new LinkedHashMap<>();
        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        if (args.isEmpty() || !args.getFirst().equals(spec.name())) {
            args.addFirst(spec.name()); // run directly rather than through QSpecCli
        }
        h.put("command", "qspec " + String.join(" ", args));
        h.put("shape", String.format("%s: dim %d, hidden %d, layers %d, heads %d/%d kv, vocab %d, tied head %s, %,d params",
                s.name(), s.dim(), s.hiddenDim(), s.layers(), s.heads(), s.kvHeads(), s.vocabSize(), s.tiedEmbeddings(), s.parameters()));
        h.put("weights", weights);
        h.put("threads", threads);
        h.put("cpu_cores", Runtime.getRuntime().availableProcessors());
        h.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        h.put(peerKey, peerValue);
        h.put("decoding", "greedy, batch 1, EOS ignored, tokens/s = (tokens - 1) / decode time (prefill excluded)");
        h.put("date", Instant.now().toString());
        return h;
    }
}
