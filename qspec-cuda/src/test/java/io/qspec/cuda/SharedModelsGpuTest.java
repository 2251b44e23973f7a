package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qspec.DecodingMode;
import io.qspec.DraftMode;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.Precision;
import io.qspec.QSpecEngine;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.SequenceInput;
import io.qspec.cpu.CpuBackend;
import io.qspec.engine.TokenChoice;
import io.qspec.kv.KvCache;
import io.qspec.model.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two real shared models on the GPU: QSpec's tokens equal plain W4A16's (A8 and A4 drafts), and
 * the GPU agrees with the CPU backend (logits within tolerance, same greedy tokens unless the two
 * part at a near-tie, whose gap is then printed and bounded). Skipped where no GPU or no models.
 *
 * <p>Tolerance for GPU vs CPU logits, as max |gpu - cpu| / max |cpu| over all rows: W4A16 1e-2 (the
 * GPU rounds activations to fp16 between layers, the CPU keeps fp32; measured 1.3e-3 and 7.9e-4).
 * The draft precisions quantize those slightly different activations, and one value rounding the
 * other way at a quantization boundary moves a logit by a whole step, which later layers amplify:
 * W4A8 6e-2 (measured 3.7e-2 and 2.6e-2), W4A4 5e-1 (measured 4.7e-1 and 3.4e-1). Drafts only propose;
 * the verify precision, W4A16, is the one whose tokens must agree.
 */
@Tag("gpu")
class SharedModelsGpuTest {
    static final List<String> PROMPTS = List.of(
            "Once upon a time", "The little dog", "Lily wanted to", "One day, a boy named Tim",
            "The sun was shining and", "Mom said", "There was a big red ball", "The cat and the bird",
            "Sam liked to play", "In the park, there", "The girl was sad because", "A tiny fish",
            "Ben and his friend", "It was a rainy day", "The old man had", "She looked at the sky and",
            "They went to the store", "The bear was hungry", "Once there was a car that", "He found a shiny",
            "The flowers in the garden", "Tom had a toy");
    private static final int MAX_TOKENS = 40;
    /** A greedy divergence is accepted only where the two logits at the split differ by less than this. */
    private static final double NEAR_TIE = 2e-2;

    static Stream<Arguments> models() {
        return Stream.of(Arguments.of("stories260K/stories260K.gguf"), Arguments.of("TinyStories-656K"));
    }

