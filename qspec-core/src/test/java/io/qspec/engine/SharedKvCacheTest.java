package io.qspec.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.accept.StrictGreedyAcceptance;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.quant.QuantScheme;
import io.qspec.synthetic.ModelShape;
import io.qspec.synthetic.SyntheticModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * QSpec's single KV cache on a random-weight model of a bigger shape: after speculative rounds,
 * every cached entry is bit-identical to the one plain W4A16 decoding writes — the verify pass
 * overwrote every draft entry it kept — and the generated tokens are identical.
 */
class SharedKvCacheTest {
    private static Model model;
    private static QSpecEngine engine;

    @BeforeAll
    static void build() {
        model = SyntheticModels.build(ModelShape.TINY, QuantScheme.DEFAULT, 42);
        engine = QSpecEngine.builder(model).backend("cpu").build();
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    @Test
    void verifiedEntriesEqualPlainW4A16Entries() {
        ModelRunner runner = engine.runner();
        int[] prompt = {ByteTokenizerIds.BOS, 72, 101, 108, 108, 111};
        try (KvCache plain = runner.newCache(64); KvCache shared = runner.newCache(64)) {
            int next = TokenChoice.argmax(runner.forward(List.of(new SequenceInput(plain, prompt, false)), Precision.W4A16).row(0, 0));
            int nextShared = TokenChoice.argmax(runner.forward(List.of(new SequenceInput(shared, prompt, false)), Precision.W4A16).row(0, 0));
            assertThat(nextShared).isEqualTo(next);

            List<Integer> speculated = new ArrayList<>();
            speculated.add(nextShared);
            int last = nextShared;
            for (int round = 0; round < 5; round++) {
                SpeculativeRound.Outcome o = SpeculativeRound.run(runner, shared, last, DraftMode.a4(), 3,
                        StrictGreedyAcceptance.INSTANCE, QSpecEngineProbabilities::softmax, new java.util.Random(1));
                assertThat(shared.length()).isEqualTo(prompt.length + speculated.size() - 1 + o.accepted() + 1);
                for (int t : o.tokens()) {
                    speculated.add(t);
                }
                last = o.tokens()[o.tokens().length - 1];
            }

            List<Integer> plainTokens = new ArrayList<>();
            plainTokens.add(next);
            while (plainTokens.size() < speculated.size()) {
                next = TokenChoice.argmax(runner.forward(List.of(new SequenceInput(plain, new int[] {next}, false)), Precision.W4A16).row(0, 0));
                plainTokens.add(next);
            }
            assertThat(speculated).containsExactlyElementsOf(plainTokens);

            float[] a = new float[plain.kvDim()];
            float[] b = new float[plain.kvDim()];
            for (int layer = 0; layer < plain.layers(); layer++) {
                for (int pos = 0; pos < shared.length(); pos++) {
                    plain.readKey(layer, pos, a);
                    shared.readKey(layer, pos, b);
                    assertThat(b).as("key layer %d pos %d", layer, pos).containsExactly(a);
                    plain.readValue(layer, pos, a);
                    shared.readValue(layer, pos, b);
                    assertThat(b).as("value layer %d pos %d", layer, pos).containsExactly(a);
                }
            }
        }
    }

    @Test
    void engineQSpecEqualsPlainOnRandomWeights() {
        for (int seed = 0; seed < 4; seed++) {
            int[] prompt = {ByteTokenizerIds.BOS, 10 + seed, 20 + seed, 30 + seed};
            GenerationResult plain = engine.generate(GenerationRequest.builder(prompt).maxTokens(24)
                    .mode(DecodingMode.plain(Precision.W4A16)).build());
            for (DraftMode d : List.of(DraftMode.a8(), DraftMode.a4(), DraftMode.a8().withGamma(6))) {
                GenerationResult spec = engine.generate(GenerationRequest.builder(prompt).maxTokens(24)
                        .mode(DecodingMode.qspec(d)).build());
                assertThat(spec.tokenIds()).as("draft %s prompt %d", d, seed).containsExactly(plain.tokenIds());
            }
        }
    }

    /** Ids of the synthetic byte tokenizer. */
    private static final class ByteTokenizerIds {
        static final int BOS = io.qspec.synthetic.ByteTokenizer.BOS;
    }

    /** The softmax the engine uses at temperature 1. */
    private static final class QSpecEngineProbabilities {
        static float[] softmax(float[] logits) {
            float max = Float.NEGATIVE_INFINITY;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            float[] p = new float[logits.length];
            double sum = 0;
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) Math.exp(logits[i] - max);
                sum += p[i];
            }
            for (int i = 0; i < p.length; i++) {
                p[i] /= (float) sum;
            }
            return p;
        }
    }
}
