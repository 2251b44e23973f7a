package io.qspec.cuda;

import io.qspec.backend.BackendUnavailableException;
import io.qspec.cuda.ffm.CudaRuntime;
import io.qspec.cuda.ffm.QSpecKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Checks, step by step, that the CUDA backend can run: runtime library, a device, its compute
 * capability, our kernel library and its ABI version. Each failing step becomes a
 * {@link BackendUnavailableException} whose message says which step and why.
 */
final class DeviceProbe {
    private DeviceProbe() {
    }

    /** Probes device 0 and makes it current on this thread. */
    public static DeviceInfo probe() {
        String runtime = CudaRuntime.library().origin();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int status = CudaRuntime.cudaGetDeviceCount(count);
            if (status != CudaRuntime.cudaSuccess) {
                throw new BackendUnavailableException("no CUDA device (cudaGetDeviceCount returned "
                        + CudaCalls.describe(status) + "; runtime " + runtime + ")");
            }
            if (count.get(ValueLayout.JAVA_INT, 0) == 0) {
                throw new BackendUnavailableException("no CUDA device (cudaGetDeviceCount returned 0 devices)");
            }
            CudaCalls.check(CudaRuntime.cudaSetDevice(0), "cudaSetDevice(0)");
            int major = attribute(arena, CudaRuntime.cudaDevAttrComputeCapabilityMajor);
            int minor = attribute(arena, CudaRuntime.cudaDevAttrComputeCapabilityMinor);
            int sms = attribute(arena, CudaRuntime.cudaDevAttrMultiProcessorCount);
            MemorySegment prop = arena.allocate(CudaRuntime.DEVICE_PROP_BYTES, 16);
            CudaCalls.check(CudaRuntime.cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
            String name = prop.asSlice(0, CudaRuntime.DEVICE_NAME_BYTES).getString(0);
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            CudaCalls.check(CudaRuntime.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            CudaCalls.check(CudaRuntime.cudaRuntimeGetVersion(version), "cudaRuntimeGetVersion");
            int runtimeVersion = version.get(ValueLayout.JAVA_INT, 0);
            CudaCalls.check(CudaRuntime.cudaDriverGetVersion(version), "cudaDriverGetVersion");
            int driverVersion = version.get(ValueLayout.JAVA_INT, 0);
            if (major < DeviceInfo.MIN_MAJOR) {
                throw new BackendUnavailableException("compute capability " + major + "." + minor + " of " + name
                        + " unsupported (need " + DeviceInfo.MIN_MAJOR + ".0+)");
            }
            String kernels = QSpecKernels.library().origin();
            int abi = QSpecKernels.qspec_abi_version();
            if (abi != QSpecKernels.ABI_VERSION) {
                throw new BackendUnavailableException("QSpec kernel library " + kernels + " has ABI version " + abi
                        + ", these bindings need " + QSpecKernels.ABI_VERSION);
            }
            requireKernelCode(arena, name, major, minor, kernels);
            return new DeviceInfo(name, major, minor, sms, total.get(ValueLayout.JAVA_LONG, 0),
                    free.get(ValueLayout.JAVA_LONG, 0), runtimeVersion, driverVersion, runtime, kernels);
        }
    }

    /**
     * The kernel library carries code for sm_80, sm_86, sm_89 and sm_90a only, so a newer GPU may find none for it:
     * one tiny launch tells, here rather than in every pass.
     */
    private static void requireKernelCode(Arena arena, String name, int major, int minor, String kernels) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        CudaCalls.check(CudaRuntime.cudaMalloc(out, 16), "cudaMalloc(16 bytes for the probe's test launch)");
        MemorySegment buffer = out.get(ValueLayout.ADDRESS, 0);
        try (CudaStream stream = new CudaStream()) {  // not the legacy stream, which another capture may hold
            int status = QSpecKernels.qspec_f32_to_f16(buffer, MemorySegment.ofAddress(buffer.address() + 8), 1,
                    stream.handle());
            if (status == CudaRuntime.cudaSuccess) {
                status = CudaRuntime.cudaStreamSynchronize(stream.handle());
            }
            if (status != CudaRuntime.cudaSuccess) {
                CudaRuntime.cudaGetLastError();
                throw new BackendUnavailableException("QSpec kernel library " + kernels + " cannot run on " + name
                        + " (sm_" + major + minor + "): a test launch returned " + CudaCalls.describe(status)
                        + ". It carries code for sm_80, sm_86, sm_89 and sm_90a; run on the CPU backend (--backend cpu)");
            }
        } finally {
            CudaRuntime.cudaFree(buffer);
        }
    }

    private static int attribute(Arena arena, int attribute) {
        MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
        CudaCalls.check(CudaRuntime.cudaDeviceGetAttribute(value, attribute, 0), "cudaDeviceGetAttribute(" + attribute + ")");
        return value.get(ValueLayout.JAVA_INT, 0);
    }
}
