package io.qspec.cuda;

import java.util.List;

/**
 * The Java-side checks made before every kernel launch: the kernels trust their arguments
 * (native/include/qspec_cuda.h), so every size, leading dimension and buffer extent is verified
 * here, where a mistake becomes an exception instead of a corrupted GPU heap.
 */
final class KernelArguments {
    private KernelArguments() {
    }

    /** Throws unless {@code value > 0}. */
    public static void requirePositive(String what, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
    }

    /**
     * Throws unless a pass of {@code tokens} tokens holds one token of each of its {@code sequences} sequences, as
     * the fused RoPE + attention kernel needs: it reads a token's own new k and v from where it computed them, so no
     * other token of the pass may need them from the cache.
     */
    public static void requireOneTokenPerSequence(int tokens, int sequences) {
        if (tokens != sequences) {
            throw new IllegalArgumentException("fused RoPE + attention needs one token per sequence, the pass has "
                    + tokens + " tokens of " + sequences + " sequences; use ropeWriteKv and attention");
        }
    }

    /** The bytes of a buffer a kernel reads or writes, named for messages. */
    public record Extent(String what, DeviceBuffer buffer, long bytes) {
        boolean overlaps(Extent other) {
            return buffer.address() < other.buffer.address() + other.bytes
                    && other.buffer.address() < buffer.address() + bytes;
        }

        @Override
        public String toString() {
            return what + " [0x" + Long.toHexString(buffer.address()) + ", +" + bytes + ")";
        }
    }

    /** Throws if an output shares a byte with an input: the kernel would read what it writes. */
    public static void requireApart(List<Extent> outputs, List<Extent> inputs) {
        for (Extent out : outputs) {
            for (Extent in : inputs) {
                if (out.overlaps(in)) {
                    throw new IllegalArgumentException(out + " overlaps " + in + "; give the output its own buffer");
                }
            }
        }
    }

    /** Throws unless {@code ticket} is a 4-byte aligned device word (a norm tail's count of finished CTAs). */
    public static void requireTicket(DeviceBuffer ticket) {
        requireBytes("norm tail ticket", ticket, 4);
        if (ticket.address() % 4 != 0) {
            throw new IllegalArgumentException("norm tail ticket at 0x" + Long.toHexString(ticket.address())
                    + " is not 4-byte aligned");
        }
    }

    /** Throws unless {@code bits} is 8 (A8) or 4 (A4). */
    public static void requireActivationBits(int bits) {
        if (bits != 8 && bits != 4) {
            throw new IllegalArgumentException("activation bits must be 8 or 4, got " + bits);
        }
    }

    /** Throws unless {@code group} is a positive multiple of 32, as the kernels' tiles need. */
    public static void requireGroup(int group) {
        if (group <= 0 || group % 32 != 0) {
            throw new IllegalArgumentException("group must be a positive multiple of 32, got " + group);
        }
    }

    /** Throws unless {@code buffer} holds at least {@code bytes}. */
    public static void requireBytes(String what, DeviceBuffer buffer, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException(what + ": negative extent " + bytes);
        }
        if (buffer.bytes() < bytes) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes, its buffer has " + buffer.bytes());
        }
    }

    /**
     * Bytes a row-major matrix of {@code rows} rows of {@code cols} elements, {@code ld} elements apart,
     * spans: the last row needs only {@code cols}. Checks {@code ld >= cols}.
     */
    public static long matrixBytes(String what, int rows, int cols, int ld, int elementBytes) {
        requirePositive(what + " rows", rows);
        requirePositive(what + " cols", cols);
        if (ld < cols) {
            throw new IllegalArgumentException(what + ": leading dimension " + ld + " < " + cols + " columns");
        }
        return ((long) (rows - 1) * ld + cols) * elementBytes;
    }

    /** Checks a matrix operand: shape, leading dimension and that the buffer holds it. */
    public static void requireMatrix(String what, DeviceBuffer buffer, int rows, int cols, int ld, int elementBytes) {
        requireBytes(what, buffer, matrixBytes(what, rows, cols, ld, elementBytes));
    }

    /** Checks the operands of {@code y[M, N] = x[M, K] W^T} for an A16 input. */
    public static void requireA16Gemm(DeviceBuffer x, int ldx, DeviceLinear w, DeviceBuffer y, int ldy, int m) {
        requireMatrix("x (fp16) for " + w.name(), x, m, w.cols(), ldx, 2);
        requireMatrix("y (fp32) of " + w.name(), y, m, w.rows(), ldy, 4);
    }

    /** Checks the operands of {@code y[M, N] = x[M, K] W^T} for dense fp16 weights (the W16A16 cuBLAS GEMM). */
    public static void requireDenseGemm(DeviceBuffer x, int ldx, DenseLinear w, DeviceBuffer y, int ldy, int m) {
        requireMatrix("x (fp16) for " + w.name(), x, m, w.cols(), ldx, 2);
        requireMatrix("y (fp32) of " + w.name(), y, m, w.rows(), ldy, 4);
    }

    /** Checks the output of dequantizing {@code w} to fp16: {@code [rows, ldo >= cols]}. */
    public static void requireDequantizeOutput(DeviceLinear w, DeviceBuffer out, int ldo) {
        requireGroup(w.group());
        requireMatrix("fp16 copy of " + w.name(), out, w.rows(), w.cols(), ldo, 2);
    }

    /** Checks the operands of the draft GEMM: quantized rows of {@code paddedCols} int8 and their scales. */
    public static void requireQuantizedGemm(DeviceBuffer xq, DeviceBuffer xscale, DeviceLinear w, DeviceBuffer y,
                                            int ldy, int m, int bits) {
        requireActivationBits(bits);
        requirePositive("M", m);
        requireBytes("quantized activations for " + w.name(), xq, (long) m * w.paddedCols());
        requireBytes("activation scales for " + w.name(), xscale, (long) m * w.groupsPerRow() * 4);
        requireMatrix("y (fp32) of " + w.name(), y, m, w.rows(), ldy, 4);
    }

    /** Checks the outputs of activation quantization for {@code m} rows of {@code k} inputs. */
    public static void requireQuantizedOutput(DeviceBuffer xq, DeviceBuffer xscale, int m, int k, int group, int bits) {
        requireActivationBits(bits);
        requireGroup(group);
        requirePositive("M", m);
        requirePositive("K", k);
        int groups = Math.ceilDiv(k, group);
        requireBytes("quantized activations", xq, (long) m * groups * group);
        requireBytes("activation scales", xscale, (long) m * groups * 4);
    }

    /** Checks attention/KV-cache geometry: heads divisible by kv heads, even head width, pools large enough. */
    public static void requireAttentionShape(int heads, int kvHeads, int headDim, int blockSize, int maxBlocks,
                                             int sequences, DeviceBuffer blockTables, DeviceBuffer kPool, DeviceBuffer vPool,
                                             int poolBlocks) {
        requirePositive("heads", heads);
        requirePositive("kv heads", kvHeads);
        requirePositive("head dim", headDim);
        requirePositive("block size", blockSize);
        requirePositive("max blocks", maxBlocks);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not a multiple of kv heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head dim must be even, got " + headDim);
        }
        requireBytes("block tables", blockTables, (long) sequences * maxBlocks * 4);
        long poolBytes = (long) poolBlocks * blockSize * kvHeads * headDim * 2;
        requireBytes("K pool", kPool, poolBytes);
        requireBytes("V pool", vPool, poolBytes);
    }
}
