package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.FinishReason;
import io.qspec.GenerationHandle;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecException;
import io.qspec.QSpecEngine;
import io.qspec.StreamHandler;
import io.qspec.accept.AcceptanceDecision;
import io.qspec.accept.AcceptancePolicy;
import io.qspec.accept.Proposal;
import io.qspec.backend.Backend;
import io.qspec.draft.DraftLengthPolicy;
import io.qspec.backend.SequenceInput;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ByteTokenizer;
import io.qspec.synthetic.ModelShape;
import io.qspec.synthetic.SyntheticModels;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pass that fails (as one whose prompt runs the device out of memory would), or a caller's handler that throws,
 * fails its own requests and no others: requests decoding meanwhile finish with the tokens they would have had alone.
 */
class FailedPassIsolationTest {
    /** A prompt whose second token is this fails its prefill. */
    private static final int POISON = 7;

    private static Model model;

    @BeforeAll
    static void build() {
        model = SyntheticModels.build(ModelShape.TINY, QuantScheme.DEFAULT, 7);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)  // a scheduler killed by the failure would leave join() waiting
    void aFailedPrefillFailsOnlyItsOwnRequest() throws Exception {
        for (DecodingMode mode : List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()))) {
            int[] prompt = {ByteTokenizer.BOS, 40, 51, 62};
            GenerationResult alone;
            try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
                alone = engine.generate(GenerationRequest.builder(prompt).maxTokens(120).mode(mode).ignoreEos(true).build());
            }
            try (QSpecEngine engine = QSpecEngine.builder(model).backend(failingPrefills()).build()) {
                CountDownLatch decoding = new CountDownLatch(1);
                GenerationHandle survivor = engine.submit(GenerationRequest.builder(prompt).maxTokens(120).mode(mode)
                        .ignoreEos(true).build(), new StreamHandler() {
                            @Override
                            public void onText(String text) {
                                decoding.countDown();
                            }
                        });
                assertThat(decoding.await(2, TimeUnit.MINUTES)).isTrue();
                GenerationHandle poisoned = engine.submit(GenerationRequest.builder(new int[] {ByteTokenizer.BOS, POISON, 40})
                        .maxTokens(10).mode(mode).build(), StreamHandler.NONE);

                assertThatThrownBy(poisoned::join).isInstanceOf(QSpecException.class).hasMessageContaining("simulated");
                GenerationResult result = survivor.join();
                assertThat(result.finishReason()).as("%s", mode).isEqualTo(FinishReason.MAX_TOKENS);
                assertThat(result.tokenIds()).as("%s", mode).containsExactly(alone.tokenIds());
                assertThat(engine.runner().availableKvPositions()).isEqualTo(engine.runner().totalKvPositions());
            }
        }
    }

    /**
     * A caller's handler that throws fails only that caller's request, with the handler's exception, even in the same
     * batched pass as others; one whose onComplete or onError throws leaves the result standing and the engine serving.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aThrowingStreamHandlerFailsOnlyItsOwnRequest() {
        int[] prompt = {ByteTokenizer.BOS, 40, 51, 62};
        GenerationRequest request = GenerationRequest.builder(prompt).maxTokens(40).ignoreEos(true).build();
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            GenerationResult alone = engine.generate(request);
            GenerationHandle throwing = engine.submit(request, new StreamHandler() {
                @Override
                public void onText(String text) {
                    throw new IllegalStateException("the caller's UI is gone");
                }
            });
            GenerationHandle neighbour = engine.submit(request, StreamHandler.NONE);
            assertThatThrownBy(throwing::join).isInstanceOf(IllegalStateException.class)
                    .hasMessage("the caller's UI is gone");
            assertThat(neighbour.join().tokenIds()).containsExactly(alone.tokenIds());

            GenerationResult kept = engine.submit(request, new StreamHandler() {
                @Override
                public void onComplete(GenerationResult result) {
                    throw new IllegalStateException("listener bug");
                }
            }).join();
            assertThat(kept.tokenIds()).containsExactly(alone.tokenIds());
            assertThat(engine.generate(request).tokenIds()).as("the engine still serves").containsExactly(alone.tokenIds());
            assertThat(engine.runner().availableKvPositions()).isEqualTo(engine.runner().totalKvPositions());
        }
    }

    /**
     * A request's own plug-ins (acceptance and draft-length policies) that throw or break their contract fail that
     * request alone, with a message naming the policy; QSpec requests in the same speculative round go on.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aBrokenPolicyFailsOnlyItsOwnRequest() {
        int[] prompt = {ByteTokenizer.BOS, 40, 51, 62};
        DecodingMode.Speculative qspec = (DecodingMode.Speculative) DecodingMode.qspec(DraftMode.a8());
        GenerationRequest normal = GenerationRequest.builder(prompt).maxTokens(40).ignoreEos(true).mode(qspec).build();
        AcceptancePolicy throwing = policy("throwing", (proposal, random) -> {
            throw new IllegalStateException("policy bug");
        });
        AcceptancePolicy overAccepting = policy("over-accepting", (proposal, random) ->
                new AcceptanceDecision(proposal.gamma() + 5, 1));
        AcceptancePolicy outsideVocabulary = policy("outside-vocabulary", (proposal, random) ->
                new AcceptanceDecision(0, 1_000_000));
        DraftLengthPolicy tooLong = new DraftLengthPolicy() {
            @Override
            public int nextGamma(io.qspec.draft.DraftHistory history, int maxGamma) {
                return maxGamma + 7;
            }

            @Override
            public String name() {
                return "too-long";
            }
        };
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            GenerationResult alone = engine.generate(normal);
            List<GenerationHandle> broken = new java.util.ArrayList<>();
            for (DecodingMode.Speculative mode : List.of(qspec.withAcceptance(throwing), qspec.withAcceptance(overAccepting),
                    qspec.withAcceptance(outsideVocabulary), qspec.withDraftLength(tooLong))) {
                broken.add(engine.submit(GenerationRequest.builder(prompt).maxTokens(40).mode(mode).build(),
                        StreamHandler.NONE));
            }
            GenerationHandle neighbour = engine.submit(normal, StreamHandler.NONE);
            assertThatThrownBy(broken.get(0)::join).hasMessage("policy bug");
            assertThatThrownBy(broken.get(1)::join).hasMessageContaining("over-accepting accepted 8 of 3");
            assertThatThrownBy(broken.get(2)::join).hasMessageContaining("outside-vocabulary chose token 1000000");
            assertThatThrownBy(broken.get(3)::join).hasMessageContaining("too-long chose γ = 10; it must be in [1, 3]");
            assertThat(neighbour.join().tokenIds()).containsExactly(alone.tokenIds());
            assertThat(engine.runner().availableKvPositions()).isEqualTo(engine.runner().totalKvPositions());
        }
    }

    /** Handlers run on the engine's thread: what would wait for that thread is refused there, and Errors are contained. */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    @SuppressWarnings("try")  // the handler closes the engine on purpose
    void handlersCannotStopTheEngine() {
        int[] prompt = {ByteTokenizer.BOS, 40, 51, 62};
        GenerationRequest request = GenerationRequest.builder(prompt).maxTokens(20).ignoreEos(true).build();
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            GenerationResult alone = engine.generate(request);
            GenerationHandle reentrant = engine.submit(request, new StreamHandler() {
                @Override
                public void onText(String text) {
                    engine.generate(request);
                }
            });
            assertThatThrownBy(reentrant::join).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("generate() was called from a StreamHandler callback");
            GenerationHandle closing = engine.submit(request, new StreamHandler() {
                @Override
                public void onText(String text) {
                    engine.close();
                }
            });
            assertThatThrownBy(closing::join).hasMessageContaining("close() was called from a StreamHandler callback");
            GenerationResult kept = engine.submit(request, new StreamHandler() {
                @Override
                public void onComplete(GenerationResult result) {
                    throw new AssertionError("listener bug");
                }
            }).join();
            assertThat(kept.tokenIds()).containsExactly(alone.tokenIds());
            assertThat(engine.generate(request).tokenIds()).as("the engine still serves").containsExactly(alone.tokenIds());
        }
    }

    private static AcceptancePolicy policy(String name, java.util.function.BiFunction<Proposal, RandomGenerator,
            AcceptanceDecision> decide) {
        return new AcceptancePolicy() {
            @Override
            public AcceptanceDecision decide(Proposal proposal, RandomGenerator random) {
                return decide.apply(proposal, random);
            }

            @Override
            public boolean draftSamples() {
                return false;
            }

            @Override
            public boolean lossless() {
                return false;
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    /** The CPU backend, except that a pass holding a prompt whose second token is {@link #POISON} throws. */
    private static Backend failingPrefills() {
        return new HookedCpuBackend((kind, batch) -> {
            for (SequenceInput in : batch) {
                if (in.tokens().length > 1 && in.tokens()[1] == POISON) {
                    throw new QSpecException("device out of memory (simulated) for a prompt of " + in.tokens().length);
                }
            }
        });
    }
}
