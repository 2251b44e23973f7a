package io.qspec.cuda;

import io.qspec.kv.KvCacheExhaustedException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The paged fp16 KV store of one runner: per layer a K pool and a V pool of shape
 * {@code [blocks, blockSize, kvHeads, headDim]} (native/include/qspec_cuda.h), and the free list
 * of block ids that sequences' caches draw from and give back.
 */
final class KvBlockPool {
    private final int layers;
    private final int blocks;
    private final int blockSize;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final DeviceMemory memory;
    private final DeviceBuffer[] keys;
    private final DeviceBuffer[] values;
    private final int[] freeIds;
    private int freeCount;

    KvBlockPool(DeviceMemory memory, int layers, int blocks, int blockSize, int heads, int kvHeads, int headDim) {
        KernelArguments.requirePositive("KV blocks", blocks);
        KernelArguments.requirePositive("block size", blockSize);
        this.memory = memory;
        this.layers = layers;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new DeviceBuffer[layers];
        this.values = new DeviceBuffer[layers];
        long bytes = (long) blocks * blockSize * kvDim() * 2;
        for (int l = 0; l < layers; l++) {
            keys[l] = memory.allocate(bytes, "K pool of layer " + l);
            values[l] = memory.allocate(bytes, "V pool of layer " + l);
        }
        this.freeIds = new int[blocks];
        // hand out low ids first: the stack pops from the end
        for (int i = 0; i < blocks; i++) {
            freeIds[i] = blocks - 1 - i;
        }
        this.freeCount = blocks;
    }

    /** Takes enough blocks for {@code positions}, all or none. */
    synchronized int[] reserve(int positions) {
        int needed = Math.ceilDiv(positions, blockSize);
        if (needed > freeCount) {
            throw new KvCacheExhaustedException("GPU KV memory full: " + positions + " positions (" + needed
                    + " blocks) wanted, " + freeCount + " of " + blocks + " blocks free; close finished caches or"
                    + " open the runner with a larger KV budget");
        }
        int[] ids = new int[needed];
        for (int i = 0; i < needed; i++) {
            ids[i] = freeIds[--freeCount];
        }
        return ids;
    }

    /** Gives blocks back. */
    synchronized void release(int[] ids) {
        for (int id : ids) {
            freeIds[freeCount++] = id;
        }
    }

    public synchronized int freeBlocks() {
        return freeCount;
    }

    public int blocks() {
        return blocks;
    }

    public int blockSize() {
        return blockSize;
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    DeviceBuffer keys(int layer) {
        return keys[layer];
    }

    DeviceBuffer values(int layer) {
        return values[layer];
    }

    /** Checks that a kernel over {@code layer} with {@code batch}'s tables stays inside this pool. */
    void check(int layer, BatchBuffers batch) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer " + layer + " of " + layers);
        }
        KernelArguments.requireAttentionShape(heads, kvHeads, headDim, blockSize, batch.maxBlocks(), batch.sequences(),
                batch.blockTables(), keys[layer], values[layer], blocks);
    }

    /** Copies one fp16 row ({@code kvDim} values) of a pool back to the host as floats (tests, debugging). */
    void readRow(DeviceBuffer pool, int block, int slot, float[] dst) {
        int width = kvDim();
        if (dst.length < width) {
            throw new IllegalArgumentException("destination holds " + dst.length + " floats, a row has " + width);
        }
        long offset = ((long) block * blockSize + slot) * width * 2;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) width * 2, 2);
            memory.copyToHost(pool.slice(offset, (long) width * 2), host);
            for (int i = 0; i < width; i++) {
                dst[i] = Float.float16ToFloat(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
            }
        }
    }
}
