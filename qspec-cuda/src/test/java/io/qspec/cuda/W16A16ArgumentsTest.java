package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qspec.cuda.ffm.Cublas;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The W16A16 path's checks (dequantization, dense GEMM, cuBLAS status); none of these tests reaches native code. */
class W16A16ArgumentsTest {
    private static DeviceBuffer buffer(long bytes) {
        return new DeviceBuffer(0x10000, bytes);
    }

    /** A 64x100 INT4 matrix, group 64 (rows of 128 stored inputs). */
    private static DeviceLinear int4() {
        return new DeviceLinear("w", buffer(64L * 64), buffer(64L * 2 * 2), 64, 100, 64);
    }

    @Test
    void dequantizationNeedsAnFp16MatrixOfTheUnpaddedShape() {
        DeviceLinear w = int4();
        assertThatCode(() -> KernelArguments.requireDequantizeOutput(w, buffer(64L * 100 * 2), 100))
                .doesNotThrowAnyException();
        assertThatCode(() -> KernelArguments.requireDequantizeOutput(w, buffer((63L * 104 + 100) * 2), 104))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireDequantizeOutput(w, buffer(64L * 100 * 2 - 2), 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fp16 copy of w");
        assertThatThrownBy(() -> KernelArguments.requireDequantizeOutput(w, buffer(64L * 100 * 2), 99))
                .hasMessageContaining("leading dimension");
    }

    @Test
    void kernelWrapperChecksBeforeLaunching() {
        Kernels kernels = new Kernels(MemorySegment.NULL);
        assertThatThrownBy(() -> kernels.dequantizeInt4(int4(), buffer(10), 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 12800 bytes");
    }

    @Test
    void denseGemmChecksInputAndOutputExtents() {
        DenseLinear w = new DenseLinear("w", buffer(64L * 100 * 2), 64, 100);
        assertThatCode(() -> KernelArguments.requireDenseGemm(buffer(4L * 100 * 2), 100, w, buffer(4L * 64 * 4), 64, 4))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireDenseGemm(buffer(4L * 100 * 2 - 1), 100, w, buffer(4L * 64 * 4), 64, 4))
                .hasMessageContaining("x (fp16) for w");
        assertThatThrownBy(() -> KernelArguments.requireDenseGemm(buffer(4L * 100 * 2), 100, w, buffer(4L * 64 * 4), 63, 4))
                .hasMessageContaining("leading dimension");
        assertThatThrownBy(() -> KernelArguments.requireDenseGemm(buffer(4L * 100 * 2), 100, w, buffer(4L * 64 * 4), 64, 0))
                .hasMessageContaining("rows must be positive");
    }

    @Test
    void denseLinearMustHoldTwoBytesPerWeight() {
        assertThatThrownBy(() -> new DenseLinear("w", buffer(64L * 100 * 4), 64, 100)).hasMessageContaining("fp16 needs 12800");
        assertThatThrownBy(() -> new DenseLinear("w", buffer(0), 0, 100)).hasMessageContaining("bad shape");
    }

    @Test
    void cublasFailuresBecomeTypedExceptions() {
        assertThatCode(() -> CublasGemm.check(Cublas.CUBLAS_STATUS_SUCCESS, "x")).doesNotThrowAnyException();
        assertThatThrownBy(() -> CublasGemm.check(Cublas.CUBLAS_STATUS_ALLOC_FAILED, "cublasCreate_v2"))
                .isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessage("cublasCreate_v2 failed: CUBLAS_STATUS_ALLOC_FAILED (3)");
        assertThatThrownBy(() -> CublasGemm.check(Cublas.CUBLAS_STATUS_INVALID_VALUE, "cublasGemmEx(w)"))
                .isInstanceOf(CudaException.class).isNotInstanceOf(CudaOutOfMemoryException.class)
                .hasMessageContaining("CUBLAS_STATUS_INVALID_VALUE (7)")
                .satisfies(e -> assertThat(((CudaException) e).errorCode()).isEqualTo(7));
        assertThat(Cublas.statusName(99)).isEqualTo("cublasStatus (99)");
    }
}
