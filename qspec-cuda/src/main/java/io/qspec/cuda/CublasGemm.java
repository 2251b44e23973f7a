package io.qspec.cuda;

import io.qspec.backend.BackendUnavailableException;
import io.qspec.cuda.ffm.Cublas;
import io.qspec.cuda.ffm.NativeLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;

/**
 * A cuBLAS handle bound to one stream, running the W16A16 GEMM {@code y_f32[M, N] = x_f16[M, K] W_f16^T}
 * with {@code cublasGemmEx} (fp16 inputs, fp32 accumulation and output). In cuBLAS's column-major terms the
 * row-major {@code y} is {@code C (N x M, ldc = ldy) = op_T(A: K x N, lda = K) * op_N(B: K x M, ldb = ldx)},
 * with A the row-major {@code [N, K]} weights and B the row-major {@code [M, K]} activations.
 */
final class CublasGemm implements AutoCloseable {
    /** alpha = 1 and beta = 0, in host memory (the default pointer mode reads them when the call is made). */
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    private static final MemorySegment ZERO = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 0f);

    private static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment handle;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    /**
     * Loads cuBLAS if needed, creates a handle and binds it to {@code stream}.
     *
     * @throws BackendUnavailableException when no cuBLAS is found (naming every place searched) or it cannot be bound
     * @throws CudaOutOfMemoryException    when cuBLAS cannot allocate its resources
     */
    CublasGemm(MemorySegment stream) {
        NativeLibrary library = Cublas.library();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(Cublas.cublasCreate_v2(out), "cublasCreate_v2");
            this.handle = MemorySegment.ofAddress(out.get(ValueLayout.ADDRESS, 0).address());
        } catch (LinkageError e) {
            throw new BackendUnavailableException("cuBLAS (" + library.origin() + ") could not be bound: " + e, e);
        }
        try {
            check(Cublas.cublasSetStream_v2(handle, stream), "cublasSetStream_v2");
        } catch (RuntimeException e) {
            Cublas.cublasDestroy_v2(handle);
            throw e;
        }
        // a handle dropped without close() (its runner never closed) is destroyed once unreachable
        MemorySegment h = handle;
        this.cleanable = CLEANER.register(this, () -> Cublas.cublasDestroy_v2(h));
    }

    /**
     * Queues {@code y[M, N] = x[M, K] W^T} ({@code accumulate}: {@code y += x W^T}) on the handle's stream;
     * every extent is checked first.
     */
    void gemm(DeviceBuffer x, int ldx, DenseLinear w, DeviceBuffer y, int ldy, int m, boolean accumulate) {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle is closed");
        }
        KernelArguments.requireDenseGemm(x, ldx, w, y, ldy, m);
        check(Cublas.cublasGemmEx(handle, Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_N, w.rows(), m, w.cols(),
                ONE, w.weights().pointer(), Cublas.CUDA_R_16F, w.cols(),
                x.pointer(), Cublas.CUDA_R_16F, ldx,
                accumulate ? ONE : ZERO, y.pointer(), Cublas.CUDA_R_32F, ldy,
                Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx(" + w.name() + ")");
    }

    /** Throws unless {@code status} is {@code CUBLAS_STATUS_SUCCESS}; an allocation failure is an out-of-memory. */
    static void check(int status, String call) {
        if (status == Cublas.CUBLAS_STATUS_SUCCESS) {
            return;
        }
        String message = call + " failed: " + Cublas.statusName(status);
        if (status == Cublas.CUBLAS_STATUS_ALLOC_FAILED) {
            throw new CudaOutOfMemoryException(message, status);
        }
        throw new CudaException(message, status);
    }

    /** Destroys the handle (and the workspace cuBLAS allocated for it). Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();  // cublasDestroy_v2, once
        }
    }
}
