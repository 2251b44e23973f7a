package io.qspec.cuda;

import io.qspec.cuda.ffm.CudaRuntime;
import io.qspec.cuda.ffm.QSpecKernels;
import java.lang.foreign.MemorySegment;

/** Turns the integer status of a CUDA or kernel call into a typed exception. */
public final class CudaCalls {
    private CudaCalls() {
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
