package io.qspec.examples.peers;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.SafeTensorSupport;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Measures Jlama's greedy batch-1 decode speed with its 4-bit weights ({@link DType#Q4}, blocks of 32).
 *
 * <p>Jlama 0.8.4 does not quantize the q/k/v and gate/up projections when asked to at load time
 * ({@code loadModel(..., Optional.of(Q4), ...)} leaves row-sharded tensors in BF16, and the I8 matmul then
 * fails on them), so we take Jlama's own offline route, the one its published "-JQ4" models come from:
 * {@link SafeTensorSupport#quantizeModel}. Only the embedding stays BF16 (Jlama reads one row of it per
 * token and cannot embed from Q4); the output head is quantized to Q4 like ours, so both engines stream
 * 4-bit weights for every matmul.
 *
 * <p>The decode loop mirrors Jlama's {@code AbstractModel.generate} (batched prompt forward, then one
 * {@code forward} + {@code sample} per token) but takes token ids and never stops at EOS, so every run
 * decodes exactly the requested number of tokens, like {@code ignoreEos} on our side.
 */
final class JlamaGreedyBenchmark {
    private JlamaGreedyBenchmark() {
    }

    /**
     * Sets Jlama's worker count. Jlama defaults to half the logical CPUs (at least 2) and accepts the
     * setting only before its executor first runs, so this is called once, before any Jlama work.
     */
    static void useThreads(int threads) {
        PhysicalCoreExecutor.overrideThreadCount(threads);
    }

    /** Writes Jlama's Q4 copy of {@code bf16Folder} into {@code q4Folder} (which must not exist yet). */
    static Path quantize(Path bf16Folder, Path q4Folder) throws IOException {
        return SafeTensorSupport.quantizeModel(bf16Folder, DType.Q4,
                new String[] {"model.embed_tokens.weight"}, null, Optional.of(q4Folder));
    }

    /**
     * Loads a Jlama Q4 folder and times {@code runs} greedy generations after one full-length warm-up run.
     *
     * @param activations Jlama's working quantized type: {@link DType#I8} (its choice for Q4 models, an
     *                    int8-activation matmul) or {@link DType#F32} (float activations)
     * @param quantizeSeconds time spent in {@link #quantize}, reported with the load time
     */
    static PeerResult run(Path q4Folder, DType activations, int[] prompt, int tokens, int runs, double quantizeSeconds) {
        long t0 = System.nanoTime();
        AbstractModel model = ModelSupport.loadModel(q4Folder.toFile(), null, DType.F32, activations, Optional.empty(), Optional.empty());
        double loadSeconds = quantizeSeconds + (System.nanoTime() - t0) / 1e9;
        try {
            generate(model, prompt, tokens); // warm-up: a full run, so the JIT has compiled every path timed below
            double[] rates = new double[runs];
            for (int r = 0; r < runs; r++) {
                rates[r] = generate(model, prompt, tokens);
            }
            String configuration = "q4-weights " + activations.name().toLowerCase(Locale.ROOT) + "-activations";
            return new PeerResult("jlama", configuration, prompt.length, tokens, rates, Double.NaN, loadSeconds);
        } finally {
            model.close();
        }
    }

    /**
     * Greedy token ids of Jlama on an unquantized folder (its BF16 weights, F32 activations): with our
     * FP32 mode on the same folder this shows that both engines compute the same model.
     */
    static int[] greedyTokensInFloat(Path folder, int[] prompt, int tokens) {
        AbstractModel model = ModelSupport.loadModel(folder.toFile(), null, DType.F32, DType.F32, Optional.empty(), Optional.empty());
        try {
            return decode(model, prompt, tokens).tokens();
        } finally {
            model.close();
        }
    }

    /** The greedy ids of one run and its decode tokens/s (the first token, produced by prefill, excluded). */
    private record Decoded(int[] tokens, double tokensPerSecond) {
    }

    private static double generate(AbstractModel model, int[] prompt, int tokens) {
        return decode(model, prompt, tokens).tokensPerSecond();
    }

    private static Decoded decode(AbstractModel model, int[] prompt, int tokens) {
        int vocab = model.getConfig().vocabularySize;
        int[] ids = new int[tokens];
        try (KvBufferCache cache = new KvBufferCache(model);
             AbstractTensor logits = model.makeDenseTensor(vocab)) {
            KvBufferCache.KvBuffer kv = cache.getKvBuffer(UUID.randomUUID());
            AbstractTensor last = model.batchForward(prompt, 0, kv);
            // temperature 0 makes Jlama's sample an argmax
            ids[0] = model.sample(last.slice(last.shape().first() - 1), 0f, 0f, logits);
            last.close();
            long start = System.nanoTime();
            for (int i = 1; i < tokens; i++) {
                AbstractTensor output = model.forward(ids[i - 1], prompt.length + i - 1, kv, Optional.empty());
                ids[i] = model.sample(output, 0f, 0f, logits);
                output.close();
            }
            long nanos = System.nanoTime() - start;
            return new Decoded(ids, (tokens - 1) * 1e9 / nanos);
        }
    }
}
