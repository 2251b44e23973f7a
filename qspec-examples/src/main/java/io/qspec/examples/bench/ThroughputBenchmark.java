package io.qspec.examples.bench;

import io.qspec.GenerationHandle;
import io.qspec.GenerationRequest;
import io.qspec.GenerationResult;
import io.qspec.QSpecEngine;
import io.qspec.SpeculationStats;
import io.qspec.StreamHandler;
import io.qspec.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Serves a prompt set first-come-first-served through one engine, keeping {@code batch} requests in
 * flight (a finished request is replaced at once: continuous batching), and measures throughput,
 * acceptance and where decode time went.
 */
final class ThroughputBenchmark {
    private ThroughputBenchmark() {
    }

    static BenchResult run(QSpecEngine engine, BenchCase bench, int batch, List<int[]> prompts, int requests,
                           int maxTokens, boolean fixedLength, SamplingParams sampling) throws InterruptedException {
        Semaphore inFlight = new Semaphore(batch);
        List<GenerationHandle> handles = new ArrayList<>();
        StreamHandler release = new StreamHandler() {
            @Override
            public void onComplete(GenerationResult result) {
                inFlight.release();
            }

            @Override
            public void onError(Throwable error) {
                inFlight.release();
            }
        };
        long t0 = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            inFlight.acquire();
            GenerationRequest request = GenerationRequest.builder(prompts.get(i % prompts.size()))
                    .maxTokens(maxTokens).ignoreEos(fixedLength).mode(bench.mode()).sampling(sampling).seed(i).build();
            handles.add(engine.submit(request, release));
        }
        List<GenerationResult> results = new ArrayList<>();
        for (GenerationHandle h : handles) {
            results.add(h.join());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        long tokens = 0;
        long drafted = 0;
        long accepted = 0;
        long rounds = 0;
        double draftMs = 0;
        double verifyMs = 0;
        double decodeMs = 0;
        int positions = bench.gamma();
        long[] acceptedAt = new long[positions];
        long[] draftedAt = new long[positions];
        for (GenerationResult r : results) {
            tokens += r.generatedTokens();
            SpeculationStats s = r.speculation();
            drafted += s.drafted();
            accepted += s.accepted();
            rounds += s.rounds();
            for (int p = 0; p < Math.min(positions, s.draftedByPosition().length); p++) {
                acceptedAt[p] += s.acceptedByPosition()[p];
                draftedAt[p] += s.draftedByPosition()[p];
            }
            int n = Math.max(1, r.generatedTokens());
            draftMs += r.timings().draftNanos() / 1e6 / n;
            verifyMs += r.timings().verifyNanos() / 1e6 / n;
            decodeMs += r.timings().decodeNanos() / 1e6 / Math.max(1, r.generatedTokens() - 1);  // prefill gave the first
        }
        double[] byPosition = new double[positions];
        for (int p = 0; p < positions; p++) {
            byPosition[p] = draftedAt[p] == 0 ? 0 : (double) acceptedAt[p] / draftedAt[p];
        }
        int n = results.size();
        double tokensPerSecond = tokens / seconds;
        return new BenchResult(bench.name(), bench.gamma(), batch, n, tokens, seconds, tokensPerSecond,
                drafted == 0 ? 0 : (double) accepted / drafted, rounds == 0 ? 0 : (double) (accepted + rounds) / rounds,
                byPosition, draftMs / n, verifyMs / n, decodeMs / n, 1, tokensPerSecond, tokensPerSecond);
    }
}
