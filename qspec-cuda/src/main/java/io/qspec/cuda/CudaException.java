package io.qspec.cuda;

import io.qspec.QSpecException;

/** A CUDA runtime or QSpec kernel call failed; carries the raw error code. */
public class CudaException extends QSpecException {
    private final int errorCode;

    public CudaException(String message, int errorCode) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The {@code cudaError_t} (or {@code QSPEC_ERR_*}) value returned by the failing call. */
    public int errorCode() {
        return errorCode;
    }
}
