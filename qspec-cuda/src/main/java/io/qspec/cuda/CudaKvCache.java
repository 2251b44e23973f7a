package io.qspec.cuda;

import io.qspec.kv.KvCache;
import io.qspec.kv.KvCacheChecks;
import io.qspec.kv.KvCacheExhaustedException;
import java.util.Arrays;

/**
 * One sequence's KV cache on the GPU: a block table into the runner's {@link KvBlockPool}, reserved
 * for the whole capacity when the cache is created (so admission, not a later pass, finds a full pool),
 * kept across {@link #truncate} (the verify pass rewrites the same slots) and given back on {@link #close}.
 */
final class CudaKvCache implements KvCache {
    private final CudaModelRunner owner;
    private final KvBlockPool pool;
    private final int capacity;
    private final int[] blocks;
    private int length;
    private boolean closed;

    CudaKvCache(CudaModelRunner owner, KvBlockPool pool, int capacity) {
        this.owner = owner;
        this.pool = pool;
        this.capacity = capacity;
        this.blocks = pool.reserve(capacity);
    }

    CudaModelRunner owner() {
        return owner;
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
        requireOpen();
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
        read(layer, position, dst, true);
    }

    @Override
    public void readValue(int layer, int position, float[] dst) {
        read(layer, position, dst, false);
    }

    private void read(int layer, int position, float[] dst, boolean key) {
        requireOpen();
        KvCacheChecks.checkRead(layer, pool.layers(), position, length);
        owner.readKvRow(key, layer, blocks[position / pool.blockSize()], position % pool.blockSize(), dst);
    }

    /** The block ids covering positions {@code [0, end)}. */
    int[] blocksFor(int end) {
        requireOpen();
        if (end > capacity) {
            throw new KvCacheExhaustedException("cache needs " + end + " positions, holds " + capacity);
        }
        return Arrays.copyOf(blocks, Math.ceilDiv(end, pool.blockSize()));
    }

    /** Called after a successful pass wrote positions up to {@code newLength}. */
    void advanceTo(int newLength) {
        length = newLength;
    }

    boolean isClosed() {
        return closed;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!owner.isClosed()) {
                pool.release(blocks);
            }
        }
    }
}
