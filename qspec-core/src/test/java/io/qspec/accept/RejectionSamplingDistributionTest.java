package io.qspec.accept;

import io.qspec.sampling.LogitsProcessor;
import io.qspec.sampling.Sampler;
import io.qspec.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The statistical proof that {@link RejectionSamplingAcceptance} is lossless: over many seeded
 * rounds, the first emitted token, and the first two jointly, follow the verify distribution p and
 * not the draft distribution q, although the draft differs a lot from p (tokens with q &gt; 0 and
 * p = 0, and the reverse). Chi-square goodness of fit (Apache Commons Math) at significance level
 * {@value #ALPHA}: the real policy must pass, two deliberately wrong variants must fail, which shows
 * the test has the power to catch a subtle mistake.
 *
 * <p>All seeds are fixed, so the outcome is deterministic.
 */
class RejectionSamplingDistributionTest {
    /** Significance level: the fit is rejected when the p-value is below this. */
    static final double ALPHA = 0.001;
    static final int TRIALS = 200_000;
    /** The processed-logits scenario runs the full logits processor ~30 times a trial; fewer trials keep it fast. */
    static final int PROCESSED_TRIALS = 60_000;
    static final int VOCAB = 12;
    static final int GAMMA = 3;

    /** Positions far enough for two tokens after rounds of γ drafts. */
    private static final int POSITIONS = 2 + GAMMA + 1;

    /** Wrong: the recovered token comes from p instead of normalize(max(0, p − q)). */
    static final AcceptancePolicy RECOVER_FROM_TARGET = new BrokenRejection(false, true);
    /** Wrong: accepts with min(1, q/p) instead of min(1, p/q). */
    static final AcceptancePolicy INVERTED_RATIO = new BrokenRejection(true, false);

    @Test
    void positionWiseDistributionsIndependentOfHistory() {
        float[][] p = new float[POSITIONS][];
        float[][] q = new float[POSITIONS][];
        // position 0: hand-written, the draft puts 15% on token 11 (p = 0) and nothing on 3 and 9
        p[0] = normalized(0.20, 0.15, 0.12, 0.10, 0.08, 0.08, 0.07, 0.06, 0.05, 0.05, 0.04, 0.00);
        q[0] = normalized(0.05, 0.02, 0.30, 0.00, 0.10, 0.03, 0.15, 0.06, 0.10, 0.00, 0.04, 0.15);
        SplittableRandom shapes = new SplittableRandom(7);
        for (int pos = 1; pos < POSITIONS; pos++) {
            p[pos] = randomDistribution(shapes, pos % VOCAB);
            q[pos] = randomDistribution(shapes, (pos + 5) % VOCAB);
        }
        SpeculativeSimulation simulation = SpeculativeSimulation.ofProbabilities(
                (position, history) -> q[position], (position, history) -> p[position], GAMMA);

        assertLosslessAndWrongVariantsDetected("position-wise", simulation, 11, TRIALS);
    }

    @Test
    void targetDependsOnPreviousToken() {
        // row prev+1 is the distribution after token prev (row 0: at the start)
        SplittableRandom shapes = new SplittableRandom(11);
        float[][] p = new float[VOCAB + 1][];
        float[][] q = new float[VOCAB + 1][];
        for (int prev = 0; prev <= VOCAB; prev++) {
            p[prev] = randomDistribution(shapes, prev % VOCAB);
            q[prev] = randomDistribution(shapes, (prev + 3) % VOCAB);
        }
        SpeculativeSimulation simulation = SpeculativeSimulation.ofProbabilities(
                (position, history) -> q[history.length == 0 ? 0 : history[history.length - 1] + 1],
                (position, history) -> p[history.length == 0 ? 0 : history[history.length - 1] + 1],
                GAMMA);

        assertLosslessAndWrongVariantsDetected("previous-token", simulation, 12, TRIALS);
    }

    /**
     * The real pipeline: raw logits through one {@link LogitsProcessor} (temperature, top-k, top-p,
     * min-p and all three penalties, so p depends on the history) for both precisions, and the
     * proposal built with {@link LogitsProcessor#forRound}, exactly as the engine does.
     */
    @Test
    void processedLogitsWithPenaltiesAndTruncation() {
        LogitsProcessor processor = new LogitsProcessor(SamplingParams.builder()
                .temperature(0.9).topK(10).topP(0.95).minP(0.02)
                .repetitionPenalty(1.3).frequencyPenalty(0.2).presencePenalty(0.3).seed(5).build());
        SplittableRandom shapes = new SplittableRandom(13);
        float[][] verifyLogits = new float[POSITIONS][VOCAB];
        float[][] draftLogits = new float[POSITIONS][VOCAB];
        for (int pos = 0; pos < POSITIONS; pos++) {
            for (int t = 0; t < VOCAB; t++) {
                verifyLogits[pos][t] = (float) (shapes.nextGaussian() * 1.5);
                // a low-precision draft: the same logits plus sizeable noise
                draftLogits[pos][t] = verifyLogits[pos][t] + (float) (shapes.nextGaussian() * 1.2);
            }
        }
        SpeculativeSimulation simulation = new SpeculativeSimulation(
                (position, history) -> draftLogits[position], (position, history) -> verifyLogits[position],
                (history, logits) -> processor.probabilities(logits, history),
                processor::forRound, GAMMA);

        assertLosslessAndWrongVariantsDetected("processed-logits", simulation, 13, PROCESSED_TRIALS);
    }

    @Test
    void temperatureZeroRejectionSamplingIsStrictGreedy() {
        LogitsProcessor greedy = new LogitsProcessor(SamplingParams.GREEDY);
        SplittableRandom random = new SplittableRandom(17);
        RandomGenerator acceptanceRandom = RandomGeneratorFactory.of("L64X128MixRandom").create(3);
        int vocab = 40;
        for (int round = 0; round < 5_000; round++) {
            int gamma = 1 + random.nextInt(5);
            float[][] verify = new float[gamma + 1][];
            float[][] draft = new float[gamma][];
            int[] tokens = new int[gamma];
            for (int i = 0; i <= gamma; i++) {
                verify[i] = coarseLogits(random, vocab);
            }
            for (int i = 0; i < gamma; i++) {
                // mostly agreeing with verify, as a low-precision draft does, sometimes not
                draft[i] = random.nextInt(3) == 0 ? coarseLogits(random, vocab) : verify[i].clone();
                tokens[i] = random.nextInt(10) == 0 ? random.nextInt(vocab) : io.qspec.engine.TokenChoice.argmax(draft[i]);
            }
            Proposal proposal = new Proposal(tokens, draft, verify, logits -> greedy.probabilities(logits, new int[0]));
            AcceptanceDecision expected = StrictGreedyAcceptance.INSTANCE.decide(proposal, acceptanceRandom);

            assertThat(RejectionSamplingAcceptance.INSTANCE.decide(proposal, acceptanceRandom)).isEqualTo(expected);
            assertThat(new TypicalAcceptanceLossy().decide(proposal, acceptanceRandom)).isEqualTo(expected);
            assertThat(new TopKMatchAcceptanceLossy(1).decide(proposal, acceptanceRandom)).isEqualTo(expected);
        }
    }

    private static void assertLosslessAndWrongVariantsDetected(String scenario, SpeculativeSimulation simulation,
                                                               long seed, int trials) {
        double[] firstExpected = toDouble(simulation.target(new int[0]));
        double[] pairExpected = new double[VOCAB * VOCAB];
        for (int a = 0; a < VOCAB; a++) {
            float[] second = simulation.target(new int[] {a});
            for (int b = 0; b < VOCAB; b++) {
                pairExpected[a * VOCAB + b] = firstExpected[a] * second[b];
            }
        }

        Fits real = run(simulation, RejectionSamplingAcceptance.INSTANCE, firstExpected, pairExpected, seed, trials);
        Fits recoverFromTarget = run(simulation, RECOVER_FROM_TARGET, firstExpected, pairExpected, seed, trials);
        Fits invertedRatio = run(simulation, INVERTED_RATIO, firstExpected, pairExpected, seed, trials);
        System.out.printf("[%s] rejection:           first %s | pair %s%n", scenario, real.first, real.pair);
        System.out.printf("[%s] WRONG recover-from-p: first %s | pair %s%n", scenario, recoverFromTarget.first, recoverFromTarget.pair);
        System.out.printf("[%s] WRONG min(1,q/p):     first %s | pair %s%n", scenario, invertedRatio.first, invertedRatio.pair);

        assertThat(real.first.impossible()).as("tokens with p = 0 emitted first").isZero();
        assertThat(real.pair.impossible()).as("pairs with p = 0 emitted").isZero();
        assertThat(real.first.pValue()).as("first token fits p: %s", real.first).isGreaterThanOrEqualTo(ALPHA);
        assertThat(real.pair.pValue()).as("first two tokens fit p: %s", real.pair).isGreaterThanOrEqualTo(ALPHA);

        assertThat(recoverFromTarget.first.pValue()).as("recovered-from-p detected: %s", recoverFromTarget.first).isLessThan(ALPHA);
        assertThat(recoverFromTarget.pair.pValue()).as("recovered-from-p detected: %s", recoverFromTarget.pair).isLessThan(ALPHA);
        assertThat(invertedRatio.first.pValue()).as("min(1,q/p) detected: %s", invertedRatio.first).isLessThan(ALPHA);
        assertThat(invertedRatio.pair.pValue()).as("min(1,q/p) detected: %s", invertedRatio.pair).isLessThan(ALPHA);
    }

    private record Fits(ChiSquareFit first, ChiSquareFit pair) {
    }

    private static Fits run(SpeculativeSimulation simulation, AcceptancePolicy policy,
                            double[] firstExpected, double[] pairExpected, long seed, int trials) {
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        long[] first = new long[VOCAB];
        long[] pairs = new long[VOCAB * VOCAB];
        for (int trial = 0; trial < trials; trial++) {
            int[] tokens = simulation.generate(policy, 2, random);
            first[tokens[0]]++;
            pairs[tokens[0] * VOCAB + tokens[1]]++;
        }
        return new Fits(ChiSquareFit.of(firstExpected, first), ChiSquareFit.of(pairExpected, pairs));
    }

    /** A distribution over {@link #VOCAB} tokens, no probability below 2% except the one forced to 0. */
    private static float[] randomDistribution(SplittableRandom random, int zeroToken) {
        double[] weights = new double[VOCAB];
        for (int t = 0; t < VOCAB; t++) {
            double u = random.nextDouble();
            weights[t] = t == zeroToken ? 0 : 0.25 + u * u * 3;
        }
        return normalized(weights);
    }

    private static float[] normalized(double... weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        float[] p = new float[weights.length];
        for (int i = 0; i < weights.length; i++) {
            p[i] = (float) (weights[i] / total);
        }
        return p;
    }

    private static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** Logits on a 0.5 grid, so ties (lowest index wins) really happen. */
    private static float[] coarseLogits(SplittableRandom random, int vocab) {
        float[] logits = new float[vocab];
        for (int t = 0; t < vocab; t++) {
            logits[t] = random.nextInt(8) * 0.5f;
        }
        return logits;
    }

    /** Rejection sampling with one deliberate mistake, to prove the test can see it. */
    private record BrokenRejection(boolean invertRatio, boolean recoverFromTarget) implements AcceptancePolicy {
        @Override
        public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
            for (int i = 0; i < proposal.gamma(); i++) {
                int token = proposal.draftToken(i);
                float[] p = proposal.verifyProbabilities(i);
                float[] q = proposal.draftProbabilities(i);
                double ratio = invertRatio ? q[token] / (double) p[token] : p[token] / (double) q[token];
                if (!(random.nextDouble() < ratio)) {
                    float[] recovered = recoverFromTarget ? p : residual(p, q);
                    return new AcceptanceDecision(i, Sampler.sample(recovered, random));
                }
            }
            return new AcceptanceDecision(proposal.gamma(), Sampler.sample(proposal.verifyProbabilities(proposal.gamma()), random));
        }

        private static float[] residual(float[] p, float[] q) {
            float[] r = new float[p.length];
            double total = 0;
            for (int t = 0; t < p.length; t++) {
                r[t] = Math.max(0, p[t] - q[t]);
                total += r[t];
            }
            return total > 0 ? r : p;
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
            return "broken";
        }
    }
}
