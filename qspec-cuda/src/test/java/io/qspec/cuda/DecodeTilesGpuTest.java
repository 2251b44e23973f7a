package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationHandle;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.StreamHandler;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Decode and verify attention at Llama's head size (128) and grouping (4 q heads a kv head), through the engine, on a
 * random model: the shape the decode tiles serve. By default they take the tokens of 512 positions or more; the
 * environment of the JVM may move that ({@code QSPEC_ATTENTION_DECODE_TILES_FROM=256}, so that the short prompts'
 * generations cross it too), put every token on them ({@code QSPEC_ATTENTION_DECODE_TILES=all}) or none ({@code =0}),
 * and each must pass the same checks. Prompts of 250-262 tokens, so that decode steps and verify runs cross the
 * attention's split of 256 positions, and 9 tokens short of the library's threshold and 6 past it (503 and 518 at
 * the default), so that one generation crosses it and one starts past it.
 *
 * <ul>
 *   <li>QSpec's greedy tokens equal plain W4A16's (A8 and A4 drafts): a verify run's attention has its decode's
 *       bits, also where a generation crosses the threshold and its passes' context bounds change.</li>
 *   <li>A sequence's greedy tokens are the same alone and in a batch (plain W4A16 and QSpec-A8): no token's
 *       attention depends on the other sequences of the pass, nor on whether they lie on its side of the
 *       threshold.</li>
 * </ul>
 */
@Tag("gpu")
class DecodeTilesGpuTest {
    /** head_dim 128 (dim 512 over 4 heads), one kv head: the 4 heads of a kv head, as Llama-3-8B's. */
    private static final int HEADS = 4, KV_HEADS = 1, HEAD_DIM = 128;
    private static final int[] PROMPT_LENGTHS = {250, 255, 262};
    private static final int NEW_TOKENS = 20;

    /** The model's shape, its context 256 positions past the threshold. */
    private static ModelConfig llamaHeads;
    /** About the threshold: a generation that crosses it, one past it from the start. */
    private static int[] longPromptLengths;
    private static Model model;

    @BeforeAll
    static void requireGpu() {
        GpuTests.usableBackend();
        int threshold = GpuTests.decodeTilesThreshold(HEADS, KV_HEADS, HEAD_DIM);
        llamaHeads = new ModelConfig("llama", HEADS * HEAD_DIM, 1024, 2, HEADS, KV_HEADS, HEAD_DIM, 300,
                threshold + 256, 1e-5f, 500000f, RopeStyle.HALF_SPLIT, Optional.empty(), false);
        longPromptLengths = new int[] {threshold - 9, threshold + 6};
        model = RandomModels.build(llamaHeads, 128, 17);
        System.out.println("decode tiles test: QSPEC_ATTENTION_DECODE_TILES="
                + System.getenv().getOrDefault("QSPEC_ATTENTION_DECODE_TILES", "(unset: the default)")
                + ", from " + Kernels.decodeTilesFrom(HEADS, KV_HEADS, HEAD_DIM) + " positions");
    }

    @AfterAll
    static void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    private static int[] prompt(int length, long seed) {
        return RandomModels.prompt(llamaHeads, length, seed);
    }

    private static GenerationRequest request(int[] prompt, DecodingMode mode) {
        return GenerationRequest.builder(prompt).maxTokens(NEW_TOKENS).ignoreEos(true).mode(mode).build();
    }

    @Test
    void qspecTokensEqualW4A16Tokens() {
        qspecTokensEqualW4A16Tokens(PROMPT_LENGTHS);
    }

    @Test
    void qspecTokensEqualW4A16TokensAboutTheThreshold() {
        qspecTokensEqualW4A16Tokens(longPromptLengths);
    }

    @Test
    void aSequencesTokensAreTheSameAloneAndInABatch() {
        sameAloneAndInABatch(PROMPT_LENGTHS);
    }

    @Test
    void aSequencesTokensAreTheSameAloneAndInABatchOnBothSidesOfTheThreshold() {
        sameAloneAndInABatch(new int[] {40, longPromptLengths[1]});
    }

    private static void qspecTokensEqualW4A16Tokens(int[] lengths) {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            for (int length : lengths) {
                int[] prompt = prompt(length, length);
                GenerationResult plain = engine.generate(request(prompt, DecodingMode.plain(Precision.W4A16)));
                for (DraftMode draft : List.of(DraftMode.a8(), DraftMode.a4())) {
                    GenerationResult spec = engine.generate(request(prompt, DecodingMode.qspec(draft)));
                    assertThat(spec.tokenIds()).as("%s tokens after a %d-token prompt", draft, length)
                            .containsExactly(plain.tokenIds());
                    assertThat(spec.speculation().drafted()).isPositive();
                }
            }
        }
    }

    private static void sameAloneAndInABatch(int[] lengths) {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            for (DecodingMode mode : List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()))) {
                List<int[]> alone = new ArrayList<>();
                for (int length : lengths) {
                    alone.add(engine.generate(request(prompt(length, length), mode)).tokenIds());
                }
                List<GenerationHandle> batch = new ArrayList<>();
                for (int length : lengths) {
                    batch.add(engine.submit(request(prompt(length, length), mode), StreamHandler.NONE));
                }
                for (int s = 0; s < lengths.length; s++) {
                    assertThat(batch.get(s).join().tokenIds()).as("%s, the %d-token prompt in a batch", mode,
                            lengths[s]).containsExactly(alone.get(s));
                }
            }
        }
    }
}
