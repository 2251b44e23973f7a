package io.qspec.cuda;

import io.qspec.cuda.ffm.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;

/**
 * A CUDA stream: the queue every kernel and copy of one runner goes on, in order. Non-blocking, and no copy of ours
 * uses the legacy default stream: while a blocking stream captures a graph the legacy stream is unusable, so one
 * runner's capture would otherwise fail another runner's copies (and they its capture).
 */
final class CudaStream implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    public CudaStream() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaCalls.check(CudaRuntime.cudaStreamCreateWithFlags(out, CudaRuntime.cudaStreamNonBlocking),
                    "cudaStreamCreateWithFlags(cudaStreamNonBlocking)");
            this.handle = MemorySegment.ofAddress(out.get(ValueLayout.ADDRESS, 0).address());
        }
        // a stream dropped without close() is destroyed once unreachable (the lambda captures the handle only)
        MemorySegment h = handle;
        this.cleanable = CLEANER.register(this, () -> CudaRuntime.cudaStreamDestroy(h));
    }

    /** The {@code cudaStream_t} to pass to kernels. */
    public MemorySegment handle() {
        return handle;
    }

    /** Waits until all work queued so far has finished; reports the first asynchronous error. */
    public void synchronize() {
        CudaCalls.check(CudaRuntime.cudaStreamSynchronize(handle), "cudaStreamSynchronize");
    }

    /**
     * Copies all of {@code host} to {@code dst} at {@code offset}, after the work queued before it. Returns once
     * {@code host} may be reused: from pageable memory, which is all this SDK passes, the runtime stages the bytes
     * before {@code cudaMemcpyAsync} returns.
     */
    void copyToDevice(MemorySegment host, DeviceBuffer dst, long offset) {
        if (!host.isNative()) {
            // heap memory may move during a native call, so it is staged off-heap first
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staged = arena.allocate(Math.max(1, host.byteSize()), 64).asSlice(0, host.byteSize());
                staged.copyFrom(host);
                copyToDevice(staged, dst, offset);
                return;
            }
        }
        DeviceBuffer target = dst.slice(offset, host.byteSize());
        CudaCalls.check(CudaRuntime.cudaMemcpyAsync(target.pointer(), host, host.byteSize(),
                CudaRuntime.cudaMemcpyHostToDevice, handle), "cudaMemcpyAsync host→device (" + host.byteSize() + " bytes)");
    }

    /** Fills all of {@code host} from {@code src} once the work queued before has finished. */
    void copyToHost(DeviceBuffer src, MemorySegment host) {
        DeviceBuffer source = src.slice(0, host.byteSize());
        CudaCalls.check(CudaRuntime.cudaMemcpyAsync(host, source.pointer(), host.byteSize(),
                CudaRuntime.cudaMemcpyDeviceToHost, handle), "cudaMemcpyAsync device→host (" + host.byteSize() + " bytes)");
        synchronize();
    }

    /** Queues a device → device copy of {@code bytes} (both ranges checked). */
    public void copyAsync(DeviceBuffer dst, DeviceBuffer src, long bytes) {
        DeviceBuffer to = dst.slice(0, bytes);
        DeviceBuffer from = src.slice(0, bytes);
        CudaCalls.check(CudaRuntime.cudaMemcpyAsync(to.pointer(), from.pointer(), bytes,
                CudaRuntime.cudaMemcpyDeviceToDevice, handle), "cudaMemcpyAsync device→device");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();
        }
    }
}
