package io.qspec.backend;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Finds backends on the class path ({@link ServiceLoader}) and picks one: by name, or automatically
 * the available one with the highest priority, logging which and why (logger {@code io.qspec}).
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
}
