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
import io.qspec.backend.Backend;
import io.qspec.backend.SequenceInput;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ByteTokenizer;
import io.qspec.synthetic.ModelShape;
import io.qspec.synthetic.SyntheticModels;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
