package io.qspec.cuda;

/**
 * A CUDA call failed with a sticky error (an illegal address, a failed launch, an uncorrectable ECC error): the
 * process's CUDA context is unusable from then on, for every runner in it. Only a new process gets the GPU back; the
 * CPU backend still works.
 */
public class CudaContextLostException extends CudaException {
    public CudaContextLostException(String message, int errorCode) {
        super(message, errorCode);
    }
}
