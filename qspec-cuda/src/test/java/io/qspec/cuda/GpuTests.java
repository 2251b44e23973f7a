package io.qspec.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the GPU test classes share: they run only where the CUDA backend is usable, and skip elsewhere. */
final class GpuTests {
    private GpuTests() {}

    /** A usable CUDA backend, or the calling test class is skipped with the reason it is not usable. */
    static CudaBackend usableBackend() {
        CudaBackend backend = new CudaBackend();
        var availability = backend.availability();
        assumeTrue(availability.available(), () -> "CUDA backend unavailable: " + availability.reason());
        return backend;
    }
}
