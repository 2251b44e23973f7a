package io.qspec.examples.peers;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a peer comparison as a table (stdout and {@code peer.txt}), {@code peer.csv} and {@code peer.json}. */
final class PeerReport {
    private final Map<String, Object> header;
    private final List<PeerResult> results;

    PeerReport(Map<String, Object> header, List<PeerResult> results) {
        this.header = header;
        this.results = List.copyOf(results);
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        header.forEach((k, v) -> sb.append("# ").append(k).append(": ").append(v).append('\n'));
        sb.append(String.format(Locale.ROOT, "%-9s %-40s %6s %6s %10s %10s %10s %11s %7s%n",
                "engine", "configuration", "prompt", "tokens", "tok/s med", "tok/s min", "tok/s max", "accept(*)", "load s"));
        for (PeerResult r : results) {
            sb.append(String.format(Locale.ROOT, "%-9s %-40s %6d %6d %10.2f %10.2f %10.2f %11s %7.1f%n",
                    r.engine(), r.configuration(), r.promptTokens(), r.generatedTokens(), r.medianTokensPerSecond(),
                    r.minTokensPerSecond(), r.maxTokensPerSecond(),
                    Double.isNaN(r.acceptance()) ? "-" : String.format(Locale.ROOT, "%.3f", r.acceptance()), r.loadSeconds()));
        }
        sb.append("(*) measured draft acceptance on RANDOM weights: not a statement about draft quality.\n");
        return sb.toString();
    }

    void write(Path dir) {
        try {
            Files.createDirectories(dir);
            StringBuilder csv = new StringBuilder("engine,configuration,prompt_tokens,generated_tokens,tokens_per_second_median,"
                    + "tokens_per_second_min,tokens_per_second_max,runs,acceptance_random_weights,load_seconds\n");
            for (PeerResult r : results) {
                csv.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%.4f,%.4f,%.4f,%d,%s,%.3f%n",
                        r.engine(), r.configuration(), r.promptTokens(), r.generatedTokens(), r.medianTokensPerSecond(),
                        r.minTokensPerSecond(), r.maxTokensPerSecond(), r.runTokensPerSecond().length,
                        Double.isNaN(r.acceptance()) ? "" : String.format(Locale.ROOT, "%.5f", r.acceptance()), r.loadSeconds()));
            }
            Files.writeString(dir.resolve("peer.csv"), csv);
            Map<String, Object> json = new LinkedHashMap<>(header);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (PeerResult r : results) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("engine", r.engine());
                m.put("configuration", r.configuration());
                m.put("prompt_tokens", r.promptTokens());
                m.put("generated_tokens", r.generatedTokens());
                m.put("tokens_per_second_median", r.medianTokensPerSecond());
                m.put("tokens_per_second_runs", r.runTokensPerSecond());
                m.put("acceptance_random_weights", Double.isNaN(r.acceptance()) ? null : r.acceptance());
                m.put("load_seconds", r.loadSeconds());
                rows.add(m);
            }
            json.put("results", rows);
            Files.writeString(dir.resolve("peer.json"),
                    new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(json));
            Files.writeString(dir.resolve("peer.txt"), table());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write peer results to " + dir, e);
        }
    }
}
