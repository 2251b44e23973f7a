package io.qspec.cuda;

import io.qspec.cuda.ffm.CudaRuntime;
import io.qspec.cuda.ffm.QSpecKernels;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * Turns the integer status of a CUDA or kernel call into a typed exception, and remembers a sticky error: after one,
 * the process's CUDA context fails every call, so later work is refused up front with the first error's message.
 */
final class CudaCalls {
    /**
     * The errors that leave the context unusable (CUDA runtime API, "cudaError"): ECC uncorrectable, illegal
     * address, launch timeout, device assert, hardware stack error, illegal instruction, misaligned address, invalid
     * address space, invalid PC, launch failure.
     */
    private static final Set<Integer> STICKY = Set.of(214, 700, 702, 710, 714, 715, 716, 717, 718, 719);

    private static volatile CudaContextLostException lost;

    private CudaCalls() {
    }

    /** Throws {@link CudaContextLostException} if a sticky error has ended this process's CUDA context. */
    public static void requireContext() {
        CudaContextLostException first = lost;
        if (first != null) {
            throw new CudaContextLostException("the CUDA context of this process was lost earlier: "
                    + first.getMessage(), first.errorCode());
        }
    }

    /** The sticky error that ended this process's CUDA context, or null while it works. */
    static CudaContextLostException contextLoss() {
        return lost;
    }

    /** Forgets a context loss; for the emulated tests only, whose stand-in runtime recovers from anything. */
    static void forgetContextLossForTests() {
        lost = null;
    }

    /** Throws unless {@code status} is 0; {@code call} names what was attempted, for the message. */
    public static void check(int status, String call) {
        if (status == CudaRuntime.cudaSuccess) {
            return;
        }
        String message = call + " failed: " + describe(status);
        if (status == CudaRuntime.cudaErrorMemoryAllocation) {
            throw new CudaOutOfMemoryException(message, status);
        }
        if (STICKY.contains(status)) {
            CudaContextLostException e = new CudaContextLostException(message
                    + "; the CUDA context is unusable from now on: restart the process to use the GPU again", status);
            if (lost == null) {
                lost = e;
            }
            throw e;
        }
        throw new CudaException(message, status);
    }

    /** "cudaError 2 (out of memory)", or the QSpec kernel error name. */
    @SuppressWarnings("restricted") // loading and calling native code is this class's purpose
    public static String describe(int status) {
        if (status == QSpecKernels.QSPEC_ERR_UNSUPPORTED) {
            return "QSPEC_ERR_UNSUPPORTED (argument combination not supported by the kernels)";
        }
        try {
            MemorySegment text = CudaRuntime.cudaGetErrorString(status);
            return "cudaError " + status + " (" + text.reinterpret(1024).getString(0) + ")";
        } catch (RuntimeException | LinkageError e) {
            return "cudaError " + status;
        }
    }
}
