package io.qspec.cpu;

import io.qspec.backend.Backend;
import io.qspec.backend.ModelRunner;
import io.qspec.model.Model;

/** The CPU backend: Vector API kernels over the packed INT4 weights, threads over output rows. Always available. */
public final class CpuBackend implements Backend {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.yes(Runtime.getRuntime().availableProcessors() + " cores, Vector API "
                + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit");
    }

    @Override
    public ModelRunner open(Model model) {
        return new CpuModelRunner(model);
    }
}
