package io.qspec.examples.peers;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import java.nio.file.Path;

/**
 * Measures llama.cpp's greedy batch-1 decode on a GGUF file through its Java binding ({@code de.kherud:llama}, the
 * CPU build it ships for linux-x86_64). The binding reports no timings, so a run times a completion of
 * {@code tokens} tokens and one of a single token from the same prompt (prompt cache off) and counts
 * {@code (tokens - 1) / (t(tokens) - t(1))}: prefill and the first token excluded, as for the other engines.
 */
final class LlamaCppGreedyBenchmark implements AutoCloseable {
    private final LlamaModel model;
    private final double loadSeconds;

    LlamaCppGreedyBenchmark(Path gguf, int threads, int contextLength) {
        long t0 = System.nanoTime();
        model = new LlamaModel(new ModelParameters().setModel(gguf.toString()).setThreads(threads)
                .setThreadsBatch(threads).setCtxSize(contextLength).disableLog());
        loadSeconds = (System.nanoTime() - t0) / 1e9;
    }

    /** The prompt's token ids as llama.cpp reads them, BOS (id 1) first, so that the other engines get the same ids. */
    int[] promptIds(String prompt) {
        int[] text = model.encode(prompt);
        int[] ids = new int[text.length + 1];
        ids[0] = 1;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    PeerResult run(String prompt, int promptTokens, int tokens, int runs) {
        complete(prompt, tokens);   // warm-up
        double[] rates = new double[runs];
        for (int r = 0; r < runs; r++) {
            double one = complete(prompt, 1);
            double all = complete(prompt, tokens);
            rates[r] = (tokens - 1) / (all - one);
        }
        return new PeerResult("llama.cpp", "q4_0 weights (q8_0 activations)", promptTokens, tokens, rates, Double.NaN,
                loadSeconds);
    }

    private double complete(String prompt, int tokens) {
        InferenceParameters p = new InferenceParameters(prompt).setNPredict(tokens).setTemperature(0f).setTopK(1)
                .setIgnoreEos(true).setCachePrompt(false);
        long t0 = System.nanoTime();
        model.complete(p);
        return (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        model.close();
    }
}
