package io.qspec.cuda;

import io.qspec.cuda.ffm.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;

/** A CUDA stream: the queue every kernel of one runner is launched on, in order. */
public final class CudaStream implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    public CudaStream() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaCalls.check(CudaRuntime.cudaStreamCreate(out), "cudaStreamCreate");
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
