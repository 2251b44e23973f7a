package io.qspec.cuda;

import io.qspec.backend.Backend;
import io.qspec.backend.BackendUnavailableException;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
import io.qspec.model.Model;

/**
 * The NVIDIA GPU backend: QSpec's INT4 kernels ({@code libqspec_cuda.so}) driven through FFM.
 * Found by {@link java.util.ServiceLoader}; preferred over the CPU whenever a supported GPU
 * (compute capability 8.0 or newer) and the CUDA runtime are present.
 */
public final class CudaBackend implements Backend {
    /** Above the CPU backend's, so that automatic selection picks the GPU when it is usable. */
    public static final int PRIORITY = 100;

    private volatile DeviceInfo device;

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Availability availability() {
        try {
            return Availability.yes(probe().toString());
        } catch (BackendUnavailableException e) {
            return Availability.no(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("probing the CUDA backend failed: " + e);
        }
    }

    @Override
    public ModelRunner open(Model model, RunnerOptions options) {
        return open(model, options, true);
    }

    /** As {@link #open(Model, RunnerOptions)}; {@code graphs} false launches kernels one by one (for tests). */
    CudaModelRunner open(Model model, RunnerOptions options, boolean graphs) {
        DeviceInfo info;
        try {
            info = probe();
        } catch (BackendUnavailableException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("probing the CUDA backend failed: " + e, e);
        }
        return graphs ? new CudaModelRunner(model, info, options) : new CudaModelRunner(model, info, options, false);
    }

    private DeviceInfo probe() {
        CudaContextLostException loss = CudaCalls.contextLoss();
        if (loss != null) {
            throw new BackendUnavailableException("the CUDA context of this process was lost: " + loss.getMessage());
        }
        DeviceInfo info = device;
        if (info == null) {
            info = DeviceProbe.probe();
            device = info;
        }
        return info;
    }
}
