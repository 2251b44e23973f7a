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

    /**
     * The context, in positions, from which the decode tiles take a token at these heads ({@link Kernels#decodeTilesFrom}),
     * or the library's default (512) where no token or every token takes them, so that tests which straddle the
     * threshold follow it when the environment moves it. Call after {@link #usableBackend}.
     */
    static int decodeTilesThreshold(int heads, int kvHeads, int headDim) {
        int from = Kernels.decodeTilesFrom(heads, kvHeads, headDim);
        return from > 0 ? from : 512;
    }

    private static boolean emulatedLibrariesBuilt() {
        String kernels = System.getProperty("qspec.cuda.kernels");
        return Boolean.getBoolean("qspec.cuda.emulated") && kernels != null && Files.isRegularFile(Path.of(kernels));
    }

    /**
     * In the emulated run, the stand-in runtime's allocation limit ({@code qspec_emulated_set_max_alloc}: allocations
     * above it fail as on a full GPU; 0 restores the default); empty on a real GPU.
     */
    static Optional<EmulatorSetting> emulatedAllocationLimit() {
        return runtimeHook("qspec_emulated_set_max_alloc", FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG))
                .map(set -> value -> call(set, value));
    }

    /** In the emulated run, a status the stand-in runtime's next {@code cudaStreamSynchronize} returns, once. */
    static Optional<EmulatorSetting> emulatedNextSyncStatus() {
        return runtimeHook("qspec_emulated_fail_next_sync", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))
                .map(set -> value -> call(set, Math.toIntExact(value)));
    }

    /**
     * In the emulated run, the status the stand-in kernels' {@code qspec_f32_to_f16} (the probe's test launch) returns
     * ({@code qspec_emulated_set_launch_status}; 0: it works); empty on a real GPU.
     */
    static Optional<EmulatorSetting> emulatedLaunchStatus() {
        String kernels = System.getProperty("qspec.cuda.kernels");
        return (kernels == null ? Optional.<MethodHandle>empty() : hook(Path.of(kernels), "qspec_emulated_set_launch_status",
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))).map(set -> value -> call(set, Math.toIntExact(value)));
    }

    /** In the emulated run, how often the stand-in runtime's legacy default stream was used; empty on a real GPU. */
    static Optional<java.util.function.LongSupplier> emulatedLegacyStreamUses() {
        return runtimeHook("qspec_emulated_legacy_stream_uses", FunctionDescriptor.of(ValueLayout.JAVA_LONG))
                .map(get -> () -> (long) call(get));
    }

    private static Optional<MethodHandle> runtimeHook(String symbol, FunctionDescriptor descriptor) {
        String libdir = System.getProperty("qspec.cuda.libdir");
        return libdir == null ? Optional.empty() : hook(Path.of(libdir, "libcudart.so"), symbol, descriptor);
    }

    /** A function the stand-in library {@code file} exports for tests; the file the backend loaded, so the same state. */
    private static Optional<MethodHandle> hook(Path file, String symbol, FunctionDescriptor descriptor) {
        if (!Boolean.getBoolean("qspec.cuda.emulated")) {
            return Optional.empty();
        }
        return Optional.of(SymbolLookup.libraryLookup(file, Arena.global()).find(symbol)
                .map(s -> Linker.nativeLinker().downcallHandle(s, descriptor))
                .orElseThrow(() -> new AssertionError("the emulated " + file + " has no " + symbol)));
    }

    private static Object call(MethodHandle handle, Object... arguments) {
        try {
            return handle.invokeWithArguments(arguments);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    @FunctionalInterface
    interface EmulatorSetting {
        void set(long value);
    }
}
