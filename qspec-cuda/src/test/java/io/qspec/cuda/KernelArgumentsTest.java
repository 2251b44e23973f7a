package io.qspec.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks run before any kernel launch; none of these tests reaches native code. */
class KernelArgumentsTest {
    // fake device addresses: only their sizes matter to the checks
    private static DeviceBuffer buffer(long bytes) {
        return new DeviceBuffer(0x10000, bytes);
    }

    /** A 64x100 INT4 matrix, group 64: rows of 128 stored inputs (64 bytes), 2 scales per row. */
    private static DeviceLinear linear() {
        return new DeviceLinear("w", buffer(64L * 64), buffer(64L * 2 * 2), 64, 100, 64);
    }

    @Test
    void matrixExtentCountsOnlyTheLastRowsColumns() {
        assertThat(KernelArguments.matrixBytes("x", 3, 10, 16, 2)).isEqualTo((2L * 16 + 10) * 2);
        assertThatThrownBy(() -> KernelArguments.matrixBytes("x", 3, 10, 8, 2)).hasMessageContaining("leading dimension");
        assertThatThrownBy(() -> KernelArguments.matrixBytes("x", 0, 10, 10, 2)).hasMessageContaining("rows");
    }

    @Test
    void a16GemmChecksInputAndOutputExtents() {
        DeviceLinear w = linear();
        assertThatCode(() -> KernelArguments.requireA16Gemm(buffer(4L * 100 * 2), 100, w, buffer(4L * 64 * 4), 64, 4))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireA16Gemm(buffer(4L * 100 * 2 - 1), 100, w, buffer(4L * 64 * 4), 64, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x (fp16) for w");
        assertThatThrownBy(() -> KernelArguments.requireA16Gemm(buffer(4L * 100 * 2), 100, w, buffer(4L * 64 * 4), 63, 4))
                .hasMessageContaining("leading dimension");
    }

    @Test
    void fusedRopeAttentionTakesOnlyPassesOfOneTokenPerSequence() {
        assertThatCode(() -> KernelArguments.requireOneTokenPerSequence(8, 8)).doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireOneTokenPerSequence(4, 1))  // a verify pass
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one token per sequence")
                .hasMessageContaining("4 tokens of 1 sequences");
    }

    @Test
    void normTailOutputsMustStayApartFromItsInputs() {
        KernelArguments.Extent out = new KernelArguments.Extent("out", new DeviceBuffer(0x1000, 256), 256);
        KernelArguments.Extent after = new KernelArguments.Extent("x", new DeviceBuffer(0x1100, 64), 64);
        KernelArguments.Extent before = new KernelArguments.Extent("y", new DeviceBuffer(0x0f00, 256), 256);
        assertThatCode(() -> KernelArguments.requireApart(List.of(out), List.of(after, before)))
                .doesNotThrowAnyException();  // touching ends share no byte
        KernelArguments.Extent lastByte = new KernelArguments.Extent("w", new DeviceBuffer(0x10ff, 1), 1);
        assertThatThrownBy(() -> KernelArguments.requireApart(List.of(out), List.of(after, lastByte)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out [0x1000, +256) overlaps w [0x10ff, +1)")
                .hasMessageContaining("its own buffer");
        assertThatCode(() -> KernelArguments.requireTicket(new DeviceBuffer(0x2004, 4))).doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireTicket(new DeviceBuffer(0x2002, 4)))
                .hasMessageContaining("not 4-byte aligned");
        assertThatThrownBy(() -> KernelArguments.requireTicket(new DeviceBuffer(0x2004, 2)))
                .hasMessageContaining("ticket needs 4 bytes");
    }

    @Test
    void quantizedGemmNeedsPaddedRowsAndOneScalePerGroup() {
        DeviceLinear w = linear();
        assertThatCode(() -> KernelArguments.requireQuantizedGemm(buffer(2L * 128), buffer(2L * 2 * 4), w,
                buffer(2L * 64 * 4), 64, 2, 4)).doesNotThrowAnyException();
        assertThatThrownBy(() -> KernelArguments.requireQuantizedGemm(buffer(2L * 100), buffer(2L * 2 * 4), w,
                buffer(2L * 64 * 4), 64, 2, 4)).hasMessageContaining("quantized activations");
        assertThatThrownBy(() -> KernelArguments.requireQuantizedGemm(buffer(2L * 128), buffer(2L * 2 * 4), w,
                buffer(2L * 64 * 4), 64, 2, 5)).hasMessageContaining("8 or 4");
    }

    @Test
    void deviceLinearRejectsBuffersThatDoNotMatchTheInt4Layout() {
        assertThatThrownBy(() -> new DeviceLinear("w", buffer(64L * 50), buffer(64L * 2 * 2), 64, 100, 64))
                .hasMessageContaining("packed buffer");
        assertThatThrownBy(() -> new DeviceLinear("w", buffer(64L * 64), buffer(64L * 2), 64, 100, 64))
                .hasMessageContaining("scale buffer");
        assertThatThrownBy(() -> new DeviceLinear("w", buffer(64L * 64), buffer(64L * 2 * 2), 64, 100, 48))
                .hasMessageContaining("group");
    }

    @Test
    void kernelsRefuseBadArgumentsBeforeAnyNativeCall() {
        Kernels kernels = new Kernels(MemorySegment.NULL);
        DeviceLinear w = linear();
        assertThatThrownBy(() -> kernels.w4a16Gemm(buffer(10), 100, w, buffer(1 << 20), 64, 4, false, TokenOrder.ROW))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> kernels.embedding(buffer(4), buffer(1000), 100, buffer(1 << 20), 2, 8))
                .hasMessageContaining("token ids");
        assertThatThrownBy(() -> kernels.rmsnormQuantize(buffer(1 << 20), buffer(400), buffer(100), buffer(64), 1, 100,
                64, 8, 1e-5f, TokenOrder.ROW)).hasMessageContaining("quantized activations");
        assertThatThrownBy(() -> kernels.addInPlace(buffer(40), buffer(36), 10)).hasMessageContaining("y needs 40");
    }

