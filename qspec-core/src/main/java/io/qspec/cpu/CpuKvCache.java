package io.qspec.cpu;

import io.qspec.kv.KvCache;
import io.qspec.kv.KvCacheExhaustedException;

/**
 * A contiguous float32 KV cache for one sequence on the CPU: per layer one key and one value
 * array of {@code capacity * kvDim} floats, position-major. Truncation only moves the length;
 * the next pass overwrites the stale entries in place.
 */
final class CpuKvCache implements KvCache {
    private final int layers;
    private final int kvDim;
    private final int capacity;
    private float[][] keys;
    private float[][] values;
    private int length;

    CpuKvCache(int layers, int kvDim, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        }
        long floats = 2L * layers * capacity * kvDim;
        if ((long) capacity * kvDim > Integer.MAX_VALUE - 8) {
            throw new KvCacheExhaustedException("a CPU KV cache of " + capacity + " positions x " + kvDim
                    + " floats per layer exceeds one Java array; ask for fewer positions");
        }
        this.layers = layers;
        this.kvDim = kvDim;
        this.capacity = capacity;
        this.keys = new float[layers][capacity * kvDim];
        this.values = new float[layers][capacity * kvDim];
        assert floats > 0;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " outside [0, " + length + "]");
        }
        length = newLength;
    }

    @Override
    public int layers() {
        return layers;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public void readKey(int layer, int position, float[] dst) {
        checkRead(layer, position);
        System.arraycopy(keys[layer], position * kvDim, dst, 0, kvDim);
    }

    @Override
    public void readValue(int layer, int position, float[] dst) {
        checkRead(layer, position);
        System.arraycopy(values[layer], position * kvDim, dst, 0, kvDim);
    }

    /** Checks that {@code count} more positions fit, before a pass writes them. */
    void ensureRoom(int count) {
        checkOpen();
        if (length + count > capacity) {
            throw new KvCacheExhaustedException("KV cache full: " + length + " positions used, " + count
                    + " more needed, capacity " + capacity + "; create the cache with a larger capacity or shorten the request");
        }
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    void advance(int count) {
        length += count;
    }

    private void checkRead(int layer, int position) {
        checkOpen();
        if (layer < 0 || layer >= layers || position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("layer " + layer + ", position " + position + " outside "
                    + layers + " layers x " + length + " valid positions");
        }
    }

    private void checkOpen() {
        if (keys == null) {
            throw new IllegalStateException("KV cache is closed");
        }
    }

    @Override
    public void close() {
        keys = null;
        values = null;
    }
}
