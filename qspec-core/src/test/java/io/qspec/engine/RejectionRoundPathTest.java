package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.VerifyMode;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.accept.RejectionSamplingAcceptance;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RejectionRound;
import io.qspec.backend.SequenceInput;
import io.qspec.cpu.CpuBackend;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.sampling.SamplingParams;
import io.qspec.sampling.TokenCounts;
import io.qspec.sampling.TokenDraw;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rounds with {@link RejectionSamplingAcceptance} go through {@link ModelRunner#newRejectionRound} (where
 * a GPU backend decides them on the device); any other policy goes through {@link Proposal}. With the same
 * seed both paths must give the same tokens: they take the same variates in the same order and follow
 * the same decision. A policy that only delegates to the built-in one forces the {@link Proposal} path.
 */
class RejectionRoundPathTest {
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

    /** The built-in decision behind another class, which the engine does not hand to the backend. */
    private static final AcceptancePolicy DELEGATING = new AcceptancePolicy() {
        @Override
        public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
            return RejectionSamplingAcceptance.INSTANCE.decide(proposal, random);
        }

        @Override
        public boolean draftSamples() {
            return true;
        }

        @Override
        public boolean lossless() {
            return true;
        }

        @Override
        public String name() {
            return "delegating";
        }
    };

    @Test
    void roundPathGivesThePolicyPathsTokens() {
        List<SamplingParams> settings = List.of(
                SamplingParams.builder().temperature(1.0).seed(1).build(),
                SamplingParams.builder().temperature(0.8).topK(20).topP(0.9).seed(2).build(),
                SamplingParams.builder().temperature(0.9).minP(0.05).repetitionPenalty(1.3).frequencyPenalty(0.2)
                        .presencePenalty(0.3).seed(3).build(),
                SamplingParams.builder().temperature(0).seed(4).build());
        int rounds = 0;
        for (SamplingParams base : settings) {
            for (DraftMode draft : List.of(new DraftMode(Precision.W4A4, 3), new DraftMode(Precision.W4A8, 2))) {
                for (long seed = 0; seed < 4; seed++) {
                    SamplingParams params = base.toBuilder().seed(base.seed() * 100 + seed).build();
                    int[] viaRound = generate(params, new DecodingMode.Speculative(draft, VerifyMode.w4a16(),
                            RejectionSamplingAcceptance.INSTANCE));
                    int[] viaPolicy = generate(params, new DecodingMode.Speculative(draft, VerifyMode.w4a16(), DELEGATING));
                    assertThat(viaRound).as("%s, %s, seed %d", params, draft, seed).containsExactly(viaPolicy);
                    rounds++;
                }
            }
        }
        assertThat(rounds).isEqualTo(32);
    }

    private static int[] generate(SamplingParams params, DecodingMode mode) {
        return engine.generate(GenerationRequest.builder("Once upon a time there was a").maxTokens(40).mode(mode)
                .sampling(params).build()).tokenIds();
    }

    @Test
    void hostRoundRefusesCallsThatDoNotMatchItsDrafts() {
        try (ModelRunner runner = new CpuBackend().open(model, io.qspec.backend.RunnerOptions.defaults());
             KvCache a = runner.newCache(64); KvCache b = runner.newCache(64)) {
            SamplingParams params = SamplingParams.builder().temperature(1.0).seed(5).build();
            TokenDraw draw = new TokenDraw(params, TokenCounts.EMPTY, 0.25);
            try (RejectionRound round = runner.newRejectionRound(2, 1)) {
                List<SequenceInput> one = List.of(new SequenceInput(a, new int[] {1}, false));
                assertThatThrownBy(() -> round.draft(one, Precision.W4A8, new int[] {2}, List.of(draw)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the round");
                assertThatThrownBy(() -> round.draft(one, Precision.W4A8, new int[] {0}, List.of()))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one lane and one draw");
                int[] drafted = round.draft(one, Precision.W4A8, new int[] {0}, List.of(draw));
                assertThatThrownBy(() -> round.draft(List.of(new SequenceInput(a, new int[] {drafted[0]}, false)),
                        Precision.W4A8, new int[] {0}, List.of(draw)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already has 1 drafts");
                a.truncate(0);
                List<SequenceInput> verify = List.of(new SequenceInput(a, new int[] {1, drafted[0]}, true),
                        new SequenceInput(b, new int[] {1, 7}, true));
                assertThatThrownBy(() -> round.verify(verify, List.of(List.of(draw, draw), List.of(draw, draw))))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lane 1 drafted nothing");
            }
            assertThatThrownBy(() -> runner.newRejectionRound(0, 3)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> runner.newRejectionRound(1, DraftMode.MAX_GAMMA + 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
