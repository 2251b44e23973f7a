package io.qspec.examples.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Writes bench results as a table (stdout), CSV and JSON, with speed-up against W4A16. */
final class BenchReport {
    private final Map<String, Object> header;
    private final List<BenchResult> results;
    private final long weightBytes;
    private final double bandwidthGBps;

    /**
     * @param weightBytes   INT4 weight bytes one forward pass reads
     * @param bandwidthGBps measured memory read bandwidth (the roofline of a memory-bound pass)
     */
    BenchReport(Map<String, Object> header, List<BenchResult> results, long weightBytes, double bandwidthGBps) {
        this.header = header;
        this.results = results;
        this.weightBytes = weightBytes;
        this.bandwidthGBps = bandwidthGBps;
    }

    /**
     * Weight bytes streamed per second by a plain mode (one pass serves {@code batch} tokens), as a
     * fraction of the measured bandwidth; empty for QSpec, whose passes differ in size.
     */
    Optional<Double> rooflineRatio(BenchResult r) {
        if (r.gamma() != 0 || r.mode().equals("fp32") || r.mode().equals("w16a16") || !(bandwidthGBps > 0)) {
            return Optional.empty();
        }
        double passesPerSecond = r.tokensPerSecond() / r.batch();
        return Optional.of(passesPerSecond * weightBytes / 1e9 / bandwidthGBps);
    }

    /** W4A16 throughput at the same batch size, the baseline speed-ups are measured against. */
    Optional<Double> baseline(int batch) {
        return results.stream().filter(r -> r.mode().equals("w4a16") && r.batch() == batch && r.gamma() == 0)
                .map(BenchResult::tokensPerSecond).findFirst();
    }

    /** W4A16's decode rate of a full batch at the same batch size ({@link BenchResult#decodeTokensPerSecond}). */
    Optional<Double> decodeBaseline(int batch) {
        return results.stream().filter(r -> r.mode().equals("w4a16") && r.batch() == batch && r.gamma() == 0)
                .map(BenchResult::decodeTokensPerSecond).filter(x -> x > 0).findFirst();
    }

