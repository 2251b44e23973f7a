package io.qspec.draft;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.VerifyMode;
import io.qspec.accept.StrictGreedyAcceptance;
import io.qspec.model.Model;
import org.junit.jupiter.api.Test;

/** Draft-length policies: their rules, and that any draft length keeps greedy QSpec lossless. */
class DraftLengthPolicyTest {

    @Test
    void adaptiveFollowsTheMovingAverageOfAcceptedTokens() {
        DraftHistory h = new DraftHistory();
        DraftLengthPolicy adaptive = DraftLengthPolicy.adaptive();
        assertThat(adaptive.nextGamma(h, 6)).as("starts at the maximum").isEqualTo(6);
        for (int i = 0; i < 20; i++) {
            h.record(6, 0);
        }
        assertThat(adaptive.nextGamma(h, 6)).as("after rejections: short drafts").isEqualTo(1);
        for (int i = 0; i < 20; i++) {
            h.record(6, 6);
        }
        assertThat(adaptive.nextGamma(h, 6)).as("after full acceptance: back to the maximum").isEqualTo(6);
        h.record(6, 2);
        assertThat(adaptive.nextGamma(h, 6)).isBetween(4, 6);
    }

    @Test
    void confidenceStopsBelowTheThreshold() {
        DraftLengthPolicy p = DraftLengthPolicy.confidence(0.6f);
        assertThat(p.usesConfidence()).isTrue();
        assertThat(p.keepDrafting(0.7f)).isTrue();
        assertThat(p.keepDrafting(0.5f)).isFalse();
        assertThat(p.nextGamma(new DraftHistory(), 5)).isEqualTo(5);
    }

    @Test
    void everyDraftLengthPolicyKeepsGreedyQSpecEqualToW4A16() {
        try (Model model = Model.load(TestModels.tinyStories656K());
             QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            for (String prompt : new String[] {"Once upon a time", "The little dog", "Lily wanted to"}) {
                int[] plain = engine.generate(GenerationRequest.builder(prompt).maxTokens(40)
                        .mode(DecodingMode.plain(Precision.W4A16)).build()).tokenIds();
                for (DraftLengthPolicy policy : new DraftLengthPolicy[] {DraftLengthPolicy.adaptive(),
                        DraftLengthPolicy.confidence(0.5f)}) {
                    GenerationResult r = engine.generate(GenerationRequest.builder(prompt).maxTokens(40)
                            .mode(new DecodingMode.Speculative(new DraftMode(Precision.W4A4, 6), VerifyMode.w4a16(),
                                    StrictGreedyAcceptance.INSTANCE, policy)).build());
                    assertThat(r.tokenIds()).as("%s on '%s'", policy.name(), prompt).containsExactly(plain);
                    // W4A4 drafts are often rejected here, so neither policy keeps drafting 6 every round
                    assertThat((double) r.speculation().drafted() / r.speculation().rounds()).as(policy.name()).isLessThan(6);
                }
            }
        }
    }
}
