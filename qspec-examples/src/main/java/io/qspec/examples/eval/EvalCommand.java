package io.qspec.examples.eval;

import com.google.gson.GsonBuilder;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.examples.cli.CliSupport;
import io.qspec.examples.cli.CommonOptions;
import io.qspec.examples.prompts.PromptSets;
import io.qspec.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qspec eval}: fidelity of QSpec against W4A16, acceptance by draft precision and γ, drift and perplexity. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Check that QSpec reproduces W4A16, measure acceptance, drift of W4A8/W4A4, perplexity; writes JSON, CSV, PNG.")
public final class EvalCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--prompts", description = "Prompt file (one per line, or JSONL); default: a built-in story set.")
    Path prompts;

    @Option(names = "--text", description = "Text file for perplexity and top-1 statistics; default: a built-in story.")
    Path text;

    @Option(names = "--max-tokens", defaultValue = "48", description = "Tokens per prompt (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--gammas", split = ",", defaultValue = "1,3,5", description = "γ values for acceptance (default ${DEFAULT-VALUE}).")
    int[] gammas;

    @Option(names = "--out", required = true, description = "Folder for eval.json, CSV files and PNG charts.")
    Path out;

    @Override
    public Integer call() throws IOException {
        CliSupport.configureLogging(common.verbose);
        List<String> promptList = prompts != null ? PromptSets.read(prompts) : PromptSets.BUILT_IN;
        String textBody = text != null ? Files.readString(text) : BuiltInText.STORY;
        try (Model m = common.load(true);
             QSpecEngine engine = QSpecEngine.builder(m).backend(common.backend).build()) {
            FidelityEvaluation.Report fidelity = FidelityEvaluation.run(engine, promptList, maxTokens, gammas);
            int[] textTokens = m.tokenizer().encode(textBody, true);
            Map<String, Double> perplexity = new LinkedHashMap<>();
            for (Precision p : Precision.values()) {
                if (p != Precision.FP32 || m.hasDenseWeights()) {
                    perplexity.put(p.name().toLowerCase(Locale.ROOT), TextEvaluation.perplexity(engine.runner(), textTokens, p));
                }
            }
            Map<String, List<TextEvaluation.Top1Pair>> top1 = new LinkedHashMap<>();
            top1.put("a8", TextEvaluation.top1Pairs(engine.runner(), textTokens, Precision.W4A8));
            top1.put("a4", TextEvaluation.top1Pairs(engine.runner(), textTokens, Precision.W4A4));

            System.out.print(summary(m, engine, fidelity, perplexity, top1, textTokens.length));
            write(m, engine, fidelity, perplexity, top1);
            System.out.println("wrote " + out.toAbsolutePath() + "/{eval.json,fidelity.csv,acceptance.csv,top1_joint_*.png}");
        }
        return 0;
    }

    private String summary(Model m, QSpecEngine engine, FidelityEvaluation.Report f, Map<String, Double> ppl,
                           Map<String, List<TextEvaluation.Top1Pair>> top1, int textTokens) {
        StringBuilder sb = new StringBuilder();
        long equal = f.prompts().stream().filter(p -> p.qspecA8Equal() && p.qspecA4Equal()).count();
        sb.append(String.format(Locale.ROOT, "model %s, backend %s, int4 %s, %d prompts x %d tokens, greedy%n",
                m.name(), engine.backendName(), m.quantScheme(), f.prompts().size(), maxTokens));
        sb.append(String.format(Locale.ROOT, "QSpec tokens equal W4A16 tokens: %d/%d prompts (%.1f%%) [A8 and A4 drafts, γ in %s]%n",
                equal, f.prompts().size(), 100.0 * f.qspecEqualShare(), java.util.Arrays.toString(gammas)));
        sb.append("acceptance (drafted tokens accepted by the W4A16 verify):\n");
        for (var a : f.acceptance()) {
            sb.append(String.format(Locale.ROOT, "  draft %s γ=%d: %.3f  (%d/%d, %.2f tokens per round)%n",
                    a.draft(), a.gamma(), a.rate(), a.accepted(), a.drafted(), a.meanTokensPerRound()));
        }
        for (String d : List.of("w4a8", "w4a4")) {
            List<Integer> div = f.prompts().stream()
                    .map(p -> d.equals("w4a8") ? p.firstDivergenceW4A8() : p.firstDivergenceW4A4()).toList();
            long same = div.stream().filter(x -> x < 0).count();
            double meanDiv = div.stream().filter(x -> x >= 0).mapToInt(Integer::intValue).average().orElse(Double.NaN);
            sb.append(String.format(Locale.ROOT, "plain %s vs w4a16: identical on %d/%d prompts; where it diverges, first at token %.1f on average%n",
                    d, same, div.size(), meanDiv));
        }
        sb.append(String.format(Locale.ROOT, "perplexity over %d text tokens:", textTokens));
        ppl.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s %.3f", k, v)));
        sb.append('\n');
        top1.forEach((d, pairs) -> sb.append(String.format(Locale.ROOT,
                "top-1 agreement draft %s vs w4a16 (W4A16 context, %d positions): %.3f%n",
                d, pairs.size(), pairs.stream().filter(TextEvaluation.Top1Pair::agree).count() / (double) pairs.size())));
        return sb.toString();
    }

    private void write(Model m, QSpecEngine engine, FidelityEvaluation.Report f, Map<String, Double> ppl,
                       Map<String, List<TextEvaluation.Top1Pair>> top1) throws IOException {
        Files.createDirectories(out);
        StringBuilder csv = new StringBuilder("prompt,tokens,qspec_a8_equal,qspec_a4_equal,first_divergence_w4a8,first_divergence_w4a4\n");
        for (var p : f.prompts()) {
            csv.append('"').append(p.prompt().replace("\"", "\"\"")).append("\",").append(p.tokens()).append(',')
                    .append(p.qspecA8Equal()).append(',').append(p.qspecA4Equal()).append(',')
                    .append(p.firstDivergenceW4A8()).append(',').append(p.firstDivergenceW4A4()).append('\n');
        }
        Files.writeString(out.resolve("fidelity.csv"), csv);
        StringBuilder acc = new StringBuilder("draft,gamma,drafted,accepted,acceptance_rate,mean_tokens_per_round\n");
        for (var a : f.acceptance()) {
            acc.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%.5f,%.4f%n", a.draft(), a.gamma(), a.drafted(), a.accepted(),
                    a.rate(), a.meanTokensPerRound()));
        }
        Files.writeString(out.resolve("acceptance.csv"), acc);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", m.name());
        json.put("backend", engine.backendName());
        json.put("quantization", "int4 " + m.quantScheme());
        json.put("max_tokens", maxTokens);
        json.put("qspec_equals_w4a16_percent", 100.0 * f.qspecEqualShare());
        json.put("prompts", f.prompts());
        List<Map<String, Object>> accRows = new ArrayList<>();
        for (var a : f.acceptance()) {
            accRows.add(Map.of("draft", a.draft(), "gamma", a.gamma(), "acceptance_rate", a.rate(),
                    "mean_tokens_per_round", a.meanTokensPerRound()));
        }
        json.put("acceptance", accRows);
        json.put("perplexity", ppl);
        Map<String, Double> agreement = new LinkedHashMap<>();
        top1.forEach((d, pairs) -> agreement.put(d, pairs.stream().filter(TextEvaluation.Top1Pair::agree).count() / (double) pairs.size()));
        json.put("top1_agreement", agreement);
        Files.writeString(out.resolve("eval.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(json));
        for (var e : top1.entrySet()) {
            jointHeatmap(e.getKey(), e.getValue(), m.name());
        }
    }

    /** The paper's Figure 2: how top-1 probabilities of draft and verify precision co-occur. */
    private void jointHeatmap(String draft, List<TextEvaluation.Top1Pair> pairs, String modelName) throws IOException {
        int bins = 10;
        int[][] counts = new int[bins][bins];
        for (var p : pairs) {
            int x = Math.min(bins - 1, (int) (p.verifyTop1() * bins));
            int y = Math.min(bins - 1, (int) (p.draftTop1() * bins));
            counts[x][y]++;
        }
        List<Number> axis = new ArrayList<>();
        for (int i = 0; i < bins; i++) {
            axis.add((i + 0.5) / bins);
        }
        List<Number[]> cells = new ArrayList<>();
        for (int x = 0; x < bins; x++) {
            for (int y = 0; y < bins; y++) {
                cells.add(new Number[] {x, y, counts[x][y]});
            }
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(700).height(600)
                .title("Top-1 probability, W4A" + draft.substring(1) + " draft vs W4A16 — " + modelName)
                .xAxisTitle("W4A16 top-1 probability").yAxisTitle("W4A" + draft.substring(1) + " top-1 probability").build();
        chart.getStyler().setShowValue(true);
        chart.addSeries("positions", axis, axis, cells);
        BitmapEncoder.saveBitmap(chart, out.resolve("top1_joint_" + draft + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
