package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.Precision;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RejectionRound;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import io.qspec.sampling.LogitsProcessor;
import io.qspec.sampling.SamplingParams;
import io.qspec.sampling.TokenCounts;
import io.qspec.sampling.TokenDraw;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Speculative rounds rejection-sampled on the GPU ({@link DeviceRejectionSampler}) against the host's
 * decision ({@link RejectionSamplingAcceptance#decide}) on the same runner's logits: lanes with every
 * filter and the penalties, W4A4 drafts (far from W4A16, so many drafts are rejected), γ from 1 to 4.
 * The device's draft tokens must be the host sampler's, and its (accepted, next) the host's, except
 * where a variate lies within 1e-5 of an edge (an acceptance test u·q = p, or a CDF edge of the final
 * draw), where fp32 weights may round across it; such lanes must be rare.
 */
@Tag("gpu")
class RejectionRoundGpuTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 128, 352, 2, 4, 2, 32, 300, 256, 1e-5f,
            10000f, RopeStyle.HALF_SPLIT, Optional.empty(), false);
    private static final double EDGE = 1e-5;
    private static Model model;
    private static CudaBackend backend;

    @BeforeAll
    static void requireGpu() {
        backend = GpuTests.usableBackend();
        model = RandomModels.build(CONFIG, 64, 11);
    }

    @AfterAll
    static void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    private static final List<SamplingParams> PARAMS = List.of(
            SamplingParams.builder().temperature(1).build(),
            SamplingParams.builder().temperature(0.7).topK(20).build(),
            SamplingParams.builder().temperature(1).topP(0.9).build(),
            SamplingParams.builder().temperature(0.8).topK(50).topP(0.95).minP(0.05).build(),
            SamplingParams.builder().temperature(1.3).minP(0.1).build(),
            SamplingParams.builder().temperature(0.9).topP(0.8).repetitionPenalty(1.2).presencePenalty(0.3).build(),
            SamplingParams.builder().temperature(0).repetitionPenalty(1.3).frequencyPenalty(0.5).build(),
            SamplingParams.GREEDY);

    @Test
    void gpuRoundsDecideAsTheHost() {
        SplittableRandom random = new SplittableRandom(7);
        int compared = 0;
        int atEdge = 0;
        int accepted = 0;
        int drafted = 0;
        int lanes = PARAMS.size();
        try (ModelRunner runner = backend.open(model)) {
            for (int trial = 0; trial < 12; trial++) {
                int gamma = 1 + trial % 4;
                List<KvCache> device = new ArrayList<>();
                List<KvCache> host = new ArrayList<>();
                try {
                    int[][] prompt = new int[lanes][];
                    List<SequenceInput> prefill = new ArrayList<>();
                    for (int l = 0; l < lanes; l++) {
                        prompt[l] = new int[] {1 + trial, 5 + l, 17, 42, 255, 3, 99, 150};
                        device.add(runner.newCache(32));
                        host.add(runner.newCache(32));
                        prefill.add(new SequenceInput(device.get(l), prompt[l], false));
                        prefill.add(new SequenceInput(host.get(l), prompt[l], false));
                    }
                    runner.forward(prefill, Precision.W4A16);
                    int[] last = new int[lanes];
                    int[][] drafts = new int[lanes][gamma];
                    float[][][] q = new float[lanes][gamma][];
                    boolean[] edge = new boolean[lanes];
                    for (int l = 0; l < lanes; l++) {
                        last[l] = 7 + l;
                    }
                    try (RejectionRound round = runner.newRejectionRound(lanes, gamma)) {
                        int[] laneIds = java.util.stream.IntStream.range(0, lanes).toArray();
                        for (int i = 0; i < gamma; i++) {
                            List<SequenceInput> onDevice = new ArrayList<>();
                            List<SequenceInput> onHost = new ArrayList<>();
                            List<TokenDraw> draws = new ArrayList<>();
                            for (int l = 0; l < lanes; l++) {
                                int previous = i == 0 ? last[l] : drafts[l][i - 1];
                                onDevice.add(new SequenceInput(device.get(l), new int[] {previous}, false));
                                onHost.add(new SequenceInput(host.get(l), new int[] {previous}, false));
                                draws.add(new TokenDraw(PARAMS.get(l), history(prompt[l], drafts[l], i), random.nextDouble()));
                            }
                            int[] tokens = round.draft(onDevice, Precision.W4A4, laneIds, draws);
                            Logits logits = runner.forward(onHost, Precision.W4A4);
                            for (int l = 0; l < lanes; l++) {
                                TokenDraw draw = draws.get(l);
                                q[l][i] = new LogitsProcessor(draw.params()).probabilities(logits.row(l, 0), draw.history());
                                if (!draw.params().isGreedy() && edgeDistance(q[l][i], draw.uniform()) < EDGE) {
                                    edge[l] = true;
                                } else {
                                    assertThat(tokens[l]).as("trial %d lane %d draft %d", trial, l, i)
                                            .isEqualTo(draw.choose(logits.row(l, 0)));
                                }
                                drafts[l][i] = tokens[l];
                            }
                        }
                        List<SequenceInput> verifyDevice = new ArrayList<>();
                        List<SequenceInput> verifyHost = new ArrayList<>();
                        List<List<TokenDraw>> verifyDraws = new ArrayList<>();
                        for (int l = 0; l < lanes; l++) {
                            device.get(l).truncate(prompt[l].length);
                            host.get(l).truncate(prompt[l].length);
                            int[] tokens = new int[gamma + 1];
                            tokens[0] = last[l];
                            System.arraycopy(drafts[l], 0, tokens, 1, gamma);
                            verifyDevice.add(new SequenceInput(device.get(l), tokens, true));
                            verifyHost.add(new SequenceInput(host.get(l), tokens, true));
                            double[] u = new double[gamma + 1];
                            List<TokenDraw> positions = new ArrayList<>();
                            for (int i = 0; i <= gamma; i++) {
                                u[i] = random.nextDouble();
                                positions.add(new TokenDraw(PARAMS.get(l), history(prompt[l], drafts[l], i), u[i]));
                            }
                            verifyDraws.add(positions);
                        }
                        AcceptanceDecision[] decided = round.verify(verifyDevice, verifyDraws);
                        Logits verified = runner.forward(verifyHost, Precision.W4A16);
                        for (int l = 0; l < lanes; l++) {
                            List<TokenDraw> positions = verifyDraws.get(l);
                            int lane = l;
                            float[][] p = new float[gamma + 1][];
                            for (int i = 0; i <= gamma; i++) {
                                p[i] = new LogitsProcessor(PARAMS.get(l)).probabilities(verified.row(l, i), positions.get(i).history());
                            }
                            double[] u = positions.stream().mapToDouble(TokenDraw::uniform).toArray();
                            AcceptanceDecision want = RejectionSamplingAcceptance.decide(drafts[l], i -> q[lane][i], i -> p[i], u);
                            drafted += gamma;
                            accepted += decided[l].accepted();
                            if (edge[l] || nearAnEdge(drafts[l], q[l], p, u, want)) {
                                atEdge++;
                                continue;
                            }
                            compared++;
                            assertThat(decided[l]).as("trial %d lane %d (%s)", trial, l, PARAMS.get(l)).isEqualTo(want);
                        }
                    }
                    for (int l = 0; l < lanes; l++) {
                        assertThat(device.get(l).length()).isEqualTo(prompt[l].length + gamma + 1);
                    }
                } finally {
                    device.forEach(KvCache::close);
                    host.forEach(KvCache::close);
                }
            }
        }
        System.out.printf("GPU rejection rounds = host decisions: %d lanes compared, %d near an edge; %d of %d drafts"
                + " accepted%n", compared, atEdge, accepted, drafted);
        assertThat(atEdge).isLessThanOrEqualTo(compared / 20);
        assertThat(accepted).as("some drafts accepted, some rejected").isPositive().isLessThan(drafted);
    }

    @Test
    void refusedCallsChangeNothing() {
        try (ModelRunner runner = backend.open(model); KvCache cache = runner.newCache(32)) {
            TokenDraw draw = new TokenDraw(SamplingParams.builder().temperature(1).build(), TokenCounts.EMPTY, 0.5);
            TokenDraw outside = new TokenDraw(SamplingParams.builder().temperature(1).repetitionPenalty(1.1).build(),
                    TokenCounts.of(new int[] {300}), 0.5);
            try (RejectionRound round = runner.newRejectionRound(1, 2)) {
                List<SequenceInput> one = List.of(new SequenceInput(cache, new int[] {4}, false));
                assertThatThrownBy(() -> round.draft(one, Precision.W4A8, new int[] {0}, List.of(outside)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside vocabulary of 300");
                assertThatThrownBy(() -> round.draft(one, Precision.W4A8, new int[] {1}, List.of(draw)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the round");
                assertThat(cache.length()).as("a refused step changes nothing").isZero();
                assertThatThrownBy(() -> runner.newRejectionRound(1, 2))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("still open");
                int[] token = round.draft(one, Precision.W4A8, new int[] {0}, List.of(draw));
                cache.truncate(0);
                assertThatThrownBy(() -> round.verify(List.of(new SequenceInput(cache, new int[] {4, token[0] == 0 ? 1 : 0}, true)),
                        List.of(List.of(draw, draw))))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must score [last, its 1 drafts]");
                AcceptanceDecision decision = round.verify(List.of(new SequenceInput(cache, new int[] {4, token[0]}, true)),
                        List.of(List.of(draw, draw)))[0];
                assertThat(decision.accepted()).isBetween(0, 1);
                assertThat(decision.nextToken()).isBetween(0, CONFIG.vocabSize() - 1);
            }
            try (RejectionRound again = runner.newRejectionRound(2, 3)) {
                assertThat(again).isNotNull();
            }
        }
    }

    /** Committed tokens, then drafts[0..i). */
    private static TokenCounts history(int[] prompt, int[] drafts, int i) {
        int[] all = java.util.Arrays.copyOf(prompt, prompt.length + i);
        System.arraycopy(drafts, 0, all, prompt.length, i);
        return TokenCounts.of(all);
    }

    /** Whether an acceptance test or the final draw of the host's decision lies within EDGE of flipping. */
    private static boolean nearAnEdge(int[] drafts, float[][] q, float[][] p, double[] u, AcceptanceDecision want) {
        int gamma = drafts.length;
        for (int i = 0; i <= Math.min(want.accepted(), gamma - 1); i++) {
            double qx = q[i][drafts[i]];
            double px = p[i][drafts[i]];
            if (qx > 0 && Math.abs(u[i] * qx - px) < EDGE) {
                return true;
            }
        }
        float[] last;
        if (want.accepted() < gamma) {
            int i = want.accepted();
            last = new float[p[i].length];
            double mass = 0;
            for (int t = 0; t < last.length; t++) {
                last[t] = Math.max(0f, p[i][t] - q[i][t]);
                mass += last[t];
            }
            if (mass == 0) {
                last = p[i];
            } else if (mass < 1e-3) {
                return true;  // a residual of little mass magnifies the GPU's rounding
            }
        } else {
            last = p[gamma];
        }
        return edgeDistance(last, u[gamma]) < EDGE;
    }

    /** How far u·total lies from the nearest CDF edge, relative to the total. */
    private static double edgeDistance(float[] weights, double uniform) {
        double total = 0;
        for (float x : weights) {
            total += x;
        }
        double target = uniform * total;
        double cumulative = 0;
        double nearest = Math.abs(target);
        for (float x : weights) {
            if (x > 0) {
                cumulative += x;
                nearest = Math.min(nearest, Math.abs(cumulative - target));
            }
        }
        return nearest / total;
    }
}
