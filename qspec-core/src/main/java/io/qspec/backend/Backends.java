package io.qspec.backend;

import io.qspec.model.Model;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Finds backends on the class path ({@link ServiceLoader}) and picks one: by name, or automatically
 * the available one with the highest priority that can run the model, logging which and why (logger
 * {@code io.qspec}).
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("io.qspec");

    private Backends() {
    }

    /** Every backend on the class path, highest priority first. */
    public static List<Backend> all() {
        List<Backend> found = new ArrayList<>();
        ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(found::add);
        found.sort(Comparator.comparingInt(Backend::priority).reversed());
        return found;
    }

    /**
     * The backend called {@code name} ({@code cpu}, {@code cuda}), or for {@code auto} the best
     * available one. A named backend that cannot run here is a {@link BackendUnavailableException}
     * with its reason; {@code auto} logs every unavailable backend's reason and falls back.
     */
    public static Backend select(String name) {
        List<Backend> backends = all();
        String wanted = name.toLowerCase(Locale.ROOT);
        if (!wanted.equals("auto")) {
            for (Backend b : backends) {
                if (b.name().equals(wanted)) {
                    Backend.Availability a = b.availability();
                    if (!a.available()) {
                        throw new BackendUnavailableException("backend '" + wanted + "' is not usable here: " + a.reason());
                    }
                    LOG.log(Level.INFO, "using backend {0} (requested): {1}", b.name(), a.reason());
                    return b;
                }
            }
            throw new BackendUnavailableException("no backend named '" + wanted + "' on the class path; found: "
                    + backends.stream().map(Backend::name).toList()
                    + (wanted.equals("cuda") ? " (add the qspec-cuda jar to use the GPU)" : ""));
        }
        for (Backend b : backends) {
            Backend.Availability a = b.availability();
            if (a.available()) {
                LOG.log(Level.INFO, "using backend {0}: {1}", b.name(), a.reason());
                return b;
            }
            LOG.log(Level.INFO, "backend {0} not usable: {1}", b.name(), a.reason());
        }
        throw new BackendUnavailableException("no usable backend found among " + backends.stream().map(Backend::name).toList());
    }

    /**
     * Opens {@code model} on the backend called {@code name}, or for {@code auto} on the best available backend that
     * takes it: one that is usable here but refuses this model when opening it ({@link BackendUnavailableException},
     * e.g. a head size its kernels do not run) is logged with its reason and the next is tried. A named backend's
     * refusal is thrown as it is. Other failures (out of memory, a corrupt model) are thrown whatever the name.
     */
    public static ModelRunner open(String name, Model model, RunnerOptions options) {
        if (!name.toLowerCase(Locale.ROOT).equals("auto")) {
            return select(name).open(model, options);
        }
        return openFirst(all(), model, options);
    }

    /** {@link #open} for {@code auto} over {@code backends} (highest priority first). */
    static ModelRunner openFirst(List<Backend> backends, Model model, RunnerOptions options) {
        List<String> refusals = new ArrayList<>();
        for (Backend b : backends) {
            Backend.Availability a = b.availability();
            if (!a.available()) {
                LOG.log(Level.INFO, "backend {0} not usable: {1}", b.name(), a.reason());
                refusals.add(b.name() + ": " + a.reason());
                continue;
            }
            try {
                ModelRunner runner = b.open(model, options);
                LOG.log(Level.INFO, "using backend {0}: {1}", b.name(), a.reason());
                return runner;
            } catch (BackendUnavailableException e) {
                LOG.log(Level.INFO, "backend {0} cannot run {1}: {2}", b.name(), model.name(), e.getMessage());
                refusals.add(b.name() + ": " + e.getMessage());
            }
        }
        throw new BackendUnavailableException("no backend can run " + model.name() + ": " + refusals);
    }
}
