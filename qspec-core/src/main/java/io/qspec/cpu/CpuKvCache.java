package io.qspec.cpu;

import io.qspec.kv.KvCache;
import io.qspec.kv.KvCacheChecks;
import io.qspec.kv.KvCacheExhaustedException;

/**
 * One sequence's view of the {@link CpuKvBlockPool}: a block table mapping position
 * {@code p} to pool row {@code table[p / BLOCK_SIZE] * BLOCK_SIZE + p % BLOCK_SIZE}. Truncation only
 * moves the length; the next pass overwrites the stale entries in place. Closing returns the blocks.
 */
final class CpuKvCache implements KvCache {
    private final CpuKvBlockPool pool;
    private final int capacity;
    private int[] table;
    private int length;

    CpuKvCache(CpuKvBlockPool pool, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        }
        this.pool = pool;
        this.capacity = capacity;
        this.table = pool.reserve(capacity);
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
        KvCacheChecks.checkTruncate(newLength, length);
        length = newLength;
    }

    @Override
    public int layers() {
        return pool.layers();
    }

    @Override
    public int kvDim() {
        return pool.kvDim();
    }

    @Override
    public void readKey(int layer, int position, float[] dst) {
        checkRead(layer, position);
        System.arraycopy(pool.keys(layer), offset(position), dst, 0, kvDim());
    }

    @Override
    public void readValue(int layer, int position, float[] dst) {
        checkRead(layer, position);
        System.arraycopy(pool.values(layer), offset(position), dst, 0, kvDim());
    }

    /** Index of {@code position}'s first float in the pool's per-layer arrays. */
    int offset(int position) {
        int row = table[position / CpuKvBlockPool.BLOCK_SIZE] * CpuKvBlockPool.BLOCK_SIZE + position % CpuKvBlockPool.BLOCK_SIZE;
        return row * kvDim();
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
        return pool.keys(layer);
    }

    float[] values(int layer) {
        return pool.values(layer);
    }

    void advance(int count) {
        length += count;
    }

    private void checkRead(int layer, int position) {
        checkOpen();
        KvCacheChecks.checkRead(layer, layers(), position, length);
    }

    private void checkOpen() {
        if (table == null) {
            throw new IllegalStateException("KV cache is closed");
        }
    }

    @Override
    public void close() {
        if (table != null) {
            pool.release(table);
            table = null;
        }
    }
}
