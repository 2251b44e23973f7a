package io.qspec.cuda;

/**
 * What the probe learned about GPU 0. The probe returns one only for a GPU the kernels can run on
 * (compute capability {@link #MIN_MAJOR}.0 or newer, with code in the kernel library for it).
 *
 * @param name           marketing name, e.g. "NVIDIA H100 80GB HBM3"
 * @param major          compute capability major
 * @param minor          compute capability minor
 * @param multiprocessors streaming multiprocessors
 * @param totalMemory    device memory in bytes
 * @param freeMemory     free device memory in bytes when probed
 * @param runtimeVersion CUDA runtime version, e.g. 13000
 * @param driverVersion  CUDA version the driver supports, e.g. 13000
 * @param runtimeLibrary where the CUDA runtime was loaded from
 * @param kernelLibrary  where the QSpec kernel library was loaded from
 */
public record DeviceInfo(String name, int major, int minor, int multiprocessors, long totalMemory, long freeMemory,
                         int runtimeVersion, int driverVersion, String runtimeLibrary, String kernelLibrary) {

    /** Oldest architecture the kernels support: Ampere (sm_80). */
    public static final int MIN_MAJOR = 8;

    @Override
    public String toString() {
        return name + " (sm_" + major + minor + ", " + multiprocessors + " SMs, " + (totalMemory >> 20) + " MiB, "
                + (freeMemory >> 20) + " MiB free; runtime " + version(runtimeVersion) + ", driver " + version(driverVersion) + ")";
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }
}
