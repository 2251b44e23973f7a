package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The prefill tiles (tensor-core attention for the tokens of a sequence with 64 or more in a pass: a prompt's prefill)
 * through the runner and the engine, on a random model whose head size the tiles take (64). A prompt of 100 tokens
 * takes them; decode steps and verify runs keep the row kernels.
 *
 * <ul>
 *   <li>The prefill's logits against the float64 reference: W4A16's tolerance, 1e-2 (the tiles round q and the
 *       softmax weights to fp16, which the GPU's activations are anyway).</li>
 *   <li>A prompt's logits have the same bits alone, beside a short prompt (the row kernels for the short one, the
 *       tiles for the long one in one pass) and beside another long prompt of its length (the tiles alone): batching
 *       never changes a sequence's tokens.</li>
 *   <li>QSpec's greedy tokens equal plain W4A16's after the long prompt (A8 and A4 drafts).</li>
 * </ul>
 */
@Tag("gpu")
class PrefillTilesGpuTest {
    /** head_dim 64 (dim 256 over 4 heads), grouped-query attention, half-split RoPE. */
    private static final ModelConfig TILED = new ModelConfig("llama", 256, 512, 2, 4, 2, 64, 300, 512, 1e-5f, 10000f,
            RopeStyle.HALF_SPLIT, Optional.empty(), false);
    private static final int LONG = 100;

    private static Model model;
    private static CudaBackend backend;

    @BeforeAll
    static void requireGpu() {
        backend = GpuTests.usableBackend();
        model = RandomModels.build(TILED, 64, 7);
    }

    @AfterAll
    static void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    private static int[] prompt(int length, long seed) {
        return RandomModels.prompt(TILED, length, seed);
    }

    @Test
    void aLongPromptsLogitsMatchTheFloat64Reference() {
        int[] prompt = prompt(LONG, 1);
        ReferenceLlama reference = new ReferenceLlama(model);
        double[][] expected = reference.forward(reference.newSequence(), prompt, Precision.W4A16);
        try (ModelRunner runner = backend.open(model); KvCache cache = runner.newCache(256)) {
            Logits logits = runner.forward(List.of(new SequenceInput(cache, prompt, true)), Precision.W4A16);
            double worst = 0;
            for (int r = 0; r < LONG; r++) {
                worst = Math.max(worst, CudaModelRunnerGpuTest.relativeError(logits.row(0, r), expected[r]));
            }
            System.out.printf("prefill tiles, %d-token prompt: max relative logit error %.3e%n", LONG, worst);
            assertThat(worst).isLessThan(1e-2);
        }
    }

    @Test
    void aLongPromptHasTheSameBitsAloneAndInABatch() {
        int[] longPrompt = prompt(LONG, 2);
        int[] sameLength = prompt(LONG, 3);
        int[] shortPrompt = prompt(10, 4);
        try (ModelRunner runner = backend.open(model)) {
            float[][] alone = logits(runner, List.of(longPrompt)).get(0);
            float[][] shortAlone = logits(runner, List.of(shortPrompt)).get(0);
            List<float[][]> mixed = logits(runner, List.of(shortPrompt, longPrompt));
            List<float[][]> uniform = logits(runner, List.of(sameLength, longPrompt));
            for (int r = 0; r < LONG; r++) {
                assertThat(mixed.get(1)[r]).as("row %d beside a short prompt", r).containsExactly(alone[r]);
                assertThat(uniform.get(1)[r]).as("row %d beside a prompt of its length", r).containsExactly(alone[r]);
            }
            for (int r = 0; r < shortPrompt.length; r++) {
                assertThat(mixed.get(0)[r]).as("short prompt row %d", r).containsExactly(shortAlone[r]);
            }
        }
    }

    /** Every logit row of each prompt, prefilled together in one pass. */
    private static List<float[][]> logits(ModelRunner runner, List<int[]> prompts) {
        List<KvCache> caches = prompts.stream().map(p -> runner.newCache(256)).toList();
        try {
            List<SequenceInput> inputs = new java.util.ArrayList<>();
            for (int s = 0; s < prompts.size(); s++) {
                inputs.add(new SequenceInput(caches.get(s), prompts.get(s), true));
            }
            Logits logits = runner.forward(inputs, Precision.W4A16);
            List<float[][]> rows = new java.util.ArrayList<>();
            for (int s = 0; s < prompts.size(); s++) {
                float[][] sequence = new float[prompts.get(s).length][];
                for (int r = 0; r < sequence.length; r++) {
                    sequence[r] = logits.row(s, r);
                }
                rows.add(sequence);
            }
            return rows;
        } finally {
            caches.forEach(KvCache::close);
        }
    }

    @Test
    void qspecTokensEqualW4A16TokensAfterALongPrompt() {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            for (long seed = 10; seed < 12; seed++) {
                int[] prompt = prompt(LONG, seed);
                GenerationResult plain = engine.generate(GenerationRequest.builder(prompt).maxTokens(24).ignoreEos(true)
                        .mode(DecodingMode.plain(Precision.W4A16)).build());
                for (DraftMode draft : List.of(DraftMode.a8(), DraftMode.a4())) {
                    GenerationResult spec = engine.generate(GenerationRequest.builder(prompt).maxTokens(24)
                            .ignoreEos(true).mode(DecodingMode.qspec(draft)).build());
                    assertThat(spec.tokenIds()).as("%s tokens after prompt %d", draft, seed)
                            .containsExactly(plain.tokenIds());
                    assertThat(spec.speculation().drafted()).isPositive();
                }
            }
        }
    }
}
