package io.qspec.engine;

/** Engine-wide counters: queue length, KV use, batch sizes. Updated by the scheduler thread. */
public final class EngineMetrics {
    private long passes;
    private long sequencesInPasses;
    private int maxBatch;
    private int maxQueue;

    void pass(int batchSize) {
        passes++;
        sequencesInPasses += batchSize;
        maxBatch = Math.max(maxBatch, batchSize);
    }

    void queued(int queueLength) {
        maxQueue = Math.max(maxQueue, queueLength);
    }

    Snapshot snapshot(int queued, int active, long kvUsed, long kvTotal) {
        return new Snapshot(queued, active, kvUsed, kvTotal, passes,
                passes == 0 ? 0 : (double) sequencesInPasses / passes, maxBatch, maxQueue);
    }

    /**
     * A consistent view of the engine.
     *
     * @param queued           requests waiting for KV memory
     * @param active           requests being decoded
     * @param kvPositionsUsed  KV positions reserved by active requests
     * @param kvPositionsTotal KV positions the memory budget holds
     * @param passes           batched steps run so far
     * @param meanBatch        sequences per step on average
     * @param maxBatch         largest batch so far
     * @param maxQueue         longest queue so far
     */
    public record Snapshot(int queued, int active, long kvPositionsUsed, long kvPositionsTotal, long passes,
                           double meanBatch, int maxBatch, int maxQueue) {
    }
}