    private static Path model(String relative) {
        Path dir = Path.of(System.getProperty("qspec.models.dir", "../shared/models")).toAbsolutePath().normalize();
        Path p = dir.resolve(relative);
        assumeTrue(Files.exists(p), () -> "test model not found at " + p + " (set -Dqspec.models.dir)");
        GpuTests.usableBackend();
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void qspecTokensEqualGpuW4A16Tokens(String relative) {
        try (Model model = Model.load(model(relative));
             QSpecEngine engine = QSpecEngine.builder(model).backend("cuda").build()) {
            assertThat(engine.backendName()).isEqualTo("cuda");
            for (DraftMode draft : List.of(DraftMode.a8(), DraftMode.a4())) {
                long drafted = 0;
                long accepted = 0;
                int equal = 0;
                for (String prompt : PROMPTS) {
                    GenerationResult plain = engine.generate(GenerationRequest.builder(prompt).maxTokens(MAX_TOKENS)
                            .mode(DecodingMode.plain(Precision.W4A16)).build());
                    GenerationResult spec = engine.generate(GenerationRequest.builder(prompt).maxTokens(MAX_TOKENS)
                            .mode(DecodingMode.qspec(draft)).build());
                    assertThat(spec.tokenIds()).as("%s QSpec tokens for '%s'", draft, prompt)
                            .containsExactly(plain.tokenIds());
                    equal++;
                    drafted += spec.speculation().drafted();
                    accepted += spec.speculation().accepted();
                }
                System.out.printf("%s on GPU, %s: QSpec = W4A16 on %d/%d prompts, acceptance %.3f%n",
                        relative, draft, equal, PROMPTS.size(), (double) accepted / drafted);
                assertThat(drafted).isPositive();
                assertThat(accepted).isPositive();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void gpuLogitsAndGreedyTokensMatchTheCpu(String relative) {
        try (Model model = Model.load(model(relative));
             ModelRunner gpu = new CudaBackend().open(model);
             ModelRunner cpu = new CpuBackend().open(model)) {
            for (Precision precision : List.of(Precision.W4A16, Precision.W4A8, Precision.W4A4)) {
                double worst = 0;
                for (String prompt : PROMPTS.subList(0, 6)) {
                    int[] ids = model.tokenizer().encode(prompt, true);
                    try (KvCache g = gpu.newCache(64); KvCache c = cpu.newCache(64)) {
                        Logits gl = gpu.forward(List.of(new SequenceInput(g, ids, true)), precision);
                        Logits cl = cpu.forward(List.of(new SequenceInput(c, ids, true)), precision);
                        for (int r = 0; r < ids.length; r++) {
                            worst = Math.max(worst, CudaModelRunnerGpuTest.relativeError(gl.row(0, r), cl.row(0, r)));
                        }
                    }
                }
                System.out.printf("%s %s: GPU vs CPU max relative logit error %.3e%n", relative, precision, worst);
                assertThat(worst).isLessThan(tolerance(precision));
            }
            int same = 0;
            for (String prompt : PROMPTS) {
                int[] ids = model.tokenizer().encode(prompt, true);
                Divergence d = greedyDivergence(gpu, cpu, ids, MAX_TOKENS);
                if (d == null) {
                    same++;
                } else {
                    System.out.printf("%s '%s': GPU and CPU part at token %d (gpu %d, cpu %d), logit gap %.3e%n",
                            relative, prompt, d.position, d.gpuToken, d.cpuToken, d.gap);
                    assertThat(d.gap).as("logit gap where GPU and CPU greedy part").isLessThan(NEAR_TIE);
                }
            }
            System.out.printf("%s: GPU W4A16 greedy = CPU W4A16 greedy on %d/%d prompts%n", relative, same, PROMPTS.size());
        }
    }

    private record Divergence(int position, int gpuToken, int cpuToken, double gap) {
    }

    /** Greedy W4A16 on both runners; the first position where they pick differently, or null. */
    private static Divergence greedyDivergence(ModelRunner gpu, ModelRunner cpu, int[] prompt, int steps) {
        try (KvCache g = gpu.newCache(prompt.length + steps); KvCache c = cpu.newCache(prompt.length + steps)) {
            int[] gIn = prompt;
            int[] cIn = prompt;
            for (int step = 0; step < steps; step++) {
                float[] gRow = gpu.forward(List.of(new SequenceInput(g, gIn, false)), Precision.W4A16).row(0, 0);
                float[] cRow = cpu.forward(List.of(new SequenceInput(c, cIn, false)), Precision.W4A16).row(0, 0);
                int gt = TokenChoice.argmax(gRow);
                int ct = TokenChoice.argmax(cRow);
                if (gt != ct) {
                    double scale = 0;
                    for (float v : cRow) {
                        scale = Math.max(scale, Math.abs(v));
                    }
                    // how far apart the two candidates are, in either backend's view, relative to the logit scale
                    double gap = Math.max(Math.abs(gRow[gt] - gRow[ct]), Math.abs(cRow[gt] - cRow[ct])) / scale;
                    return new Divergence(step, gt, ct, gap);
                }
                gIn = new int[] {gt};
                cIn = new int[] {ct};
            }
            return null;
        }
    }

    private static double tolerance(Precision precision) {
        return switch (precision) {
            case W4A16 -> 1e-2;
            case W4A8 -> 6e-2;
            default -> 5e-1;
        };
    }
}
