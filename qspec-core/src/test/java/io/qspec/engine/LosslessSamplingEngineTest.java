package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.VerifyMode;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.model.Model;
import io.qspec.sampling.Sampler;
import io.qspec.sampling.SamplingParams;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Speculative sampling through the whole engine on a real model: QSpec with rejection sampling
 * (W4A4 draft, so draft and verify distributions differ a lot) produces the same distribution of
 * generated tokens as plain W4A16 sampling — a chi-square homogeneity test at α = 0.001 on the
 * second generated token (the first one a draft/verify round decides; with 3 tokens wanted the round
 * drafts γ = 1). Two deliberately wrong policies are caught by the same test: one with the
 * acceptance ratio upside down, min(1, q/p), and one that draws the recovered token from p instead
 * of the residual normalize(max(0, p − q)).
 */
class LosslessSamplingEngineTest {
    static final double ALPHA = 0.001;
    static final int SAMPLES = 3000;
    private static Model model;
    private static QSpecEngine engine;

    @BeforeAll
    static void load() {
        model = Model.load(TestModels.stories260K());
        engine = QSpecEngine.builder(model).backend("cpu").build();
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    private static SamplingParams sampling(long seed) {
        return SamplingParams.builder().temperature(1.0).topK(6).seed(seed).build();
    }

    /** Histogram of the second generated token over {@code SAMPLES} seeds. */
    private static Map<Integer, Long> secondTokens(DecodingMode mode, long seedBase) {
        Map<Integer, Long> counts = new HashMap<>();
        for (int i = 0; i < SAMPLES; i++) {
            GenerationResult r = engine.generate(GenerationRequest.builder("Once upon a time there was a")
                    .maxTokens(3).mode(mode).sampling(sampling(seedBase + i)).build());
            counts.merge(r.tokenIds()[1], 1L, Long::sum);
        }
        return counts;
    }

    private static double pValue(Map<Integer, Long> a, Map<Integer, Long> b) {
        var keys = new java.util.TreeSet<Integer>();
        keys.addAll(a.keySet());
        keys.addAll(b.keySet());
        // pool rare tokens so every expected count is large enough for the chi-square approximation
        long restA = 0;
        long restB = 0;
        List<long[]> bins = new java.util.ArrayList<>();
        for (int k : keys) {
            long x = a.getOrDefault(k, 0L);
            long y = b.getOrDefault(k, 0L);
            if (x + y < 20) {
                restA += x;
                restB += y;
            } else {
                bins.add(new long[] {x, y});
            }
        }
        if (restA + restB > 0) {
            bins.add(new long[] {restA + 1, restB + 1});
        }
        long[] obsA = bins.stream().mapToLong(v -> v[0]).toArray();
        long[] obsB = bins.stream().mapToLong(v -> v[1]).toArray();
        return new ChiSquareTest().chiSquareTestDataSetsComparison(obsA, obsB);
    }

    @Test
    void qspecRejectionSamplingMatchesPlainW4A16SamplingAndAWrongPolicyIsCaught() {
        DraftMode draft = new DraftMode(Precision.W4A4, 2);
        Map<Integer, Long> plain = secondTokens(DecodingMode.plain(Precision.W4A16), 1_000_000);
        Map<Integer, Long> qspec = secondTokens(new DecodingMode.Speculative(draft, VerifyMode.w4a16(),
                RejectionSamplingAcceptance.INSTANCE), 2_000_000);
        Map<Integer, Long> inverted = secondTokens(new DecodingMode.Speculative(draft, VerifyMode.w4a16(),
                new WrongPolicy(false)), 3_000_000);
        Map<Integer, Long> recoverFromP = secondTokens(new DecodingMode.Speculative(draft, VerifyMode.w4a16(),
                new WrongPolicy(true)), 4_000_000);
        double good = pValue(plain, qspec);
        double badInverted = pValue(plain, inverted);
        double badRecovered = pValue(plain, recoverFromP);
        System.out.printf("engine-level chi-square p-values: rejection %.4f, inverted ratio %.3g, recover from p %.3g%n",
                good, badInverted, badRecovered);
        assertThat(good).as("QSpec rejection sampling vs plain W4A16").isGreaterThanOrEqualTo(ALPHA);
        assertThat(badInverted).as("inverted-ratio policy vs plain W4A16").isLessThan(ALPHA);
        assertThat(badRecovered).as("recover-from-p policy vs plain W4A16").isLessThan(ALPHA);
    }

    @Test
    void sameSeedSameOutputInEveryMode() {
        for (DecodingMode mode : List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()),
                DecodingMode.qspec(DraftMode.a4()))) {
            GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(30).mode(mode)
                    .sampling(SamplingParams.builder().temperature(0.9).topP(0.95).seed(42).build()).build();
            assertThat(engine.generate(request).tokenIds()).as(mode.label()).containsExactly(engine.generate(request).tokenIds());
        }
    }

    /**
     * Wrong on purpose: either accepts with min(1, q/p) instead of min(1, p/q), or
     * ({@code recoverFromP}) draws the recovered token from p instead of the residual.
     */
    private static final class WrongPolicy implements AcceptancePolicy {
        private final boolean recoverFromP;

        WrongPolicy(boolean recoverFromP) {
            this.recoverFromP = recoverFromP;
        }

        @Override
        public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
            for (int i = 0; i < proposal.gamma(); i++) {
                float[] p = proposal.verifyProbabilities(i);
                float[] q = proposal.draftProbabilities(i);
                int x = proposal.draftToken(i);
                double ratio = recoverFromP ? p[x] / q[x] : q[x] / p[x];
                if (random.nextDouble() >= Math.min(1.0, ratio)) {
                    return new AcceptanceDecision(i, Sampler.sample(recoverFromP ? p : residual(p, q), random));
                }
            }
            return new AcceptanceDecision(proposal.gamma(), Sampler.sample(proposal.verifyProbabilities(proposal.gamma()), random));
        }

        private static float[] residual(float[] p, float[] q) {
            float[] r = new float[p.length];
            boolean any = false;
            for (int t = 0; t < p.length; t++) {
                r[t] = Math.max(0f, p[t] - q[t]);
                any |= r[t] > 0;
            }
            return any ? r : p;
        }

        @Override
        public boolean draftSamples() {
            return true;
        }

        @Override
        public boolean lossless() {
            return false;
        }

        @Override
        public String name() {
            return recoverFromP ? "wrong-recover-from-p" : "wrong-inverted-ratio";
        }
    }
}
