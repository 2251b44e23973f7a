package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.TestModels;
import io.qspec.backend.Backend;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.Logits;
import io.qspec.model.Model;
import io.qspec.sampling.SamplingParams;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Greedy steps ask the backend for argmax tokens only ({@link ModelRunner#forwardGreedy}) and plain
 * sampling steps for drawn tokens ({@link ModelRunner#forwardSampled}), so a GPU can keep the logits on
 * the device; speculative rounds that sample still get logits. The tokens are the same.
 */
class GreedyTokensPathTest {

    @Test
    void argmaxTokensFollowTheLogitRowsWithTiesToTheLowestId() {
        float[] data = {
            1, 5, 5, 0,   // sequence 0 row 0: tie between 1 and 2
            9, 0, 0, 0,   // sequence 0 row 1
            0, 0, 0, 3};  // sequence 1 row 0
        GreedyTokens tokens = GreedyTokens.of(new Logits(data, 4, new int[] {0, 2}));
        assertThat(tokens.token(0, 0)).isEqualTo(1);
        assertThat(tokens.token(0, 1)).isEqualTo(0);
        assertThat(tokens.token(1, 0)).isEqualTo(3);
        assertThatThrownBy(() -> tokens.token(1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void greedyRequestsGetTokenIdsAndSampledOnesGetLogits() {
        AtomicInteger logitPasses = new AtomicInteger();
        AtomicInteger tokenPasses = new AtomicInteger();
        AtomicInteger sampledPasses = new AtomicInteger();
        try (Model model = Model.load(TestModels.stories260K());
             QSpecEngine counted = QSpecEngine.builder(model).backend(counting(logitPasses, tokenPasses, sampledPasses))
                     .build();
             QSpecEngine reference = QSpecEngine.builder(model).backend("cpu").build()) {
            for (DecodingMode mode : List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()),
                    DecodingMode.qspec(DraftMode.a4().withGamma(5)))) {
                GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(40).mode(mode).build();
                GenerationResult viaTokens = counted.generate(request);
                assertThat(viaTokens.tokenIds()).as("%s", mode).containsExactly(reference.generate(request).tokenIds());
            }
            assertThat(tokenPasses.get()).isPositive();
            assertThat(logitPasses.get()).as("greedy steps never fetch logits").isZero();

            GenerationRequest sampled = GenerationRequest.builder("Once upon a time").maxTokens(20)
                    .sampling(SamplingParams.builder().temperature(0.8).seed(7).build())
                    .mode(DecodingMode.qspec(DraftMode.a8())).build();
            assertThat(counted.generate(sampled).tokenIds()).containsExactly(reference.generate(sampled).tokenIds());
            assertThat(logitPasses.get()).as("speculative sampling compares draft and verify distributions").isPositive();

            // plain sampling, penalties included: every step a draw the backend takes where the logits are
            logitPasses.set(0);
            sampledPasses.set(0);
            GenerationRequest plainSampled = GenerationRequest.builder("Once upon a time").maxTokens(30)
                    .sampling(SamplingParams.builder().temperature(0.9).topP(0.9).repetitionPenalty(1.2).seed(11).build())
                    .mode(DecodingMode.plain(Precision.W4A16)).build();
            assertThat(counted.generate(plainSampled).tokenIds()).containsExactly(reference.generate(plainSampled).tokenIds());
            assertThat(sampledPasses.get()).as("prefill and every step").isEqualTo(30);
            assertThat(logitPasses.get()).as("plain sampling never asks for logit rows").isZero();
        }
    }

    @Test
    void drawsOnTheBackendGiveTheTokensOfTheSequencesOwnSampler() {
        // the engine's earlier path, choose(logits), against nextDraw() evaluated elsewhere: same tokens, same stream
        SamplingParams params = SamplingParams.builder().temperature(0.8).topK(20).minP(0.02).presencePenalty(0.5)
                .seed(3).build();
        SequenceSampler chooser = new SequenceSampler(params, new int[] {1, 2, 3});
        SequenceSampler drawer = new SequenceSampler(params, new int[] {1, 2, 3});
        java.util.SplittableRandom logits = new java.util.SplittableRandom(17);
        for (int step = 0; step < 300; step++) {
            float[] row = new float[50];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) logits.nextDouble(-4, 4);
            }
            int chosen = chooser.choose(row);
            int drawn = drawer.nextDraw().choose(row);
            assertThat(drawn).as("step %d", step).isEqualTo(chosen);
            chooser.append(chosen);
            drawer.append(drawn);
        }
        SequenceSampler greedy = new SequenceSampler(SamplingParams.GREEDY, new int[] {1});
        assertThat(greedy.nextDraw().uniform()).as("a plain argmax takes no variate").isZero();
    }

    /** The CPU backend, counting which kind of pass the engine asks for. */
    private static Backend counting(AtomicInteger logitPasses, AtomicInteger tokenPasses, AtomicInteger sampledPasses) {
        return new HookedCpuBackend((kind, batch) -> (switch (kind) {
            case LOGITS -> logitPasses;
            case GREEDY -> tokenPasses;
            case SAMPLED -> sampledPasses;
        }).incrementAndGet());
    }
}
