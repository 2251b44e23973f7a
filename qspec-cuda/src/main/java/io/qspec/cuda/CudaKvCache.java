package io.qspec.cuda;

import io.qspec.kv.KvCache;
import io.qspec.kv.KvCacheExhaustedException;
import java.util.Arrays;

/**
 * One sequence's KV cache on the GPU: a block table into the runner's {@link KvBlockPool}. Blocks are
 * taken lazily as the sequence grows and kept across {@link #truncate} (the verify pass rewrites the
 * same slots), and given back on {@link #close}.
 */
final class CudaKvCache implements KvCache {
    private final CudaModelRunner owner;
    private final KvBlockPool pool;
    private final int capacity;
    private int[] blocks = new int[4];
    private int blockCount;
    private int length;
    private boolean closed;

    CudaKvCache(CudaModelRunner owner, KvBlockPool pool, int capacity) {
        this.owner = owner;
        this.pool = pool;
        this.capacity = capacity;
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
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " outside [0, " + length + "]");
        }
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
        if (layer < 0 || layer >= pool.layers()) {
            throw new IndexOutOfBoundsException("layer " + layer + " of " + pool.layers());
        }
        if (position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("position " + position + " of " + length + " valid positions");
        }
        owner.synchronize();
        int block = blocks[position / pool.blockSize()];
        pool.readRow(key ? pool.keys(layer) : pool.values(layer), block, position % pool.blockSize(), dst);
    }

    /** Makes sure blocks cover positions {@code [0, end)}; returns the block ids covering them. */
    int[] reserve(int end) {
        requireOpen();
        if (end > capacity) {
            throw new KvCacheExhaustedException("cache needs " + end + " positions, holds " + capacity);
        }
        int needed = Math.ceilDiv(end, pool.blockSize());
        while (blockCount < needed) {
            if (blockCount == blocks.length) {
                blocks = Arrays.copyOf(blocks, blocks.length * 2);
            }
            blocks[blockCount] = pool.take();
            blockCount++;
        }
        return Arrays.copyOf(blocks, needed);
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
                pool.release(blocks, blockCount);
            }
            blockCount = 0;
        }
    }
}
