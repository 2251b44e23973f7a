package io.qspec.sampling;

import io.qspec.accept.PositionalProbabilities;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SamplingLogitsProcessorTest {
    private static final int[] NO_HISTORY = {};

    private static LogitsProcessor processor(SamplingParams.Builder builder) {
        return new LogitsProcessor(builder.build());
    }

    @Test
    void greedyIsOneHotOnArgmaxWithLowestIndexTieBreak() {
        float[] probabilities = new LogitsProcessor(SamplingParams.GREEDY)
                .probabilities(new float[] {1f, 3f, -2f, 3f}, NO_HISTORY);

        assertThat(probabilities).containsExactly(0f, 1f, 0f, 0f);
    }

    @Test
    void aPenaltyTooLargeForAFloatLowersTokensWithoutForbiddingThem() {
        // every token seen: 1e300 per occurrence would take every logit to -infinity
        int[] history = {0, 1, 2, 2};
        float[] logits = {1f, 3f, -2f};
        float[] sampled = processor(SamplingParams.builder().temperature(1).frequencyPenalty(1e300))
                .probabilities(logits, history);
        assertThat(sampled).containsExactly(new float[] {1 / 3f, 1 / 3f, 1 / 3f}, within(1e-6f));
        float[] greedy = processor(SamplingParams.builder().frequencyPenalty(1e300)).probabilities(logits, history);
        assertThat(greedy).containsExactly(1f, 0f, 0f);
    }

    @Test
    void aLogitTheModelMadeImpossibleStaysImpossibleUnderPenalties() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f};
        float[] sampled = processor(SamplingParams.builder().temperature(1).repetitionPenalty(1e-300))
                .probabilities(logits, new int[] {0, 1});
        assertThat(sampled).containsExactly(0f, 1f);
    }

    @Test
    void temperatureScalesBeforeSoftmax() {
        float[] logits = {2f, 1f, 0f};
        float[] probabilities = processor(SamplingParams.builder().temperature(0.5)).probabilities(logits, NO_HISTORY);

        double z = Math.exp(4) + Math.exp(2) + Math.exp(0);
        assertThat(probabilities[0]).isCloseTo((float) (Math.exp(4) / z), within(1e-6f));
        assertThat(probabilities[1]).isCloseTo((float) (Math.exp(2) / z), within(1e-6f));
        assertThat(probabilities[2]).isCloseTo((float) (1 / z), within(1e-6f));
    }

    @Test
    void topKKeepsTheKMostProbableLowerIndexFirstOnTies() {
        float[] probabilities = processor(SamplingParams.builder().temperature(1).topK(2))
                .probabilities(new float[] {0f, 2f, 1f, 2f}, NO_HISTORY);

        assertThat(probabilities).containsExactly(0f, 0.5f, 0f, 0.5f);
        float[] tie = processor(SamplingParams.builder().temperature(1).topK(1))
                .probabilities(new float[] {0f, 2f, 1f, 2f}, NO_HISTORY);
        assertThat(tie).containsExactly(0f, 1f, 0f, 0f);
    }

    @Test
    void topPKeepsTheSmallestSetReachingTheMass() {
        // probabilities 0.5, 0.3, 0.15, 0.05
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);

        assertThat(processor(SamplingParams.builder().temperature(1).topP(0.8)).probabilities(logits, NO_HISTORY))
                .usingComparatorWithPrecision(1e-6f).containsExactly(0.625f, 0.375f, 0f, 0f);
        assertThat(processor(SamplingParams.builder().temperature(1).topP(0.81)).probabilities(logits, NO_HISTORY))
                .usingComparatorWithPrecision(1e-6f).containsExactly(0.5f / 0.95f, 0.3f / 0.95f, 0.15f / 0.95f, 0f);
        assertThat(processor(SamplingParams.builder().temperature(1).topP(0.1)).probabilities(logits, NO_HISTORY))
                .containsExactly(1f, 0f, 0f, 0f);
    }

    @Test
    void topPMeasuresMassAfterTopK() {
        // after top-2: 0.5/0.8 = 0.625 and 0.375; top-p 0.6 keeps just the first
        float[] probabilities = processor(SamplingParams.builder().temperature(1).topK(2).topP(0.6))
                .probabilities(logitsOf(0.5, 0.3, 0.15, 0.05), NO_HISTORY);

        assertThat(probabilities).containsExactly(1f, 0f, 0f, 0f);
    }

    @Test
    void minPDropsTokensFarBelowTheTop() {
        // p_max = 0.5: min-p 0.2 drops everything below 0.1
        float[] probabilities = processor(SamplingParams.builder().temperature(1).minP(0.2))
                .probabilities(logitsOf(0.5, 0.3, 0.15, 0.05), NO_HISTORY);

        assertThat(probabilities).usingComparatorWithPrecision(1e-6f)
                .containsExactly(0.5f / 0.95f, 0.3f / 0.95f, 0.15f / 0.95f, 0f);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        LogitsProcessor greedy = processor(SamplingParams.builder().repetitionPenalty(2));
        // token 0 (logit 3) was seen: 3/2 = 1.5 < 2, so token 1 wins
        assertThat(greedy.probabilities(new float[] {3f, 2f}, new int[] {0})).containsExactly(0f, 1f);
        // token 0 (logit -1) was seen: -1*2 = -2 < -1.5, so token 1 wins; unpenalized, token 0 would
        assertThat(greedy.probabilities(new float[] {-1f, -1.5f}, new int[] {0})).containsExactly(0f, 1f);
        assertThat(greedy.probabilities(new float[] {-1f, -1.5f}, NO_HISTORY)).containsExactly(1f, 0f);
    }

    @Test
    void frequencyAndPresencePenaltiesSubtractFromSeenTokens() {
        LogitsProcessor processor = processor(SamplingParams.builder().temperature(1)
                .frequencyPenalty(0.5).presencePenalty(0.25));
        // token 0 seen twice: 0 - 2*0.5 - 0.25 = -1.25; token 1 seen once: 0 - 0.5 - 0.25 = -0.75
        float[] probabilities = processor.probabilities(new float[] {0f, 0f, 0f}, new int[] {0, 1, 0});

        double z = Math.exp(-1.25) + Math.exp(-0.75) + 1;
        assertThat(probabilities[0]).isCloseTo((float) (Math.exp(-1.25) / z), within(1e-6f));
        assertThat(probabilities[1]).isCloseTo((float) (Math.exp(-0.75) / z), within(1e-6f));
        assertThat(probabilities[2]).isCloseTo((float) (1 / z), within(1e-6f));
    }

    @Test
    void roundFunctionUsesCommittedPlusDraftPrefixAsHistory() {
        LogitsProcessor processor = processor(SamplingParams.builder().temperature(0.8).topK(5)
                .repetitionPenalty(1.2).frequencyPenalty(0.3).presencePenalty(0.1));
        int[] committed = {3, 1, 3, 7};
        int[] drafts = {7, 2, 9};
        PositionalProbabilities round = processor.forRound(committed, drafts);
        SplittableRandom random = new SplittableRandom(1);
        for (int position = 0; position <= drafts.length; position++) {
            float[] logits = new float[12];
            for (int t = 0; t < logits.length; t++) {
                logits[t] = (float) random.nextGaussian();
            }
            int[] history = new int[committed.length + position];
            System.arraycopy(committed, 0, history, 0, committed.length);
            System.arraycopy(drafts, 0, history, committed.length, position);

            assertThat(round.probabilities(position, logits)).containsExactly(processor.probabilities(logits, history));
        }
    }

    @Test
    void leavesLogitsUntouchedAndSumsToOne() {
        SplittableRandom random = new SplittableRandom(3);
        float[] logits = new float[1000];
        for (int t = 0; t < logits.length; t++) {
            logits[t] = (float) (random.nextGaussian() * 4);
        }
        float[] copy = logits.clone();
        float[] probabilities = processor(SamplingParams.builder().temperature(1.3).topK(50).topP(0.9).minP(0.01)
                .repetitionPenalty(1.5).presencePenalty(1)).probabilities(logits, new int[] {1, 2, 3, 999});

        assertThat(logits).containsExactly(copy);
        double total = 0;
        int nonZero = 0;
        for (float p : probabilities) {
            total += p;
            nonZero += p > 0 ? 1 : 0;
        }
        assertThat(total).isCloseTo(1.0, within(1e-5));
        assertThat(nonZero).isBetween(1, 50);
    }

    @Test
    void minusInfinityLogitsNeverSurvive() {
        float[] probabilities = processor(SamplingParams.builder().temperature(1))
                .probabilities(new float[] {Float.NEGATIVE_INFINITY, 0f, 0f}, NO_HISTORY);

        assertThat(probabilities).containsExactly(0f, 0.5f, 0.5f);
    }

    /** The candidate pre-filter for large vocabularies must not change which tokens survive. */
    @Test
    void matchesAFullSortReferenceOnLargeVocabularies() {
        SplittableRandom random = new SplittableRandom(8);
        double[][] settings = {{0.7, 0, 0.9}, {1.0, 40, 1.0}, {1.2, 100, 0.95}, {0.5, 0, 0.999}, {2.0, 5000, 0.5}};
        for (double[] setting : settings) {
            LogitsProcessor processor = processor(SamplingParams.builder()
                    .temperature(setting[0]).topK((int) setting[1]).topP(setting[2]));
            float[] logits = new float[32_000];
            for (int t = 0; t < logits.length; t++) {
                logits[t] = (float) (random.nextGaussian() * 3);
            }

            float[] actual = processor.probabilities(logits, NO_HISTORY);
            float[] expected = fullSortReference(logits, setting[0], (int) setting[1], setting[2]);
            for (int t = 0; t < logits.length; t++) {
                assertThat(actual[t]).as("token %d with temperature/topK/topP %s", t, java.util.Arrays.toString(setting))
                        .isCloseTo(expected[t], within(1e-7f));
            }
        }
    }

    /** Temperature, top-k, top-p the obvious way: softmax and one sort of the whole vocabulary. */
    private static float[] fullSortReference(float[] logits, double temperature, int topK, double topP) {
        int vocab = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] weights = new double[vocab];
        double total = 0;
        for (int t = 0; t < vocab; t++) {
            weights[t] = Math.exp((logits[t] - max) / temperature);
            total += weights[t];
        }
        Integer[] order = new Integer[vocab];
        for (int t = 0; t < vocab; t++) {
            order[t] = t;
        }
        java.util.Arrays.sort(order, (a, b) -> weights[a] != weights[b] ? Double.compare(weights[b], weights[a]) : a - b);
        int keep = topK > 0 ? Math.min(topK, vocab) : vocab;
        double keptMass = 0;
        for (int r = 0; r < keep; r++) {
            keptMass += weights[order[r]];
        }
        double cumulative = 0;
        int nucleus = 0;
        while (nucleus < keep && (nucleus == 0 || cumulative < topP * keptMass * (1 - 1e-6))) {
            cumulative += weights[order[nucleus++]];
        }
        float[] out = new float[vocab];
        for (int r = 0; r < nucleus; r++) {
            out[order[r]] = (float) (weights[order[r]] / cumulative);
        }
        return out;
    }

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < probabilities.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }
}
