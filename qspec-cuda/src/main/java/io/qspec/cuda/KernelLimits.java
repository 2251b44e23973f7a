package io.qspec.cuda;

import io.qspec.backend.BackendUnavailableException;
import io.qspec.model.ModelConfig;

/**
 * The model shapes the kernels of {@code libqspec_cuda.so} can run. Checked when a runner opens, before anything is
 * uploaded, so that a model they cannot run is refused with the reason (and automatic selection falls back to the
 * CPU) instead of failing in every pass.
 */
final class KernelLimits {
    /** The attention kernels keep a head's dimensions in registers, 4 a lane (native/src/attention.cu). */
    static final int MAX_HEAD_DIM = 128;
    /** They load K and V 8 halves at a time. */
    static final int HEAD_DIM_MULTIPLE = 8;
    /**
     * A sequence with this many tokens in a pass (a prompt's prefill) has them attended on the tensor cores
     * (native/src/attention_tiles.cuh, {@code MIN_RUN}); fewer, and the row kernels take them.
     */
    static final int PREFILL_TILE_RUN = 64;

    private KernelLimits() {
    }

    /** Throws {@link BackendUnavailableException} naming the first limit {@code config} exceeds. */
    static void requireSupported(String modelName, ModelConfig config) {
        int headDim = config.headDim();
        if (headDim > MAX_HEAD_DIM || headDim % HEAD_DIM_MULTIPLE != 0) {
            throw new BackendUnavailableException(modelName + " has attention heads of " + headDim
                    + " dimensions; the CUDA kernels take a multiple of " + HEAD_DIM_MULTIPLE + " up to " + MAX_HEAD_DIM
                    + ". Run it on the CPU backend (--backend cpu)");
        }
    }
}
