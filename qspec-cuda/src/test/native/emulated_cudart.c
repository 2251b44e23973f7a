/*
 * A host-memory stand-in for the parts of libcudart that qspec-cuda binds, so that the whole Java
 * GPU path (discovery, probing, allocation, copies, the forward pass) can be tested on a machine
 * without a GPU. "Device" pointers are ordinary host allocations; streams, events and graphs are
 * inert handles. Allocations above QSPEC_EMULATED_MAX_ALLOC bytes fail with
 * cudaErrorMemoryAllocation (2), like a full GPU. Test-only: never shipped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QSPEC_EMULATED_MAX_ALLOC (1ull << 32)

int cudaGetDeviceCount(int* count) { *count = 1; return 0; }
int cudaSetDevice(int device) { return device == 0 ? 0 : 101; /* cudaErrorInvalidDevice */ }

int cudaDeviceGetAttribute(int* value, int attr, int device) {
    (void)device;
    switch (attr) {
        case 75: *value = 9; break;  /* compute capability major */
        case 76: *value = 0; break;  /* minor */
        case 16: *value = 1; break;  /* multiprocessors */
        default: *value = 0;
    }
    return 0;
}

int cudaGetDeviceProperties(void* prop, int device) {
    (void)device;
    memset(prop, 0, 1024);
    strcpy((char*)prop, "QSpec CPU emulator");
    return 0;
}

int cudaMemGetInfo(size_t* free_bytes, size_t* total) {
    *free_bytes = 1ull << 31;
    *total = 1ull << 32;
    return 0;
}

int cudaRuntimeGetVersion(int* v) { *v = 13000; return 0; }
int cudaDriverGetVersion(int* v) { *v = 13000; return 0; }

const char* cudaGetErrorString(int error) {
    return error == 2 ? "out of memory" : "emulated CUDA error";
}

int cudaGetLastError(void) { return 0; }

/* Uses of the legacy default stream (synchronous copies, blocking streams): the Java side must make none. */
static long legacy_stream_uses = 0;

/* Test hook (not a CUDA function). */
long qspec_emulated_legacy_stream_uses(void) { return legacy_stream_uses; }

static size_t max_alloc = QSPEC_EMULATED_MAX_ALLOC;

/* Test hook (not a CUDA function): allocations above n bytes fail from now on; 0 restores the default. */
void qspec_emulated_set_max_alloc(size_t n) { max_alloc = n ? n : QSPEC_EMULATED_MAX_ALLOC; }

int cudaMalloc(void** ptr, size_t size) {
    if (size > max_alloc) return 2;
    size_t rounded = (size + 255) / 256 * 256;
    *ptr = aligned_alloc(256, rounded ? rounded : 256);
    if (!*ptr) return 2;
    /* device memory is uninitialised: make stale reads visible instead of silently zero */
    memset(*ptr, 0x7f, rounded ? rounded : 256);
    return 0;
}

int cudaFree(void* ptr) { free(ptr); return 0; }
int cudaMemcpy(void* dst, const void* src, size_t n, int kind) { (void)kind; legacy_stream_uses++; memmove(dst, src, n); return 0; }
int cudaMemcpyAsync(void* dst, const void* src, size_t n, int kind, void* s) { (void)kind; (void)s; memmove(dst, src, n); return 0; }
int cudaMemsetAsync(void* dst, int value, size_t n, void* s) { (void)s; memset(dst, value, n); return 0; }

int cudaStreamCreate(void** s) { legacy_stream_uses++; *s = malloc(16); return 0; }
int cudaStreamCreateWithFlags(void** s, unsigned flags) {
    if (!(flags & 1u)) legacy_stream_uses++;  /* not cudaStreamNonBlocking */
    *s = malloc(16);
    return 0;
}
int cudaStreamDestroy(void* s) { free(s); return 0; }
static int next_sync_status = 0;

/* Test hook (not a CUDA function): the next cudaStreamSynchronize returns this status, once (a failed pass). */
void qspec_emulated_fail_next_sync(int status) { next_sync_status = status; }

int cudaStreamSynchronize(void* s) {
    (void)s;
    int status = next_sync_status;
    next_sync_status = 0;
    return status;
}

int cudaEventCreate(void** e) { *e = calloc(1, sizeof(double)); return 0; }
int cudaEventRecord(void* e, void* s) {
    (void)s;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *(double*)e = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    return 0;
}
int cudaEventSynchronize(void* e) { (void)e; return 0; }
int cudaEventElapsedTime(float* ms, void* start, void* end) { *ms = (float)(*(double*)end - *(double*)start); return 0; }
int cudaEventDestroy(void* e) { free(e); return 0; }

/* the emulation runs kernels eagerly, so it cannot record a graph: refuse capture (cudaErrorStreamCaptureUnsupported) */
int cudaStreamBeginCapture(void* s, int mode) { (void)s; (void)mode; return 900; }
int cudaStreamEndCapture(void* s, void** graph) { (void)s; *graph = malloc(16); return 0; }
int cudaGraphInstantiate(void** exec, void* graph, unsigned long long flags) { (void)graph; (void)flags; *exec = malloc(16); return 0; }
int cudaGraphLaunch(void* exec, void* s) { (void)exec; (void)s; return 0; }
int cudaGraphExecDestroy(void* exec) { free(exec); return 0; }
int cudaGraphDestroy(void* graph) { free(graph); return 0; }
