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
import io.qspec.QSpecEngine;
import io.qspec.StreamHandler;
import io.qspec.kv.KvCacheExhaustedException;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ByteTokenizer;
import io.qspec.synthetic.ModelShape;
import io.qspec.synthetic.SyntheticModels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many requests through one engine: batching changes no request's tokens, and KV memory comes back. */
class ContinuousBatchingTest {
    private static Model model;

    @BeforeAll
    static void build() {
        model = SyntheticModels.build(ModelShape.TINY, QuantScheme.DEFAULT, 7);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] prompt(int i) {
        int[] p = new int[3 + i % 5];
        p[0] = ByteTokenizer.BOS;
        for (int j = 1; j < p.length; j++) {
            p[j] = 32 + (i * 7 + j * 13) % 90;
        }
        return p;
    }

    @Test
    void sixteenConcurrentQSpecRequestsEqualTheirPlainW4A16RunsAlone() throws Exception {
        int requests = 16;
        List<int[]> alone = new ArrayList<>();
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            for (int i = 0; i < requests; i++) {
                alone.add(engine.generate(GenerationRequest.builder(prompt(i)).maxTokens(12 + i % 4)
                        .mode(DecodingMode.plain(Precision.W4A16)).build()).tokenIds());
            }
        }
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build();
             ExecutorService pool = Executors.newFixedThreadPool(requests)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                int id = i;
                DraftMode draft = id % 2 == 0 ? DraftMode.a8() : DraftMode.a4().withGamma(2 + id % 3);
                futures.add(pool.submit(() -> {
                    start.await();
                    return engine.generate(GenerationRequest.builder(prompt(id)).maxTokens(12 + id % 4)
                            .mode(DecodingMode.qspec(draft)).build());
                }));
            }
            start.countDown();
            for (int i = 0; i < requests; i++) {
                GenerationResult r = futures.get(i).get(5, TimeUnit.MINUTES);
                assertThat(r.tokenIds()).as("request %d", i).containsExactly(alone.get(i));
            }
            assertThat(engine.metrics().maxBatch()).as("requests were batched together").isGreaterThan(1);
            assertThat(engine.metrics().kvPositionsUsed()).isZero();
        }
    }

    @Test
    void speculationGatesKeepTheTokensAndALimitStopsDraftingInLargeBatches() throws Exception {
        int requests = 8;
        List<int[]> alone = new ArrayList<>();
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            for (int i = 0; i < requests; i++) {
                alone.add(engine.generate(GenerationRequest.builder(prompt(i)).maxTokens(16)
                        .mode(DecodingMode.plain(Precision.W4A16)).build()).tokenIds());
            }
        }
        Map<String, UnaryOperator<QSpecEngine.Builder>> gates = new LinkedHashMap<>();
        gates.put("limit 0", b -> b.speculationBatchLimit(0));
        gates.put("limit 3", b -> b.speculationBatchLimit(3));
        gates.put("measured", b -> b.speculationGate(SpeculationGate.measured()));
        for (var gate : gates.entrySet()) {
            String label = gate.getKey();
            try (QSpecEngine engine = gate.getValue().apply(QSpecEngine.builder(model).backend("cpu")).build();
                 ExecutorService pool = Executors.newFixedThreadPool(requests)) {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<GenerationResult>> futures = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    int id = i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        return engine.generate(GenerationRequest.builder(prompt(id)).maxTokens(16)
                                .mode(DecodingMode.qspec(DraftMode.a8())).build());
                    }));
                }
                start.countDown();
                long drafted = 0;
                for (int i = 0; i < requests; i++) {
                    GenerationResult r = futures.get(i).get(5, TimeUnit.MINUTES);
                    assertThat(r.tokenIds()).as("%s, request %d", label, i).containsExactly(alone.get(i));
                    drafted += r.speculation().drafted();
                }
                if (label.equals("limit 0")) {
                    assertThat(drafted).as("limit 0 never drafts").isZero();
                }
            }
        }
        assertThatThrownBy(() -> QSpecEngine.builder(model).speculationBatchLimit(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sixteenConcurrentRequestsOnARealModelEqualTheirPlainRunsAlone() throws Exception {
        try (Model real = Model.load(io.qspec.TestModels.stories260K());
             QSpecEngine engine = QSpecEngine.builder(real).backend("cpu").build();
             ExecutorService pool = Executors.newFixedThreadPool(16)) {
            String[] prompts = {"Once upon a time", "The little dog", "Lily wanted to", "Tom had a toy"};
            List<int[]> alone = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                alone.add(engine.generate(GenerationRequest.builder(prompts[i % 4]).maxTokens(20 + i)
                        .mode(DecodingMode.plain(Precision.W4A16)).build()).tokenIds());
            }
            List<Future<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int id = i;
                futures.add(pool.submit(() -> engine.generate(GenerationRequest.builder(prompts[id % 4]).maxTokens(20 + id)
                        .mode(DecodingMode.qspec(id % 2 == 0 ? DraftMode.a8() : DraftMode.a4())).build())));
            }
            for (int i = 0; i < 16; i++) {
                assertThat(futures.get(i).get(5, TimeUnit.MINUTES).tokenIds()).as("request %d", i).containsExactly(alone.get(i));
            }
        }
    }

    @Test
    void cancellationReturnsTheKvBlocksAtOnce() throws Exception {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            long total = engine.runner().totalKvPositions();
            AtomicReference<GenerationHandle> handle = new AtomicReference<>();
            CountDownLatch firstText = new CountDownLatch(1);
            GenerationHandle h = engine.submit(GenerationRequest.builder(prompt(3)).maxTokens(500).build(), new StreamHandler() {
                @Override
                public void onText(String text) {
                    firstText.countDown();
                }
            });
            handle.set(h);
            assertThat(firstText.await(2, TimeUnit.MINUTES)).isTrue();
            assertThat(engine.runner().availableKvPositions()).isLessThan(total);
            h.cancel();
            GenerationResult r = h.join();
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(r.generatedTokens()).isLessThan(500);
            assertThat(engine.runner().availableKvPositions()).isEqualTo(total);
        }
    }

    @Test
    void requestsWaitForKvMemoryAndOneThatCanNeverFitIsRejected() {
        long perPosition = 2L * model.config().layers() * model.config().kvDim() * Float.BYTES;
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").kvCacheBytes(perPosition * 64).build()) {
            assertThatThrownBy(() -> engine.submit(GenerationRequest.builder(prompt(1)).maxTokens(100).build(), StreamHandler.NONE))
                    .isInstanceOf(KvCacheExhaustedException.class)
                    .hasMessageContaining("KV");
            // each needs ~40 positions of 64: they must run one after another, and all finish
            List<GenerationHandle> handles = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                handles.add(engine.submit(GenerationRequest.builder(prompt(i)).maxTokens(30).build(), StreamHandler.NONE));
            }
            for (GenerationHandle h : handles) {
                assertThat(h.join().finishReason()).isIn(FinishReason.MAX_TOKENS, FinishReason.EOS);
            }
            assertThat(engine.metrics().maxBatch()).isEqualTo(1);
        }
    }

    @Test
    void aKvBudgetTheHeapCannotHoldIsRefusedWhenTheEngineIsBuilt() {
        assertThatThrownBy(() -> QSpecEngine.builder(model).backend("cpu").kvCacheBytes(Long.MAX_VALUE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Java heap");
    }

    @Test
    void stopTokenIdsOutsideTheVocabularyAreRefusedAtSubmit() {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cpu").build()) {
            assertThatThrownBy(() -> engine.submit(GenerationRequest.builder(prompt(1)).stopTokenIds(3, 1_000_000).build(),
                    StreamHandler.NONE)).isInstanceOf(io.qspec.InvalidRequestException.class)
                    .hasMessageContaining("stop token id 1000000");
        }
    }

    @Test
    void aModelClosesOnceHoweverOftenItIsClosed() {
        Model twice = Model.load(io.qspec.TestModels.stories260K());  // a mapped file and an arena behind it
        twice.close();
        twice.close();
    }
}