    private Optional<Double> decodeSpeedup(BenchResult r) {
        return r.decodeTokensPerSecond() > 0 ? decodeBaseline(r.batch()).map(b -> r.decodeTokensPerSecond() / b) : Optional.empty();
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        header.forEach((k, v) -> sb.append("# ").append(k).append(": ").append(v).append('\n'));
        sb.append(String.format(Locale.ROOT, "%-10s %5s %5s %9s %11s %8s %9s %9s %10s %10s %9s %12s %12s %8s%n",
                "mode", "gamma", "batch", "tokens", "tokens/s", "vs w4a16", "accept", "tok/round", "draft ms/t", "verify ms/t",
                "roofline", "runs, spread", "decode tok/s", "vs w4a16"));
        for (BenchResult r : results) {
            String speedup = baseline(r.batch()).map(b -> String.format(Locale.ROOT, "%.2fx", r.tokensPerSecond() / b)).orElse("-");
            sb.append(String.format(Locale.ROOT, "%-10s %5s %5d %9d %11.2f %8s %9s %9s %10s %10s %9s %12s %12s %8s%n",
                    r.mode(), r.gamma() == 0 ? "-" : Integer.toString(r.gamma()), r.batch(), r.generatedTokens(),
                    r.tokensPerSecond(), speedup,
                    r.gamma() == 0 ? "-" : String.format(Locale.ROOT, "%.3f", r.acceptanceRate()),
                    r.gamma() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.meanAcceptedLength()),
                    r.gamma() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.draftMsPerToken()),
                    r.gamma() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.verifyMsPerToken()),
                    rooflineRatio(r).map(x -> String.format(Locale.ROOT, "%.0f%%", 100 * x)).orElse("-"),
                    r.runs() == 1 ? "-" : String.format(Locale.ROOT, "%d, %.1f%%", r.runs(), 100 * r.spread()),
                    r.decodeTokensPerSecond() > 0 ? String.format(Locale.ROOT, "%.2f", r.decodeTokensPerSecond()) : "-",
                    decodeSpeedup(r).map(x -> String.format(Locale.ROOT, "%.2fx", x)).orElse("-")));
        }
        sb.append("# decode tok/s: batch / a request's decode time per token, the rate of a full batch (the prompts' prefill,"
                + " the queue and the last requests' drain left out)\n");
        return sb.toString();
    }

    void write(Path dir) {
        try {
            Files.createDirectories(dir);
            StringBuilder csv = new StringBuilder("mode,gamma,batch,requests,generated_tokens,seconds,tokens_per_second,"
                    + "speedup_vs_w4a16,acceptance_rate,mean_tokens_per_round,draft_ms_per_token,verify_ms_per_token,"
                    + "decode_ms_per_token,acceptance_by_position,runs,min_tokens_per_second,max_tokens_per_second,"
                    + "decode_tokens_per_second,decode_speedup_vs_w4a16\n");
            for (BenchResult r : results) {
                csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%.4f,%.4f,%s,%.5f,%.4f,%.4f,%.4f,%.4f,%s,%d,%.4f,%.4f,%.4f,%s%n",
                        r.mode(), r.gamma(), r.batch(), r.requests(), r.generatedTokens(), r.seconds(), r.tokensPerSecond(),
                        baseline(r.batch()).map(b -> String.format(Locale.ROOT, "%.4f", r.tokensPerSecond() / b)).orElse(""),
                        r.acceptanceRate(), r.meanAcceptedLength(), r.draftMsPerToken(), r.verifyMsPerToken(),
                        r.msPerToken(), joined(r.acceptanceByPosition()), r.runs(), r.minTokensPerSecond(),
                        r.maxTokensPerSecond(), r.decodeTokensPerSecond(),
                        decodeSpeedup(r).map(x -> String.format(Locale.ROOT, "%.4f", x)).orElse("")));
            }
            Files.writeString(dir.resolve("bench.csv"), csv);
            Map<String, Object> json = new LinkedHashMap<>(header);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (BenchResult r : results) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("mode", r.mode());
                m.put("gamma", r.gamma());
                m.put("batch", r.batch());
                m.put("requests", r.requests());
                m.put("generated_tokens", r.generatedTokens());
                m.put("seconds", r.seconds());
                m.put("tokens_per_second", r.tokensPerSecond());
                m.put("speedup_vs_w4a16", baseline(r.batch()).map(b -> r.tokensPerSecond() / b).orElse(null));
                m.put("acceptance_rate", r.acceptanceRate());
                m.put("mean_tokens_per_round", r.meanAcceptedLength());
                m.put("acceptance_by_position", r.acceptanceByPosition());
                m.put("draft_ms_per_token", r.draftMsPerToken());
                m.put("verify_ms_per_token", r.verifyMsPerToken());
                m.put("decode_ms_per_token", r.msPerToken());
                m.put("weight_bandwidth_fraction_of_measured", rooflineRatio(r).orElse(null));
                m.put("runs", r.runs());
                m.put("min_tokens_per_second", r.minTokensPerSecond());
                m.put("max_tokens_per_second", r.maxTokensPerSecond());
                m.put("decode_tokens_per_second", r.decodeTokensPerSecond());
                m.put("decode_speedup_vs_w4a16", decodeSpeedup(r).orElse(null));
                rows.add(m);
            }
            json.put("results", rows);
            Files.writeString(dir.resolve("bench.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(json));
            Files.writeString(dir.resolve("bench.txt"), table());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write bench results to " + dir, e);
        }
    }

    private static String joined(double[] values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ";").append(String.format(Locale.ROOT, "%.4f", values[i]));
        }
        return sb.toString();
    }

    /** The results and title of a {@code bench.json} this class wrote (to re-render its charts elsewhere). */
    static Map.Entry<String, List<BenchResult>> read(Path json) {
        try {
            JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
            List<BenchResult> results = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("results")) {
                JsonObject r = e.getAsJsonObject();
                JsonArray byPosition = r.getAsJsonArray("acceptance_by_position");
                double[] positions = new double[byPosition.size()];
                for (int i = 0; i < positions.length; i++) {
                    positions[i] = byPosition.get(i).getAsDouble();
                }
                double tokensPerSecond = r.get("tokens_per_second").getAsDouble();
                // files of one run each, written before --repeats, have no runs / min / max
                results.add(new BenchResult(r.get("mode").getAsString(), r.get("gamma").getAsInt(), r.get("batch").getAsInt(),
                        r.get("requests").getAsInt(), r.get("generated_tokens").getAsLong(), r.get("seconds").getAsDouble(),
                        tokensPerSecond, r.get("acceptance_rate").getAsDouble(),
                        r.get("mean_tokens_per_round").getAsDouble(), positions, r.get("draft_ms_per_token").getAsDouble(),
                        r.get("verify_ms_per_token").getAsDouble(), r.get("decode_ms_per_token").getAsDouble(),
                        r.has("runs") ? r.get("runs").getAsInt() : 1,
                        r.has("min_tokens_per_second") ? r.get("min_tokens_per_second").getAsDouble() : tokensPerSecond,
                        r.has("max_tokens_per_second") ? r.get("max_tokens_per_second").getAsDouble() : tokensPerSecond));
            }
            String title = root.get("model").getAsString() + " on " + root.get("backend").getAsString()
                    + (root.get("acceptance").getAsString().startsWith("synthetic") ? " — " + root.get("acceptance").getAsString() : "");
            return Map.entry(title, results);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read bench results from " + json + ": " + e.getMessage(), e);
        }
    }
}
