package io.qspec.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the GPU test classes share: they run only where the CUDA backend is usable, and skip elsewhere, except in
 * the emulated run (pom.xml), where a backend that the built stand-in libraries cannot make usable is a failure: a
 * kernel ABI that grew without the stand-in would otherwise skip every emulated test in silence.
 */
final class GpuTests {
    private GpuTests() {}

    /** A usable CUDA backend, or the calling test class is skipped with the reason it is not usable. */
    static CudaBackend usableBackend() {
        CudaBackend backend = new CudaBackend();
        var availability = backend.availability();
        if (!availability.available() && emulatedLibrariesBuilt()) {
            fail("the emulated CUDA libraries are built but the backend is unusable: " + availability.reason()
                    + " (does qspec-cuda/src/test/native/emulated_kernels.c define every function of qspec_cuda.h?)");
        }
        assumeTrue(availability.available(), () -> "CUDA backend unavailable: " + availability.reason());
        return backend;
    }

    private static boolean emulatedLibrariesBuilt() {
        String kernels = System.getProperty("qspec.cuda.kernels");
        return Boolean.getBoolean("qspec.cuda.emulated") && kernels != null && Files.isRegularFile(Path.of(kernels));
    }
}
