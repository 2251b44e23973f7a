package io.qspec.examples.bench;

import io.qspec.DecodingMode;
import io.qspec.GenerationRequest;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.engine.SpeculationGate;
import io.qspec.examples.cli.CliSupport;
import io.qspec.examples.cli.SamplingOptions;
import io.qspec.examples.prompts.PromptSets;
import io.qspec.model.LoadOptions;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ModelShape;
import io.qspec.synthetic.SyntheticModels;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.accept.StrictGreedyAcceptance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qspec bench}: throughput of every mode at several batch sizes, with acceptance and latency split. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure tokens/s of fp32/w4a16/w4a8/w4a4/qspec at several batch sizes; writes table, CSV, JSON, PNG.")
public final class BenchCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--model", description = "A .gguf file or Hugging Face folder.")
        Path model;

        @Option(names = "--synthetic", description = "Random weights of a real shape: llama-3-8b, llama-3.2-1b, llama-2-7b, tiny.")
        String synthetic;

        @Option(names = "--charts-from", description = "Only re-render the PNG charts of an earlier run's DIR/bench.json into --out.")
        Path chartsFrom;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--batch", split = ",", defaultValue = "1,4,8,16,32", description = "Batch sizes (default ${DEFAULT-VALUE}).")
    int[] batches;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Tokens per request (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--repeats", defaultValue = "1", description = "Measure every mode at every batch size N times,"
            + " round-robin (all of them once, then again), and report the median run with the runs' spread: for"
            + " differences near the run-to-run spread (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--fixed-length", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Ignore EOS so every request generates --max-tokens (default ${DEFAULT-VALUE}).")
    boolean fixedLength;

    @Option(names = "--modes", split = ",", description = "Modes (default: fp32 if available, w4a16, w4a8, w4a4, qspec-a8, qspec-a4).")
    List<String> modes;

    @Option(names = "--gamma", defaultValue = "3", description = "Draft length for qspec modes (default ${DEFAULT-VALUE}).")
    int gamma;

    @Option(names = "--gamma-sweep", description = "Also run qspec modes for γ = 1..6 at the first batch size (the paper's Figure 5).")
    boolean gammaSweep;

    @Option(names = "--alpha", description = "Synthetic acceptance rate for --synthetic runs (required there: random weights make real acceptance meaningless).")
    Double alpha;

    @Option(names = "--rejection-sampling", description = "QSpec modes decide with lossless rejection sampling"
            + " (RejectionSamplingAcceptance, real acceptance) instead of synthetic acceptance; on --synthetic random"
            + " weights this measures the sampling path, not a trained model's acceptance. Use with --temperature.")
    boolean rejectionSampling;

    @Option(names = "--requests", defaultValue = "0", description = "Requests per measurement (default: 2 x batch, at least 4).")
    int requests;

    @Option(names = "--prompts", description = "Prompt file (one per line, or JSONL with a \"prompt\" field).")
    Path prompts;

    @Option(names = "--prompt-tokens",
            description = "Prompt length of --synthetic runs in tokens, BOS included (default 16); long prompts measure decode over a long context.")
    Integer promptTokens;

    @Option(names = "--group-size", defaultValue = "128", description = "INT4 group size (32/64/128, 0 = per-channel).")
    int groupSize;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu or cuda.")
    String backend;

    @Option(names = "--out", required = true, description = "Folder for bench.csv, bench.json, bench.txt and PNG charts.")
    Path out;

    @Option(names = "--speculation-batch-limit", description = "Most QSpec requests drafted at once; above it they take"
            + " plain W4A16 steps (default: no limit).")
    Integer speculationBatchLimit;

    @Option(names = "--measured-speculation", description = "QSpec requests speculate only while that has measured faster"
            + " than plain W4A16 steps at the batch size in flight (SpeculationGate.measured(); same tokens either way).")
    boolean measuredSpeculation;

    @Option(names = "--bandwidth-gbps", description = "Memory read bandwidth for the roofline column, GB/s. Default: measured"
            + " here on the CPU; on a GPU pass the device's (e.g. the D2D copy rate native/test/qspec_bench prints).")
    Double bandwidthGbps;

    @Option(names = "--verbose", description = "Log backend selection; full stack traces on errors.")
    boolean verbose;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        CliSupport.configureLogging(verbose);
        if (source.chartsFrom != null) {
            Map.Entry<String, List<BenchResult>> earlier = BenchReport.read(source.chartsFrom.resolve("bench.json"));
            Files.createDirectories(out);
            BenchCharts.write(out, earlier.getKey(), earlier.getValue());
            System.out.println("wrote " + out.toAbsolutePath() + "/*.png from " + source.chartsFrom.resolve("bench.json"));
            return 0;
        }
        QuantScheme scheme = CliSupport.quantScheme(groupSize);
        boolean synthetic = source.synthetic != null;
        if (synthetic && alpha == null && !rejectionSampling) {
            throw new IllegalArgumentException("--synthetic needs --alpha A (synthetic acceptance rate): on random weights"
                    + " real acceptance is meaningless, so QSpec runs accept each draft with probability A (or pass"
                    + " --rejection-sampling to measure real rejection sampling)");
        }
        List<String> modeNames = modes != null ? modes : defaultModes(synthetic);
        AcceptancePolicy policy = rejectionSampling ? RejectionSamplingAcceptance.INSTANCE
                : synthetic ? new SyntheticAcceptance(alpha) : StrictGreedyAcceptance.INSTANCE;
        for (String name : modeNames) {  // mode names and --gamma are checked before the model loads
            BenchCase.parse(name, gamma, policy);
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats must be at least 1, got " + repeats);
        }
        boolean wantsDense = modeNames.stream().anyMatch(m -> m.equals("fp32") || m.equals("w16a16"));
        try (Model model = synthetic
                ? SyntheticModels.build(ModelShape.fromCliName(source.synthetic), scheme, 1234)
                : Model.load(source.model, LoadOptions.defaults().withQuantScheme(scheme).withDenseWeights(wantsDense));
             QSpecEngine engine = engineFor(model)) {
            List<int[]> promptIds = promptIds(model, synthetic);
            String acceptance = rejectionSampling ? "rejection sampling (real, lossless)"
                    : synthetic ? "synthetic acceptance α=" + alpha : "strict greedy (real)";
            String title = model.name() + " on " + engine.backendName()
                    + (synthetic || rejectionSampling ? " — " + acceptance : "");
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("model", model.name());
            header.put("backend", engine.backendName());
            header.put("cpu_cores", Runtime.getRuntime().availableProcessors());
            header.put("quantization", "int4 " + scheme);
            header.put("max_tokens", maxTokens);
            header.put("fixed_length", fixedLength);
            header.put("sampling", sampling.describe());
            header.put("acceptance", acceptance);
            header.put("date", Instant.now().toString());

            boolean hostMemory = engine.backendName().equals("cpu");
            double bandwidth = bandwidthGbps != null ? bandwidthGbps
                    : hostMemory ? MemoryBandwidth.measureReadGBps(1L << 30) : Double.NaN;
            header.put("memory_read_gb_s", Double.isNaN(bandwidth) ? "not given (pass --bandwidth-gbps)"
                    : Math.round(bandwidth * 10) / 10.0);
            header.put("int4_weight_bytes_per_pass", model.weights().int4Bytes());
            warmUp(engine, promptIds);
            header.put("repeats", repeats);
            // round-robin, so that a drift of the machine's speed (clocks, other tenants) reaches every mode alike
            List<BenchCase> cases = modeNames.stream().map(name -> BenchCase.parse(name, gamma, policy)).toList();
            Map<String, List<BenchResult>> runs = new LinkedHashMap<>();
            for (int repeat = 0; repeat < repeats; repeat++) {
                for (BenchCase bench : cases) {
                    for (int batch : batches) {
                        runs.computeIfAbsent(bench.name() + "@" + batch, k -> new ArrayList<>())
                                .add(measure(engine, bench, batch, promptIds));
                    }
                }
            }
            List<BenchResult> results = new ArrayList<>(runs.values().stream().map(BenchResult::median).toList());
            if (gammaSweep) {
                for (String name : modeNames) {
                    for (int g = 1; g <= 6; g++) {
                        BenchCase bench = BenchCase.parse(name, g, policy);
                        if (bench.speculative() && g != gamma) {
                            results.add(measure(engine, bench, batches[0], promptIds));
                        }
                    }
                }
            }
            BenchReport report = new BenchReport(header, results, model.weights().int4Bytes(), bandwidth);
            System.out.print(report.table());
            report.write(out);
            try {
                BenchCharts.write(out, title, results);
                System.out.println("wrote " + out.toAbsolutePath() + "/{bench.txt,bench.csv,bench.json,*.png}");
            } catch (RuntimeException | Error e) {
                // a headless machine without fonts cannot draw text; the numbers are already saved
                System.out.println("wrote " + out.toAbsolutePath() + "/{bench.txt,bench.csv,bench.json}; charts not drawn ("
                        + e.getMessage() + "): render them elsewhere with ./qspec bench --charts-from " + out + " --out DIR");
            }
        }
        return 0;
    }

    private QSpecEngine engineFor(Model model) {
        QSpecEngine.Builder builder = QSpecEngine.builder(model).backend(backend);
        if (speculationBatchLimit != null && measuredSpeculation) {
            throw new IllegalArgumentException("--speculation-batch-limit and --measured-speculation exclude each other");
        }
        if (speculationBatchLimit != null) {
            builder.speculationBatchLimit(speculationBatchLimit);
        }
        if (measuredSpeculation) {
            builder.speculationGate(SpeculationGate.measured());
        }
        return builder.build();
    }

    private BenchResult measure(QSpecEngine engine, BenchCase bench, int batch, List<int[]> promptIds) throws InterruptedException {
        int n = requests > 0 ? requests : Math.max(4, 2 * batch);
        BenchResult r = ThroughputBenchmark.run(engine, bench, batch, promptIds, n, maxTokens, fixedLength,
                sampling.builder().build());
        System.err.printf("  %-9s γ=%d batch %-3d %8.2f tokens/s%n", r.mode(), r.gamma(), r.batch(), r.tokensPerSecond());
        return r;
    }

    private static List<String> defaultModes(boolean synthetic) {
        List<String> m = new ArrayList<>(List.of("w4a16", "w4a8", "w4a4", "qspec-a8", "qspec-a4"));
        if (!synthetic) {
            m.addFirst("fp32");
        }
        return m;
    }

    private List<int[]> promptIds(Model model, boolean synthetic) {
        if (promptTokens != null && (prompts != null || !synthetic)) {
            throw new IllegalArgumentException("--prompt-tokens sets the length of the random prompts of a --synthetic run;"
                    + " to bench given prompts, pass them with --prompts FILE instead");
        }
        if (prompts != null) {
            return PromptSets.encode(PromptSets.read(prompts), model.tokenizer());
        }
        if (!synthetic) {
            return PromptSets.encode(PromptSets.BUILT_IN, model.tokenizer());
        }
        int length = promptTokens != null ? promptTokens : 16;
        if (length < 1 || length + maxTokens > model.config().contextLength()) {
            throw new IllegalArgumentException("--prompt-tokens " + length + " plus --max-tokens " + maxTokens
                    + " must be between 1 and the model's context of " + model.config().contextLength() + " tokens");
        }
        SplittableRandom random = new SplittableRandom(99);
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            int[] p = new int[length];
            p[0] = model.tokenizer().bosId().orElse(0);
            for (int j = 1; j < p.length; j++) {
                p[j] = 32 + random.nextInt(90);
            }
            ids.add(p);
        }
        return ids;
    }

    /** Runs every precision once so that JIT compilation is not measured. */
    private void warmUp(QSpecEngine engine, List<int[]> promptIds) {
        for (Precision p : Arrays.asList(Precision.W4A16, Precision.W4A8, Precision.W4A4)) {
            engine.generate(GenerationRequest.builder(promptIds.getFirst()).maxTokens(4).ignoreEos(true)
                    .mode(DecodingMode.plain(p)).build());
        }
    }
}
