package io.qspec.cuda.ffm;

import static io.qspec.cuda.ffm.Bindings.C_FLOAT;
import static io.qspec.cuda.ffm.Bindings.C_INT;
import static io.qspec.cuda.ffm.Bindings.C_LONG;
import static io.qspec.cuda.ffm.Bindings.C_POINTER;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * FFM bindings to the CUDA runtime ({@code libcudart}), in the shape jextract generates: a
 * {@link FunctionDescriptor} and a static {@link MethodHandle} per function, and a typed static
 * method that returns the raw {@code cudaError_t}. Pointers are {@link MemorySegment}s; out-parameters
 * are segments the caller allocates. The library is located on first use ({@link #library()}).
 */
public final class CudaRuntime {
    private CudaRuntime() {
    }

    /** Sonames tried, newest first. */
    public static final List<String> SONAMES = List.of("libcudart.so", "libcudart.so.13", "libcudart.so.12");

    public static final int cudaSuccess = 0;
    public static final int cudaErrorMemoryAllocation = 2;
    public static final int cudaErrorNoDevice = 100;
    public static final int cudaErrorInsufficientDriver = 35;

    /** {@code cudaStreamNonBlocking}: the stream does not synchronize with the legacy default stream. */
    public static final int cudaStreamNonBlocking = 1;
    public static final int cudaMemcpyHostToDevice = 1;
    public static final int cudaMemcpyDeviceToHost = 2;
    public static final int cudaMemcpyDeviceToDevice = 3;

    public static final int cudaDevAttrMultiProcessorCount = 16;
    public static final int cudaDevAttrComputeCapabilityMajor = 75;
    public static final int cudaDevAttrComputeCapabilityMinor = 76;

    public static final int cudaStreamCaptureModeGlobal = 0;
    public static final int cudaStreamCaptureModeThreadLocal = 1;
    public static final int cudaStreamCaptureModeRelaxed = 2;

    /** Bytes reserved for {@code cudaDeviceProp}; the real struct is about 1 KB, its first field the name. */
    public static final long DEVICE_PROP_BYTES = 8192;
    /** Length of {@code cudaDeviceProp.name}. */
    public static final int DEVICE_NAME_BYTES = 256;

    private static final Bindings.LazyLibrary LIBRARY = new Bindings.LazyLibrary(
            () -> LibraryLocator.forCuda().locate("CUDA runtime", SONAMES));

    /** The loaded library; throws {@link io.qspec.backend.BackendUnavailableException} when it is not found. */
    public static NativeLibrary library() {
        return LIBRARY.get();
    }

    public static final FunctionDescriptor cudaGetErrorString$DESC = FunctionDescriptor.of(C_POINTER, C_INT);
    public static final FunctionDescriptor cudaGetLastError$DESC = FunctionDescriptor.of(C_INT);
    public static final FunctionDescriptor cudaRuntimeGetVersion$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaDriverGetVersion$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaGetDeviceCount$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaSetDevice$DESC = FunctionDescriptor.of(C_INT, C_INT);
    public static final FunctionDescriptor cudaDeviceGetAttribute$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT);
    public static final FunctionDescriptor cudaGetDeviceProperties$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
    public static final FunctionDescriptor cudaMemGetInfo$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cudaMalloc$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_LONG);
    public static final FunctionDescriptor cudaFree$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaMemcpy$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_INT);
    public static final FunctionDescriptor cudaMemcpyAsync$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG, C_INT, C_POINTER);
    public static final FunctionDescriptor cudaMemsetAsync$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_LONG, C_POINTER);
    public static final FunctionDescriptor cudaStreamCreate$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaStreamCreateWithFlags$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
    public static final FunctionDescriptor cudaStreamDestroy$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaStreamSynchronize$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaEventCreate$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaEventRecord$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cudaEventSynchronize$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaEventElapsedTime$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cudaEventDestroy$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaStreamBeginCapture$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
    public static final FunctionDescriptor cudaStreamEndCapture$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cudaGraphInstantiate$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_LONG);
    public static final FunctionDescriptor cudaGraphLaunch$DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
    public static final FunctionDescriptor cudaGraphExecDestroy$DESC = FunctionDescriptor.of(C_INT, C_POINTER);
    public static final FunctionDescriptor cudaGraphDestroy$DESC = FunctionDescriptor.of(C_INT, C_POINTER);

    /** Handles, linked when first touched (after {@link #library()} succeeded). */
    private static final class Handles {
        static final NativeLibrary LIB = library();
        static final MethodHandle cudaGetErrorString = LIB.downcall("cudaGetErrorString", cudaGetErrorString$DESC);
        static final MethodHandle cudaGetLastError = LIB.downcall("cudaGetLastError", cudaGetLastError$DESC);
        static final MethodHandle cudaRuntimeGetVersion = LIB.downcall("cudaRuntimeGetVersion", cudaRuntimeGetVersion$DESC);
        static final MethodHandle cudaDriverGetVersion = LIB.downcall("cudaDriverGetVersion", cudaDriverGetVersion$DESC);
        static final MethodHandle cudaGetDeviceCount = LIB.downcall("cudaGetDeviceCount", cudaGetDeviceCount$DESC);
        static final MethodHandle cudaSetDevice = LIB.downcall("cudaSetDevice", cudaSetDevice$DESC);
        static final MethodHandle cudaDeviceGetAttribute = LIB.downcall("cudaDeviceGetAttribute", cudaDeviceGetAttribute$DESC);
        // CUDA 12 exports the current struct as _v2 (the plain name is the legacy one); CUDA 13 only the plain name
        static final MethodHandle cudaGetDeviceProperties = LIB.firstDowncall(cudaGetDeviceProperties$DESC,
                "cudaGetDeviceProperties_v2", "cudaGetDeviceProperties").orElseThrow(
                        () -> new UnsatisfiedLinkError("no cudaGetDeviceProperties in " + LIB.origin()));
        static final MethodHandle cudaMemGetInfo = LIB.downcall("cudaMemGetInfo", cudaMemGetInfo$DESC);
        static final MethodHandle cudaMalloc = LIB.downcall("cudaMalloc", cudaMalloc$DESC);
        static final MethodHandle cudaFree = LIB.downcall("cudaFree", cudaFree$DESC);
        static final MethodHandle cudaMemcpy = LIB.downcall("cudaMemcpy", cudaMemcpy$DESC);
        static final MethodHandle cudaMemcpyAsync = LIB.downcall("cudaMemcpyAsync", cudaMemcpyAsync$DESC);
        static final MethodHandle cudaMemsetAsync = LIB.downcall("cudaMemsetAsync", cudaMemsetAsync$DESC);
        static final MethodHandle cudaStreamCreate = LIB.downcall("cudaStreamCreate", cudaStreamCreate$DESC);
        static final MethodHandle cudaStreamCreateWithFlags = LIB.downcall("cudaStreamCreateWithFlags",
                cudaStreamCreateWithFlags$DESC);
        static final MethodHandle cudaStreamDestroy = LIB.downcall("cudaStreamDestroy", cudaStreamDestroy$DESC);
        static final MethodHandle cudaStreamSynchronize = LIB.downcall("cudaStreamSynchronize", cudaStreamSynchronize$DESC);
        static final MethodHandle cudaEventCreate = LIB.downcall("cudaEventCreate", cudaEventCreate$DESC);
        static final MethodHandle cudaEventRecord = LIB.downcall("cudaEventRecord", cudaEventRecord$DESC);
        static final MethodHandle cudaEventSynchronize = LIB.downcall("cudaEventSynchronize", cudaEventSynchronize$DESC);
        static final MethodHandle cudaEventElapsedTime = LIB.downcall("cudaEventElapsedTime", cudaEventElapsedTime$DESC);
        static final MethodHandle cudaEventDestroy = LIB.downcall("cudaEventDestroy", cudaEventDestroy$DESC);
        static final MethodHandle cudaStreamBeginCapture = LIB.downcall("cudaStreamBeginCapture", cudaStreamBeginCapture$DESC);
        static final MethodHandle cudaStreamEndCapture = LIB.downcall("cudaStreamEndCapture", cudaStreamEndCapture$DESC);
        static final MethodHandle cudaGraphInstantiate = LIB.downcall("cudaGraphInstantiate", cudaGraphInstantiate$DESC);
        static final MethodHandle cudaGraphLaunch = LIB.downcall("cudaGraphLaunch", cudaGraphLaunch$DESC);
        static final MethodHandle cudaGraphExecDestroy = LIB.downcall("cudaGraphExecDestroy", cudaGraphExecDestroy$DESC);
        static final MethodHandle cudaGraphDestroy = LIB.downcall("cudaGraphDestroy", cudaGraphDestroy$DESC);
    }

    /** {@code cudaError_t cudaGetLastError(void)}: returns and clears the thread's last error. */
    public static int cudaGetLastError() {
        try {
            return (int) Handles.cudaGetLastError.invokeExact();
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code const char* cudaGetErrorString(cudaError_t error)}; the result is a static C string. */
    public static MemorySegment cudaGetErrorString(int error) {
        try {
            return (MemorySegment) Handles.cudaGetErrorString.invokeExact(error);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaRuntimeGetVersion(int* runtimeVersion)} */
    public static int cudaRuntimeGetVersion(MemorySegment runtimeVersion) {
        try {
            return (int) Handles.cudaRuntimeGetVersion.invokeExact(runtimeVersion);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaDriverGetVersion(int* driverVersion)} */
    public static int cudaDriverGetVersion(MemorySegment driverVersion) {
        try {
            return (int) Handles.cudaDriverGetVersion.invokeExact(driverVersion);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaGetDeviceCount(int* count)} */
    public static int cudaGetDeviceCount(MemorySegment count) {
        try {
            return (int) Handles.cudaGetDeviceCount.invokeExact(count);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaSetDevice(int device)} */
    public static int cudaSetDevice(int device) {
        try {
            return (int) Handles.cudaSetDevice.invokeExact(device);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device)} */
    public static int cudaDeviceGetAttribute(MemorySegment value, int attr, int device) {
        try {
            return (int) Handles.cudaDeviceGetAttribute.invokeExact(value, attr, device);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /**
     * {@code cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device)}; {@code prop} must hold
     * {@link #DEVICE_PROP_BYTES}. Only the leading {@code name} field is read by this SDK.
     */
    public static int cudaGetDeviceProperties(MemorySegment prop, int device) {
        if (prop.byteSize() < DEVICE_PROP_BYTES) {
            throw new IllegalArgumentException("cudaDeviceProp buffer needs " + DEVICE_PROP_BYTES + " bytes");
        }
        try {
            return (int) Handles.cudaGetDeviceProperties.invokeExact(prop, device);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaMemGetInfo(size_t* free, size_t* total)} */
    public static int cudaMemGetInfo(MemorySegment free, MemorySegment total) {
        try {
            return (int) Handles.cudaMemGetInfo.invokeExact(free, total);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaMalloc(void** devPtr, size_t size)} */
    public static int cudaMalloc(MemorySegment devPtr, long size) {
        try {
            return (int) Handles.cudaMalloc.invokeExact(devPtr, size);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaFree(void* devPtr)} */
    public static int cudaFree(MemorySegment devPtr) {
        try {
            return (int) Handles.cudaFree.invokeExact(devPtr);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind)} */
    public static int cudaMemcpy(MemorySegment dst, MemorySegment src, long count, int kind) {
        try {
            return (int) Handles.cudaMemcpy.invokeExact(dst, src, count, kind);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream)} */
    public static int cudaMemcpyAsync(MemorySegment dst, MemorySegment src, long count, int kind, MemorySegment stream) {
        try {
            return (int) Handles.cudaMemcpyAsync.invokeExact(dst, src, count, kind, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream)} */
    public static int cudaMemsetAsync(MemorySegment devPtr, int value, long count, MemorySegment stream) {
        try {
            return (int) Handles.cudaMemsetAsync.invokeExact(devPtr, value, count, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamCreate(cudaStream_t* pStream)} */
    public static int cudaStreamCreate(MemorySegment pStream) {
        try {
            return (int) Handles.cudaStreamCreate.invokeExact(pStream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags)} */
    public static int cudaStreamCreateWithFlags(MemorySegment pStream, int flags) {
        try {
            return (int) Handles.cudaStreamCreateWithFlags.invokeExact(pStream, flags);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamDestroy(cudaStream_t stream)} */
    public static int cudaStreamDestroy(MemorySegment stream) {
        try {
            return (int) Handles.cudaStreamDestroy.invokeExact(stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamSynchronize(cudaStream_t stream)} */
    public static int cudaStreamSynchronize(MemorySegment stream) {
        try {
            return (int) Handles.cudaStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaEventCreate(cudaEvent_t* event)} */
    public static int cudaEventCreate(MemorySegment event) {
        try {
            return (int) Handles.cudaEventCreate.invokeExact(event);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)} */
    public static int cudaEventRecord(MemorySegment event, MemorySegment stream) {
        try {
            return (int) Handles.cudaEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaEventSynchronize(cudaEvent_t event)} */
    public static int cudaEventSynchronize(MemorySegment event) {
        try {
            return (int) Handles.cudaEventSynchronize.invokeExact(event);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end)} */
    public static int cudaEventElapsedTime(MemorySegment ms, MemorySegment start, MemorySegment end) {
        try {
            return (int) Handles.cudaEventElapsedTime.invokeExact(ms, start, end);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaEventDestroy(cudaEvent_t event)} */
    public static int cudaEventDestroy(MemorySegment event) {
        try {
            return (int) Handles.cudaEventDestroy.invokeExact(event);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode)} */
    public static int cudaStreamBeginCapture(MemorySegment stream, int mode) {
        try {
            return (int) Handles.cudaStreamBeginCapture.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* pGraph)} */
    public static int cudaStreamEndCapture(MemorySegment stream, MemorySegment pGraph) {
        try {
            return (int) Handles.cudaStreamEndCapture.invokeExact(stream, pGraph);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph, unsigned long long flags)} */
    public static int cudaGraphInstantiate(MemorySegment pGraphExec, MemorySegment graph, long flags) {
        try {
            return (int) Handles.cudaGraphInstantiate.invokeExact(pGraphExec, graph, flags);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream)} */
    public static int cudaGraphLaunch(MemorySegment graphExec, MemorySegment stream) {
        try {
            return (int) Handles.cudaGraphLaunch.invokeExact(graphExec, stream);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec)} */
    public static int cudaGraphExecDestroy(MemorySegment graphExec) {
        try {
            return (int) Handles.cudaGraphExecDestroy.invokeExact(graphExec);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }

    /** {@code cudaError_t cudaGraphDestroy(cudaGraph_t graph)} */
    public static int cudaGraphDestroy(MemorySegment graph) {
        try {
            return (int) Handles.cudaGraphDestroy.invokeExact(graph);
        } catch (Throwable t) {
            throw Bindings.unexpected(t);
        }
    }
}
