package io.qspec.accept;

import org.junit.jupiter.api.Test;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The policy registry, the flags of each policy, and the lossy policies' decision rules. */
class SamplingAcceptancePoliciesTest {
    private final RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(1);

    @Test
    void findsPoliciesByName() {
        assertThat(AcceptancePolicies.byName("greedy")).isSameAs(StrictGreedyAcceptance.INSTANCE);
        assertThat(AcceptancePolicies.byName(" Rejection ")).isSameAs(RejectionSamplingAcceptance.INSTANCE);
        assertThat(AcceptancePolicies.byName("typical")).isInstanceOfSatisfying(TypicalAcceptanceLossy.class, t -> {
            assertThat(t.posteriorThreshold()).isEqualTo(0.09);
            assertThat(t.posteriorAlpha()).isCloseTo(0.3, within(1e-12));
        });
        assertThat(AcceptancePolicies.byName("typical:0.16")).isInstanceOfSatisfying(TypicalAcceptanceLossy.class,
                t -> assertThat(t.posteriorAlpha()).isCloseTo(0.4, within(1e-12)));
        assertThat(AcceptancePolicies.byName("topk:3")).isInstanceOfSatisfying(TopKMatchAcceptanceLossy.class,
                t -> assertThat(t.k()).isEqualTo(3));
    }

    @Test
    void namesParseBack() {
        for (String name : new String[] {"greedy", "rejection", "typical", "typical:0.2:0.5", "topk:4"}) {
            assertThat(AcceptancePolicies.byName(name).name()).isEqualTo(name);
        }
    }

    @Test
    void unknownOrMalformedNamesFailClearly() {
        assertThatThrownBy(() -> AcceptancePolicies.byName("nucleus"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown acceptance policy 'nucleus'").hasMessageContaining("topk:N");
        assertThatThrownBy(() -> AcceptancePolicies.byName("topk"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected topk:N");
        assertThatThrownBy(() -> AcceptancePolicies.byName("topk:x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an integer");
        assertThatThrownBy(() -> AcceptancePolicies.byName("topk:0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k >= 1");
        assertThatThrownBy(() -> AcceptancePolicies.byName("greedy:2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("takes no parameters");
    }

    @Test
    void onlyGreedyAndRejectionAreLossless() {
        assertThat(AcceptancePolicies.byName("greedy").lossless()).isTrue();
        assertThat(AcceptancePolicies.byName("rejection").lossless()).isTrue();
        assertThat(AcceptancePolicies.byName("rejection").draftSamples()).isTrue();
        assertThat(AcceptancePolicies.byName("typical").lossless()).isFalse();
        assertThat(AcceptancePolicies.byName("topk:2").lossless()).isFalse();
    }

    @Test
    void typicalAcceptanceUsesTheEntropyThreshold() {
        TypicalAcceptanceLossy typical = new TypicalAcceptanceLossy();
        // flat over 4 tokens: H ≈ ln 4, α·e^-H ≈ 0.075 < ε = 0.09, so 0.25 and even 0.08 pass
        float[] flat = {0.25f, 0.25f, 0.25f, 0.25f};
        assertThat(typical.threshold(flat)).isCloseTo(0.3 * Math.exp(-entropy(flat)), within(1e-9));
        // peaked: H small, threshold capped at ε = 0.09; a token with p = 0.05 is rejected
        float[] peaked = {0.93f, 0.05f, 0.02f, 0f};
        assertThat(typical.threshold(peaked)).isEqualTo(0.09);

        Proposal accepted = proposal(new int[] {1}, flat, peaked);
        assertThat(typical.decide(accepted, random).accepted()).isEqualTo(1);
        Proposal rejected = proposal(new int[] {1}, peaked, flat);
        assertThat(typical.decide(rejected, random)).isEqualTo(new AcceptanceDecision(0, 0));
    }

    @Test
    void topKMatchAcceptsTokensAmongVerifysMostProbable() {
        float[] p = {0.1f, 0.4f, 0.3f, 0.2f, 0f};
        assertThat(new TopKMatchAcceptanceLossy(2).decide(proposal(new int[] {2}, p, p), random).accepted()).isEqualTo(1);
        assertThat(new TopKMatchAcceptanceLossy(2).decide(proposal(new int[] {3}, p, p), random))
                .isEqualTo(new AcceptanceDecision(0, 1));
        assertThat(new TopKMatchAcceptanceLossy(5).decide(proposal(new int[] {4}, p, p), random))
                .as("a zero-probability token is never a match").isEqualTo(new AcceptanceDecision(0, 1));
    }

    @Test
    void rejectionSamplingAcceptsWhenVerifyLikesTheTokenAtLeastAsMuch() {
        float[] q = {0.5f, 0.5f, 0f};
        float[] p = {0.6f, 0.4f, 0f};
        float[] bonus = {0f, 0f, 1f};
        for (int i = 0; i < 100; i++) {
            assertThat(RejectionSamplingAcceptance.INSTANCE.decide(proposal(new int[] {0}, p, bonus, q), random))
                    .isEqualTo(new AcceptanceDecision(1, 2));
        }
    }

    @Test
    void rejectionSamplingRecoversFromTheResidualOnly() {
        // p(1) = 0 always rejects token 1; the residual max(0, p − q) is all on token 0
        float[] q = {0.2f, 0.8f};
        float[] p = {1f, 0f};
        for (int i = 0; i < 100; i++) {
            assertThat(RejectionSamplingAcceptance.INSTANCE.decide(proposal(new int[] {1}, p, p, q), random))
                    .isEqualTo(new AcceptanceDecision(0, 0));
        }
    }

    /** A one-token proposal over probability rows, with the draft distribution equal to the verify one. */
    private static Proposal proposal(int[] tokens, float[] verify0, float[] verify1) {
        return proposal(tokens, verify0, verify1, verify0);
    }

    private static Proposal proposal(int[] tokens, float[] verify0, float[] verify1, float[] draft0) {
        return new Proposal(tokens, new float[][] {draft0}, new float[][] {verify0, verify1}, p -> p);
    }

    private static double entropy(float[] p) {
        double h = 0;
        for (float x : p) {
            if (x > 0) {
                h -= x * Math.log(x + 1e-5);
            }
        }
        return h;
    }
}
