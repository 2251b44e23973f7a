package io.qspec.cuda.ffm;

import io.qspec.backend.BackendUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads QSpec's own kernel library. The jar carries it as a resource (built from {@code native/}
 * during the Maven build); it is copied to a temporary file because the dynamic loader can only
 * open files. For development, {@value #KERNELS_PROPERTY} names a {@code .so} to use instead.
 */
public final class KernelLibraryLoader {
    /** System property: path of a {@code libqspec_cuda.so} to load instead of the bundled one. */
    public static final String KERNELS_PROPERTY = "qspec.cuda.kernels";
    /** Where the jar carries the library. */
    public static final String RESOURCE = "/native/linux-x86_64/libqspec_cuda.so";

    private KernelLibraryLoader() {
    }

    /** Loads the library named by the property, else the bundled one. */
    public static NativeLibrary load() {
        String override = System.getProperty(KERNELS_PROPERTY);
        if (override != null && !override.isBlank()) {
            return loadFile(Path.of(override), "-D" + KERNELS_PROPERTY);
        }
        return loadFile(extractBundled(), "jar resource " + RESOURCE);
    }

    @SuppressWarnings("restricted") // loading and calling native code is this class's purpose
    private static NativeLibrary loadFile(Path file, String source) {
        if (!Files.isRegularFile(file)) {
            throw new BackendUnavailableException("QSpec kernel library " + file + " (from " + source + ") does not exist");
        }
        try {
            return new NativeLibrary("QSpec kernel library", file.toString(), SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException("QSpec kernel library " + file + " (from " + source + ") did not load: "
                    + e.getMessage(), e);
        }
    }

    private static Path extractBundled() {
        if (!"linux".equalsIgnoreCase(System.getProperty("os.name")) || !"amd64".equals(System.getProperty("os.arch"))) {
            throw new BackendUnavailableException("the bundled QSpec kernel library is built for linux-x86_64 only, this is "
                    + System.getProperty("os.name") + "-" + System.getProperty("os.arch"));
        }
        try (InputStream in = KernelLibraryLoader.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new BackendUnavailableException("this qspec-cuda jar carries no kernel library (" + RESOURCE
                        + "): it was built without nvcc; rebuild with CUDA installed or set -D" + KERNELS_PROPERTY);
            }
            Path file = Files.createTempFile("libqspec_cuda", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new BackendUnavailableException("could not extract the QSpec kernel library to a temporary file: " + e, e);
        }
    }
}
