package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.Precision;
import io.qspec.backend.GreedyTokens;
import io.qspec.backend.Logits;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
import io.qspec.backend.SequenceInput;
import io.qspec.kv.KvCache;
import io.qspec.kv.KvCacheExhaustedException;
import io.qspec.model.Model;
import io.qspec.model.ModelConfig;
import io.qspec.model.RopeScaling;
import io.qspec.model.RopeStyle;
import io.qspec.sampling.LogitsProcessor;
import io.qspec.sampling.SamplingParams;
import io.qspec.sampling.TokenCounts;
import io.qspec.sampling.TokenDraw;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA runner against a float64 reference on small random models. Skipped (with the reason)
 * where the backend is unavailable.
 *
 * <p>Tolerances, as max |gpu - reference| / max |reference| over all logits: W4A16 1e-2 (fp32
 * accumulation in a different order than float64); W4A8 3e-2; W4A4 1.5e-1 (a 4-bit activation that
 * rounds the other way at a .5 boundary shifts a logit by a whole quantization step). FP32 (W16A16:
 * cuBLAS on dense fp16 weights, fp16 activations, fp32 accumulation) 1e-2 like W4A16, against the
 * reference with the dense weights rounded to fp16, or with the INT4 weights for an INT4-only model.
 */
@Tag("gpu")
class CudaModelRunnerGpuTest {
    private static final double A16_TOLERANCE = 1e-2;
    private static final double A8_TOLERANCE = 3e-2;
    private static final double A4_TOLERANCE = 1.5e-1;

    /** Padded groups (352 = 5.5 x 64), grouped-query attention, half-split RoPE. */
    private static final ModelConfig HALF_SPLIT = new ModelConfig("llama", 128, 352, 2, 4, 2, 32, 300, 256, 1e-5f,
            10000f, RopeStyle.HALF_SPLIT, Optional.empty(), false);
    /** Interleaved RoPE with Llama-3 scaling, group 32, multi-query attention. */
    private static final ModelConfig INTERLEAVED = new ModelConfig("llama", 96, 192, 2, 3, 1, 32, 257, 256, 1e-5f,
            500000f, RopeStyle.INTERLEAVED, Optional.of(RopeScaling.llama3(8f, 1f, 4f, 64)), false);

    private static Model halfSplitModel;
    private static Model interleavedModel;
    /** HALF_SPLIT with dense weights beside their INT4 quantization (a model loaded for the FP32 baseline). */
    private static Model denseModel;
    private static CudaBackend backend;

    @BeforeAll
    static void requireGpu() {
        backend = GpuTests.usableBackend();
        System.out.println("GPU: " + backend.availability().reason());
        halfSplitModel = RandomModels.build(HALF_SPLIT, 64, 1);
        interleavedModel = RandomModels.build(INTERLEAVED, 32, 2);
        denseModel = RandomModels.buildWithDenseWeights(HALF_SPLIT, 64, 3);
    }

    @AfterAll
    static void closeModels() {
        if (halfSplitModel != null) {
            halfSplitModel.close();
            interleavedModel.close();
            denseModel.close();
        }
    }

    private static final int[] PROMPT = {5, 17, 42, 255, 3, 99, 150};

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void logitsMatchTheFloat64Reference(Precision precision) {
        for (Model model : List.of(halfSplitModel, interleavedModel)) {
            ReferenceLlama reference = new ReferenceLlama(model);
            ReferenceLlama.Sequence refSeq = reference.newSequence();
            try (ModelRunner runner = backend.open(model); KvCache cache = runner.newCache(64)) {
                double[][] expected = reference.forward(refSeq, PROMPT, precision);
                Logits prefill = runner.forward(List.of(new SequenceInput(cache, PROMPT, true)), precision);
                double[][] expectedNext = reference.forward(refSeq, new int[] {7}, precision);
                Logits next = runner.forward(List.of(new SequenceInput(cache, new int[] {7}, false)), precision);

                double error = 0;
                for (int r = 0; r < PROMPT.length; r++) {
                    error = Math.max(error, relativeError(prefill.row(0, r), expected[r]));
                }
                error = Math.max(error, relativeError(next.row(0, 0), expectedNext[0]));
                System.out.printf("%s %s: max relative logit error %.3e%n", model.config().ropeStyle(), precision, error);
                assertThat(error).isLessThan(tolerance(precision));
                assertThat(cache.length()).isEqualTo(PROMPT.length + 1);
                if (precision == Precision.W4A16) {
                    for (int r = 0; r < PROMPT.length; r++) {
                        assertTopOneAgrees(prefill.row(0, r), expected[r]);
                    }
                }
            }
        }
    }

    /**
     * FP32 with dense weights is W16A16 on them: the dense weights in fp16, not their INT4 quantization
     * (from whose function the logits must then be far), and only built once FP32 is asked for.
     */
    @Test
    void fp32MultipliesTheDenseWeightsInFp16() {
        try (ModelRunner runner = backend.open(denseModel)) {
            CudaModelRunner cuda = (CudaModelRunner) runner;
            runLogits(runner, Precision.W4A16);
            assertThat(cuda.denseWeightBytes()).isZero();

            float[][] fp32 = runLogits(runner, Precision.FP32);
            assertThat(cuda.denseWeightBytes()).isEqualTo(denseBytes(denseModel));
            double error = maxRelativeError(fp32, referenceLogits(denseModel, Precision.FP32));
            double fromW4 = maxRelativeError(fp32, referenceLogits(denseModel, Precision.W4A16));
            System.out.printf("dense FP32 (W16A16): max relative logit error %.3e (%.3e from the W4A16 reference)%n",
                    error, fromW4);
            assertThat(error).isLessThan(A16_TOLERANCE);
            assertThat(fromW4).isGreaterThan(5 * A16_TOLERANCE);
            double[][] expected = referenceLogits(denseModel, Precision.FP32);
            for (int r = 0; r < expected.length; r++) {
                assertTopOneAgrees(fp32[r], expected[r]);
            }
        }
    }

