package io.qspec.cuda.ffm;

import static io.qspec.cuda.ffm.Bindings.C_INT;
import static io.qspec.cuda.ffm.Bindings.C_POINTER;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * FFM bindings to cuBLAS ({@code libcublas}), jextract-shaped: the handful of functions the W16A16
 * baseline and benchmarks need. Typed methods return the raw {@code cublasStatus_t}.
 */
public final class Cublas {
    private Cublas() {
    }

    public static final List<String> SONAMES = List.of("libcublas.so", "libcublas.so.13", "libcublas.so.12");

    /** {@code cublasStatus_t} values. */
    public static final int CUBLAS_STATUS_SUCCESS = 0;
    public static final int CUBLAS_STATUS_NOT_INITIALIZED = 1;
    public static final int CUBLAS_STATUS_ALLOC_FAILED = 3;
    public static final int CUBLAS_STATUS_INVALID_VALUE = 7;
    public static final int CUBLAS_STATUS_ARCH_MISMATCH = 8;
    public static final int CUBLAS_STATUS_MAPPING_ERROR = 11;
    public static final int CUBLAS_STATUS_EXECUTION_FAILED = 13;
    public static final int CUBLAS_STATUS_INTERNAL_ERROR = 14;
    public static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;
    public static final int CUBLAS_STATUS_LICENSE_ERROR = 16;
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    /** {@code cudaDataType} values. */
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    /** {@code cublasComputeType_t} values. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_16F = 74;
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    /** The name of a {@code cublasStatus_t}, as {@code cublasGetStatusName} would give it, with the number. */
    public static String statusName(int status) {
        String name = switch (status) {
            case CUBLAS_STATUS_SUCCESS -> "CUBLAS_STATUS_SUCCESS";
            case CUBLAS_STATUS_NOT_INITIALIZED -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case CUBLAS_STATUS_ALLOC_FAILED -> "CUBLAS_STATUS_ALLOC_FAILED";
            case CUBLAS_STATUS_INVALID_VALUE -> "CUBLAS_STATUS_INVALID_VALUE";
            case CUBLAS_STATUS_ARCH_MISMATCH -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case CUBLAS_STATUS_MAPPING_ERROR -> "CUBLAS_STATUS_MAPPING_ERROR";
            case CUBLAS_STATUS_EXECUTION_FAILED -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case CUBLAS_STATUS_INTERNAL_ERROR -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case CUBLAS_STATUS_NOT_SUPPORTED -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case CUBLAS_STATUS_LICENSE_ERROR -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus";
        };
        return name + " (" + status + ")";
    }

    private static final Bindings.LazyLibrary LIBRARY = new Bindings.LazyLibrary(
            () -> LibraryLocator.forCuda().locate("cuBLAS", SONAMES));

    /** The loaded library; throws {@link io.qspec.backend.BackendUnavailableException} when it is not found. */
    public static NativeLibrary library() {
        return LIBRARY.get();
    }

    public static final FunctionDescriptor cublasCreate_v2$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cublasDestroy_v2$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cublasSetStream_v2$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cublasGemmEx$DESC = FunctionDescriptor.of(C_INT,
            C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT,
            C_POINTER, C_POINTER, C_INT, C_INT,
            C_POINTER, C_INT, C_INT,
            C_POINTER, C_POINTER, C_INT, C_INT,
            C_INT, C_INT);

    private static final class Handles {
        static final NativeLibrary LIB = library();
        static final MethodHandle cublasCreate_v2 = LIB.downcall("cublasCreate_v2", cublasCreate_v2$DESC);
        static final MethodHandle cublasDestroy_v2 = LIB.downcall("cublasDestroy_v2", cublasDestroy_v2$DESC);
        static final MethodHandle cublasSetStream_v2 = LIB.downcall("cublasSetStream_v2", cublasSetStream_v2$DESC);
        static final MethodHandle cublasGemmEx = LIB.downcall("cublasGemmEx", cublasGemmEx$DESC);
    }

    /** {@code cublasStatus_t cublasCreate_v2(cublasHandle_t* handle)} */
    public static int cublasCreate_v2(MemorySegment handle) {
        try {
            return (int) Handles.cublasCreate_v2.invokeExact(handle);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)} */
    public static int cublasDestroy_v2(MemorySegment handle) {
        try {
            return (int) Handles.cublasDestroy_v2.invokeExact(handle);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream)} */
    public static int cublasSetStream_v2(MemorySegment handle, MemorySegment stream) {
        try {
            return (int) Handles.cublasSetStream_v2.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /**
     * {@code cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
     * int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype, int lda, const void* B,
     * cudaDataType Btype, int ldb, const void* beta, void* C, cudaDataType Ctype, int ldc,
     * cublasComputeType_t computeType, cublasGemmAlgo_t algo)}; {@code alpha}/{@code beta} are host pointers
     * to values of the compute type's scale type.
     */
    public static int cublasGemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k,
                                   MemorySegment alpha, MemorySegment a, int aType, int lda,
                                   MemorySegment b, int bType, int ldb,
                                   MemorySegment beta, MemorySegment c, int cType, int ldc,
                                   int computeType, int algo) {
        try {
            return (int) Handles.cublasGemmEx.invokeExact(handle, transa, transb, m, n, k, alpha, a, aType, lda,
                    b, bType, ldb, beta, c, cType, ldc, computeType, algo);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }
}
