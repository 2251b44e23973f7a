package io.qspec.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The median of repeated runs, and bench.json files written before repeats existed. */
class BenchResultTest {

    private static BenchResult run(double tokensPerSecond, double seconds) {
        return new BenchResult("w4a16", 0, 8, 16, 1024, seconds, tokensPerSecond, 0, 0, new double[0], 0, 0, 1.0 / seconds,
                1, tokensPerSecond, tokensPerSecond);
    }

    @Test
    void theMedianIsTheMiddleRunWithTheSlowestAndFastestBesideIt() {
        BenchResult m = BenchResult.median(List.of(run(300, 3.0), run(100, 9.0), run(200, 4.5)));
        assertThat(m.tokensPerSecond()).isEqualTo(200);
        assertThat(m.seconds()).isEqualTo(4.5);  // every field is the middle run's
        assertThat(m.runs()).isEqualTo(3);
        assertThat(m.minTokensPerSecond()).isEqualTo(100);
        assertThat(m.maxTokensPerSecond()).isEqualTo(300);
        assertThat(m.spread()).isEqualTo(1.0);
    }

    @Test
    void anEvenCountTakesTheSlowerMiddleRunAndOneRunHasNoSpread() {
        BenchResult m = BenchResult.median(List.of(run(410, 1), run(400, 1), run(430, 1), run(420, 1)));
        assertThat(m.tokensPerSecond()).isEqualTo(410);
        assertThat(m.runs()).isEqualTo(4);
        BenchResult one = BenchResult.median(List.of(run(123, 1)));
        assertThat(one.runs()).isEqualTo(1);
        assertThat(one.spread()).isZero();
        assertThatThrownBy(() -> BenchResult.median(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theDecodeRateIsAFullBatchOfRequestsAtTheirDecodeTimePerTokenAgainstW4a16s() throws Exception {
        // W4A16: 2.5 ms a token per request at batch 8 -> 3200 tokens/s; QSpec: 4 ms -> 2000 (0.625x), whatever the wall
        BenchResult w4a16 = new BenchResult("w4a16", 0, 8, 16, 1024, 0.4, 2560, 0, 0, new double[0], 0, 0, 2.5, 1, 2560, 2560);
        BenchResult qspec = new BenchResult("qspec-a8", 3, 8, 16, 1024, 0.8, 1280, 0.8, 3.4, new double[] {0.9, 0.8, 0.7},
                2.4, 1.2, 4.0, 1, 1280, 1280);
        BenchResult none = new BenchResult("w4a8", 0, 1, 4, 256, 1, 256, 0, 0, new double[0], 0, 0, 0, 1, 256, 256);
        assertThat(w4a16.decodeTokensPerSecond()).isEqualTo(3200);
        assertThat(qspec.decodeTokensPerSecond()).isEqualTo(2000);
        assertThat(none.decodeTokensPerSecond()).isZero();

        BenchReport report = new BenchReport(Map.of("model", "tiny"), List.of(w4a16, qspec, none), 1000, Double.NaN);
        String qspecRow = report.table().lines().filter(l -> l.startsWith("qspec-a8")).findFirst().orElseThrow();
        assertThat(qspecRow).endsWith("2000.00    0.63x");  // the wall-clock ratio in the same row: 0.50x
        assertThat(qspecRow).contains(" 0.50x ");
        String noneRow = report.table().lines().filter(l -> l.startsWith("w4a8")).findFirst().orElseThrow();
        assertThat(noneRow).endsWith("-        -");

        Path dir = Files.createTempDirectory("bench");
        report.write(dir);
        assertThat(Files.readString(dir.resolve("bench.csv")).lines().filter(l -> l.startsWith("qspec-a8")).findFirst()
                .orElseThrow()).endsWith(",2000.0000,0.6250");
        assertThat(Files.readString(dir.resolve("bench.json"))).contains("\"decode_speedup_vs_w4a16\": 0.625");
    }

    @Test
    void resultsWrittenAndReadBackKeepTheRunsAndAnOlderFileReadsAsOneRun(@TempDir Path dir) throws Exception {
        BenchResult m = BenchResult.median(List.of(run(300, 3.0), run(100, 9.0), run(200, 4.5)));
        Map<String, Object> header = Map.of("model", "tiny", "backend", "cpu", "acceptance", "strict greedy (real)");
        new BenchReport(header, List.of(m), 1000, Double.NaN).write(dir);
        BenchResult back = BenchReport.read(dir.resolve("bench.json")).getValue().getFirst();
        assertThat(back.runs()).isEqualTo(3);
        assertThat(back.minTokensPerSecond()).isEqualTo(100);
        assertThat(back.maxTokensPerSecond()).isEqualTo(300);
        assertThat(Files.readString(dir.resolve("bench.csv"))).contains(",3,100.0000,300.0000");

        String older = Files.readString(dir.resolve("bench.json")).replaceAll("(?m)^.*\"(runs|min_tokens_per_second|"
                + "max_tokens_per_second|decode_tokens_per_second|decode_speedup_vs_w4a16)\".*\\n", "").replace("\"weight_bandwidth_fraction_of_measured\": null,",
                "\"weight_bandwidth_fraction_of_measured\": null");
        Files.writeString(dir.resolve("older.json"), older);
        assertThat(older).doesNotContain("\"runs\"");
        BenchResult old = BenchReport.read(dir.resolve("older.json")).getValue().getFirst();
        assertThat(old.runs()).isEqualTo(1);
        assertThat(old.minTokensPerSecond()).isEqualTo(200).isEqualTo(old.maxTokensPerSecond());
    }
}
