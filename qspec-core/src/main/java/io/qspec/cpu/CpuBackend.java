package io.qspec.cpu;

import io.qspec.backend.Backend;
import io.qspec.backend.ModelRunner;
import io.qspec.backend.RunnerOptions;
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
    public ModelRunner open(Model model, RunnerOptions options) {
        return new CpuModelRunner(model, options.kvCacheBytes() > 0 ? options.kvCacheBytes() : defaultKvBudget(model));
    }

    /**
     * KV memory when none is configured: room for 32 full-context sequences, capped at a quarter
     * of the heap.
     */
    static long defaultKvBudget(Model model) {
        var c = model.config();
        long perPosition = 2L * c.layers() * c.kvDim() * Float.BYTES;
        long wanted = perPosition * c.contextLength() * 32;
        return Math.max(perPosition * CpuKvBlockPool.BLOCK_SIZE, Math.min(wanted, Runtime.getRuntime().maxMemory() / 4));
    }
}
