package io.qspec.cuda;

import io.qspec.cuda.ffm.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Owner of a set of device allocations, and of the copies into and out of them, which go on one stream (a runner's).
 * {@link #close()} frees them all; if the owner is never closed, a {@link Cleaner} frees them once it becomes
 * unreachable, so a forgotten runner does not leak GPU memory for the life of the process.
 */
final class DeviceMemory implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** The state the cleaner needs; it must not reference the owner, or the owner never becomes unreachable. */
    private static final class Allocations implements Runnable {
        private final Set<Long> live = new LinkedHashSet<>();
        private long liveBytes;
        private boolean released;

        @Override
        public synchronized void run() {
            released = true;
            for (long address : live) {
                // best effort: nothing useful can be done about a failing free while cleaning up
                CudaRuntime.cudaFree(MemorySegment.ofAddress(address));
            }
            live.clear();
            liveBytes = 0;
        }
    }

    private final Allocations allocations = new Allocations();
    private final Cleaner.Cleanable cleanable;
    private final CudaStream stream;

    /** Allocations whose copies queue on {@code stream}, in order with its kernels. */
    public DeviceMemory(CudaStream stream) {
        this.stream = stream;
        this.cleanable = CLEANER.register(this, allocations);
    }

    /** Allocates {@code bytes} (at least 1) of device memory; {@link CudaOutOfMemoryException} when the GPU is full. */
    public DeviceBuffer allocate(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException(what + ": negative size " + bytes);
        }
        long size = Math.max(bytes, 1);
        synchronized (allocations) {
            if (allocations.released) {
                throw new IllegalStateException("device memory owner is closed; cannot allocate " + what);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int status = CudaRuntime.cudaMalloc(out, size);
            if (status != CudaRuntime.cudaSuccess) {
                // the runtime also keeps the failure as its "last error"; clear it, or the next kernel
                // launch (which reports cudaGetLastError) would be blamed for this allocation
                CudaRuntime.cudaGetLastError();
                CudaCalls.check(status, "cudaMalloc(" + size + " bytes for " + what + ")");
            }
            long address = out.get(ValueLayout.ADDRESS, 0).address();
            synchronized (allocations) {
                if (allocations.released) {  // closed while this allocated: nobody would free it
                    CudaRuntime.cudaFree(MemorySegment.ofAddress(address));
                    throw new IllegalStateException("device memory owner is closed; cannot allocate " + what);
                }
                allocations.live.add(address);
                allocations.liveBytes += size;
            }
            return new DeviceBuffer(address, bytes);
        }
    }

    /** Copies host memory into a new allocation. */
    public DeviceBuffer upload(MemorySegment host, String what) {
        DeviceBuffer buffer = allocate(host.byteSize(), what);
        copyToDevice(host, buffer, 0);
        return buffer;
    }

    /** Copies {@code floats} into a new fp32 allocation. */
    public DeviceBuffer uploadFloats(float[] floats, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, floats.length));
            MemorySegment.copy(floats, 0, host, ValueLayout.JAVA_FLOAT, 0, floats.length);
            return upload(host.asSlice(0, (long) floats.length * 4), what);
        }
    }

    /** Copies all of {@code host} to {@code dst} at {@code offset}, in order on the stream ({@link CudaStream#copyToDevice}). */
    public void copyToDevice(MemorySegment host, DeviceBuffer dst, long offset) {
        stream.copyToDevice(host, dst, offset);
    }

    /** Fills all of {@code host} from {@code src} once the stream's earlier work is done. */
    public void copyToHost(DeviceBuffer src, MemorySegment host) {
        stream.copyToHost(src, host);
    }

    /** Frees one allocation made here (not a slice). */
    public void free(DeviceBuffer buffer) {
        synchronized (allocations) {
            if (!allocations.live.remove(buffer.address())) {
                throw new IllegalArgumentException("device buffer at 0x" + Long.toHexString(buffer.address())
                        + " is not a live allocation of this owner");
            }
            allocations.liveBytes -= Math.max(buffer.bytes(), 1);
        }
        CudaCalls.check(CudaRuntime.cudaFree(buffer.pointer()), "cudaFree");
    }

    /** Bytes currently allocated through this owner. */
    public long liveBytes() {
        synchronized (allocations) {
            return allocations.liveBytes;
        }
    }

    /** Frees everything. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }
}
