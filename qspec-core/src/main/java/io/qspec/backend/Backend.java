package io.qspec.backend;

import io.qspec.model.Model;

/**
 * A place models can run: the CPU, a GPU. Implementations are found with {@link java.util.ServiceLoader}
 * so that the core never names a particular backend; the CUDA one lives in {@code qspec-cuda}.
 */
public interface Backend {

    /** Short name used on the command line and in reports: {@code cpu}, {@code cuda}. */
    String name();

    /** Higher wins when the engine picks automatically among available backends. */
    int priority();

    /** Whether this backend can run here, and if not, why (never throws). */
    Availability availability();

    /** Prepares {@code model} to run; throws {@link BackendUnavailableException} when it cannot. */
    ModelRunner open(Model model, RunnerOptions options);

    /** Prepares {@code model} with default options. */
    default ModelRunner open(Model model) {
        return open(model, RunnerOptions.defaults());
    }

    /** Result of probing a backend. */
    record Availability(boolean available, String reason) {
        public static Availability yes(String detail) {
            return new Availability(true, detail);
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }
}