    /**
     * A model with only INT4 weights (random, synthetic) runs FP32 on their dequantized fp16 copy: W4A16's
     * function through cuBLAS. On a GPU the copy is bit for bit what the W4A16 kernel multiplies (fp16
     * scale * q), so the two passes differ only in accumulation order; the CPU emulation's W4A16 keeps
     * scale * q unrounded, hence 2e-3 rather than the 1e-3 of two orders of one kernel.
     */
    @Test
    void fp32OfAnInt4OnlyModelIsW4A16ThroughCublas() {
        for (Model model : List.of(halfSplitModel, interleavedModel)) {
            try (ModelRunner runner = backend.open(model)) {
                CudaModelRunner cuda = (CudaModelRunner) runner;
                float[][] w4a16 = runLogits(runner, Precision.W4A16);
                assertThat(cuda.denseWeightBytes()).isZero();
                float[][] fp32 = runLogits(runner, Precision.FP32);
                assertThat(cuda.denseWeightBytes()).isEqualTo(denseBytes(model));

                double error = maxRelativeError(fp32, referenceLogits(model, Precision.W4A16));
                double[][] kernel = new double[w4a16.length][];
                for (int r = 0; r < w4a16.length; r++) {
                    kernel[r] = toDouble(w4a16[r]);
                }
                double fromKernel = maxRelativeError(fp32, kernel);
                System.out.printf("%s INT4-only FP32 (W16A16): max relative logit error %.3e, %.3e from the GPU's W4A16%n",
                        model.config().ropeStyle(), error, fromKernel);
                assertThat(error).isLessThan(A16_TOLERANCE);
                assertThat(fromKernel).isLessThan(2e-3);
                // the INT4 path is unaffected by the dense copy beside it
                assertThat(maxRelativeError(runLogits(runner, Precision.W4A16), kernel)).isZero();
            }
        }
    }

    @Test
    void cachedKeysAreTheReferenceKeysInFp16() {
        ReferenceLlama reference = new ReferenceLlama(halfSplitModel);
        ReferenceLlama.Sequence refSeq = reference.newSequence();
        reference.forward(refSeq, PROMPT, Precision.W4A16);
        try (ModelRunner runner = backend.open(halfSplitModel); KvCache cache = runner.newCache(64)) {
            runner.forward(List.of(new SequenceInput(cache, PROMPT, false)), Precision.W4A16);
            float[] key = new float[cache.kvDim()];
            float[] value = new float[cache.kvDim()];
            double worst = 0;
            for (int l = 0; l < cache.layers(); l++) {
                for (int p = 0; p < PROMPT.length; p++) {
                    cache.readKey(l, p, key);
                    cache.readValue(l, p, value);
                    worst = Math.max(worst, relativeError(key, refSeq.keys.get(l).get(p)));
                    worst = Math.max(worst, relativeError(value, refSeq.values.get(l).get(p)));
                }
            }
            System.out.printf("KV cache vs reference: max relative error %.3e%n", worst);
            assertThat(worst).isLessThan(A16_TOLERANCE);
        }
    }

    @Test
    void verifyPassOverFourTokensEqualsFourSingleTokenPasses() {
        int[] draft = {11, 12, 13, 14};
        try (ModelRunner runner = backend.open(halfSplitModel);
             KvCache verified = runner.newCache(64);
             KvCache stepped = runner.newCache(64)) {
            runner.forward(List.of(new SequenceInput(verified, PROMPT, false)), Precision.W4A16);
            runner.forward(List.of(new SequenceInput(stepped, PROMPT, false)), Precision.W4A16);

            Logits verify = runner.forward(List.of(new SequenceInput(verified, draft, true)), Precision.W4A16);
            double worst = 0;
            for (int i = 0; i < draft.length; i++) {
                Logits single = runner.forward(List.of(new SequenceInput(stepped, new int[] {draft[i]}, false)),
                        Precision.W4A16);
                assertThat(verify.argmax(0, i)).isEqualTo(single.argmax(0, 0));
                worst = Math.max(worst, relativeError(verify.row(0, i), toDouble(single.row(0, 0))));
            }
            System.out.printf("verify(4) vs 4 x decode(1): max relative logit difference %.3e%n", worst);
            // not merely close: QSpec's tokens equal plain W4A16's only if the verify rows are the same bits
            assertThat(worst).isZero();
        }
    }

