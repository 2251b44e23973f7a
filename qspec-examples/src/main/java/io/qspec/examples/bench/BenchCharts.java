package io.qspec.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/** PNG charts of bench results (XChart): throughput vs batch, acceptance by position, latency split. */
final class BenchCharts {
    private BenchCharts() {
    }

    static void write(Path dir, String title, List<BenchResult> results) {
        try {
            throughput(dir, title, results);
            acceptance(dir, title, results);
            latencySplit(dir, title, results);
            gammaSweep(dir, title, results);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write charts to " + dir, e);
        }
    }

    private static void throughput(Path dir, String title, List<BenchResult> results) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(560).title("Throughput vs batch — " + title)
                .xAxisTitle("batch (requests in flight)").yAxisTitle("tokens/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        Map<String, List<BenchResult>> byMode = byMode(results, true);
        for (var e : byMode.entrySet()) {
            if (e.getValue().size() < 1) {
                continue;
            }
            chart.addSeries(e.getKey(), e.getValue().stream().mapToDouble(BenchResult::batch).toArray(),
                    e.getValue().stream().mapToDouble(BenchResult::tokensPerSecond).toArray());
        }
        BitmapEncoder.saveBitmap(chart, dir.resolve("throughput.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void acceptance(Path dir, String title, List<BenchResult> results) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(560).title("Acceptance by draft position — " + title)
                .xAxisTitle("draft position").yAxisTitle("acceptance rate").build();
        boolean any = false;
        for (BenchResult r : firstPerMode(results)) {
            if (r.gamma() == 0) {
                continue;
            }
            List<String> positions = new ArrayList<>();
            List<Double> rates = new ArrayList<>();
            for (int i = 0; i < r.acceptanceByPosition().length; i++) {
                positions.add(Integer.toString(i + 1));
                rates.add(r.acceptanceByPosition()[i]);
            }
            chart.addSeries(r.mode() + " (batch " + r.batch() + ")", positions, rates);
            any = true;
        }
        if (any) {
            BitmapEncoder.saveBitmap(chart, dir.resolve("acceptance_by_position.png").toString(), BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static void latencySplit(Path dir, String title, List<BenchResult> results) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(560).title("Per-token latency split — " + title)
                .xAxisTitle("mode @ batch").yAxisTitle("ms per generated token").build();
        chart.getStyler().setStacked(true);
        List<String> labels = new ArrayList<>();
        List<Double> draft = new ArrayList<>();
        List<Double> verify = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        for (BenchResult r : results) {
            if (r.gamma() != 0 && isSweepOnly(r, results)) {
                continue;
            }
            labels.add(r.mode() + "@" + r.batch());
            draft.add(r.gamma() == 0 ? 0 : r.draftMsPerToken());
            verify.add(r.gamma() == 0 ? 0 : r.verifyMsPerToken());
            plain.add(r.gamma() == 0 ? r.msPerToken() : 0);
        }
        if (labels.isEmpty()) {
            return;
        }
        chart.addSeries("draft", labels, draft);
        chart.addSeries("verify", labels, verify);
        chart.addSeries("plain decode", labels, plain);
        chart.getStyler().setXAxisLabelRotation(45);
        BitmapEncoder.saveBitmap(chart, dir.resolve("latency_split.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void gammaSweep(Path dir, String title, List<BenchResult> results) throws IOException {
        Map<String, List<BenchResult>> sweeps = new LinkedHashMap<>();
        for (BenchResult r : results) {
            if (r.gamma() > 0) {
                sweeps.computeIfAbsent(r.mode() + " @ batch " + r.batch(), k -> new ArrayList<>()).add(r);
            }
        }
        sweeps.values().removeIf(l -> l.stream().mapToInt(BenchResult::gamma).distinct().count() < 2);
        if (sweeps.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(900).height(560).title("Throughput vs γ — " + title)
                .xAxisTitle("γ (draft tokens per round)").yAxisTitle("tokens/s").build();
        for (var e : sweeps.entrySet()) {
            chart.addSeries(e.getKey(), e.getValue().stream().mapToDouble(BenchResult::gamma).toArray(),
                    e.getValue().stream().mapToDouble(BenchResult::tokensPerSecond).toArray());
        }
        BitmapEncoder.saveBitmap(chart, dir.resolve("gamma_sweep.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Results of a mode at its main γ (the first γ seen for it), ordered by batch. */
    private static Map<String, List<BenchResult>> byMode(List<BenchResult> results, boolean mainGammaOnly) {
        Map<String, Integer> mainGamma = new LinkedHashMap<>();
        Map<String, List<BenchResult>> out = new LinkedHashMap<>();
        for (BenchResult r : results) {
            mainGamma.putIfAbsent(r.mode(), r.gamma());
            if (!mainGammaOnly || mainGamma.get(r.mode()) == r.gamma()) {
                out.computeIfAbsent(r.mode(), k -> new ArrayList<>()).add(r);
            }
        }
        out.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(BenchResult::batch)));
        return out;
    }

    private static List<BenchResult> firstPerMode(List<BenchResult> results) {
        return byMode(results, true).values().stream().map(List::getFirst).toList();
    }

    private static boolean isSweepOnly(BenchResult r, List<BenchResult> results) {
        return byMode(results, true).getOrDefault(r.mode(), List.of()).stream().noneMatch(x -> x == r);
    }
}