    /** The GEMMs that normalise their own input: rows, gains, scratch and outputs sized, outputs apart from the rest. */
    @Test
    void normHeadCallsCheckTheirBuffersBeforeAnyNativeCall() {
        Kernels kernels = new Kernels(MemorySegment.NULL);
        DeviceLinear w = linear();
        int k = w.cols();
        DeviceBuffer r = new DeviceBuffer(0x100000, 2L * k * 4);
        DeviceBuffer gain = new DeviceBuffer(0x200000, (long) k * 4);
        DeviceBuffer normed = new DeviceBuffer(0x300000, 2L * k * 2);
        DeviceBuffer y = new DeviceBuffer(0x400000, 2L * w.rows() * 4);
        assertThatThrownBy(() -> kernels.rmsnormW4a16Gemm(new DeviceBuffer(0x100000, (long) k * 4), gain, 1e-5f, normed,
                w, y, w.rows(), 2)).hasMessageContaining("rmsnorm input");
        assertThatThrownBy(() -> kernels.rmsnormW4a16Gemm(r, new DeviceBuffer(0x200000, 4), 1e-5f, normed, w, y,
                w.rows(), 2)).hasMessageContaining("rmsnorm weight");
        assertThatThrownBy(() -> kernels.rmsnormW4a16Gemm(r, gain, 1e-5f, new DeviceBuffer(0x300000, 2), w, y, w.rows(),
                2)).hasMessageContaining("rmsnorm scratch");
        // y over the residual rows, and the scratch over y
        assertThatThrownBy(() -> kernels.rmsnormW4a16Gemm(r, gain, 1e-5f, normed, w, new DeviceBuffer(0x100000,
                2L * w.rows() * 4), w.rows(), 2)).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> kernels.rmsnormW4a16Gemm(r, gain, 1e-5f, new DeviceBuffer(0x400000, 2L * k * 2), w, y,
                w.rows(), 2)).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> kernels.rmsnormQuantizeW4axGemm(r, gain, 1e-5f, new DeviceBuffer(0x300000, 16),
                new DeviceBuffer(0x500000, 1024), w, y, w.rows(), 2, 8)).hasMessageContaining("quantized activations");
        assertThatThrownBy(() -> kernels.rmsnormQuantizeW4axGemm(r, gain, 1e-5f, new DeviceBuffer(0x300000, 256),
                new DeviceBuffer(0x300000, 1024), w, y, w.rows(), 2, 8)).hasMessageContaining("overlaps");
        assertThatThrownBy(() -> kernels.rmsnormW4a16GemmSwiglu(r, gain, 1e-5f, normed, w, y, 2,
                new DeviceBuffer(0x400000, (long) w.rows() * 2))).hasMessageContaining("overlaps");
    }

    @Test
    void stackedGemmOutputsAreCheckedBeforeTheKernels() {
        Kernels kernels = new Kernels(MemorySegment.NULL);
        // gate|up: 2 rows of 2 x 8 values, rows 16 apart -> (16 + 16) * 4 bytes
        assertThatThrownBy(() -> kernels.swigluF16(buffer(127), 16, buffer(1 << 10), 2, 8, TokenOrder.ROW))
                .hasMessageContaining("gate|up rows");
        assertThatThrownBy(() -> kernels.swigluF16(buffer(1 << 10), 15, buffer(1 << 10), 2, 8, TokenOrder.ROW))
                .hasMessageContaining("leading dimension 15 < 16");
        assertThatThrownBy(() -> kernels.swigluF16(buffer(1 << 10), 16, buffer(31), 2, 8, TokenOrder.ROW))
                .hasMessageContaining("swiglu output");
    }

    @Test
    void tokensInMmaOrderNeedWholeStepsBeforeTheKernels() {
        Kernels kernels = new Kernels(MemorySegment.NULL);
        // rows of 8 inputs cannot hold 128-input steps: refused in Java, whatever the library would say
        assertThatThrownBy(() -> kernels.swigluF16(buffer(1 << 10), 16, buffer(1 << 10), 2, 8, TokenOrder.MMA))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 128");
        assertThatThrownBy(() -> kernels.rmsnormF16(buffer(1 << 12), buffer(800), buffer(1 << 12), 2, 200, 1e-5f,
                TokenOrder.MMA)).hasMessageContaining("rows of 200 inputs");
        assertThat(TokenOrder.of(1)).isEqualTo(TokenOrder.MMA);
        assertThatThrownBy(() -> TokenOrder.of(7)).hasMessageContaining("names no token order");
    }

    @Test
    void slicesStayInsideTheirBuffer() {
        DeviceBuffer b = new DeviceBuffer(1000, 100);
        assertThat(b.slice(10, 90).address()).isEqualTo(1010);
        assertThatThrownBy(() -> b.slice(10, 91)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
