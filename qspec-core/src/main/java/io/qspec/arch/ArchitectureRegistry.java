package io.qspec.arch;

import io.qspec.format.TensorSource;
import java.util.List;

/**
 * The architectures this SDK can run, and the lookup from a file's metadata to one of them.
 * New architectures are added here; nothing else names metadata keys.
 */
public final class ArchitectureRegistry {
    private static final List<Architecture> KNOWN = List.of(new GgufLlamaArchitecture(), new HuggingFaceLlamaArchitecture());

    private ArchitectureRegistry() {
    }

    /** The architecture of {@code source}, or an {@link UnsupportedArchitectureException} naming what was found. */
    public static Architecture resolve(TensorSource source) {
        for (Architecture a : KNOWN) {
            if (a.matches(source)) {
                return a;
            }
        }
        var m = source.metadata();
        String found = m.getString("general.architecture").map(a -> "general.architecture = " + a)
                .or(() -> m.getString("model_type").map(t -> "model_type = " + t))
                .or(() -> m.getList("architectures").map(l -> "architectures = " + l))
                .orElse("no architecture key");
        throw new UnsupportedArchitectureException(source.location() + ": unsupported architecture (" + found
                + "); supported: " + KNOWN.stream().map(Architecture::displayName).toList());
    }
}
