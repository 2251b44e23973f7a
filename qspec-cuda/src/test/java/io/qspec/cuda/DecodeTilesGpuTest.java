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
 * random model: the shape the decode tiles serve ({@code QSPEC_ATTENTION_DECODE_TILES=all}, or {@code =1} with
 * {@code QSPEC_ATTENTION_DECODE_TILES_FROM=256} so that generations cross from the row kernels to the tiles, in the
 * environment of the JVM; without it the row kernels, which must pass the same checks). Prompts of 250-262 tokens, so
 * that decode steps and verify runs cross the attention's split of 256 positions.
 *
 * <ul>
 *   <li>QSpec's greedy tokens equal plain W4A16's (A8 and A4 drafts): a verify run's attention has its decode's
 *       bits.</li>
 *   <li>A sequence's greedy tokens are the same alone and in a batch of three (plain W4A16 and QSpec-A8): no token's
 *       attention depends on the other sequences of the pass.</li>
 * </ul>
 */
@Tag("gpu")
class DecodeTilesGpuTest {
    /** head_dim 128 (dim 512 over 4 heads), one kv head: the 4 heads of a kv head, as Llama-3-8B's. */
    private static final ModelConfig LLAMA_HEADS = new ModelConfig("llama", 512, 1024, 2, 4, 1, 128, 300, 1024, 1e-5f,
            500000f, RopeStyle.HALF_SPLIT, Optional.empty(), false);
    private static final int[] PROMPT_LENGTHS = {250, 255, 262};
    private static final int NEW_TOKENS = 20;

    private static Model model;

    @BeforeAll
    static void requireGpu() {
        GpuTests.usableBackend();
        model = RandomModels.build(LLAMA_HEADS, 128, 17);
        System.out.println("decode tiles test: QSPEC_ATTENTION_DECODE_TILES="
                + System.getenv().getOrDefault("QSPEC_ATTENTION_DECODE_TILES", "(unset: the row kernels)"));
    }

    @AfterAll
    static void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    private static int[] prompt(int length, long seed) {
        return RandomModels.prompt(LLAMA_HEADS, length, seed);
    }

    private static GenerationRequest request(int[] prompt, DecodingMode mode) {
        return GenerationRequest.builder(prompt).maxTokens(NEW_TOKENS).ignoreEos(true).mode(mode).build();
    }

    @Test
    void qspecTokensEqualW4A16Tokens() {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            for (int length : PROMPT_LENGTHS) {
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

    @Test
    void aSequencesTokensAreTheSameAloneAndInABatch() {
        try (QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            for (DecodingMode mode : List.of(DecodingMode.plain(Precision.W4A16), DecodingMode.qspec(DraftMode.a8()))) {
                List<int[]> alone = new ArrayList<>();
                for (int length : PROMPT_LENGTHS) {
                    alone.add(engine.generate(request(prompt(length, length), mode)).tokenIds());
                }
                List<GenerationHandle> batch = new ArrayList<>();
                for (int length : PROMPT_LENGTHS) {
                    batch.add(engine.submit(request(prompt(length, length), mode), StreamHandler.NONE));
                }
                for (int s = 0; s < PROMPT_LENGTHS.length; s++) {
                    assertThat(batch.get(s).join().tokenIds()).as("%s, the %d-token prompt in a batch", mode,
                            PROMPT_LENGTHS[s]).containsExactly(alone.get(s));
                }
            }
        }
    }
}
