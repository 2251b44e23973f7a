package io.qspec.backend;

/**
 * Options for preparing a model on a backend.
 *
 * @param kvCacheBytes memory for the paged KV cache shared by all sequences; 0 lets the backend choose
 */
public record RunnerOptions(long kvCacheBytes) {
    public RunnerOptions {
        if (kvCacheBytes < 0) {
            throw new IllegalArgumentException("kvCacheBytes must be >= 0, got " + kvCacheBytes);
        }
    }

    public static RunnerOptions defaults() {
        return new RunnerOptions(0);
    }
}
