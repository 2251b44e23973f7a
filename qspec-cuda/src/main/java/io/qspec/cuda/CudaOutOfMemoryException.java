package io.qspec.cuda;

/** The GPU has not enough free memory for an allocation ({@code cudaErrorMemoryAllocation}). */
public class CudaOutOfMemoryException extends CudaException {
    public CudaOutOfMemoryException(String message, int errorCode) {
        super(message, errorCode);
    }
}
