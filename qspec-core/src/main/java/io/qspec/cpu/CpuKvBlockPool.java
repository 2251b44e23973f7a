package io.qspec.cpu;

import io.qspec.kv.KvCacheExhaustedException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The CPU's KV memory: per layer one key and one value array cut into blocks of
 * {@link #BLOCK_SIZE} positions. Sequences reserve whole blocks when they are admitted and return
 * them when they close, so memory stays within the configured budget whatever the mix of requests.
 */
final class CpuKvBlockPool {
    static final int BLOCK_SIZE = 16;

    private final int layers;
    private final int kvDim;
    private final int blocks;
    private final float[][] keys;
    private final float[][] values;
    private final Deque<Integer> free = new ArrayDeque<>();

    CpuKvBlockPool(int layers, int kvDim, long budgetBytes) {
        long bytesPerBlock = 2L * layers * BLOCK_SIZE * kvDim * Float.BYTES;
        long maxBlocksPerArray = (Integer.MAX_VALUE - 8L) / ((long) BLOCK_SIZE * kvDim);
        long wanted = Math.min(budgetBytes / bytesPerBlock, maxBlocksPerArray);
        if (wanted < 1) {
            throw new IllegalArgumentException("KV budget of " + budgetBytes + " bytes is smaller than one block ("
                    + bytesPerBlock + " bytes)");
        }
        // the pool is Java heap: a budget the heap cannot hold is the caller's setting to fix, not an OutOfMemoryError
        long heapLeft = Runtime.getRuntime().maxMemory() - (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
        if (wanted * bytesPerBlock > heapLeft) {
            throw new IllegalArgumentException("KV budget of " + budgetBytes + " bytes (" + wanted * bytesPerBlock
                    + " used) exceeds the " + heapLeft + " bytes of Java heap left; give a smaller kvCacheBytes or"
                    + " a larger -Xmx");
        }
        this.layers = layers;
        this.kvDim = kvDim;
        this.blocks = (int) wanted;
        this.keys = new float[layers][blocks * BLOCK_SIZE * kvDim];
        this.values = new float[layers][blocks * BLOCK_SIZE * kvDim];
        for (int b = 0; b < blocks; b++) {
            free.add(b);
        }
    }

    int layers() {
        return layers;
    }

    int kvDim() {
        return kvDim;
    }

    synchronized long availablePositions() {
        return (long) free.size() * BLOCK_SIZE;
    }

    long totalPositions() {
        return (long) blocks * BLOCK_SIZE;
    }

    /** Takes enough blocks for {@code positions}, all or none. */
    synchronized int[] reserve(int positions) {
        int needed = Math.ceilDiv(positions, BLOCK_SIZE);
        if (needed > free.size()) {
            throw new KvCacheExhaustedException("KV memory full: " + positions + " positions (" + needed
                    + " blocks) wanted, " + free.size() + " of " + blocks + " blocks free; wait for other requests"
                    + " to finish or configure a larger KV budget");
        }
        int[] table = new int[needed];
        for (int i = 0; i < needed; i++) {
            table[i] = free.pop();
        }
        return table;
    }

    synchronized void release(int[] table) {
        for (int b : table) {
            free.push(b);
        }
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }
}
