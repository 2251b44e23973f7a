package io.qspec.sampling;

import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplerTest {
    /** Significance level of the goodness-of-fit check. */
    private static final double ALPHA = 0.001;

    @Test
    void drawsFollowTheDistribution() {
        float[] p = {0.5f, 0f, 0.25f, 0.125f, 0.125f};
        RandomGenerator random = SamplingParams.builder().seed(99).build().newRandom();
        long[] counts = new long[p.length];
        int trials = 100_000;
        for (int i = 0; i < trials; i++) {
            counts[Sampler.sample(p, random)]++;
        }

        assertThat(counts[1]).as("zero-probability token drawn").isZero();
        double[] expected = {0.5 * trials, 0.25 * trials, 0.125 * trials, 0.125 * trials};
        long[] observed = {counts[0], counts[2], counts[3], counts[4]};
        assertThat(new ChiSquareTest().chiSquareTest(expected, observed)).isGreaterThanOrEqualTo(ALPHA);
    }

    @Test
    void unnormalizedWeightsAreScaled() {
        float[] weights = {0f, 3f, 0f, 1f};
        RandomGenerator random = SamplingParams.builder().seed(5).build().newRandom();
        int ones = 0;
        for (int i = 0; i < 40_000; i++) {
            int token = Sampler.sample(weights, random);
            assertThat(token).isIn(1, 3);
            ones += token == 1 ? 1 : 0;
        }
        assertThat(ones / 40_000.0).isCloseTo(0.75, org.assertj.core.data.Offset.offset(0.01));
    }

    @Test
    void sameSeedSameTokens() {
        float[] p = {0.1f, 0.2f, 0.3f, 0.4f};
        RandomGenerator a = SamplingParams.builder().seed(7).build().newRandom();
        RandomGenerator b = SamplingParams.builder().seed(7).build().newRandom();
        for (int i = 0; i < 1000; i++) {
            assertThat(Sampler.sample(p, a)).isEqualTo(Sampler.sample(p, b));
        }
    }

    @Test
    void oneHotAlwaysGivesItsToken() {
        RandomGenerator random = SamplingParams.GREEDY.newRandom();
        for (int i = 0; i < 100; i++) {
            assertThat(Sampler.sample(new float[] {0, 0, 1, 0}, random)).isEqualTo(2);
        }
    }

    @Test
    void rejectsImpossibleDistributions() {
        RandomGenerator random = SamplingParams.GREEDY.newRandom();
        assertThatThrownBy(() -> Sampler.sample(new float[] {0, 0}, random))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("all 2 probabilities are 0");
        assertThatThrownBy(() -> Sampler.sample(new float[] {0.5f, -0.1f}, random))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token 1");
        assertThatThrownBy(() -> Sampler.sample(new float[] {Float.NaN, 1f}, random))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token 0");
    }

    @Test
    void aGivenUniformPicksWhatTheRandomSourceWould() {
        float[] p = {0.05f, 0f, 0.3f, 0.15f, 0.5f};
        RandomGenerator a = SamplingParams.builder().seed(21).build().newRandom();
        RandomGenerator b = SamplingParams.builder().seed(21).build().newRandom();
        for (int i = 0; i < 2000; i++) {
            assertThat(Sampler.sample(p, b.nextDouble())).isEqualTo(Sampler.sample(p, a));
        }
        assertThat(Sampler.sample(p, 0.0)).isZero();
        assertThat(Sampler.sample(p, 0.999999)).isEqualTo(4);
        assertThatThrownBy(() -> Sampler.sample(p, 1.0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> Sampler.sample(p, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tokenCountsPlusEqualsCountingTheJoinedHistory() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int[] base = random.ints(random.nextInt(0, 30), 0, 20).toArray();
            int[] extra = random.ints(random.nextInt(0, 6), 0, 25).toArray();
            int length = extra.length == 0 ? 0 : random.nextInt(0, extra.length + 1);
            int[] joined = java.util.Arrays.copyOf(base, base.length + length);
            System.arraycopy(extra, 0, joined, base.length, length);
            TokenCounts want = TokenCounts.of(joined);
            TokenCounts got = TokenCounts.of(base).plus(extra, length);
            assertThat(got.distinct()).isEqualTo(want.distinct());
            for (int i = 0; i < want.distinct(); i++) {
                assertThat(got.token(i)).isEqualTo(want.token(i));
                assertThat(got.countAt(i)).isEqualTo(want.countAt(i));
            }
        }
    }
}