    /**
     * Head size 128 (one head, one kv head): the heads the GPU's decode tiles serve, by default for tokens whose context
     * holds 512 positions or more (the library's threshold, whatever the environment sets). A verify pass that
     * straddles that threshold, and one past it, give the bits of the single-token passes at the same positions (short,
     * then long: each pass's context bounds on one side), as QSpec needs. Without a GPU the emulated library checks
     * every pass's bounds against its tokens' positions.
     */
    @Test
    void verifyPassesAcrossTheDecodeTilesThresholdEqualTheirDecodes() {
        int threshold = GpuTests.decodeTilesThreshold(1, 1, 128);
        int context = threshold + 52;
        ModelConfig oneWideHead = new ModelConfig("llama", 128, 256, 1, 1, 1, 128, 300, context, 1e-5f, 500000f,
                RopeStyle.HALF_SPLIT, Optional.empty(), false);
        int[] prompt = RandomModels.prompt(oneWideHead, threshold - 5, 5);
        try (Model model = RandomModels.build(oneWideHead, 64, 5);
             ModelRunner runner = backend.open(model);
             KvCache verified = runner.newCache(context);
             KvCache stepped = runner.newCache(context)) {
            runner.forward(List.of(new SequenceInput(verified, prompt, false)), Precision.W4A16);
            runner.forward(List.of(new SequenceInput(stepped, prompt, false)), Precision.W4A16);
            // contexts threshold - 4 .. threshold + 3 (both sides), then threshold + 4 .. threshold + 7
            for (int[] draft : new int[][] {{11, 12, 13, 14, 15, 16, 17, 18}, {21, 22, 23, 24}}) {
                Logits verify = runner.forward(List.of(new SequenceInput(verified, draft, true)), Precision.W4A16);
                for (int i = 0; i < draft.length; i++) {
                    Logits single = runner.forward(List.of(new SequenceInput(stepped, new int[] {draft[i]}, false)),
                            Precision.W4A16);
                    assertThat(verify.row(0, i)).as("context %d", stepped.length()).containsExactly(single.row(0, 0));
                }
            }
            assertThat(stepped.length()).isEqualTo(threshold + 7);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void graphReplaysEqualDirectLaunches(Precision precision) {
        try (CudaModelRunner graphed = backend.open(halfSplitModel, RunnerOptions.defaults(), true);
             CudaModelRunner direct = backend.open(halfSplitModel, RunnerOptions.defaults(), false);
             KvCache g = graphed.newCache(64);
             KvCache d = direct.newCache(64)) {
            graphed.forward(List.of(new SequenceInput(g, PROMPT, false)), precision);
            direct.forward(List.of(new SequenceInput(d, PROMPT, false)), precision);
            int token = 3;
            // 20 steps cross a 16-position block boundary; the second step of a shape is captured
            for (int step = 0; step < 20; step++) {
                Logits a = graphed.forward(List.of(new SequenceInput(g, new int[] {token}, false)), precision);
                Logits b = direct.forward(List.of(new SequenceInput(d, new int[] {token}, false)), precision);
                assertThat(a.row(0, 0)).as("step %d", step).containsExactly(b.row(0, 0));
                token = (a.argmax(0, 0) + step) % HALF_SPLIT.vocabSize();
            }
            // the C stand-in used without a GPU refuses capture (it runs kernels eagerly), so there the
            // "graphed" runner falls back to direct launches; a real GPU must have captured
            if (!Boolean.getBoolean("qspec.cuda.emulated")) {
                assertThat(graphed.capturedGraphs()).isPositive();
            }
            assertThat(direct.capturedGraphs()).isZero();
        }
    }

    /** A graphed runner on {@code model} built while {@code property} is {@code value} (runners read their switches when built). */
    /** A runner opened with {@code property} set to {@code value}; the property is then as it was (set or not). */
    private static CudaModelRunner openWith(Model model, String property, String value) {
        String before = System.setProperty(property, value);
        try {
            return backend.open(model, RunnerOptions.defaults(), true);
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    /**
     * Runs the same passes on both runners and asserts the same logits bit for bit: a prefill of two sequences (all
     * logits of the first), {@code steps} decode steps of both (one token per sequence), then a verify pass of four
     * tokens of the first; then the same cache contents, key and value, at every layer and position of the first.
     */
    private static void assertSameBits(CudaModelRunner x, CudaModelRunner y, int vocab, Precision precision, int steps) {
        int[] other = {9, 8, 7};
        try (KvCache xa = x.newCache(64); KvCache xb = x.newCache(64); KvCache ya = y.newCache(64); KvCache yb = y.newCache(64)) {
            Logits lx = x.forward(List.of(new SequenceInput(xa, PROMPT, true), new SequenceInput(xb, other, false)), precision);
            Logits ly = y.forward(List.of(new SequenceInput(ya, PROMPT, true), new SequenceInput(yb, other, false)), precision);
            for (int i = 0; i < PROMPT.length; i++) {
                assertThat(lx.row(0, i)).as("prefill row %d", i).containsExactly(ly.row(0, i));
            }
            int a = 3;
            int b = 4;
            for (int step = 0; step < steps; step++) {
                lx = x.forward(List.of(new SequenceInput(xa, new int[] {a}, false), new SequenceInput(xb, new int[] {b}, false)),
                        precision);
                ly = y.forward(List.of(new SequenceInput(ya, new int[] {a}, false), new SequenceInput(yb, new int[] {b}, false)),
                        precision);
                assertThat(lx.row(0, 0)).as("step %d, sequence 0", step).containsExactly(ly.row(0, 0));
                assertThat(lx.row(1, 0)).as("step %d, sequence 1", step).containsExactly(ly.row(1, 0));
                a = lx.argmax(0, 0);
                b = (lx.argmax(1, 0) + step) % vocab;
            }
            int[] draft = {11, 12, 13, 14};
            lx = x.forward(List.of(new SequenceInput(xa, draft, true)), precision);
            ly = y.forward(List.of(new SequenceInput(ya, draft, true)), precision);
            for (int i = 0; i < draft.length; i++) {
                assertThat(lx.row(0, i)).as("verify row %d", i).containsExactly(ly.row(0, i));
            }
            float[] u = new float[xa.kvDim()];
            float[] v = new float[ya.kvDim()];
            for (int l = 0; l < xa.layers(); l++) {
                for (int pos = 0; pos < xa.length(); pos++) {
                    xa.readKey(l, pos, u);
                    ya.readKey(l, pos, v);
                    assertThat(u).as("key, layer %d position %d", l, pos).containsExactly(v);
                    xa.readValue(l, pos, u);
                    ya.readValue(l, pos, v);
                    assertThat(u).as("value, layer %d position %d", l, pos).containsExactly(v);
                }
            }
        }
    }

    /**
     * {@code -Dqspec.cuda.fusedRopeAttention=true}: decode passes (one token per sequence) take the fused kernel,
     * which must leave the same cache and give the same logits, bit for bit, as the two kernels, over 20 decode steps
     * (across a 16-position block); a later verify pass (the two kernels in both runners) must then agree too.
     */
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8"})
    void fusedRopeAttentionGivesTheBitsOfTheTwoKernels(Precision precision) {
        try (CudaModelRunner fused = openWith(interleavedModel, CudaModelRunner.FUSED_ROPE_ATTENTION_PROPERTY, "true");
             CudaModelRunner plain = backend.open(interleavedModel, RunnerOptions.defaults(), true)) {
            assertThat(fused.fusesRopeAttention()).isTrue();
            assertThat(plain.fusesRopeAttention()).isFalse();
            assertSameBits(fused, plain, INTERLEAVED.vocabSize(), precision, 20);
        }
    }

    /**
     * {@code -Dqspec.cuda.normTail=true}: the wo and down GEMMs run the next RMSNorm (on a GPU, in their last CTA for
     * passes of up to 4 tokens), which must give the logits of the standalone norm kernels bit for bit, with padded
     * groups (352 = 5.5 x 64) in the quantized norm outputs of the draft precisions.
     */
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void normTailsGiveTheBitsOfTheStandaloneNorms(Precision precision) {
        try (CudaModelRunner tails = openWith(halfSplitModel, CudaModelRunner.NORM_TAIL_PROPERTY, "true");
             CudaModelRunner plain = backend.open(halfSplitModel, RunnerOptions.defaults(), true)) {
            assertThat(tails.runsNormTails()).isTrue();
            assertThat(plain.runsNormTails()).isFalse();
            assertSameBits(tails, plain, HALF_SPLIT.vocabSize(), precision, 6);
        }
    }

    /**
     * {@code -Dqspec.cuda.normHead=true}: the q|k|v, gate|up and output GEMVs take the residual rows and
     * normalise them, quantized for the draft (on a GPU, in each CTA of passes of up to 2 tokens), which must give the
     * logits of the standalone norm kernels bit for bit: W4A16 with the SwiGLU in the gate|up GEMV and with the SwiGLU
     * kernel, and the drafts. W16A16 keeps its norm kernel.
     */
    @ParameterizedTest
    @CsvSource({"W4A16, true", "W4A16, false", "W4A8, true", "W4A4, true", "FP32, true"})
    void normHeadsGiveTheBitsOfTheStandaloneNorms(Precision precision, boolean fusedSwiglu) {
        System.setProperty(CudaModelRunner.FUSED_SWIGLU_PROPERTY, String.valueOf(fusedSwiglu));
        try (CudaModelRunner heads = openWith(halfSplitModel, CudaModelRunner.NORM_HEAD_PROPERTY, "true");
             CudaModelRunner plain = backend.open(halfSplitModel, RunnerOptions.defaults(), true)) {
            assertThat(heads.headsNormalise(precision)).isEqualTo(precision != Precision.FP32);
            assertThat(plain.headsNormalise(precision)).isFalse();
            assertThat(heads.fusesSwiglu()).isEqualTo(fusedSwiglu);
            assertSameBits(heads, plain, HALF_SPLIT.vocabSize(), precision, 6);
        } finally {
            System.clearProperty(CudaModelRunner.FUSED_SWIGLU_PROPERTY);
        }
    }

    /**
     * SwiGLU in the gate|up GEMV ({@code qspec.cuda.fusedSwiglu}, on by default; W4A16 only) must give the logits of
     * the SwiGLU kernel bit for bit; the draft precisions keep their SwiGLU quantizer either way.
     */
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8"})
    void swigluInTheGemvGivesTheBitsOfTheSwigluKernel(Precision precision) {
        try (CudaModelRunner fused = backend.open(interleavedModel, RunnerOptions.defaults(), true);
             CudaModelRunner plain = openWith(interleavedModel, CudaModelRunner.FUSED_SWIGLU_PROPERTY, "false")) {
            assertThat(fused.fusesSwiglu()).isTrue();
            assertThat(plain.fusesSwiglu()).isFalse();
            assertSameBits(fused, plain, INTERLEAVED.vocabSize(), precision, 5);
        }
    }

    /**
     * RoPE and the KV write in the q|k|v GEMM (the default; on a GPU in the GEMV's epilogue for passes of up to 8
     * tokens) must give the logits and cache of the RoPE kernel bit for bit, for the INT4 precisions (an interleaved
     * model: both runners upload the same rows).
     */
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void ropeInTheQkvGemmGivesTheBitsOfTheRopeKernel(Precision precision) {
        try (CudaModelRunner fused = backend.open(interleavedModel, RunnerOptions.defaults(), true);
             CudaModelRunner plain = openWith(interleavedModel, CudaModelRunner.FUSED_ROPE_KV_PROPERTY, "false")) {
            assertThat(fused.fusesRopeKv()).isTrue();
            assertThat(plain.fusesRopeKv()).isFalse();
            assertSameBits(fused, plain, INTERLEAVED.vocabSize(), precision, 6);
        }
    }

    /**
     * Llama-shaped blocks (2048 wide, every projection 2048 rows or more, group 128) for the token orders on a GPU,
     * whose rules take MMA order only there (built when first asked for: the emulated run never needs it).
     */
    private static final ModelConfig WIDE = new ModelConfig("llama", 2048, 2048, 2, 16, 4, 128, 2048, 256, 1e-5f,
            500000f, RopeStyle.INTERLEAVED, Optional.empty(), false);

    /**
     * The GEMMs' token orders (the default): the norms, quantizers and SwiGLU write each GEMM's input in the order the
     * GEMM reads without permuting it, which must give the logits and the cache of row order
     * ({@code -Dqspec.cuda.tokenOrders=false}: every GEMM that reads MMA order permutes its input first) bit for bit,
     * in a prefill of two sequences (140 tokens, every logit) and the decode steps after it. On a GPU the rules take
     * MMA order at 33-256 tokens on matrices of 2048 rows or more: the WIDE model, where on sm_90 some GEMM of the
     * prefill must take it. The emulated run's rule takes it wherever N > K and K is a multiple of 128 (q|k|v, gate|up
     * and the output projection of the half-split model); its scalar GEMMs run the small model.
     */
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8", "W4A4"})
    void tokensInMmaOrderGiveTheBitsOfRowOrder(Precision precision) {
        boolean emulated = Boolean.getBoolean("qspec.cuda.emulated");
        Model model = emulated ? halfSplitModel : RandomModels.build(WIDE, 128, 4);
        int vocab = model.config().vocabSize();
        int[] first = new int[100];
        int[] second = new int[40];
        for (int i = 0; i < first.length; i++) {
            first[i] = (i * 37 + 11) % vocab;
        }
        for (int i = 0; i < second.length; i++) {
            second[i] = (i * 53 + 5) % vocab;
        }
        try (CudaModelRunner ordered = backend.open(model, RunnerOptions.defaults(), true);
             CudaModelRunner rows = openWith(model, CudaModelRunner.TOKEN_ORDERS_PROPERTY, "false");
             KvCache xa = ordered.newCache(160); KvCache xb = ordered.newCache(160);
             KvCache ya = rows.newCache(160); KvCache yb = rows.newCache(160)) {
            int tokens = first.length + second.length;
            PassTokenOrders orders = ordered.tokenOrders(tokens, tokens, precision);
            System.out.printf("%s, %d tokens: %s%n", precision, tokens, orders);
            assertThat(rows.tokenOrders(tokens, tokens, precision)).isEqualTo(PassTokenOrders.ROW);
            if (emulated || ordered.device().major() == 9) {
                assertThat(orders).as("some GEMM of the prefill reads MMA order").isNotEqualTo(PassTokenOrders.ROW);
            }
            Logits lx = ordered.forward(List.of(new SequenceInput(xa, first, true), new SequenceInput(xb, second, true)),
                    precision);
            Logits ly = rows.forward(List.of(new SequenceInput(ya, first, true), new SequenceInput(yb, second, true)),
                    precision);
            for (int i = 0; i < first.length; i++) {
                assertThat(lx.row(0, i)).as("prefill, sequence 0 row %d", i).containsExactly(ly.row(0, i));
            }
            for (int i = 0; i < second.length; i++) {
                assertThat(lx.row(1, i)).as("prefill, sequence 1 row %d", i).containsExactly(ly.row(1, i));
            }
            int a = lx.argmax(0, first.length - 1);
            int b = lx.argmax(1, second.length - 1);
            for (int step = 0; step < 3; step++) {
                lx = ordered.forward(List.of(new SequenceInput(xa, new int[] {a}, false),
                        new SequenceInput(xb, new int[] {b}, false)), precision);
                ly = rows.forward(List.of(new SequenceInput(ya, new int[] {a}, false),
                        new SequenceInput(yb, new int[] {b}, false)), precision);
                assertThat(lx.row(0, 0)).as("step %d, sequence 0", step).containsExactly(ly.row(0, 0));
                assertThat(lx.row(1, 0)).as("step %d, sequence 1", step).containsExactly(ly.row(1, 0));
                a = lx.argmax(0, 0);
                b = lx.argmax(1, 0);
            }
        } finally {
            if (model != halfSplitModel) {
                model.close();
            }
        }
    }

    /**
     * A half-split model's q and k rows go up interleaved where the q|k|v GEMM rotates, and in the model's order where
     * it does not: the two runners' logits differ only by the order of each q·k sum's terms, their greedy tokens
     * agree, and their caches read back the same keys (in the model's order) up to fp16 rounding. A term order may
     * flip an fp16 rounding of the attention output, which the layers after it carry to the logits: 9.7e-5 of the
     * largest logit on an H200 (session 46), so the bound is the keys' fp16 bound, 1e-3; rows swapped or rotated
     * wrongly part by the logits' own size.
     */
    @Test
    void halfSplitRowsInterleavedForTheRopeEpilogueKeepTheLogits() {
        try (CudaModelRunner fused = backend.open(halfSplitModel, RunnerOptions.defaults(), true);
             CudaModelRunner plain = openWith(halfSplitModel, CudaModelRunner.FUSED_ROPE_KV_PROPERTY, "false");
             KvCache a = fused.newCache(64); KvCache b = plain.newCache(64)) {
            Logits la = fused.forward(List.of(new SequenceInput(a, PROMPT, true)), Precision.W4A16);
            Logits lb = plain.forward(List.of(new SequenceInput(b, PROMPT, true)), Precision.W4A16);
            for (int i = 0; i < PROMPT.length; i++) {
                assertThat(relativeError(la.row(0, i), lb.row(0, i))).as("row %d", i).isLessThan(1e-3);
                assertThat(la.argmax(0, i)).isEqualTo(lb.argmax(0, i));
            }
            float[] u = new float[a.kvDim()];
            float[] v = new float[b.kvDim()];
            for (int l = 0; l < a.layers(); l++) {
                a.readKey(l, PROMPT.length - 1, u);
                b.readKey(l, PROMPT.length - 1, v);
                assertThat(relativeError(u, v)).as("key, layer %d", l).isLessThan(1e-3);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"W4A16", "W4A8"})
    void greedyPassesReturnTheArgmaxOfTheLogitsTheyWouldHaveReturned(Precision precision) {
        int[] other = {9, 8, 7};
        try (ModelRunner runner = backend.open(halfSplitModel);
             KvCache a = runner.newCache(64); KvCache b = runner.newCache(64);
             KvCache aGreedy = runner.newCache(64); KvCache bGreedy = runner.newCache(64)) {
            Logits logits = runner.forward(List.of(new SequenceInput(a, PROMPT, true), new SequenceInput(b, other, false)),
                    precision);
            GreedyTokens tokens = runner.forwardGreedy(
                    List.of(new SequenceInput(aGreedy, PROMPT, true), new SequenceInput(bGreedy, other, false)), precision);
            for (int r = 0; r < PROMPT.length; r++) {
                assertThat(tokens.token(0, r)).isEqualTo(logits.argmax(0, r));
            }
            assertThat(tokens.token(1, 0)).isEqualTo(logits.argmax(1, 0));
            assertThat(aGreedy.length()).isEqualTo(PROMPT.length);
            assertThat(bGreedy.length()).isEqualTo(other.length);
        }
    }

    @Test
    void truncateThenVerifyRewritesTheDraftEntries() {
        int[] draft = {21, 22, 23, 24};
        try (ModelRunner runner = backend.open(halfSplitModel);
             KvCache qspec = runner.newCache(64);
             KvCache plain = runner.newCache(64)) {
            runner.forward(List.of(new SequenceInput(qspec, PROMPT, false)), Precision.W4A16);
            runner.forward(List.of(new SequenceInput(plain, PROMPT, false)), Precision.W4A16);
            // draft: W4A4 entries appended one token at a time, then rolled back
            for (int token : draft) {
                runner.forward(List.of(new SequenceInput(qspec, new int[] {token}, false)), Precision.W4A4);
            }
            assertThat(qspec.length()).isEqualTo(PROMPT.length + draft.length);
            qspec.truncate(PROMPT.length);
            // verify: W4A16 overwrites the draft positions in place
            Logits verify = runner.forward(List.of(new SequenceInput(qspec, draft, true)), Precision.W4A16);
            Logits reference = runner.forward(List.of(new SequenceInput(plain, draft, true)), Precision.W4A16);
            for (int i = 0; i < draft.length; i++) {
                assertThat(verify.argmax(0, i)).isEqualTo(reference.argmax(0, i));
                assertThat(relativeError(verify.row(0, i), toDouble(reference.row(0, i)))).isLessThan(1e-3);
            }
            float[] a = new float[qspec.kvDim()];
            float[] b = new float[plain.kvDim()];
            for (int l = 0; l < qspec.layers(); l++) {
                for (int p = PROMPT.length; p < PROMPT.length + draft.length; p++) {
                    qspec.readKey(l, p, a);
                    plain.readKey(l, p, b);
                    assertThat(relativeError(a, toDouble(b))).isLessThan(1e-3);
                    qspec.readValue(l, p, a);
                    plain.readValue(l, p, b);
                    assertThat(relativeError(a, toDouble(b))).isLessThan(1e-3);
                }
            }
        }
    }

    @Test
    void aBatchOfSequencesEqualsSeparatePasses() {
        int[] other = {1, 2, 3};
        try (ModelRunner runner = backend.open(halfSplitModel);
             KvCache a = runner.newCache(64);
             KvCache b = runner.newCache(64);
             KvCache aAlone = runner.newCache(64);
             KvCache bAlone = runner.newCache(64)) {
            Logits batched = runner.forward(List.of(new SequenceInput(a, PROMPT, true), new SequenceInput(b, other, false)),
                    Precision.W4A16);
            Logits first = runner.forward(List.of(new SequenceInput(aAlone, PROMPT, true)), Precision.W4A16);
            Logits second = runner.forward(List.of(new SequenceInput(bAlone, other, false)), Precision.W4A16);
            for (int r = 0; r < PROMPT.length; r++) {
                assertThat(relativeError(batched.row(0, r), toDouble(first.row(0, r)))).isLessThan(1e-3);
            }
            assertThat(relativeError(batched.row(1, 0), toDouble(second.row(0, 0)))).isLessThan(1e-3);
            assertThat(a.length()).isEqualTo(PROMPT.length);
            assertThat(b.length()).isEqualTo(other.length);
        }
    }

    @Test
    void badInputsAreRejectedBeforeTheGpuSeesThem() {
        try (ModelRunner runner = backend.open(halfSplitModel); ModelRunner other = backend.open(halfSplitModel);
             KvCache cache = runner.newCache(8); KvCache foreign = other.newCache(8)) {
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(cache, new int[] {300}, false)), Precision.W4A16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocabulary");
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(cache, new int[9], false)), Precision.W4A16))
                    .hasMessageContaining("needs 9 positions");
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(foreign, new int[1], false)), Precision.W4A16))
                    .hasMessageContaining("not created by this CUDA runner");
            // checked before the first FP32 pass builds the dense weights
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(cache, new int[] {300}, false)), Precision.FP32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocabulary");
            assertThat(((CudaModelRunner) runner).denseWeightBytes()).isZero();
            assertThat(cache.length()).isZero();
        }
    }

    @Test
    void aClosedRunnerRefusesWork() {
        ModelRunner runner = backend.open(halfSplitModel);
        KvCache cache = runner.newCache(8);
        runner.close();
        runner.close();
        assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(cache, new int[1], false)), Precision.W4A16))
                .isInstanceOf(IllegalStateException.class);
        cache.close();
    }

    @Test
    void deviceOutOfMemoryIsATypedException() {
        // a 1 TB KV budget: more than any GPU holds
        assertThatThrownBy(() -> backend.open(halfSplitModel, new RunnerOptions(1L << 40)))
                .isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessageContaining("K pool of layer 0");
        // what the failed open had uploaded was freed: a normal open still works
        try (ModelRunner runner = backend.open(halfSplitModel)) {
            assertThat(runner.backendName()).isEqualTo("cuda");
        }
    }

    /**
     * A growth of the work buffers that runs out of memory leaves no buffer naming freed memory: the group that could
     * not grow is empty and is allocated afresh by the next call, which then holds exactly what a fresh set holds.
     */
    @Test
    void workBuffersThatFailToGrowHoldNoFreedMemory() {
        try (CudaStream stream = new CudaStream(); DeviceMemory fresh = new DeviceMemory(stream);
             DeviceMemory memory = new DeviceMemory(stream)) {
            new WorkBuffers(fresh, HALF_SPLIT, 384, 6, 0).ensure(4, 4, 64);
            WorkBuffers work = new WorkBuffers(memory, HALF_SPLIT, 384, 6, 0);
            work.ensure(4, 4, 64);
            // logits for 2^29 rows of 300 (643 GB), then token buffers for 2^28 tokens: more than any GPU holds
            assertThatThrownBy(() -> work.ensure(4, 1 << 29, 64)).isInstanceOf(CudaOutOfMemoryException.class);
            assertThat(work.logits).isNull();
            assertThat(work.wouldGrow(4, 4, 64)).isTrue();
            work.ensure(4, 4, 64);
            assertThat(memory.liveBytes()).isEqualTo(fresh.liveBytes());

            assertThatThrownBy(() -> work.ensure(1 << 28, 4, 64)).isInstanceOf(CudaOutOfMemoryException.class);
            assertThat(work.residual).isNull();
            work.ensure(4, 4, 64);
            assertThat(memory.liveBytes()).isEqualTo(fresh.liveBytes());
        }
    }

    /** A closed owner frees everything it held and allocates nothing more (nobody would free it). */
    @Test
    void closedDeviceMemoryRefusesToAllocate() {
        try (CudaStream stream = new CudaStream()) {
            DeviceMemory memory = new DeviceMemory(stream);
            memory.allocate(1024, "a buffer");
            memory.close();
            assertThat(memory.liveBytes()).isZero();
            assertThatThrownBy(() -> memory.allocate(16, "late buffer")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("late buffer");
        }
    }

    /** A pass that runs out of device memory fails alone: the runner's next passes give a fresh runner's logits. */
    @Test
    void aPassThatRunsOutOfMemoryFailsAloneAndTheRunnerServesOn() {
        GpuTests.EmulatorSetting limit = GpuTests.emulatedAllocationLimit().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(limit != null,
                "needs the emulated runtime's allocation limit to make a small pass run out of memory");
        float[][] expected = new float[PROMPT.length][];
        try (ModelRunner fresh = backend.open(halfSplitModel); KvCache cache = fresh.newCache(16)) {
            Logits logits = fresh.forward(List.of(new SequenceInput(cache, PROMPT, true)), Precision.W4A16);
            for (int r = 0; r < PROMPT.length; r++) {
                expected[r] = logits.row(0, r);
            }
        }
        try (ModelRunner runner = backend.open(halfSplitModel); KvCache first = runner.newCache(16);
             KvCache second = runner.newCache(16)) {
            runner.forward(List.of(new SequenceInput(first, new int[] {1}, false)), Precision.W4A16);
            // 7 logit rows need a larger logits buffer (7 x 300 x 4 bytes), which can no longer be had
            limit.set(8 * 1024);
            try {
                assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(second, PROMPT, true)), Precision.W4A16))
                        .isInstanceOf(CudaOutOfMemoryException.class).hasMessageContaining("logits");
            } finally {
                limit.set(0);
            }
            assertThat(second.length()).isZero();
            Logits logits = runner.forward(List.of(new SequenceInput(second, PROMPT, true)), Precision.W4A16);
            for (int r = 0; r < PROMPT.length; r++) {
                assertThat(logits.row(0, r)).as("row %d", r).containsExactly(expected[r]);
            }
        }
    }

    /** A GPU the kernel library has no code for (a newer architecture) is found unusable by the probe, with why. */
    @Test
    void aGpuTheKernelsHaveNoCodeForIsUnavailable() {
        GpuTests.EmulatorSetting status = GpuTests.emulatedLaunchStatus().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(status != null,
                "needs the emulated kernels' launch status to stand for a GPU without code");
        status.set(209);  // cudaErrorNoKernelImageForDevice
        try {
            var availability = new CudaBackend().availability();
            assertThat(availability.available()).isFalse();
            assertThat(availability.reason()).contains("cannot run on").contains("sm_90a").contains("--backend cpu");
        } finally {
            status.set(0);
        }
        assertThat(new CudaBackend().availability().available()).isTrue();
    }

    /**
     * A sticky error (here an illegal address, reported when a pass is waited for) ends the process's CUDA context:
     * that pass and every later call get {@link CudaContextLostException}, new engines find the backend unusable
     * (so automatic selection takes the CPU), and the runner still closes and frees its memory.
     */
    @Test
    void aStickyErrorEndsTheContextForEveryLaterCall() {
        GpuTests.EmulatorSetting sync = GpuTests.emulatedNextSyncStatus().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(sync != null, "needs the emulated runtime to fail a pass");
        ModelRunner runner = backend.open(halfSplitModel);
        try (KvCache first = runner.newCache(8); KvCache second = runner.newCache(8)) {
            sync.set(700);  // cudaErrorIllegalAddress
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(first, new int[] {1}, false)), Precision.W4A16))
                    .isInstanceOf(CudaContextLostException.class).hasMessageContaining("restart the process");
            assertThatThrownBy(() -> runner.forward(List.of(new SequenceInput(second, new int[] {1}, false)), Precision.W4A16))
                    .isInstanceOf(CudaContextLostException.class).hasMessageContaining("lost earlier");
            var availability = new CudaBackend().availability();
            assertThat(availability.available()).isFalse();
            assertThat(availability.reason()).contains("context of this process was lost");
        } finally {
            runner.close();
            CudaCalls.forgetContextLossForTests();
        }
        assertThat(new CudaBackend().availability().available()).isTrue();
    }

    /**
     * No copy and no stream of a runner touches the legacy default stream, which another runner's graph capture
     * would make unusable (and whose use would break that capture): opening, passes of every precision, the dense
     * weights' upload, draws on the device and cache reads all queue on the runner's own non-blocking stream.
     */
    @Test
    void runnersNeverUseTheLegacyStream() {
        java.util.function.LongSupplier uses = GpuTests.emulatedLegacyStreamUses().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(uses != null, "needs the emulated runtime's count of legacy uses");
        long before = uses.getAsLong();
        try (ModelRunner runner = backend.open(denseModel); KvCache cache = runner.newCache(16)) {
            runner.forward(List.of(new SequenceInput(cache, PROMPT, true)), Precision.W4A16);
            runner.forward(List.of(new SequenceInput(cache, new int[] {7}, false)), Precision.FP32);
            runner.forwardGreedy(List.of(new SequenceInput(cache, new int[] {8}, false)), Precision.W4A8);
            TokenDraw draw = new TokenDraw(SamplingParams.builder().temperature(0.8).repetitionPenalty(1.1).build(),
                    TokenCounts.of(new int[] {5, 17}), 0.5);
            runner.forwardSampled(List.of(new SequenceInput(cache, new int[] {9}, false)), Precision.W4A16, List.of(draw));
            cache.readKey(0, 3, new float[HALF_SPLIT.kvDim()]);
        }
        assertThat(uses.getAsLong() - before).isZero();
    }

    /** A model whose heads the attention kernels do not take is refused before anything is uploaded. */
    @Test
    void modelsTheKernelsCannotRunAreRefusedWhenOpened() {
        ModelConfig wideHeads = new ModelConfig("llama", 128, 352, 1, 1, 1, 192, 300, 256, 1e-5f, 10000f,
                RopeStyle.HALF_SPLIT, Optional.empty(), false);
        try (Model model = RandomModels.build(wideHeads, 64, 4)) {
            assertThatThrownBy(() -> backend.open(model))
                    .isInstanceOf(io.qspec.backend.BackendUnavailableException.class)
                    .hasMessageContaining("192 dimensions").hasMessageContaining("--backend cpu");
        }
    }

    /** Caches may outlive their runner; reading one after the runner closed is refused, not a read of freed memory. */
    @Test
    void cacheReadsAfterTheRunnerClosedAreRefused() {
        ModelRunner runner = backend.open(halfSplitModel);
        KvCache cache = runner.newCache(8);
        runner.forward(List.of(new SequenceInput(cache, new int[] {5, 17}, false)), Precision.W4A16);
        float[] key = new float[HALF_SPLIT.kvDim()];
        cache.readKey(0, 1, key);
        runner.close();
        assertThatThrownBy(() -> cache.readKey(0, 1, key)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> cache.readValue(1, 0, key)).isInstanceOf(IllegalStateException.class);
        cache.close();
    }

    @Test
    void cachesReserveTheirCapacityUpFrontAndGiveItBackOnClose() {
        long bytesPerBlock = 2L * HALF_SPLIT.layers() * CudaModelRunner.BLOCK_SIZE * HALF_SPLIT.kvDim() * 2;
        try (ModelRunner runner = backend.open(halfSplitModel, new RunnerOptions(4 * bytesPerBlock))) {
            assertThat(runner.totalKvPositions()).isEqualTo(4L * CudaModelRunner.BLOCK_SIZE);
            KvCache first = runner.newCache(40);
            assertThat(runner.availableKvPositions()).isEqualTo(CudaModelRunner.BLOCK_SIZE);
            assertThatThrownBy(() -> runner.newCache(17)).isInstanceOf(KvCacheExhaustedException.class);
            first.close();
            assertThat(runner.availableKvPositions()).isEqualTo(runner.totalKvPositions());
            try (KvCache whole = runner.newCache(64)) {
                Logits logits = runner.forward(List.of(new SequenceInput(whole, PROMPT, false)), Precision.W4A16);
                assertThat(logits.vocabSize()).isEqualTo(HALF_SPLIT.vocabSize());
            }
        }
    }

    /** Logits of a prefill of PROMPT (every row) then one decode step of token 7, in a fresh cache. */
    /**
     * Tokens drawn on the GPU equal the host sampler's on the same logits with the same uniform
     * variates, for every filter and the penalties; draws whose variate lies within 1e-5 of a CDF edge
     * (where the GPU's fp32 weights may round across it) are not compared, and must be rare.
     */
    @Test
    void gpuDrawsGiveTheHostSamplersTokens() {
        List<SamplingParams> params = List.of(
                SamplingParams.builder().temperature(1).build(),
                SamplingParams.builder().temperature(0.7).topK(20).build(),
                SamplingParams.builder().temperature(1).topP(0.9).build(),
                SamplingParams.builder().temperature(0.8).topK(50).topP(0.95).minP(0.05).build(),
                SamplingParams.builder().temperature(1.3).minP(0.1).build(),
                SamplingParams.builder().temperature(0).repetitionPenalty(1.3).frequencyPenalty(0.5).build(),
                SamplingParams.builder().temperature(0.9).topP(0.8).repetitionPenalty(1.2).presencePenalty(0.3).build(),
                // too large for a float: the seen tokens fall to -Float.MAX_VALUE, not to -infinity
                SamplingParams.builder().temperature(0.9).frequencyPenalty(1e300).build(),
                SamplingParams.GREEDY);
        TokenCounts history = TokenCounts.of(new int[] {5, 17, 17, 42, 299, 0, 150, 150, 150});
        java.util.SplittableRandom random = new java.util.SplittableRandom(41);
        int compared = 0;
        int atEdge = 0;
        try (ModelRunner runner = backend.open(halfSplitModel)) {
            for (int round = 0; round < 24; round++) {
                List<TokenDraw> draws = new java.util.ArrayList<>();
                for (SamplingParams p : params) {
                    draws.add(new TokenDraw(p, history, random.nextDouble()));
                }
                int[] prompt = PROMPT.clone();
                prompt[0] = 1 + round;  // another context each round
                List<KvCache> hostCaches = new java.util.ArrayList<>();
                List<KvCache> gpuCaches = new java.util.ArrayList<>();
                try {
                    List<SequenceInput> hostBatch = new java.util.ArrayList<>();
                    List<SequenceInput> gpuBatch = new java.util.ArrayList<>();
                    for (int s = 0; s < draws.size(); s++) {
                        hostCaches.add(runner.newCache(16));
                        gpuCaches.add(runner.newCache(16));
                        hostBatch.add(new SequenceInput(hostCaches.get(s), prompt, false));
                        gpuBatch.add(new SequenceInput(gpuCaches.get(s), prompt, false));
                    }
                    Logits logits = runner.forward(hostBatch, Precision.W4A16);
                    int[] drawn = runner.forwardSampled(gpuBatch, Precision.W4A16, draws);
                    for (int s = 0; s < draws.size(); s++) {
                        TokenDraw draw = draws.get(s);
                        float[] row = logits.row(s, 0);
                        if (!draw.params().isGreedy() && cdfEdgeDistance(draw, row) < 1e-5) {
                            atEdge++;
                            continue;
                        }
                        compared++;
                        assertThat(drawn[s]).as("round %d, %s, u=%s", round, draw.params(), draw.uniform())
                                .isEqualTo(draw.choose(row));
                    }
                    assertThat(gpuCaches.getFirst().length()).isEqualTo(prompt.length);
                } finally {
                    hostCaches.forEach(KvCache::close);
                    gpuCaches.forEach(KvCache::close);
                }
            }
            System.out.println("GPU draws = host draws: " + compared + " compared, " + atEdge + " at a CDF edge");
            assertThat(atEdge).isLessThanOrEqualTo(compared / 50);

            try (KvCache cache = runner.newCache(16)) {
                List<SequenceInput> one = List.of(new SequenceInput(cache, PROMPT, false));
                TokenDraw outside = new TokenDraw(SamplingParams.builder().temperature(1).repetitionPenalty(1.1).build(),
                        TokenCounts.of(new int[] {300}), 0.5);
                assertThatThrownBy(() -> runner.forwardSampled(one, Precision.W4A16, List.of(outside)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside vocabulary of 300");
                assertThat(cache.length()).as("a refused step changes nothing").isZero();
                assertThatThrownBy(() -> runner.forwardSampled(one, Precision.W4A16, List.of()))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 draws for a batch of 1");
            }
        }
    }

    /** How far the draw's u * total lies from the nearest edge of the host CDF, relative to the total. */
    private static double cdfEdgeDistance(TokenDraw draw, float[] logits) {
        float[] p = new LogitsProcessor(draw.params()).probabilities(logits, draw.history());
        double total = 0;
        for (float x : p) {
            total += x;
        }
        double target = draw.uniform() * total;
        double cumulative = 0;
        double nearest = Double.MAX_VALUE;
        for (float x : p) {
            if (x > 0) {
                cumulative += x;
                nearest = Math.min(nearest, Math.abs(cumulative - target));
            }
        }
        return nearest / total;
    }

    private static float[][] runLogits(ModelRunner runner, Precision precision) {
        try (KvCache cache = runner.newCache(64)) {
            Logits prefill = runner.forward(List.of(new SequenceInput(cache, PROMPT, true)), precision);
            Logits next = runner.forward(List.of(new SequenceInput(cache, new int[] {7}, false)), precision);
            float[][] rows = new float[PROMPT.length + 1][];
            for (int r = 0; r < PROMPT.length; r++) {
                rows[r] = prefill.row(0, r);
            }
            rows[PROMPT.length] = next.row(0, 0);
            return rows;
        }
    }

    /** The reference's logits for what {@link #runLogits} computes. */
    private static double[][] referenceLogits(Model model, Precision precision) {
        ReferenceLlama reference = new ReferenceLlama(model);
        ReferenceLlama.Sequence seq = reference.newSequence();
        double[][] prompt = reference.forward(seq, PROMPT, precision);
        double[][] rows = Arrays.copyOf(prompt, PROMPT.length + 1);
        rows[PROMPT.length] = reference.forward(seq, new int[] {7}, precision)[0];
        return rows;
    }

    private static double maxRelativeError(float[][] actual, double[][] expected) {
        double worst = 0;
        for (int r = 0; r < expected.length; r++) {
            worst = Math.max(worst, relativeError(actual[r], expected[r]));
        }
        return worst;
    }

    /** Bytes of a dense fp16 copy of every linear layer. */
    private static long denseBytes(Model model) {
        return model.weights().linearLayers().stream().mapToLong(w -> (long) w.outFeatures() * w.inFeatures() * 2).sum();
    }

    private static double tolerance(Precision precision) {
        return switch (precision) {
            case W4A16 -> A16_TOLERANCE;
            case W4A8 -> A8_TOLERANCE;
            default -> A4_TOLERANCE;
        };
    }

    /** The GPU's top token must be the reference's, unless the two are within tolerance of a tie. */
    private static void assertTopOneAgrees(float[] actual, double[] expected) {
        int top = 0;
        double max = Double.NEGATIVE_INFINITY;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            if (expected[i] > max) {
                max = expected[i];
            }
        }
        for (int i = 1; i < actual.length; i++) {
            if (actual[i] > actual[top]) {
                top = i;
            }
        }
        assertThat(max - expected[top]).isLessThanOrEqualTo(A16_TOLERANCE * scale);
    }

    static double relativeError(float[] actual, double[] expected) {
        double scale = 1e-30;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        return worst / scale;
    }

    /** As {@link #relativeError(float[], double[])}, against another float result. */
    static double relativeError(float[] actual, float[] expected) {
        return relativeError(actual, toDouble(expected));
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
