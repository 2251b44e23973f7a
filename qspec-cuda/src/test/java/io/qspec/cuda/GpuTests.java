package io.qspec.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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

    /**
     * In the emulated run, the stand-in runtime's allocation limit ({@code qspec_emulated_set_max_alloc}: allocations
     * above it fail as on a full GPU; 0 restores the default); empty on a real GPU.
     */
    static Optional<AllocationLimit> emulatedAllocationLimit() {
        String libdir = System.getProperty("qspec.cuda.libdir");
        if (!Boolean.getBoolean("qspec.cuda.emulated") || libdir == null) {
            return Optional.empty();
        }
        // the runtime the backend loaded: the same file, so the same handle and the same limit
        MethodHandle set = SymbolLookup.libraryLookup(Path.of(libdir, "libcudart.so"), Arena.global())
                .find("qspec_emulated_set_max_alloc")
                .map(symbol -> Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG)))
                .orElseThrow(() -> new AssertionError("the emulated libcudart.so has no qspec_emulated_set_max_alloc"));
        return Optional.of(bytes -> {
            try {
                set.invokeExact(bytes);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        });
    }

    @FunctionalInterface
    interface AllocationLimit {
        void set(long bytes);
    }
}
