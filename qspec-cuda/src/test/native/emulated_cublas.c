/*
 * A host-memory stand-in for the cuBLAS functions qspec-cuda binds (ffm/Cublas.java), paired with
 * emulated_cudart.c: "device" pointers are host allocations, so cublasGemmEx is a plain column-major
 * loop. Only what the W16A16 path uses is emulated (fp16 A and B, fp32 C, fp32 compute, host alpha and
 * beta); anything else answers CUBLAS_STATUS_NOT_SUPPORTED. Test-only: never shipped.
 */
#include <stdlib.h>

typedef _Float16 half;

enum { SUCCESS = 0, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };
enum { OP_N = 0, OP_T = 1 };
enum { R_32F = 0, R_16F = 2 };
enum { COMPUTE_32F = 68 };

struct handle { void* stream; };

int cublasCreate_v2(struct handle** h) {
    *h = calloc(1, sizeof **h);
    return SUCCESS;
}

int cublasDestroy_v2(struct handle* h) {
    free(h);
    return SUCCESS;
}

int cublasSetStream_v2(struct handle* h, void* stream) {
    h->stream = stream;
    return SUCCESS;
}

/* Element (i, j) of op(X), X column-major with leading dimension ld. */
static float at(const half* x, int op, int ld, int i, int j) {
    return (float)(op == OP_N ? x[(long)j * ld + i] : x[(long)i * ld + j]);
}

int cublasGemmEx(struct handle* h, int transa, int transb, int m, int n, int k, const void* alpha, const void* a,
                 int atype, int lda, const void* b, int btype, int ldb, const void* beta, void* c, int ctype, int ldc,
                 int compute, int algo) {
    (void)h;
    (void)algo;
    if (atype != R_16F || btype != R_16F || ctype != R_32F || compute != COMPUTE_32F) return NOT_SUPPORTED;
    if ((transa != OP_N && transa != OP_T) || (transb != OP_N && transb != OP_T)) return INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0 || ldc < (m > 1 ? m : 1)) return INVALID_VALUE;
    if (lda < ((transa == OP_N ? m : k) > 1 ? (transa == OP_N ? m : k) : 1)) return INVALID_VALUE;
    if (ldb < ((transb == OP_N ? k : n) > 1 ? (transb == OP_N ? k : n) : 1)) return INVALID_VALUE;
    const float al = *(const float*)alpha, be = *(const float*)beta;
    float* cc = c;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            float acc = 0;
            for (int p = 0; p < k; p++) acc += at(a, transa, lda, i, p) * at(b, transb, ldb, p, j);
            /* as cuBLAS: with beta = 0, C is not read (it may hold NaN) */
            cc[(long)j * ldc + i] = al * acc + (be == 0 ? 0 : be * cc[(long)j * ldc + i]);
        }
    return SUCCESS;
}
