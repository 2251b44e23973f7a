// Correctness test of every kernel of libqspec_cuda against float64 CPU references on seeded random
// data. Prints one PASS/FAIL line per case; exits non-zero if any case fails.
#include <cfloat>
#include <algorithm>
#include <string>
#include <cstring>
#include "common.h"
#include "../src/token_order.cuh"

static int failures = 0, passes = 0;

static void report(bool ok, const std::string& name, const char* fmt, double v, double tol) {
    printf("%s %-60s ", ok ? "PASS" : "FAIL", name.c_str());
    printf(fmt, v, tol);
    printf("\n");
    ok ? ++passes : ++failures;
}

// ||a - ref|| / ||ref||; NaN anywhere -> inf.
static double rel_err(const std::vector<double>& a, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i])) return INFINITY;
        num += (a[i] - ref[i]) * (a[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / (den > 0 ? den : 1));
}

// Halves of `a` whose bits differ from b[0 .. a.size()).
static size_t differing_halves(const std::vector<__half>& a, const __half* b) {
    size_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(__half)) != 0;
    return n;
}

static const float POISON = NAN;

// ---------------------------------------------------------------- GEMMs
static std::vector<float> rand_f32(size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (auto& e : v) e = urand(lo, hi);
    return v;
}

// An accumulating GEMM must leave y0 + sums (fp32, bit for bit, the sums of the plain call) in
// [M, N] and y0 untouched in the ldy padding.
static void report_accumulated(const char* name, const std::vector<float>& y0, const std::vector<float>& sums,
                               const std::vector<float>& got, int M, int N, int ldy) {
    size_t differ = 0;
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < ldy; ++n) {
            const size_t i = (size_t)m * ldy + n;
            const float want = n < N ? y0[i] + sums[i] : y0[i];
            differ += std::memcmp(&want, &got[i], sizeof(float)) != 0;
        }
    report(differ == 0, name, "differing outputs=%.0f of %.0f", (double)differ, (double)y0.size());
}

static void test_w4a16(int M, int N, int K, int group, int ldx_pad) {
    Int4W W(N, K, group);
    const int ldx = K + ldx_pad, ldy = N + 3;
    auto x = rand_f16((size_t)M * ldx, -2.f, 2.f);
    Dev<__half> dx(x);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<float> dy(std::vector<float>((size_t)M * ldy, POISON));
    CQ(qspec_w4a16_gemm(dx.p, ldx, dw.p, ds.p, dy.p, ldy, M, N, K, group, 0, QSPEC_TOKENS_ROW, nullptr));
    auto y = dy.down();
    std::vector<double> got, ref;
    bool pad_ok = true;
    for (int m = 0; m < M; ++m) {
        for (int n = 0; n < N; ++n) {
            double s = 0;
            for (int k = 0; k < K; ++k) s += (double)__half2float(x[(size_t)m * ldx + k]) * W.w(n, k);
            ref.push_back(s);
            got.push_back(y[(size_t)m * ldy + n]);
        }
        for (int n = N; n < ldy; ++n) pad_ok &= std::isnan(y[(size_t)m * ldy + n]);
    }
    const double e = pad_ok ? rel_err(got, ref) : INFINITY;
    char name[128];
    snprintf(name, sizeof name, "w4a16_gemm M=%d N=%d K=%d group=%d ldx=%d", M, N, K, group, ldx);
    report(e < 2e-3, name, "rel_err=%.2e tol=%.0e", e, 2e-3);
    // accumulate: y0 + the same sums, element by element (the residual add in the epilogue)
    auto y0 = rand_f32((size_t)M * ldy, -8.f, 8.f);
    Dev<float> dacc(y0);
    CQ(qspec_w4a16_gemm(dx.p, ldx, dw.p, ds.p, dacc.p, ldy, M, N, K, group, 1, QSPEC_TOKENS_ROW, nullptr));
    snprintf(name, sizeof name, "w4a16_gemm accumulate M=%d N=%d K=%d group=%d", M, N, K, group);
    report_accumulated(name, y0, y, dacc.down(), M, N, ldy);
}

// QSpec's exactness needs row m of the verify GEMM to be the same bits whatever M is: a verify pass
// of gamma + 1 rows must reproduce one-token decoding exactly, not just within rounding. The M here
// cross every kernel switch (on sm_90: warp-split up to 8, cluster from 9; at N = 4100 the tiled
// kernel from 65 and at MAXM = 256), so this also checks that the kernels give the same bits.
static void test_w4a16_m_invariance(int N, int K, int group) {
    Int4W W(N, K, group);
    const int MAXM = 256;
    auto x = rand_f16((size_t)MAXM * K, -2.f, 2.f);
    Dev<__half> dx(x);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<float> full(std::vector<float>((size_t)MAXM * N, POISON));
    CQ(qspec_w4a16_gemm(dx.p, K, dw.p, ds.p, full.p, N, MAXM, N, K, group, 0, QSPEC_TOKENS_ROW, nullptr));
    const auto yf = full.down();
    for (int M : {1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 63, 64, 65, 100, 128}) {
        Dev<float> part(std::vector<float>((size_t)M * N, POISON));
        CQ(qspec_w4a16_gemm(dx.p, K, dw.p, ds.p, part.p, N, M, N, K, group, 0, QSPEC_TOKENS_ROW, nullptr));
        const auto yp = part.down();
        size_t differ = 0;
        for (size_t i = 0; i < yp.size(); ++i) differ += std::memcmp(&yp[i], &yf[i], sizeof(float)) != 0;
        char name[128];
        snprintf(name, sizeof name, "w4a16_gemm rows at M=%d are the bits of M=%d (N=%d K=%d)", M, MAXM, N, K);
        report(differ == 0, name, "differing outputs=%.0f of %.0f", (double)differ, (double)yp.size());
    }
}

static void test_w4ax(int M, int N, int K, int group, int bits) {
    Int4W W(N, K, group);
    const int qmax = bits == 8 ? 127 : 7, ldy = N + 1;
    std::vector<int8_t> xq((size_t)M * W.Kp, 0);
    std::vector<float> xs((size_t)M * W.groups);
    for (int m = 0; m < M; ++m)
        for (int k = 0; k < K; ++k) xq[(size_t)m * W.Kp + k] = (int8_t)irand(-qmax, qmax);
    for (auto& s : xs) s = urand(0.001f, 0.05f);
    Dev<int8_t> dxq(xq);
    Dev<float> dxs(xs);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<float> dy(std::vector<float>((size_t)M * ldy, POISON));
    CQ(qspec_w4ax_gemm(dxq.p, dxs.p, dw.p, ds.p, dy.p, ldy, M, N, K, group, bits, 0, QSPEC_TOKENS_ROW, nullptr));
    auto y = dy.down();
    std::vector<double> got, ref;
    bool pad_ok = true;
    for (int m = 0; m < M; ++m) {
        for (int n = 0; n < N; ++n) {
            double s = 0;
            for (int g = 0; g < W.groups; ++g) {
                long dot = 0;
                for (int k = g * group; k < std::min(K, (g + 1) * group); ++k) dot += (long)xq[(size_t)m * W.Kp + k] * W.q(n, k);
                s += (double)xs[(size_t)m * W.groups + g] * __half2float(W.scales[(size_t)n * W.groups + g]) * dot;
            }
            ref.push_back(s);
            got.push_back(y[(size_t)m * ldy + n]);
        }
        pad_ok &= std::isnan(y[(size_t)m * ldy + N]);
    }
    const double e = pad_ok ? rel_err(got, ref) : INFINITY;
    char name[128];
    snprintf(name, sizeof name, "w4ax_gemm A%d M=%d N=%d K=%d group=%d", bits, M, N, K, group);
    report(e < 1e-5, name, "rel_err=%.2e tol=%.0e", e, 1e-5);
    auto y0 = rand_f32((size_t)M * ldy, -8.f, 8.f);
    Dev<float> dacc(y0);
    CQ(qspec_w4ax_gemm(dxq.p, dxs.p, dw.p, ds.p, dacc.p, ldy, M, N, K, group, bits, 1, QSPEC_TOKENS_ROW, nullptr));
    snprintf(name, sizeof name, "w4ax_gemm accumulate A%d M=%d N=%d K=%d group=%d", bits, M, N, K, group);
    report_accumulated(name, y0, y, dacc.down(), M, N, ldy);
}

// ---------------------------------------------------------------- INT4 -> fp16 (W16A16 baseline)
// Every output against the float64 product scale * q (exact) rounded once to fp16 on the host: must be
// bit-identical; columns K..ldo-1 must keep their poison. Also reports the float64 relative error.
static void test_dequantize(int N, int K, int group, int ld_pad) {
    Int4W W(N, K, group);
    const int ldo = K + ld_pad;
    const __half poison = __float2half(POISON);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<__half> dout(std::vector<__half>((size_t)N * ldo, poison));
    CQ(qspec_dequantize_int4(dw.p, ds.p, N, K, group, dout.p, ldo, nullptr));
    auto out = dout.down();
    std::vector<double> got, ref;
    double mismatches = 0;
    bool pad_ok = true;
    for (int n = 0; n < N; ++n) {
        for (int k = 0; k < K; ++k) {
            const double w = W.w(n, k);  // exact: an fp16 scale times an integer in [-8, 7]
            const __half want = __float2half((float)w), have = out[(size_t)n * ldo + k];
            mismatches += __half_as_ushort(want) != __half_as_ushort(have);
            ref.push_back(w);
            got.push_back(__half2float(have));
        }
        for (int k = K; k < ldo; ++k) pad_ok &= __hisnan(out[(size_t)n * ldo + k]);
    }
    const double e = rel_err(got, ref);
    char name[128];
    snprintf(name, sizeof name, "dequantize_int4 N=%d K=%d group=%d ldo=%d (rel_err %.1e)", N, K, group, ldo, e);
    report(pad_ok && mismatches == 0 && e < 1e-3, name, "bit_mismatches=%.0f tol=%.0f", pad_ok ? mismatches : INFINITY, 0);
}

// ---------------------------------------------------------------- quantization
// Checks xq/xscale against quantizing `vals` (the exact pre-quantization values) in float64:
// scales to 1e-5 relative, codes within 1 (rounding of ties/last bit), padding zero.
static void check_quant(const std::string& name, const std::vector<double>& vals, int M, int K, int group, int bits,
                        const std::vector<int8_t>& xq, const std::vector<float>& xs) {
    const int groups = (K + group - 1) / group, Kp = groups * group;
    const double qmax = bits == 8 ? 127 : 7;
    double worst_scale = 0;
    int worst_code = 0, off_by_one = 0;
    for (int m = 0; m < M; ++m)
        for (int g = 0; g < groups; ++g) {
            double amax = 0;
            for (int k = g * group; k < std::min(K, (g + 1) * group); ++k) amax = std::max(amax, std::fabs(vals[(size_t)m * K + k]));
            const double s = amax / qmax, got_s = xs[(size_t)m * groups + g];
            worst_scale = std::max(worst_scale, std::fabs(got_s - s) / (s > 0 ? s : 1));
            for (int k = g * group; k < (g + 1) * group; ++k) {
                const int code = xq[(size_t)m * Kp + k];
                const int want = k < K && s > 0 ? (int)std::lrint(std::clamp(vals[(size_t)m * K + k] / s, -qmax, qmax)) : 0;
                const int d = std::abs(code - want);
                if (k >= K && code != 0) worst_code = 99;
                worst_code = std::max(worst_code, d);
                off_by_one += d == 1;
            }
        }
    const bool ok = worst_scale < 1e-5 && worst_code <= 1 && off_by_one <= (M * Kp) / 100 + 1;
    printf("%s %-60s scale_rel_err=%.1e max_code_diff=%d off_by_one=%d\n", ok ? "PASS" : "FAIL", name.c_str(),
           worst_scale, worst_code, off_by_one);
    ok ? ++passes : ++failures;
}

// pad: ldx - K (a multiple of 4, with group 128 and K % 128 == 0, takes the register path)
static void test_quantize(int M, int K, int group, int bits, int pad = 5) {
    const int ldx = K + pad, groups = (K + group - 1) / group, Kp = groups * group;
    auto x = rand_f16((size_t)M * ldx, -3.f, 3.f);
    Dev<__half> dx(x);
    Dev<int8_t> dq(std::vector<int8_t>((size_t)M * Kp, 77));
    Dev<float> ds(std::vector<float>((size_t)M * groups, POISON));
    CQ(qspec_quantize_activations(dx.p, ldx, M, K, group, bits, dq.p, ds.p, QSPEC_TOKENS_ROW, nullptr));
    std::vector<double> vals((size_t)M * K);
    for (int m = 0; m < M; ++m)
        for (int k = 0; k < K; ++k) vals[(size_t)m * K + k] = __half2float(x[(size_t)m * ldx + k]);
    char name[128];
    snprintf(name, sizeof name, "quantize_activations A%d M=%d K=%d group=%d ldx=%d", bits, M, K, group, ldx);
    check_quant(name, vals, M, K, group, bits, dq.down(), ds.down());
}


static std::vector<double> rmsnorm_ref(const std::vector<float>& x, const std::vector<float>& w, int M, int D, double eps) {
    std::vector<double> y((size_t)M * D);
    for (int m = 0; m < M; ++m) {
        double ss = 0;
        for (int k = 0; k < D; ++k) ss += (double)x[(size_t)m * D + k] * x[(size_t)m * D + k];
        const double r = 1.0 / std::sqrt(ss / D + eps);
        for (int k = 0; k < D; ++k) y[(size_t)m * D + k] = x[(size_t)m * D + k] * r * w[k];
    }
    return y;
}

static void test_rmsnorm_quantize(int M, int D, int group, int bits) {
    const int groups = (D + group - 1) / group, Kp = groups * group;
    auto x = rand_f32((size_t)M * D, -4.f, 4.f), w = rand_f32(D, 0.5f, 1.5f);
    Dev<float> dx(x), dw(w);
    Dev<int8_t> dq(std::vector<int8_t>((size_t)M * Kp, 77));
    Dev<float> ds(std::vector<float>((size_t)M * groups, POISON));
    CQ(qspec_rmsnorm_quantize(dx.p, dw.p, dq.p, ds.p, M, D, group, bits, 1e-5f, QSPEC_TOKENS_ROW, nullptr));
    char name[128];
    snprintf(name, sizeof name, "rmsnorm_quantize A%d M=%d D=%d group=%d", bits, M, D, group);
    check_quant(name, rmsnorm_ref(x, w, M, D, 1e-5), M, D, group, bits, dq.down(), ds.down());
}

// The fused SwiGLU + quantizer must give the bytes of qspec_swiglu_f16 followed by
// qspec_quantize_activations (codes, scales and the zeroed padding). pad: ld - 2H (a multiple of 4, with
// group 128 and H % 128 == 0, takes the register path; the two-kernel reference takes it whenever
// group is 128 and H % 128 == 0, so the other pads compare the two paths).
static void test_swiglu_quantize(int M, int H, int group, int bits, int pad = 3) {
    const int ld = 2 * H + pad, groups = (H + group - 1) / group, Hp = groups * group;
    auto gu = rand_f32((size_t)M * ld, -6.f, 6.f);
    Dev<float> dgu(gu);
    Dev<__half> dh((size_t)M * H);
    Dev<int8_t> dq1(std::vector<int8_t>((size_t)M * Hp, 77)), dq2(std::vector<int8_t>((size_t)M * Hp, 77));
    Dev<float> ds1(std::vector<float>((size_t)M * groups, POISON)), ds2(std::vector<float>((size_t)M * groups, POISON));
    CQ(qspec_swiglu_f16(dgu.p, dgu.p + H, ld, dh.p, M, H, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_quantize_activations(dh.p, H, M, H, group, bits, dq1.p, ds1.p, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_swiglu_quantize(dgu.p, dgu.p + H, ld, M, H, group, bits, dq2.p, ds2.p, QSPEC_TOKENS_ROW, nullptr));
    const auto q1 = dq1.down(), q2 = dq2.down();
    const auto s1 = ds1.down(), s2 = ds2.down();
    const bool same = q1 == q2 && std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(float)) == 0;
    char name[128];
    snprintf(name, sizeof name, "swiglu_quantize A%d M=%d H=%d group=%d ld=%d = swiglu_f16 then quantize", bits, M, H,
             group, ld);
    report(same, name, "bitwise (%.0f codes, tol %.0f)", (double)q1.size(), 0.0);
}

// ---------------------------------------------------------------- element-wise
static void test_elementwise() {
    for (const int D : {4096 + 24, 4096 + 26}) {  // rmsnorm_f16: the register path (D % 4 == 0) and the other
        const int M = 5;
        auto x = rand_f32((size_t)M * D, -4.f, 4.f), w = rand_f32(D, 0.5f, 1.5f);
        Dev<float> dx(x), dw(w);
        Dev<__half> dy((size_t)M * D);
        CQ(qspec_rmsnorm_f16(dx.p, dw.p, dy.p, M, D, 1e-5f, QSPEC_TOKENS_ROW, nullptr));
        auto y = dy.down();
        auto ref = rmsnorm_ref(x, w, M, D, 1e-5);
        std::vector<double> got(y.size());
        for (size_t i = 0; i < y.size(); ++i) got[i] = __half2float(y[i]);
        const double e = rel_err(got, ref);
        char name[64];
        snprintf(name, sizeof name, "rmsnorm_f16 M=%d D=%d", M, D);
        report(e < 1e-3, name, "rel_err=%.2e tol=%.0e", e, 1e-3);
    }
    {  // embedding
        const int V = 1000, T = 7, D = 136;
        auto table = rand_f16((size_t)V * D, -1.f, 1.f);
        std::vector<int32_t> tok(T);
        for (auto& t : tok) t = irand(0, V - 1);
        Dev<__half> dt(table);
        Dev<int32_t> dtok(tok);
        Dev<float> dx((size_t)T * D);
        CQ(qspec_embedding(dtok.p, dt.p, dx.p, T, D, nullptr));
        auto x = dx.down();
        double bad = 0;
        for (int t = 0; t < T; ++t)
            for (int d = 0; d < D; ++d) bad += x[(size_t)t * D + d] != __half2float(table[(size_t)tok[t] * D + d]);
        report(bad == 0, "embedding T=7 D=136", "mismatches=%.0f tol=%.0f", bad, 0);
    }
    {  // swiglu over the fused gate|up rows (stride ld = 2H + 3)
        const int M = 3, H = 14336, ld = 2 * H + 3;
        auto g = rand_f32((size_t)M * H, -6.f, 6.f), u = rand_f32((size_t)M * H, -2.f, 2.f);
        std::vector<float> gu((size_t)M * ld, POISON);
        for (int m = 0; m < M; ++m)
            for (int j = 0; j < H; ++j) {
                gu[(size_t)m * ld + j] = g[(size_t)m * H + j];
                gu[(size_t)m * ld + H + j] = u[(size_t)m * H + j];
            }
        Dev<float> dgu(gu);
        Dev<__half> dy((size_t)M * H);
        CQ(qspec_swiglu_f16(dgu.p, dgu.p + H, ld, dy.p, M, H, QSPEC_TOKENS_ROW, nullptr));
        auto y = dy.down();
        std::vector<double> got(y.size()), ref(y.size());
        for (size_t i = 0; i < y.size(); ++i) {
            got[i] = __half2float(y[i]);
            ref[i] = (double)g[i] / (1 + std::exp(-(double)g[i])) * u[i];
        }
        const double e = rel_err(got, ref);
        report(e < 1e-3, "swiglu_f16 M=3 H=14336", "rel_err=%.2e tol=%.0e", e, 1e-3);
    }
    {  // f32_to_f16 and add_inplace
        const long n = 100003;
        auto a = rand_f32(n, -100.f, 100.f), b = rand_f32(n, -100.f, 100.f);
        Dev<float> da(a), db(b);
        Dev<__half> dh(n);
        CQ(qspec_f32_to_f16(da.p, dh.p, n, nullptr));
        auto h = dh.down();
        double bad = 0;
        for (long i = 0; i < n; ++i) bad += __half2float(h[i]) != __half2float(__float2half(a[i]));
        report(bad == 0, "f32_to_f16 n=100003", "mismatches=%.0f tol=%.0f", bad, 0);
        CQ(qspec_add_inplace(da.p, db.p, n, nullptr));
        auto s = da.down();
        bad = 0;
        for (long i = 0; i < n; ++i) bad += s[i] != a[i] + b[i];
        report(bad == 0, "add_inplace n=100003", "mismatches=%.0f tol=%.0f", bad, 0);
    }
    {  // argmax: planted ties (often in different blocks' chunks), NaN, all-NaN and all -inf rows, the
       // best at either end, rows shorter than a team's 8 chunks; against the host rule (largest value,
       // lowest index, NaN never wins, no winner -> 0)
        for (int V : {5, 33, 1000, 128256}) {
            const int M = 7;
            auto l = rand_f32((size_t)M * V, -10.f, 10.f);
            auto at = [&](int m, int i) -> float& { return l[(size_t)m * V + i]; };
            at(0, irand(0, V - 1)) = 50.f;
            at(0, irand(0, V - 1)) = 50.f;
            for (int i = 0; i < V; i += 3) at(1, i) = NAN;
            at(1, V - 1) = 40.f;
            for (int i = 0; i < V; ++i) at(2, i) = NAN;
            for (int i = 0; i < V; ++i) at(3, i) = -INFINITY;
            at(4, V - 1) = 60.f;
            at(5, 0) = 70.f;
            at(5, V - 1) = 70.f;
            at(6, V / 2) = INFINITY;
            std::vector<int> want(M);
            for (int m = 0; m < M; ++m) {
                float v = -INFINITY;
                int idx = -1;
                for (int i = 0; i < V; ++i)
                    if (at(m, i) > v || (at(m, i) == v && idx < 0)) v = at(m, i), idx = i;
                want[m] = idx < 0 ? 0 : idx;
            }
            Dev<float> dl(l);
            Dev<int32_t> dout(M);
            CQ(qspec_argmax(dl.p, M, V, dout.p, nullptr));
            auto out = dout.down();
            double bad = 0;
            for (int m = 0; m < M; ++m) bad += out[m] != want[m];
            report(bad == 0, "argmax M=7 V=" + std::to_string(V) + " (ties, NaN, -inf rows)", "mismatches=%.0f tol=%.0f",
                   bad, 0);
        }
    }
}

// ---------------------------------------------------------------- sampling
// The host's io.qspec.sampling.LogitsProcessor + Sampler in float64, step for step: the token for
// uniform u, and how far u * total lies from the token's CDF edges (relative to the total), so a case
// that lands on rounding's edge is not counted against the device's fp32 weights.
struct SampleParams {
    double temperature = 1, top_p = 1, min_p = 0, repetition = 1, frequency = 0, presence = 0;
    int top_k = 0;
};

// The host's probabilities (LogitsProcessor.probabilities, floats): one-hot at temperature 0, empty
// when no token is possible (every logit -inf); `best` is the penalized argmax.
// `weights`, when given, receives the weights exp((l - max) / T) before top-k, top-p and min-p (max 1),
// and `order` the tokens of positive weight from the largest (stable), where top-k or top-p cut (else empty).
static std::vector<float> distribution_ref(std::vector<float> logits, const SampleParams& p,
                                           const std::vector<std::pair<int, int>>& history, int* best_out,
                                           std::vector<double>* weights = nullptr, std::vector<int>* order_out = nullptr) {
    const int V = (int)logits.size();
    for (auto& h : history) {
        double l = logits[h.first];
        l = l > 0 ? l / p.repetition : l * p.repetition;
        l -= h.second * p.frequency + p.presence;
        if (std::isfinite(logits[h.first])) l = std::min(std::max(l, -(double)FLT_MAX), (double)FLT_MAX);
        logits[h.first] = (float)l;
    }
    int best = 0;
    for (int i = 1; i < V; ++i)
        if (logits[i] > logits[best]) best = i;
    *best_out = best;
    if (p.temperature == 0) {
        std::vector<float> one_hot(V, 0.f);
        one_hot[best] = 1.f;
        if (weights) weights->assign(one_hot.begin(), one_hot.end());
        return one_hot;
    }
    const float mx = logits[best];
    if (mx == -INFINITY) return {};
    std::vector<double> w(V);
    for (int i = 0; i < V; ++i)
        w[i] = mx == INFINITY ? (logits[i] == INFINITY ? 1 : 0) : std::exp((logits[i] - (double)mx) / p.temperature);
    if (weights) *weights = w;
    if (order_out) order_out->clear();
    if ((p.top_k > 0 && p.top_k < V) || p.top_p < 1) {
        double total = 0;
        int positive = 0;
        for (double x : w) total += x, positive += x > 0;
        const int k = p.top_k > 0 && p.top_k < positive ? p.top_k : 0;
        std::vector<int> order;
        for (int i = 0; i < V; ++i)
            if (w[i] > 0) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return (float)w[a] > (float)w[b]; });
        if (order_out) *order_out = order;
        int keep = k > 0 ? k : (int)order.size();
        if (p.top_p < 1) {
            double kept = total;
            if (k > 0) {
                kept = 0;
                for (int r = 0; r < keep; ++r) kept += w[order[r]];
            }
            const double target = p.top_p * kept * (1 - 1e-6);
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < keep) {
                cumulative += w[order[nucleus++]];
                if (cumulative >= target) break;
            }
            keep = nucleus;
        }
        std::vector<char> survives(V, 0);
        for (int r = 0; r < keep; ++r) survives[order[r]] = 1;
        for (int i = 0; i < V; ++i)
            if (!survives[i]) w[i] = 0;
    }
    if (p.min_p > 0) {
        double m = 0;
        for (double x : w) m = std::max(m, x);
        for (auto& x : w)
            if (x < p.min_p * m) x = 0;
    }
    double total = 0;
    for (double x : w) total += x;
    std::vector<float> prob(V);
    for (int i = 0; i < V; ++i) prob[i] = (float)(w[i] / total);
    return prob;
}

// Sampler.sample(prob, u): the first token whose cumulative weight exceeds u * total, and how far
// u * total lies from that token's CDF edges (relative to the total); -1 when no weight is positive.
static int pick_ref(const std::vector<float>& prob, double u, double* margin) {
    double total = 0;
    for (float x : prob) total += x;
    *margin = 0;
    if (!(total > 0)) return -1;
    const double target = u * total;
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < (int)prob.size(); ++i) {
        if (prob[i] > 0) {
            const double before = cumulative;
            cumulative += prob[i];
            last = i;
            if (target < cumulative) {
                *margin = std::min(target - before, cumulative - target) / total;
                return i;
            }
        }
    }
    return last;
}

static int sample_ref(const std::vector<float>& logits, const SampleParams& p,
                      const std::vector<std::pair<int, int>>& history, double u, double* margin) {
    int best = 0;
    *margin = 1;
    const auto prob = distribution_ref(logits, p, history, &best);
    if (p.temperature == 0) return best;
    if (prob.empty()) return -2;
    const int token = pick_ref(prob, u, margin);
    return token >= 0 ? token : best;
}

// Runs `draws` (row d of `logits` unless rows says otherwise) on the device and against sample_ref.
static void check_sample(const std::string& name, const std::vector<float>& logits, int V, const SampleParams& p,
                         const std::vector<double>& uniforms, const std::vector<std::pair<int, int>>& history = {},
                         std::vector<int> rows = {}) {
    const int n = (int)uniforms.size();
    const int R = (int)(logits.size() / V);
    if (rows.empty())
        for (int d = 0; d < n; ++d) rows.push_back(d % R);
    std::vector<qspec_draw> draws(n);
    std::vector<int32_t> htok, hcnt;
    for (auto& h : history) htok.push_back(h.first), hcnt.push_back(h.second);
    for (int d = 0; d < n; ++d) {
        qspec_draw& q = draws[d];
        q.row = rows[d];
        q.top_k = p.top_k;
        q.history_offset = 0;
        q.history_length = (int)history.size();
        q.temperature = p.temperature;
        q.top_p = p.top_p;
        q.min_p = p.min_p;
        q.repetition_penalty = p.repetition;
        q.frequency_penalty = p.frequency;
        q.presence_penalty = p.presence;
        q.uniform = uniforms[d];
    }
    Dev<float> dl(logits);
    Dev<int32_t> dt(htok.empty() ? std::vector<int32_t>{0} : htok), dc(hcnt.empty() ? std::vector<int32_t>{0} : hcnt);
    Dev<uint8_t> dd(n * sizeof(qspec_draw));
    CK(cudaMemcpy(dd.p, draws.data(), n * sizeof(qspec_draw), cudaMemcpyHostToDevice));
    const size_t ws = qspec_sample_workspace_bytes(n, V);
    Dev<uint8_t> dw(ws);
    Dev<int32_t> out(n), again(n);
    CQ(qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), n, dt.p, dc.p, dw.p, ws, out.p, nullptr));
    CQ(qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), n, dt.p, dc.p, dw.p, ws, again.p, nullptr));
    auto got = out.down(), got2 = again.down();
    int bad = 0, edge = 0, unstable = 0;
    for (int d = 0; d < n; ++d) {
        std::vector<float> row(logits.begin() + (size_t)rows[d] * V, logits.begin() + (size_t)(rows[d] + 1) * V);
        bool nan = false;
        for (float x : row) nan |= std::isnan(x);
        double margin;
        const int want = nan ? -1 : sample_ref(row, p, history, uniforms[d], &margin);
        unstable += got[d] != got2[d];
        if (!nan && margin < 2e-7) {  // fp32 weights (expf) against float64: ~1e-7 of the total
            ++edge;
            continue;
        }
        if (got[d] != want) {
            if (bad < 3) printf("    draw %d: device %d, reference %d (u=%.6f)\n", d, got[d], want, uniforms[d]);
            ++bad;
        }
    }
    const std::string fmt = "mismatches=%.0f (at a CDF edge, not compared: " + std::to_string(edge) +
                            "; differing run to run: " + std::to_string(unstable) + ") tol=%.0f";
    report(bad == 0 && unstable == 0 && edge * 4 <= n, name, fmt.c_str(), bad, 0);
}

static void test_sample() {
    auto uniforms = [](int n) {
        std::vector<double> u(n);
        for (auto& x : u) x = std::uniform_real_distribution<double>(0, 1)(rng);
        return u;
    };
    for (int V : {1000, 32000, 128256}) {
        const int R = 4;
        auto l = rand_f32((size_t)R * V, -8.f, 8.f);
        for (int r = 0; r < R; ++r)  // a peaked head, as language models have
            for (int j = 0; j < 20; ++j) l[(size_t)r * V + irand(0, V - 1)] = urand(8.f, 14.f);
        const std::string v = " V=" + std::to_string(V);
        SampleParams p;
        check_sample("sample T=1" + v, l, V, p, uniforms(64));
        p.temperature = 0.7, p.top_k = 40;
        check_sample("sample T=0.7 top-k 40" + v, l, V, p, uniforms(64));
        p = SampleParams(), p.top_p = 0.9;
        check_sample("sample T=1 top-p 0.9" + v, l, V, p, uniforms(64));
        p = SampleParams(), p.temperature = 0.8, p.top_k = 50, p.top_p = 0.95, p.min_p = 0.05;
        check_sample("sample T=0.8 top-k 50 top-p 0.95 min-p 0.05" + v, l, V, p, uniforms(64));
        p = SampleParams(), p.temperature = 1.3, p.min_p = 0.1;
        check_sample("sample T=1.3 min-p 0.1" + v, l, V, p, uniforms(64));
        p = SampleParams(), p.top_p = 0.01;
        check_sample("sample top-p 0.01 (the top token only)" + v, l, V, p, uniforms(16));
        p = SampleParams(), p.top_k = 1;
        check_sample("sample top-k 1" + v, l, V, p, uniforms(16));
        std::vector<std::pair<int, int>> history;
        for (int j = 0; j < 30; ++j) history.push_back({j * (V / 30) + 3, 1 + j % 4});
        for (int j = 0; j < 4; ++j) {  // penalize some of the head too
            int best = 0;
            for (int i = 0; i < V; ++i)
                if (l[i] > l[best]) best = i;
            bool seen = false;
            for (auto& h : history) seen |= h.first == best;
            if (!seen) history.push_back({best, 2});
            l[best] -= 0.5f;
        }
        std::sort(history.begin(), history.end());
        p = SampleParams(), p.temperature = 0, p.repetition = 1.3, p.frequency = 0.5, p.presence = 0.2;
        check_sample("sample greedy with penalties" + v, l, V, p, uniforms(8), history);
        p.temperature = 0.9, p.top_p = 0.8;
        check_sample("sample T=0.9 top-p 0.8 with penalties" + v, l, V, p, uniforms(64), history);
        // a penalty too large for a float lowers the seen tokens to -FLT_MAX, never to -inf
        p = SampleParams(), p.temperature = 0.9, p.frequency = 1e300;
        check_sample("sample T=0.9 with a frequency penalty of 1e300" + v, l, V, p, uniforms(16), history);
        // several draws of one row, in another order
        p = SampleParams(), p.temperature = 1.1, p.top_k = 200;
        check_sample("sample T=1.1 top-k 200, rows 3,3,0,2,..." + v, l, V, p, uniforms(8), {}, {3, 3, 0, 2, 1, 3, 0, 0});
    }
    {  // ties: four tokens share the largest logit; top-k 2 keeps the two lowest indices
        const int V = 5000;
        auto l = rand_f32(V, -5.f, 5.f);
        for (int i : {4000, 17, 2500, 900}) l[i] = 9.f;
        SampleParams p;
        p.top_k = 2;
        std::vector<double> u;
        for (int i = 0; i < 32; ++i) u.push_back((i + 0.5) / 32);
        check_sample("sample top-k 2 among 4 tied (lowest indices)", l, V, p, u);
        p.top_k = 0, p.top_p = 0.2;  // the tied four hold ~30 % of the mass: top-p 0.2 takes the lowest three
        check_sample("sample top-p 0.2 among 4 tied (lowest three)", l, V, p, u);
    }
    {  // infinite, NaN and impossible rows
        const int V = 3000;
        auto l = rand_f32((size_t)3 * V, -5.f, 5.f);
        l[100] = l[2000] = INFINITY;                   // row 0: certainty shared by two tokens
        l[(size_t)V + 7] = NAN;                        // row 1: NaN
        for (int i = 0; i < V; ++i) l[(size_t)2 * V + i] = -INFINITY;  // row 2: no token possible
        SampleParams p;
        check_sample("sample +inf logits share the mass", l, V, p, {0.1, 0.7, 0.49, 0.51}, {}, {0, 0, 0, 0});
        Dev<float> dl(l);
        std::vector<qspec_draw> draws(3);
        for (int d = 0; d < 3; ++d) {
            draws[d] = qspec_draw{};
            draws[d].row = d;
            draws[d].temperature = 1;
            draws[d].top_p = 1;
            draws[d].repetition_penalty = 1;
            draws[d].uniform = 0.3;
        }
        qspec_draw greedy = draws[2];
        greedy.temperature = 0;
        draws.push_back(greedy);
        Dev<uint8_t> dd(draws.size() * sizeof(qspec_draw));
        CK(cudaMemcpy(dd.p, draws.data(), draws.size() * sizeof(qspec_draw), cudaMemcpyHostToDevice));
        const size_t ws = qspec_sample_workspace_bytes(4, V);
        Dev<uint8_t> dw(ws);
        Dev<int32_t> out(4), dummy(1);
        CQ(qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), 4, dummy.p, dummy.p, dw.p, ws, out.p, nullptr));
        auto got = out.down();
        const std::string name = "sample NaN row -> -1, all -inf -> -2 (greedy: 0); got " + std::to_string(got[1]) +
                                 ", " + std::to_string(got[2]) + ", " + std::to_string(got[3]);
        report(got[1] == -1 && got[2] == -2 && got[3] == 0, name, "wrong=%.0f tol=%.0f",
               (double)((got[1] != -1) + (got[2] != -2) + (got[3] != 0)), 0);
        const int refused = qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), 4, dummy.p, dummy.p, dw.p,
                                         ws - 1, out.p, nullptr);
        report(refused == QSPEC_ERR_UNSUPPORTED, "sample refuses a short workspace", "status=%.0f want=%.0f", refused,
               QSPEC_ERR_UNSUPPORTED);
    }
    {  // the distribution itself: a stratified grid of uniforms over one row gives each token its share
        const int V = 1000, n = 8192;
        auto l = rand_f32(V, -3.f, 3.f);
        SampleParams p;
        p.temperature = 0.9, p.top_p = 0.95;
        std::vector<double> u(n);
        for (int i = 0; i < n; ++i) u[i] = (i + 0.5) / n;
        std::vector<qspec_draw> draws(n);
        for (int d = 0; d < n; ++d) {
            draws[d] = qspec_draw{};
            draws[d].temperature = p.temperature;
            draws[d].top_p = p.top_p;
            draws[d].repetition_penalty = 1;
            draws[d].uniform = u[d];
        }
        Dev<float> dl(l);
        Dev<uint8_t> dd(n * sizeof(qspec_draw));
        CK(cudaMemcpy(dd.p, draws.data(), n * sizeof(qspec_draw), cudaMemcpyHostToDevice));
        const size_t ws = qspec_sample_workspace_bytes(n, V);
        Dev<uint8_t> dw(ws);
        Dev<int32_t> out(n), dummy(1);
        CQ(qspec_sample(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), n, dummy.p, dummy.p, dw.p, ws, out.p, nullptr));
        auto got = out.down();
        std::vector<double> count(V, 0), share(V, 0);
        for (int t : got) count[t] += 1;
        double m;
        for (int i = 0; i < n; ++i) {
            const int want = sample_ref(l, p, {}, u[i], &m);
            share[want] += 1;
        }
        double worst = 0;
        for (int t = 0; t < V; ++t) worst = std::max(worst, std::fabs(count[t] - share[t]));
        report(worst <= 1, "sample distribution: 8192 stratified draws, counts per token vs float64", "max diff=%.0f tol=%.0f",
               worst, 1);
    }
}

// ---------------------------------------------------------------- rejection sampling
// How far the device's fp32 weight may lie from the float64 weight w = exp(x) (x <= 0) by rounding
// alone: x = (l - max) * (1 / T) takes three fp32 roundings (up to |x| 2^-24 each) and expf is within
// 2 ulp (2^-22 of the value); the bound is some 1.6 times that.
static double weight_tolerance(double w) { return w > 0 ? w * (4e-7 + 3e-7 * std::fabs(std::log(w))) : 0; }

// sample.cu's fixed_mass (an exact power-of-two scale, then truncation)
static unsigned long long fixed_mass_ref(float w) { return w > 0.f ? (unsigned long long)((double)w * 1099511627776.0) : 0ull; }

// sample.cu's inverse_cdf: the first index whose cumulative fixed-point mass exceeds uniform * total,
// -1 when none does.
static int inverse_cdf_ref(const std::vector<unsigned long long>& mass, double u, unsigned long long* total_out = nullptr) {
    unsigned long long total = 0, cumulative = 0;
    for (auto m : mass) total += m;
    if (total_out) *total_out = total;
    const unsigned long long target = (unsigned long long)(u * (double)total);
    for (size_t i = 0; i < mass.size(); ++i)
        if (target < (cumulative += mass[i])) return (int)i;
    return -1;
}

// A row kept by qspec_sample_keep (fp32 weights, max 1) against the host's distribution of the same
// draw (`w`: its float64 weights before top-k / top-p / min-p, `prob` what it kept): every weight both
// keep within weight_tolerance, and the same kept set but for tokens at a filter's edge (a weight within
// rounding of the min-p threshold or of the weight at the top-k / top-p cut, or a top-p cut whose
// cumulative mass lies within rounding of the target). Returns 0 (the same set), 1 (a set that differs
// at an edge) or -1 (a weight or a kept token rounding does not explain; `why` says which). `bound`
// gets how far, relative to the total, the device's masses (and the host's float probabilities) may
// lie from the float64 ones: the bound on any CDF edge's displacement.
static int check_kept_row(const float* wd, const std::vector<double>& w, const std::vector<int>& order,
                          const std::vector<float>& prob, const SampleParams& p, double* bound, std::string* why) {
    const int V = (int)prob.size();
    char buf[200];
    *bound = 0;
    if (p.temperature == 0) {  // one-hot on both sides
        for (int i = 0; i < V; ++i)
            if (wd[i] != prob[i]) {
                snprintf(buf, sizeof buf, "greedy row: token %d device %g, host %g", i, wd[i], prob[i]);
                *why = buf;
                return -1;
            }
        return 0;
    }
    // the host's cut before min-p (distribution_ref's top-k and top-p, over its `order`)
    const bool cut = (p.top_k > 0 && p.top_k < V) || p.top_p < 1;
    const int n = (int)order.size();
    std::vector<int> rank(V, -1);
    std::vector<double> cum(n + 1, 0);
    double slack = V * 1e-12;  // fixed-point truncation, 2^-40 a token
    for (int r = 0; r < n; ++r) rank[order[r]] = r, cum[r + 1] = cum[r] + w[order[r]], slack += weight_tolerance(w[order[r]]);
    const int k = p.top_k > 0 && p.top_k < n ? p.top_k : 0;
    int keep = k > 0 ? k : n;
    double target = 0;
    if (p.top_p < 1) {
        target = p.top_p * cum[keep] * (1 - 1e-6);
        int nucleus = 0;
        while (nucleus < keep)
            if (cum[++nucleus] >= target) break;
        keep = nucleus;
    }
    auto near = [&](double a, double b) { return std::fabs(a - b) <= weight_tolerance(a) + weight_tolerance(b); };
    auto at_edge = [&](int t) {
        if (p.min_p > 0 && near(w[t], p.min_p)) return true;  // the largest weight is 1 on both sides
        if (!cut || rank[t] < 0) return false;
        if (near(w[t], w[order[keep - 1]]) || (keep < n && near(w[t], w[order[keep]]))) return true;
        const int r = rank[t];
        return p.top_p < 1 && (std::fabs(cum[r] - target) <= slack || std::fabs(cum[r + 1] - target) <= slack);
    };
    int status = 0;
    double kept = 0, tolerance = 0;
    for (int i = 0; i < V; ++i) {
        const bool host = prob[i] > 0, device = wd[i] > 0.f;
        if (host) kept += w[i], tolerance += weight_tolerance(w[i]);
        if (host != device) {
            if (at_edge(i)) {
                status = 1;
                continue;
            }
            snprintf(buf, sizeof buf, "token %d kept by the %s only (weight %.9g, device %.9g)", i,
                     host ? "host" : "device", w[i], wd[i]);
        } else if (host && std::fabs((double)wd[i] - w[i]) > weight_tolerance(w[i])) {
            snprintf(buf, sizeof buf, "token %d weight %.9g, float64 %.9g", i, wd[i], w[i]);
        } else {
            continue;
        }
        *why = buf;
        return -1;
    }
    *bound = (tolerance + V * 1e-12) / kept + 1e-7;  // + the host's float probabilities
    return status;
}

// Speculative rounds decided on the device (qspec_sample_keep, then qspec_rejection_sample). Lane l
// drafts gamma[l] tokens from draft rows (its verify rows plus noise, so some drafts are rejected),
// each drawn by the device from the distribution it keeps. Two checks:
//  - exact: the device's draft tokens and decisions are sample.cu's fixed-point rule applied on the
//    host to the distributions the device kept (totals too), and those distributions are the float64
//    ones within rounding (weight_tolerance), kept sets equal but at a filter's edge;
//  - end to end: against RejectionSamplingAcceptance.decide in float64 over the host's float
//    distributions. A difference must be one rounding explains (a draw or a test u_i * q < p within
//    the rows' bounds of its edge, or a row whose kept set differs at an edge); those are counted "at an
//    edge", at most a quarter of the lanes.
static void check_rejection(const std::string& name, int V, const SampleParams& p, const std::vector<int>& gammas,
                            float noise, const std::vector<std::pair<int, int>>& history = {}) {
    const int L = (int)gammas.size();
    std::vector<int> draft_offset(L), verify_offset(L);
    int nd = 0, nv = 0;
    for (int l = 0; l < L; ++l) draft_offset[l] = nd, verify_offset[l] = nv, nd += gammas[l], nv += gammas[l] + 1;
    // verify rows: a peaked head over noise; draft rows: the verify row of the same position plus noise
    std::vector<float> verify = rand_f32((size_t)nv * V, -8.f, 8.f), draft((size_t)nd * V);
    for (int r = 0; r < nv; ++r)
        for (int j = 0; j < 20; ++j) verify[(size_t)r * V + irand(0, V - 1)] = urand(8.f, 14.f);
    for (int l = 0; l < L; ++l)
        for (int i = 0; i < gammas[l]; ++i)
            for (int t = 0; t < V; ++t)
                draft[(size_t)(draft_offset[l] + i) * V + t] =
                    verify[(size_t)(verify_offset[l] + i) * V + t] + noise * (float)std::normal_distribution<double>(0, 1)(rng);
    auto draw_of = [&](int row, double u) {
        qspec_draw q{};
        q.row = row, q.top_k = p.top_k, q.history_length = (int)history.size(), q.temperature = p.temperature;
        q.top_p = p.top_p, q.min_p = p.min_p, q.repetition_penalty = p.repetition;
        q.frequency_penalty = p.frequency, q.presence_penalty = p.presence, q.uniform = u;
        return q;
    };
    std::vector<double> uniforms(nv);
    for (auto& u : uniforms) u = std::uniform_real_distribution<double>(0, 1)(rng);
    std::vector<qspec_draw> ddraws(nd), vdraws(nv);
    std::vector<double> draft_u(nd);
    std::vector<int32_t> dslots(nd), vslots(nv);
    for (int d = 0; d < nd; ++d) {
        draft_u[d] = std::uniform_real_distribution<double>(0, 1)(rng);
        ddraws[d] = draw_of(d, draft_u[d]);
        dslots[d] = nv + nd - 1 - d;  // slots in no particular order
    }
    for (int v = 0; v < nv; ++v) vdraws[v] = draw_of(v, uniforms[v]), vslots[v] = v;
    std::vector<qspec_rejection> lanes(L);
    for (int l = 0; l < L; ++l) lanes[l] = qspec_rejection{gammas[l], draft_offset[l], verify_offset[l], 0};
    std::vector<int32_t> htok, hcnt;
    for (auto& h : history) htok.push_back(h.first), hcnt.push_back(h.second);
    if (htok.empty()) htok.push_back(0), hcnt.push_back(0);

    Dev<float> dv(verify), ddr(draft), kept((size_t)(nv + nd) * V);
    Dev<unsigned long long> totals(nv + nd);
    Dev<int32_t> dht(htok), dhc(hcnt), ds(dslots), vs(vslots), dtok(nd), vtok(nv);
    Dev<uint8_t> dd(nd * sizeof(qspec_draw)), vd(nv * sizeof(qspec_draw)), dl(L * sizeof(qspec_rejection));
    CK(cudaMemcpy(dd.p, ddraws.data(), nd * sizeof(qspec_draw), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(vd.p, vdraws.data(), nv * sizeof(qspec_draw), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dl.p, lanes.data(), L * sizeof(qspec_rejection), cudaMemcpyHostToDevice));
    Dev<double> du(uniforms);
    Dev<int32_t> acc(L), next(L), acc2(L), next2(L);
    CQ(qspec_sample_keep(ddr.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), nd, dht.p, dhc.p, ds.p, kept.p, totals.p,
                         dtok.p, nullptr));
    CQ(qspec_sample_keep(dv.p, V, V, reinterpret_cast<const qspec_draw*>(vd.p), nv, dht.p, dhc.p, vs.p, kept.p, totals.p,
                         vtok.p, nullptr));
    CQ(qspec_rejection_sample(kept.p, totals.p, V, reinterpret_cast<const qspec_rejection*>(dl.p), L, dtok.p, ds.p, vs.p,
                              du.p, acc.p, next.p, nullptr));
    CQ(qspec_rejection_sample(kept.p, totals.p, V, reinterpret_cast<const qspec_rejection*>(dl.p), L, dtok.p, ds.p, vs.p,
                              du.p, acc2.p, next2.p, nullptr));
    auto tokens = dtok.down();
    auto got_acc = acc.down(), got_next = next.down(), again_acc = acc2.down(), again_next = next2.down();
    const auto kw = kept.down();
    const auto kt = totals.down();
    auto row_of = [&](int slot) { return kw.data() + (size_t)slot * V; };
    auto masses = [&](int slot) {
        std::vector<unsigned long long> m(V);
        for (int t = 0; t < V; ++t) m[t] = fixed_mass_ref(row_of(slot)[t]);
        return m;
    };
    int bad = 0, edge = 0, unstable = 0, drafts_bad = 0, accepted = 0, drafted = 0, inexact = 0, rows_bad = 0;
    auto note = [&](const std::string& what) {
        if (inexact++ < 3) printf("    %s\n", what.c_str());
    };
    for (int slot = 0; slot < nv + nd; ++slot) {
        unsigned long long sum = 0;
        for (auto m : masses(slot)) sum += m;
        if (sum != kt[slot]) note("slot " + std::to_string(slot) + ": total differs from its weights' masses");
    }
    for (int l = 0; l < L; ++l) {
        const int g = gammas[l];
        unstable += got_acc[l] != again_acc[l] || got_next[l] != again_next[l];
        std::vector<std::vector<float>> q(g), pv(g + 1);
        std::vector<int> qedge(g), pedge(g + 1);
        std::vector<double> qb(g), pb(g + 1);
        std::vector<std::vector<double>> qw(g), pw(g + 1);
        std::vector<int> order;  // of the row in hand (distribution_ref's, for check_kept_row)
        int best;
        bool excused = false;  // a difference from float64 here is one rounding explains
        std::string why;
        for (int i = 0; i <= g; ++i) {
            const int v = verify_offset[l] + i;
            pv[i] = distribution_ref(std::vector<float>(verify.begin() + (size_t)v * V, verify.begin() + (size_t)(v + 1) * V),
                                     p, history, &best, &pw[i], &order);
            if ((pedge[i] = check_kept_row(row_of(vslots[v]), pw[i], order, pv[i], p, &pb[i], &why)) < 0)
                ++rows_bad, note("lane " + std::to_string(l) + " verify row " + std::to_string(i) + ": " + why);
        }
        for (int i = 0; i < g; ++i) {
            const int d = draft_offset[l] + i;
            q[i] = distribution_ref(std::vector<float>(draft.begin() + (size_t)d * V, draft.begin() + (size_t)(d + 1) * V), p,
                                    history, &best, &qw[i], &order);
            if ((qedge[i] = check_kept_row(row_of(dslots[d]), qw[i], order, q[i], p, &qb[i], &why)) < 0)
                ++rows_bad, note("lane " + std::to_string(l) + " draft row " + std::to_string(i) + ": " + why);
            // exact: the fixed-point draw over the device's own weights (the best token when none is past the target)
            const int fixed = inverse_cdf_ref(masses(dslots[d]), draft_u[d]);
            const int exact = p.temperature == 0 ? best : fixed >= 0 ? fixed : best;
            if (exact != tokens[d])
                note("lane " + std::to_string(l) + " draft " + std::to_string(i) + ": device token " +
                     std::to_string(tokens[d]) + ", fixed-point draw over its weights " + std::to_string(exact));
            // end to end
            double m = 1;
            const int want = p.temperature == 0 ? best : pick_ref(q[i], draft_u[d], &m);
            if (want == tokens[d]) continue;
            if (qedge[i] || m < qb[i]) excused = true;
            else ++drafts_bad;
        }
        // exact: rejection_kernel's rule over the kept distributions and totals
        int exact_acc = g, exact_next = -1;
        {
            const double u_last = uniforms[verify_offset[l] + g];
            int i = 0;
            for (; i < g; ++i) {
                const int sp = vslots[verify_offset[l] + i], sq = dslots[draft_offset[l] + i], x = tokens[draft_offset[l] + i];
                if (x < 0 || x >= V) break;
                const double pp = (double)fixed_mass_ref(row_of(sp)[x]) / (double)kt[sp];
                const double qq = (double)fixed_mass_ref(row_of(sq)[x]) / (double)kt[sq];
                const double u = uniforms[verify_offset[l] + i];
                if (qq <= 0 ? pp > 0 : u * qq < pp) continue;
                const double inv_p = 1.0 / (double)kt[sp], inv_q = 1.0 / (double)kt[sq];
                std::vector<unsigned long long> r(V);
                for (int t = 0; t < V; ++t) {
                    const double d = (double)fixed_mass_ref(row_of(sp)[t]) * inv_p - (double)fixed_mass_ref(row_of(sq)[t]) * inv_q;
                    r[t] = d > 0 ? (unsigned long long)(d * 1099511627776.0) : 0ull;
                }
                unsigned long long total;
                int drawn = inverse_cdf_ref(r, u_last, &total);
                if (total == 0) drawn = inverse_cdf_ref(masses(sp), u_last);
                exact_acc = i, exact_next = drawn;
                if (drawn < 0)
                    for (int t = V - 1; t >= 0 && exact_next < 0; --t)
                        if (row_of(sp)[t] > 0.f) exact_next = t;
                break;
            }
            if (i == g) {
                const int sb = vslots[verify_offset[l] + g];
                exact_next = inverse_cdf_ref(masses(sb), u_last);
                for (int t = V - 1; t >= 0 && exact_next < 0; --t)
                    if (row_of(sb)[t] > 0.f) exact_next = t;
            }
        }
        if (got_acc[l] != exact_acc || got_next[l] != exact_next)
            note("lane " + std::to_string(l) + ": device (" + std::to_string(got_acc[l]) + ", " + std::to_string(got_next[l]) +
                 "), fixed-point rule over the kept distributions (" + std::to_string(exact_acc) + ", " +
                 std::to_string(exact_next) + ")");
        // end to end: RejectionSamplingAcceptance.decide in float64 over the device's draft tokens
        const double u_last = uniforms[verify_offset[l] + g];
        int want_acc = g, want_next = -1;
        double m = 1;
        for (int i = 0; i < g; ++i) {
            const int x = tokens[draft_offset[l] + i];
            if (x < 0 || x >= V) break;
            const double pp = pv[i][x], qq = q[i][x], u = uniforms[verify_offset[l] + i];
            if (pedge[i] || qedge[i]) excused = true;
            // u * q against p within the rounding of each: its weight's, and its row total's
            auto slack = [](double prob, double w, double row) {
                return w > 0 ? prob * (weight_tolerance(w) / w + row + 1e-12 / w) : 0;
            };
            if (qq > 0 && std::fabs(u * qq - pp) <= u * slack(qq, qw[i][x], qb[i]) + slack(pp, pw[i][x], pb[i]) + 1e-12)
                excused = true;
            const bool ok = qq <= 0 ? pp > 0 : u * qq < pp;
            if (ok) continue;
            std::vector<float> r(V, 0.f);
            bool any = false;
            for (int t = 0; t < V; ++t) {
                const float d = pv[i][t] - q[i][t];
                if (d > 0) r[t] = d, any = true;
            }
            want_acc = i;
            want_next = pick_ref(any ? r : pv[i], u_last, &m);
            // the residual's edges move by what p's and q's do, against the residual's mass
            double mass = 0;
            for (float x : r) mass += x;
            if (any ? m * mass < pb[i] + qb[i] + V * 1e-12 : m < pb[i]) excused = true;
            break;
        }
        if (want_acc == g) {
            want_next = pick_ref(pv[g], u_last, &m);
            if (pedge[g] || m < pb[g]) excused = true;
        }
        drafted += g;
        accepted += got_acc[l];
        if (got_acc[l] == want_acc && got_next[l] == want_next) continue;
        if (excused) {
            ++edge;
            continue;
        }
        if (bad < 3)
            printf("    lane %d: device (%d, %d), reference (%d, %d)\n", l, got_acc[l], got_next[l], want_acc, want_next);
        ++bad;
    }
    const std::string fmt = "mismatches=%.0f (drafts: " + std::to_string(drafts_bad) + "; accepted " +
                            std::to_string(accepted) + "/" + std::to_string(drafted) +
                            "; differing from float64 at an edge: " + std::to_string(edge) +
                            "; kept rows off float64: " + std::to_string(rows_bad) +
                            "; off the fixed-point rule: " + std::to_string(inexact - rows_bad) +
                            "; differing run to run: " + std::to_string(unstable) + ") tol=%.0f";
    report(bad == 0 && drafts_bad == 0 && unstable == 0 && inexact == 0 && edge * 4 <= L, name, fmt.c_str(), bad, 0);
}

static void test_rejection() {
    std::vector<int> gammas;
    for (int l = 0; l < 48; ++l) gammas.push_back(l % 8 == 7 ? 1 : l % 8 == 6 ? 5 : 3);
    for (int V : {1000, 32000, 128256}) {
        const std::string v = " V=" + std::to_string(V);
        SampleParams p;
        check_rejection("rejection T=1 noise 1" + v, V, p, gammas, 1.f);
        check_rejection("rejection T=1 noise 0.2" + v, V, p, gammas, 0.2f);
        p.temperature = 0.8, p.top_k = 50, p.top_p = 0.95;
        check_rejection("rejection T=0.8 top-k 50 top-p 0.95 noise 1" + v, V, p, gammas, 1.f);
        p = SampleParams(), p.top_p = 0.9, p.min_p = 0.05;
        check_rejection("rejection T=1 top-p 0.9 min-p 0.05 noise 2" + v, V, p, gammas, 2.f);
        p = SampleParams(), p.temperature = 0;
        check_rejection("rejection T=0 (strict greedy) noise 1" + v, V, p, gammas, 1.f);
        p = SampleParams(), p.temperature = 0.9, p.repetition = 1.3, p.frequency = 0.2, p.presence = 0.4;
        std::vector<std::pair<int, int>> history;
        for (int j = 0; j < 40; ++j) history.push_back({(j * 7919 + 13) % V, 1 + j % 3});
        std::sort(history.begin(), history.end());
        history.erase(std::unique(history.begin(), history.end(),
                                  [](auto& a, auto& b) { return a.first == b.first; }), history.end());
        check_rejection("rejection T=0.9 with penalties noise 1" + v, V, p, gammas, 1.f, history);
    }
    {  // a lane whose verify row holds NaN is refused (-1); the other lanes are decided
        const int V = 1000;
        std::vector<float> l = rand_f32(4 * (size_t)V, -4.f, 4.f);
        l[(size_t)1 * V + 17] = NAN;  // verify row of lane 0's position 1
        std::vector<qspec_draw> draws(4);
        for (int d = 0; d < 4; ++d) {
            draws[d] = qspec_draw{};
            draws[d].row = d, draws[d].temperature = 1, draws[d].top_p = 1, draws[d].repetition_penalty = 1;
            draws[d].uniform = 0.5;
        }
        // lane 0: gamma 1, draft slot 3 (row 3 drawn as its draft), verify slots 0, 1; lane 1: the same rows but
        // verify slots 2, 0 (no NaN)
        std::vector<int32_t> slots = {0, 1, 2, 3};
        std::vector<qspec_rejection> lanes = {{1, 0, 0, 0}, {1, 1, 2, 0}};
        std::vector<int32_t> dslots = {3, 3}, vslots = {0, 1, 2, 0};
        std::vector<double> u = {0.999999, 0.3, 0.999999, 0.3};
        Dev<float> dl(l), kept(4 * (size_t)V);
        Dev<unsigned long long> totals(4);
        Dev<uint8_t> dd(4 * sizeof(qspec_draw)), dlanes(2 * sizeof(qspec_rejection));
        CK(cudaMemcpy(dd.p, draws.data(), 4 * sizeof(qspec_draw), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(dlanes.p, lanes.data(), 2 * sizeof(qspec_rejection), cudaMemcpyHostToDevice));
        Dev<int32_t> ds(slots), tok(4), dummy(1), dds(dslots), dvs(vslots), acc(2), next(2);
        Dev<double> du(u);
        CQ(qspec_sample_keep(dl.p, V, V, reinterpret_cast<const qspec_draw*>(dd.p), 4, dummy.p, dummy.p, ds.p, kept.p,
                             totals.p, tok.p, nullptr));
        auto t = tok.down();
        std::vector<int32_t> dtokens = {t[3], t[3]};
        Dev<int32_t> ddt(dtokens);
        CQ(qspec_rejection_sample(kept.p, totals.p, V, reinterpret_cast<const qspec_rejection*>(dlanes.p), 2, ddt.p,
                                  dds.p, dvs.p, du.p, acc.p, next.p, nullptr));
        auto a = acc.down(), n = next.down();
        const std::string name = "rejection: a NaN verify row -> -1, the other lane decided; got (" + std::to_string(a[0]) +
                                 ", " + std::to_string(n[0]) + "), (" + std::to_string(a[1]) + ", " + std::to_string(n[1]) + ")";
        report(t[1] == -1 && n[0] == -1 && n[1] >= 0 && n[1] < V, name, "ok=%.0f want=%.0f",
               (double)(t[1] == -1 && n[0] == -1 && n[1] >= 0), 1);
    }
}

// ---------------------------------------------------------------- RoPE + paged KV + attention
// Sequences with cached history; a batch mixing decode tokens (one per sequence) and a verify run of
// several consecutive tokens of one sequence. Checks q after RoPE, the pool contents, the attention.
static void test_rope_attention(int heads, int kv_heads, int hd, int style, int block_size, bool long_context = false) {
    // (blocks for 2006 positions at the long contexts, 160 at the block sizes of 16 and more)
    const int S = 3, max_blocks = long_context ? std::max(160, 2006 / block_size + 1) : 16, nblocks = S * max_blocks;
    const int short_hist[S] = {37, 5, 100}, long_hist[S] = {2000, 5, 1500};
    const int* hist = long_context ? long_hist : short_hist;  // positions already cached
    const int ntok[S] = {1, 1, 5};             // tokens of this pass (the last sequence verifies 5)
    std::vector<int32_t> seq, pos;
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < ntok[s]; ++i) { seq.push_back(s); pos.push_back(hist[s] + i); }
    const int T = (int)seq.size();
    std::vector<int32_t> perm(nblocks);
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<int32_t> tables(perm.begin(), perm.end());  // sequence s -> blocks perm[s*max_blocks ..]
    const size_t pool_n = (size_t)nblocks * block_size * kv_heads * hd;
    auto kpool = rand_f16(pool_n, -1.f, 1.f), vpool = rand_f16(pool_n, -1.f, 1.f);
    auto q = rand_f32((size_t)T * heads * hd, -1.f, 1.f), k = rand_f32((size_t)T * kv_heads * hd, -1.f, 1.f),
         v = rand_f32((size_t)T * kv_heads * hd, -1.f, 1.f);
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = (float)std::pow(500000.0, -2.0 * i / hd);
    // the fused q|k|v GEMM output: rows of stride ld (padded by 5 poisoned columns)
    const int qd = heads * hd, kvd = kv_heads * hd, ld = qd + 2 * kvd + 5;
    std::vector<float> qkv((size_t)T * ld, POISON);
    for (int t = 0; t < T; ++t) {
        std::copy(q.begin() + (size_t)t * qd, q.begin() + (size_t)(t + 1) * qd, qkv.begin() + (size_t)t * ld);
        std::copy(k.begin() + (size_t)t * kvd, k.begin() + (size_t)(t + 1) * kvd, qkv.begin() + (size_t)t * ld + qd);
        std::copy(v.begin() + (size_t)t * kvd, v.begin() + (size_t)(t + 1) * kvd, qkv.begin() + (size_t)t * ld + qd + kvd);
    }
    Dev<float> dqkv(qkv), dq(std::vector<float>((size_t)T * qd, POISON)), dinv(inv_freq);
    Dev<__half> dkp(kpool), dvp(vpool), dout((size_t)T * heads * hd);
    Dev<int32_t> dseq(seq), dpos(pos), dtab(tables);
    CQ(qspec_rope_write_kv(dqkv.p, dqkv.p + qd, dqkv.p + qd + kvd, ld, dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p,
                           max_blocks, block_size, T, heads, kv_heads, hd, dinv.p, style, nullptr));
    // with a workspace: long contexts take the split schedule (few tokens x heads here)
    const size_t ws_bytes = qspec_attention_workspace_bytes(T, heads, hd, max_blocks * block_size);
    Dev<float> dws(std::vector<float>(ws_bytes / sizeof(float), POISON));
    CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                       dws.p, ws_bytes, dout.p, nullptr));
    // CPU reference
    std::vector<double> qr(q.begin(), q.end());
    std::vector<double> kp(pool_n), vp(pool_n);
    for (size_t i = 0; i < pool_n; ++i) { kp[i] = __half2float(kpool[i]); vp[i] = __half2float(vpool[i]); }
    auto rot = [&](double* base, int p) {
        for (int i = 0; i < hd / 2; ++i) {
            const int d0 = style == 0 ? 2 * i : i, d1 = style == 0 ? 2 * i + 1 : i + hd / 2;
            const double ang = (double)((float)p * inv_freq[i]);
            const double a = base[d0], b = base[d1];
            base[d0] = a * std::cos(ang) - b * std::sin(ang);
            base[d1] = a * std::sin(ang) + b * std::cos(ang);
        }
    };
    auto slot = [&](int s, int p, int kh) {
        return (((size_t)tables[s * max_blocks + p / block_size] * block_size + p % block_size) * kv_heads + kh) * hd;
    };
    for (int t = 0; t < T; ++t) {
        for (int h = 0; h < heads; ++h) rot(&qr[((size_t)t * heads + h) * hd], pos[t]);
        for (int kh = 0; kh < kv_heads; ++kh) {
            std::vector<double> kk(k.begin() + ((size_t)t * kv_heads + kh) * hd, k.begin() + ((size_t)t * kv_heads + kh + 1) * hd);
            rot(kk.data(), pos[t]);
            for (int d = 0; d < hd; ++d) {
                kp[slot(seq[t], pos[t], kh) + d] = kk[d];
                vp[slot(seq[t], pos[t], kh) + d] = v[((size_t)t * kv_heads + kh) * hd + d];
            }
        }
    }
    std::vector<double> oref((size_t)T * heads * hd, 0);
    for (int t = 0; t < T; ++t)
        for (int h = 0; h < heads; ++h) {
            const int kh = h / (heads / kv_heads);
            std::vector<double> sc(pos[t] + 1);
            double mx = -1e300;
            for (int p = 0; p <= pos[t]; ++p) {
                double s = 0;
                for (int d = 0; d < hd; ++d) s += qr[((size_t)t * heads + h) * hd + d] * kp[slot(seq[t], p, kh) + d];
                sc[p] = s / std::sqrt((double)hd);
                mx = std::max(mx, sc[p]);
            }
            double den = 0;
            for (auto& s : sc) den += (s = std::exp(s - mx));
            for (int p = 0; p <= pos[t]; ++p)
                for (int d = 0; d < hd; ++d) oref[((size_t)t * heads + h) * hd + d] += sc[p] / den * vp[slot(seq[t], p, kh) + d];
        }
    char tag[96];
    snprintf(tag, sizeof tag, "heads=%d kv=%d hd=%d style=%d bs=%d T=%d", heads, kv_heads, hd, style, block_size, T);
    auto qg = dq.down();
    std::vector<double> qgd(qg.begin(), qg.end());
    double e = rel_err(qgd, qr);
    report(e < 1e-5, std::string("rope q ") + tag, "rel_err=%.2e tol=%.0e", e, 1e-5);
    auto kpg = dkp.down(), vpg = dvp.down();
    std::vector<double> kg(pool_n), vg(pool_n);
    for (size_t i = 0; i < pool_n; ++i) { kg[i] = __half2float(kpg[i]); vg[i] = __half2float(vpg[i]); }
    e = std::max(rel_err(kg, kp), rel_err(vg, vp));
    report(e < 1e-3, std::string("rope_write_kv pools ") + tag, "rel_err=%.2e tol=%.0e", e, 1e-3);
    auto og = dout.down();
    std::vector<double> ogd(og.size());
    for (size_t i = 0; i < og.size(); ++i) ogd[i] = __half2float(og[i]);
    e = rel_err(ogd, oref);
    report(e < 2e-3, std::string("attention ") + tag, "rel_err=%.2e tol=%.0e", e, 2e-3);
    // A token's attention must not depend on the other tokens of the pass (a verify pass must
    // reproduce decode bit for bit): the last token alone, T = 1, gives the bits of its row above.
    Dev<int32_t> dseq1(std::vector<int32_t>{seq[T - 1]}), dpos1(std::vector<int32_t>{pos[T - 1]});
    Dev<__half> dout1((size_t)heads * hd);
    CQ(qspec_attention(dq.p + (size_t)(T - 1) * qd, dkp.p, dvp.p, dseq1.p, dpos1.p, dtab.p, max_blocks, block_size, 1,
                       heads, kv_heads, hd, dws.p, ws_bytes, dout1.p, nullptr));
    const auto o1 = dout1.down();
    size_t differ = differing_halves(o1, &og[(size_t)(T - 1) * heads * hd]);
    report(differ == 0, std::string("attention of one token alone = its row in the pass ") + tag,
           "differing outputs=%.0f of %.0f", (double)differ, (double)o1.size());
    // without a workspace every (token, head) runs its splits in one block: the same bits
    Dev<__half> dseqout((size_t)T * heads * hd);
    CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                       nullptr, 0, dseqout.p, nullptr));
    const auto os = dseqout.down();
    differ = differing_halves(os, og.data());
    report(differ == 0, std::string("attention sequential schedule = split schedule ") + tag,
           "differing outputs=%.0f of %.0f", (double)differ, (double)os.size());
    // the two loads builds (next chunk's K and V ahead, or each chunk's loads at its turn) are the same
    // arithmetic: the same bits, in both schedules
    for (const char* ahead : {"0", "1"}) {
        const ScopedEnv build("QSPEC_ATTENTION_AHEAD", ahead);
        Dev<__half> dsplit((size_t)T * heads * hd), dseq2((size_t)T * heads * hd);
        CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                           dws.p, ws_bytes, dsplit.p, nullptr));
        CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                           nullptr, 0, dseq2.p, nullptr));
        const auto a = dsplit.down(), b = dseq2.down();
        differ = differing_halves(a, og.data()) + differing_halves(b, og.data());
        report(differ == 0, std::string("attention loads-ahead build ") + ahead + " = default " + tag,
               "differing outputs=%.0f of %.0f", (double)differ, 2.0 * a.size());
    }
    // head tiles (QSPEC_ATTENTION_HEAD_TILES=all: 4 or 2 heads of a kv head per block of the sequential schedule,
    // sharing each chunk's K and V loads): the same bits (groups of 1 keep one head a block)
    const ScopedEnv tiles_everywhere("QSPEC_ATTENTION_HEAD_TILES", "all");
    Dev<__half> dtiles((size_t)T * heads * hd);
    CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                       nullptr, 0, dtiles.p, nullptr));
    const auto tiles = dtiles.down();
    differ = differing_halves(tiles, og.data());
    const int group = heads / kv_heads;
    report(differ == 0, "attention head tiles of " + std::to_string(group % 4 == 0 ? 4 : group % 2 == 0 ? 2 : 1) +
                            " = default " + tag,
           "differing outputs=%.0f of %.0f", (double)differ, (double)tiles.size());
    // and in the split schedule (with the workspace, as the first call), both builds: one head a block
    // (QSPEC_ATTENTION_SPLIT_TILES=0), on the whole grid (=all), and per token (=auto, the default: here the
    // long-context tokens tile, the others not; =auto-large, which also takes the split schedule for large passes)
    for (const char* mode : {"0", "all", "auto", "auto-large"}) {
        const ScopedEnv split_tiles("QSPEC_ATTENTION_SPLIT_TILES", mode);
        for (const char* ahead : {"0", "1", "2"}) {  // 2: the per-token kernel with two chunks in flight
            const ScopedEnv build("QSPEC_ATTENTION_AHEAD", ahead);
            Dev<__half> dst((size_t)T * heads * hd);
            CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads,
                               hd, dws.p, ws_bytes, dst.p, nullptr));
            const auto st = dst.down();
            differ = differing_halves(st, og.data());
            report(differ == 0, std::string("attention split-schedule head tiles ") + mode + " (loads-ahead build " +
                                    ahead + ") = default " + tag,
                   "differing outputs=%.0f of %.0f", (double)differ, (double)st.size());
        }
    }
}

// The fused RoPE + KV write + attention (qspec_rope_attention) against the two calls it replaces, bit for bit:
// the outputs and every byte of both pools, for decode passes (one token per sequence) whose positions fall on
// block and split edges (0: the token is its whole context; 255 / 256: the last position of a split, the first
// of the next), in both schedules and both loads builds.
static void test_fused_rope_attention(int heads, int kv_heads, int hd, int style, int block_size, bool long_context) {
    const std::vector<int> hist = long_context ? std::vector<int>{255, 256, 1000, 0, 2047} : std::vector<int>{0, 5, 37};
    const int S = (int)hist.size(), max_blocks = long_context ? 2048 / block_size + 1 : 8, nblocks = S * max_blocks;
    std::vector<int32_t> seq(S), pos(S);
    for (int s = 0; s < S; ++s) { seq[s] = s; pos[s] = hist[s]; }
    const int T = S;
    std::vector<int32_t> perm(nblocks);
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t pool_n = (size_t)nblocks * block_size * kv_heads * hd;
    const auto kpool = rand_f16(pool_n, -1.f, 1.f), vpool = rand_f16(pool_n, -1.f, 1.f);
    const int qd = heads * hd, kvd = kv_heads * hd, ld = qd + 2 * kvd + 3;
    auto qkv = rand_f32((size_t)T * ld, -1.f, 1.f);
    for (int t = 0; t < T; ++t)
        for (int c = qd + 2 * kvd; c < ld; ++c) qkv[(size_t)t * ld + c] = POISON;  // padding is never read
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = (float)std::pow(500000.0, -2.0 * i / hd);
    Dev<float> dqkv(qkv), dinv(inv_freq), dq(std::vector<float>((size_t)T * qd, POISON));
    Dev<int32_t> dseq(seq), dpos(pos), dtab(perm);
    const size_t ws_bytes = qspec_attention_workspace_bytes(T, heads, hd, max_blocks * block_size);
    Dev<float> dws(std::vector<float>(ws_bytes / sizeof(float), POISON));
    char tag[96];
    snprintf(tag, sizeof tag, "heads=%d kv=%d hd=%d style=%d bs=%d T=%d", heads, kv_heads, hd, style, block_size, T);
    // the two calls, once: their pools and outputs (with and without the workspace: the same bits, tested above)
    Dev<__half> dk0(kpool), dv0(vpool), dout0((size_t)T * qd);
    CQ(qspec_rope_write_kv(dqkv.p, dqkv.p + qd, dqkv.p + qd + kvd, ld, dq.p, dk0.p, dv0.p, dseq.p, dpos.p, dtab.p,
                           max_blocks, block_size, T, heads, kv_heads, hd, dinv.p, style, nullptr));
    CQ(qspec_attention(dq.p, dk0.p, dv0.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd, dws.p,
                       ws_bytes, dout0.p, nullptr));
    const auto k0 = dk0.down(), v0 = dv0.down(), out0 = dout0.down();
    ScopedEnv build("QSPEC_ATTENTION_AHEAD", "");
    for (const char* ahead : {"", "0", "1"}) {  // "": the rule (any value but 0 and 1)
        build.set(ahead);
        for (bool workspace : {true, false}) {
            Dev<__half> dk(kpool), dv(vpool), dout((size_t)T * qd);
            CQ(qspec_rope_attention(dqkv.p, ld, dk.p, dv.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads,
                                    kv_heads, hd, dinv.p, style, workspace ? dws.p : nullptr, workspace ? ws_bytes : 0,
                                    dout.p, nullptr));
            const auto k = dk.down(), v = dv.down(), out = dout.down();
            const size_t differ = differing_halves(out, out0.data());
            const size_t pool_differ = differing_halves(k, k0.data()) + differing_halves(v, v0.data());
            const std::string how = std::string(workspace ? " split-capable" : " sequential") + (*ahead ? " ahead=" : "") + ahead;
            report(differ == 0, std::string("fused rope+attention = rope_write_kv + attention") + how + " " + tag,
                   "differing outputs=%.0f of %.0f", (double)differ, (double)out.size());
            report(pool_differ == 0, std::string("fused rope+attention pools = rope_write_kv's") + how + " " + tag,
                   "differing pool entries=%.0f of %.0f", (double)pool_differ, 2.0 * pool_n);
        }
    }
}

// Query tiles of verify passes (qspec_attention_runs, ABI 9): each sequence's run of `run` consecutive tokens shares
// each chunk's K and V among up to 4 of them. Against qspec_attention, bit for bit, in each schedule (tiles walking
// their splits; split blocks and the merge; the rule) and loads build. hist: each sequence's cached positions, chosen
// so that a run's tokens straddle a split of 256 positions (different split counts in one tile). mixed: the tokens
// are ordered position-major, so the runs the hint names mix sequences (each token reads its own table: the same bits).
static void test_attention_runs(int heads, int kv_heads, int hd, int block_size, int run, std::vector<int> hist,
                                bool mixed) {
    const int S = (int)hist.size(), max_blocks = 2100 / block_size + 2, nblocks = S * max_blocks;
    std::vector<int32_t> seq, pos;
    for (int a = 0; a < S * run; ++a) {
        const int s = mixed ? a % S : a / run, i = mixed ? a / S : a % run;
        seq.push_back(s);
        pos.push_back(hist[s] + i);
    }
    const int T = (int)seq.size();
    std::vector<int32_t> perm(nblocks);
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t pool_n = (size_t)nblocks * block_size * kv_heads * hd;
    Dev<__half> dkp(rand_f16(pool_n, -1.f, 1.f)), dvp(rand_f16(pool_n, -1.f, 1.f));
    Dev<float> dq(rand_f32((size_t)T * heads * hd, -1.f, 1.f));
    Dev<int32_t> dseq(seq), dpos(pos), dtab(perm);
    const size_t ws_bytes = qspec_attention_workspace_bytes(T, heads, hd, max_blocks * block_size);
    Dev<float> dws(std::vector<float>(ws_bytes / sizeof(float), POISON));
    Dev<__half> dref((size_t)T * heads * hd);
    CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                       dws.p, ws_bytes, dref.p, nullptr));
    const auto ref = dref.down();
    char tag[128];
    snprintf(tag, sizeof tag, "heads=%d kv=%d hd=%d bs=%d run=%d T=%d%s", heads, kv_heads, hd, block_size, run, T,
             mixed ? " (runs mixing sequences)" : "");
    // large passes (heads x T >= 2 x SMs here with 32 heads) take the split schedule from tables of 2048 or 4096
    // positions (QSPEC_ATTENTION_LARGE_SPLIT; 1: at any context): the same bits as the sequential schedule
    for (const char* large : {"0", "1"}) {
        const ScopedEnv from("QSPEC_ATTENTION_LARGE_SPLIT", large);
        Dev<__half> dlarge((size_t)T * heads * hd);
        CQ(qspec_attention(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                           *large == '1' ? dws.p : nullptr, *large == '1' ? ws_bytes : 0, dlarge.p, nullptr));
        const size_t differ = differing_halves(dlarge.down(), ref.data());
        report(differ == 0, std::string("attention of a large pass ") + (*large == '1' ? "split everywhere" :
                                                                              "sequential") + " = default " + tag,
               "differing outputs=%.0f of %.0f", (double)differ, (double)ref.size());
    }
    for (const char* mode : {"auto", "seq", "split"})
        for (const char* ahead : {"0", "1"}) {
            const ScopedEnv schedule("QSPEC_ATTENTION_RUNS", mode), build("QSPEC_ATTENTION_AHEAD", ahead);
            Dev<__half> dout(std::vector<__half>((size_t)T * heads * hd, __float2half(NAN)));
            CQ(qspec_attention_runs(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads,
                                    kv_heads, hd, run, dws.p, ws_bytes, dout.p, nullptr));
            const auto out = dout.down();
            const size_t differ = differing_halves(out, ref.data());
            report(differ == 0, std::string("attention query tiles ") + mode + " (loads-ahead build " + ahead +
                                    ") = qspec_attention " + tag,
                   "differing outputs=%.0f of %.0f", (double)differ, (double)out.size());
        }
    // without a workspace the tiles walk their splits
    Dev<__half> dseqout((size_t)T * heads * hd);
    CQ(qspec_attention_runs(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads, kv_heads, hd,
                            run, nullptr, 0, dseqout.p, nullptr));
    const size_t differ = differing_halves(dseqout.down(), ref.data());
    report(differ == 0, std::string("attention query tiles without a workspace = qspec_attention ") + tag,
           "differing outputs=%.0f of %.0f", (double)differ, (double)ref.size());
    const int bad = qspec_attention_runs(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T, heads,
                                         kv_heads, hd, T + 1, dws.p, ws_bytes, dseqout.p, nullptr);
    report(bad == QSPEC_ERR_UNSUPPORTED, std::string("attention query tiles refuse a run that does not divide T ") + tag,
           "returned %.0f, want %.0f", (double)bad, (double)QSPEC_ERR_UNSUPPORTED);
}

// Tokens src[0], src[1], ... of a pass (their sequences, positions and q rows of qd floats), in that order, on the device:
// the same tokens at other offsets of a pass.
struct GatheredPass {
    Dev<float> q;
    Dev<int32_t> seq, pos;
};
static GatheredPass gather_tokens(const std::vector<int>& src, const std::vector<int32_t>& seq,
                                  const std::vector<int32_t>& pos, const std::vector<float>& q, int qd) {
    std::vector<int32_t> s2, p2;
    std::vector<float> q2;
    for (int t : src) {
        s2.push_back(seq[t]);
        p2.push_back(pos[t]);
        q2.insert(q2.end(), q.begin() + (size_t)t * qd, q.begin() + (size_t)(t + 1) * qd);
    }
    return GatheredPass{Dev<float>(q2), Dev<int32_t>(s2), Dev<int32_t>(p2)};
}

// float64 causal attention over a paged pool (fp16 K and V; sequence s's block b is pool block table[s * max_blocks +
// b]) for each token (its sequence and position) and head: [T, heads * hd].
static std::vector<double> paged_attention_reference(const std::vector<float>& q, const std::vector<__half>& kpool,
                                                     const std::vector<__half>& vpool, const std::vector<int32_t>& table,
                                                     const std::vector<int32_t>& seq, const std::vector<int32_t>& pos,
                                                     int max_blocks, int block_size, int heads, int kv_heads, int hd) {
    auto slot = [&](int s, int p, int kh) {
        return (((size_t)table[s * max_blocks + p / block_size] * block_size + p % block_size) * kv_heads + kh) * hd;
    };
    const int T = (int)seq.size();
    std::vector<double> ref((size_t)T * heads * hd, 0);
    for (int t = 0; t < T; ++t)
        for (int h = 0; h < heads; ++h) {
            const int kh = h / (heads / kv_heads);
            std::vector<double> sc(pos[t] + 1);
            double mx = -1e300, den = 0;
            for (int p = 0; p <= pos[t]; ++p) {
                double d = 0;
                for (int i = 0; i < hd; ++i)
                    d += (double)q[((size_t)t * heads + h) * hd + i] * __half2float(kpool[slot(seq[t], p, kh) + i]);
                sc[p] = d / std::sqrt((double)hd);
                mx = std::max(mx, sc[p]);
            }
            for (auto& x : sc) den += (x = std::exp(x - mx));
            for (int p = 0; p <= pos[t]; ++p)
                for (int i = 0; i < hd; ++i)
                    ref[((size_t)t * heads + h) * hd + i] += sc[p] / den * __half2float(vpool[slot(seq[t], p, kh) + i]);
        }
    return ref;
}

// Prefill tiles (attention_tiles.cuh): a pass mixing prompts of 64 tokens or more (tiles) with a verify run and a prompt
// of 63 (row kernels), each sequence with cached positions before it. Checks: every output against float64 (the tiles
// round q and p to fp16: the same tolerance as the row kernels); the short runs' bits equal the row kernels' (tiles
// off); a long run's bits equal its own pass's alone, at another offset in the pass and through qspec_attention_runs
// (no token's result depends on the others); a prefill of one run length through qspec_attention_runs equals
// qspec_attention.
static void test_prefill_tiles(int heads, int kv_heads, int hd, int block_size) {
    const std::vector<int> hist = {0, 37, 100, 0, 700}, ntok = {150, 5, 64, 63, 200};
    const int S = (int)hist.size(), max_blocks = 1000 / block_size + 2, nblocks = S * max_blocks;
    std::vector<int32_t> seq, pos;
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < ntok[s]; ++i) { seq.push_back(s); pos.push_back(hist[s] + i); }
    const int T = (int)seq.size(), qd = heads * hd;
    std::vector<int32_t> perm(nblocks);
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t pool_n = (size_t)nblocks * block_size * kv_heads * hd;
    const auto kpool = rand_f16(pool_n, -1.f, 1.f), vpool = rand_f16(pool_n, -1.f, 1.f);
    const auto q = rand_f32((size_t)T * qd, -2.f, 2.f);
    Dev<__half> dkp(kpool), dvp(vpool);
    Dev<float> dq(q);
    Dev<int32_t> dseq(seq), dpos(pos), dtab(perm);
    const size_t ws_bytes = qspec_attention_workspace_bytes(T, heads, hd, max_blocks * block_size);
    Dev<float> dws(std::vector<float>(ws_bytes / sizeof(float), POISON));
    auto attend = [&](const float* qp, const int32_t* sp, const int32_t* pp, int n, int run, const char* tiles) {
        const ScopedEnv env("QSPEC_ATTENTION_PREFILL_TILES", tiles);
        Dev<__half> dout(std::vector<__half>((size_t)n * qd, __float2half(NAN)));
        if (run > 0)
            CQ(qspec_attention_runs(qp, dkp.p, dvp.p, sp, pp, dtab.p, max_blocks, block_size, n, heads, kv_heads, hd,
                                    run, dws.p, ws_bytes, dout.p, nullptr));
        else
            CQ(qspec_attention(qp, dkp.p, dvp.p, sp, pp, dtab.p, max_blocks, block_size, n, heads, kv_heads, hd, dws.p,
                               ws_bytes, dout.p, nullptr));
        return dout.down();
    };
    const auto tiled = attend(dq.p, dseq.p, dpos.p, T, 0, "1"), rows = attend(dq.p, dseq.p, dpos.p, T, 0, "0");
    const auto ref = paged_attention_reference(q, kpool, vpool, perm, seq, pos, max_blocks, block_size, heads,
                                               kv_heads, hd);
    std::vector<double> got((size_t)T * qd);
    for (size_t i = 0; i < got.size(); ++i) got[i] = __half2float(tiled[i]);
    char tag[96];
    snprintf(tag, sizeof tag, "heads=%d kv=%d hd=%d bs=%d T=%d", heads, kv_heads, hd, block_size, T);
    const double e = rel_err(got, ref);
    report(e < 2e-3, std::string("prefill tiles against float64 ") + tag, "rel_err=%.2e tol=%.0e", e, 2e-3);
    // the short runs (sequences 1 and 3) keep the row kernels' bits; the long ones do not (the tiles' arithmetic)
    size_t short_differ = 0, long_same = 0, long_n = 0;
    for (int t = 0; t < T; ++t) {
        const bool is_long = ntok[seq[t]] >= 64;
        for (int i = 0; i < qd; ++i) {
            const size_t k = (size_t)t * qd + i;
            const bool same = __half_as_ushort(tiled[k]) == __half_as_ushort(rows[k]);
            if (!is_long) short_differ += !same;
            else { long_same += same; ++long_n; }
        }
    }
    report(short_differ == 0, std::string("prefill tiles leave the short runs' bits ") + tag,
           "differing outputs=%.0f of %.0f", (double)short_differ, (double)((size_t)T * qd - long_n));
    report(long_same < long_n, std::string("prefill tiles compute the long runs ") + tag,
           "outputs equal to the row kernels'=%.0f of %.0f", (double)long_same, (double)long_n);
    {  // the build of three blocks per SM: the same arithmetic
        const ScopedEnv three("QSPEC_ATTENTION_TILES_BLOCKS", "3");
        const size_t differ = differing_halves(attend(dq.p, dseq.p, dpos.p, T, 0, "1"), tiled.data());
        report(differ == 0, std::string("prefill tiles of three blocks per SM = two ") + tag,
               "differing outputs=%.0f of %.0f", (double)differ, (double)tiled.size());
    }
    // sequence 4 alone (another window alignment), by both entry points
    const int first4 = T - ntok[4];
    for (int run : {0, ntok[4]}) {
        const auto alone = attend(dq.p + (size_t)first4 * qd, dseq.p + first4, dpos.p + first4, ntok[4], run, "1");
        const size_t differ = differing_halves(alone, tiled.data() + (size_t)first4 * qd);
        report(differ == 0, std::string("prefill tiles: a prompt alone (") + (run ? "qspec_attention_runs" :
                                                                           "qspec_attention") + ") = its rows in the pass " + tag,
               "differing outputs=%.0f of %.0f", (double)differ, (double)alone.size());
    }
    // sequences 0 and 2 moved to the end of the pass (sequence 1's 5 tokens first): the same bits
    std::vector<int> src;
    for (int s : {1, 0, 2})
        for (int t = 0; t < T; ++t)
            if (seq[t] == s) src.push_back(t);
    const GatheredPass moved_pass = gather_tokens(src, seq, pos, q, qd);
    const auto moved = attend(moved_pass.q.p, moved_pass.seq.p, moved_pass.pos.p, (int)src.size(), 0, "1");
    size_t differ = 0;
    for (size_t r = 0; r < src.size(); ++r)
        differ += differing_halves(std::vector<__half>(moved.begin() + r * qd, moved.begin() + (r + 1) * qd),
                                   tiled.data() + (size_t)src[r] * qd);
    report(differ == 0, std::string("prefill tiles: the same tokens at other offsets in the pass ") + tag,
           "differing outputs=%.0f of %.0f", (double)differ, (double)moved.size());
}

// Decode tiles (attention_decode_tiles.cuh): decode and verify attention on the tensor cores, the (token, head) rows of a
// kv head and up to 16 / G tokens of a run in one MMA tile. from: QSPEC_ATTENTION_DECODE_TILES=1 with tokens of `from`
// positions or more on the tiles and the others on the row kernels; nullptr: =all, every token on the tiles. A pass of
// `run` consecutive tokens of each sequence (hist: cached positions, chosen so that runs straddle a split of 256
// positions, and the threshold). Checks: against float64; the tiles' tokens have their own bits, the others the row
// kernels'; through qspec_attention_runs = through qspec_attention (a token a group) = each token alone (its decode) =
// without a workspace (each block walks its splits) = QSPEC_ATTENTION_DECODE_TILES=seq (with =all) = with a 70-token
// prompt in the pass (the prefill tiles' tokens); a hint whose runs mix sequences gives the same bits;
// qspec_rope_attention refuses to run. Head sizes other than 128 keep the row kernels' bits. With from = "default" both
// variables are unset: the library's default, tokens of 512 positions or more on the tiles. one: the one-token tile's
// switch for decode groups (unset: the default, on; "0": the 16-row tile), so "a token a group" and "each token alone"
// compare the decode groups' tile with the runs' 16-row tiles bit for bit. Through
// qspec_attention_pass: the pass's true bounds give the same bits; bounds that put every token on one side launch that
// side's kernel for every token (a token outside them gets that kernel's bits, not no result); bad bounds are refused;
// qspec_attention_decode_tiles_from says the threshold.
static void test_decode_tiles(int heads, int kv_heads, int hd, int block_size, int run, std::vector<int> hist,
                              const char* from = nullptr, const char* one = nullptr) {
    const bool by_default = from != nullptr && strcmp(from, "default") == 0;
    const ScopedEnv on("QSPEC_ATTENTION_DECODE_TILES", by_default ? nullptr : from ? "1" : "all"),
        at("QSPEC_ATTENTION_DECODE_TILES_FROM", by_default ? nullptr : from ? from : "1024"),
        one_tile("QSPEC_ATTENTION_DECODE_TILES_ONE", one);
    const int from_n = by_default ? 512 : from ? atoi(from) : 0;
    const int S = (int)hist.size(), PROMPT = 70, max_blocks = 2100 / block_size + 2, nblocks = (S + 1) * max_blocks;
    const int qd = heads * hd;
    std::vector<int32_t> seq, pos;
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < run; ++i) { seq.push_back(s); pos.push_back(hist[s] + i); }
    const int T = (int)seq.size();
    std::vector<int32_t> perm(nblocks);
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    const size_t pool_n = (size_t)nblocks * block_size * kv_heads * hd;
    const auto kpool = rand_f16(pool_n, -1.f, 1.f), vpool = rand_f16(pool_n, -1.f, 1.f);
    const auto q = rand_f32((size_t)(T + PROMPT) * qd, -2.f, 2.f);
    Dev<__half> dkp(kpool), dvp(vpool);
    Dev<float> dq(q);
    Dev<int32_t> dseq(seq), dpos(pos), dtab(perm);
    const size_t ws_bytes = qspec_attention_workspace_bytes(T + PROMPT, heads, hd, max_blocks * block_size);
    Dev<float> dws(std::vector<float>(ws_bytes / sizeof(float), POISON));
    // lo, hi >= 0: through qspec_attention_pass with those bounds
    auto attend = [&](const float* qp, const int32_t* sp, const int32_t* pp, int n, int r, bool workspace, int lo = -1,
                      int hi = -1) {
        Dev<__half> dout(std::vector<__half>((size_t)n * qd, __float2half(NAN)));
        float* w = workspace ? dws.p : nullptr;
        const size_t wb = workspace ? ws_bytes : 0;
        if (lo >= 0)
            CQ(qspec_attention_pass(qp, dkp.p, dvp.p, sp, pp, dtab.p, max_blocks, block_size, n, heads, kv_heads, hd, r,
                                    lo, hi, w, wb, dout.p, nullptr));
        else if (r > 0)
            CQ(qspec_attention_runs(qp, dkp.p, dvp.p, sp, pp, dtab.p, max_blocks, block_size, n, heads, kv_heads, hd, r,
                                    w, wb, dout.p, nullptr));
        else
            CQ(qspec_attention(qp, dkp.p, dvp.p, sp, pp, dtab.p, max_blocks, block_size, n, heads, kv_heads, hd, w, wb,
                               dout.p, nullptr));
        return dout.down();
    };
    char tag[200];
    const char* split = getenv("QSPEC_ATTENTION_DECODE_TILES_SPLIT");
    const char* warps = getenv("QSPEC_ATTENTION_DECODE_TILES_WARPS");
    snprintf(tag, sizeof tag, "heads=%d kv=%d hd=%d bs=%d run=%d T=%d tiles from %d positions%s%s%s%s%s", heads,
             kv_heads, hd, block_size, run, T, from_n, one && strcmp(one, "0") == 0 ? ", 16-row tiles for decode" : "",
             split ? ", splits of " : "", split ? split : "", warps ? ", warps " : "", warps ? warps : "");
    const auto tiled = attend(dq.p, dseq.p, dpos.p, T, run, true);
    std::vector<__half> rows;
    {
        const ScopedEnv off("QSPEC_ATTENTION_DECODE_TILES", "0");
        rows = attend(dq.p, dseq.p, dpos.p, T, run, true);
    }
    const int said_from = qspec_attention_decode_tiles_from(heads, kv_heads, hd);
    report(said_from == (hd == 128 ? from_n : -1), std::string("decode tiles: qspec_attention_decode_tiles_from ") + tag,
           "returned %.0f, want %.0f", (double)said_from, (double)(hd == 128 ? from_n : -1));
    if (hd != 128) {
        const size_t differ = differing_halves(tiled, rows.data());
        report(differ == 0, std::string("decode tiles leave other head sizes to the row kernels ") + tag,
               "differing outputs=%.0f of %.0f", (double)differ, (double)tiled.size());
        return;
    }
    const auto ref = paged_attention_reference(q, kpool, vpool, perm, seq, pos, max_blocks, block_size, heads, kv_heads,
                                               hd);  // (q's rows past T are the prompt's: not read)
    std::vector<double> got((size_t)T * qd);
    for (size_t i = 0; i < got.size(); ++i) got[i] = __half2float(tiled[i]);
    const double e = rel_err(got, ref);
    report(e < 2e-3, std::string("decode tiles against float64 ") + tag, "rel_err=%.2e tol=%.0e", e, 2e-3);
    size_t tiled_same = 0, tiled_n = 0, rows_differ = 0;  // outputs equal to the row kernels' on the tiles' tokens
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < qd; ++i) {
            const size_t k = (size_t)t * qd + i;
            const bool eq = __half_as_ushort(tiled[k]) == __half_as_ushort(rows[k]);
            if (pos[t] + 1 >= from_n) { tiled_same += eq; ++tiled_n; }
            else rows_differ += !eq;
        }
    report(tiled_n > 0 && tiled_same < tiled_n, std::string("decode tiles compute their tokens (not the row kernels' bits) ") + tag,
           "outputs equal to the row kernels'=%.0f of %.0f", (double)tiled_same, (double)tiled_n);
    report(rows_differ == 0, std::string("decode tiles leave the shorter contexts the row kernels' bits ") + tag,
           "differing outputs=%.0f of %.0f", (double)rows_differ, (double)((size_t)T * qd - tiled_n));
    auto same = [&](const std::vector<__half>& got2, const char* what) {
        const size_t differ = differing_halves(got2, tiled.data());
        report(differ == 0, std::string("decode tiles: ") + what + " = the runs' pass " + tag,
               "differing outputs=%.0f of %.0f", (double)differ, (double)got2.size());
    };
    same(attend(dq.p, dseq.p, dpos.p, T, 0, true), "qspec_attention (a token a group)");
    same(attend(dq.p, dseq.p, dpos.p, T, run, false), "without a workspace");
    const int lo = *std::min_element(pos.begin(), pos.end()) + 1, hi = *std::max_element(pos.begin(), pos.end()) + 1;
    same(attend(dq.p, dseq.p, dpos.p, T, run, true, lo, hi), "qspec_attention_pass with the pass's bounds");
    same(attend(dq.p, dseq.p, dpos.p, T, 0, true, lo, 0), "qspec_attention_pass without a run hint, no upper bound");
    if (from_n > 0) {  // bounds that put every token on one side: that side's bits for every token
        std::vector<__half> all_tiles;
        {
            const ScopedEnv all("QSPEC_ATTENTION_DECODE_TILES", "all");
            all_tiles = attend(dq.p, dseq.p, dpos.p, T, run, true);
        }
        const auto said_long = attend(dq.p, dseq.p, dpos.p, T, run, true, from_n, 0);
        const auto said_short = attend(dq.p, dseq.p, dpos.p, T, run, true, 1, from_n - 1);
        const size_t long_differ = differing_halves(said_long, all_tiles.data());
        const size_t short_differ = differing_halves(said_short, rows.data());
        report(long_differ == 0, std::string("decode tiles: bounds from the threshold put every token on the tiles ") + tag,
               "differing outputs=%.0f of %.0f", (double)long_differ, (double)said_long.size());
        report(short_differ == 0, std::string("decode tiles: bounds below the threshold put every token on the row kernels ") + tag,
               "differing outputs=%.0f of %.0f", (double)short_differ, (double)said_short.size());
    }
    {
        Dev<__half> dout((size_t)T * qd);
        const int inverted = qspec_attention_pass(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T,
                                                  heads, kv_heads, hd, run, hi + 1, hi, dws.p, ws_bytes, dout.p, nullptr);
        const int negative = qspec_attention_pass(dq.p, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p, max_blocks, block_size, T,
                                                  heads, kv_heads, hd, run, -1, 0, dws.p, ws_bytes, dout.p, nullptr);
        report(inverted == QSPEC_ERR_UNSUPPORTED && negative == QSPEC_ERR_UNSUPPORTED,
               std::string("decode tiles: qspec_attention_pass refuses bad bounds ") + tag, "returned %.0f and %.0f",
               (double)inverted, (double)negative);
    }
    if (!from) {
        const ScopedEnv seq_mode("QSPEC_ATTENTION_DECODE_TILES", "seq");
        same(attend(dq.p, dseq.p, dpos.p, T, run, true), "the sequential schedule");
    }
    std::vector<__half> alone;
    for (int t = 0; t < T; ++t) {
        const auto one = attend(dq.p + (size_t)t * qd, dseq.p + t, dpos.p + t, 1, 0, true);
        alone.insert(alone.end(), one.begin(), one.end());
    }
    same(alone, "each token alone (its decode)");
    // the runs the hint names mix sequences (tokens ordered position-major): each token reads its own table
    std::vector<int> src;
    for (int a = 0; a < T; ++a) src.push_back((a % S) * run + a / S);
    {
        const GatheredPass mixed_pass = gather_tokens(src, seq, pos, q, qd);
        const auto mixed = attend(mixed_pass.q.p, mixed_pass.seq.p, mixed_pass.pos.p, T, run, true);
        std::vector<__half> back((size_t)T * qd);
        for (int a = 0; a < T; ++a)
            std::copy(mixed.begin() + (size_t)a * qd, mixed.begin() + (size_t)(a + 1) * qd,
                      back.begin() + (size_t)src[a] * qd);
        same(back, "a hint whose runs mix sequences");
    }
    {  // a 70-token prompt of sequence S first in the pass: its tokens take the prefill tiles, the others these
        std::vector<int32_t> seqp, posp;
        for (int i = 0; i < PROMPT; ++i) { seqp.push_back(S); posp.push_back(i); }
        seqp.insert(seqp.end(), seq.begin(), seq.end());
        posp.insert(posp.end(), pos.begin(), pos.end());
        std::vector<float> qp(q.begin() + (size_t)T * qd, q.end());
        qp.insert(qp.end(), q.begin(), q.begin() + (size_t)T * qd);
        Dev<float> dqp(qp);
        Dev<int32_t> dseqp(seqp), dposp(posp);
        const auto with_prompt = attend(dqp.p, dseqp.p, dposp.p, T + PROMPT, 0, true);
        same(std::vector<__half>(with_prompt.begin() + (size_t)PROMPT * qd, with_prompt.end()),
             "behind a prompt in one pass");
    }
    const int refused = qspec_rope_attention(dq.p, (heads + 2 * kv_heads) * hd, dkp.p, dvp.p, dseq.p, dpos.p, dtab.p,
                                             max_blocks, block_size, T, heads, kv_heads, hd, dq.p, 0, dws.p, ws_bytes,
                                             dws.p, nullptr);
    report(refused == QSPEC_ERR_UNSUPPORTED, std::string("decode tiles: qspec_rope_attention refuses to run ") + tag,
           "returned %.0f, want %.0f", (double)refused, (double)QSPEC_ERR_UNSUPPORTED);
}

static void row_kernel_tests();

static void attention_tests() {
    {
        // the row kernels' own checks (the decode tiles, on by default from 512 positions, would take their long
        // contexts' tokens; test_decode_tiles checks the two together)
        const ScopedEnv rows_only("QSPEC_ATTENTION_DECODE_TILES", "0");
        row_kernel_tests();
    }
    test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2000, 1021});  // Llama-3-8B's heads, gamma = 3
    test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2000, 1021}, "1024");  // a run straddling the threshold
    test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2045, 509}, "default");  // the library's default (512), straddled
    test_decode_tiles(8, 2, 128, 12, 5, {253, 700});            // groups of 4 and 1, block size 12
    test_decode_tiles(8, 2, 128, 12, 5, {253, 700}, "300");
    test_decode_tiles(16, 1, 128, 16, 2, {300, 40});            // 16 heads a kv head: a token a group
    test_decode_tiles(4, 4, 128, 32, 3, {600, 7, 1});           // one head a kv head: a run a group
    test_decode_tiles(8, 2, 64, 16, 4, {254, 5});               // head size 64: the row kernels
    test_decode_tiles(8, 2, 64, 16, 4, {254, 5}, "default");
    // the cases above take the one-token tile for the groups of one token (on by default; one head a kv head: one
    // column of eight; 16 heads a kv head: the 16-row tile still); these the 16-row tile (QSPEC_ATTENTION_DECODE_TILES_ONE
    // =0), whose "a token a group" and "each token alone" are then the runs' own tile
    test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2000, 1021}, nullptr, "0");
    test_decode_tiles(8, 2, 128, 12, 5, {253, 700}, "300", "0");
    test_decode_tiles(4, 4, 128, 32, 3, {600, 7, 1}, nullptr, "0");
    test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2045, 509}, "default", "0");
    // the tiles' opt-in settings: shorter splits (QSPEC_ATTENTION_DECODE_TILES_SPLIT), and eight warps a block
    // (QSPEC_ATTENTION_DECODE_TILES_WARPS=8) with the default split and with splits of 64 (one chunk a warp). Every
    // check above holds for them, the workspace sized by qspec_attention_workspace_bytes under the same setting; runs
    // straddle splits of 64 and 128 too
    const std::pair<const char*, const char*> settings[] = {{"128", nullptr}, {"64", nullptr}, {"256", "8"}, {"64", "8"}};
    for (const auto& [split, warps] : settings) {
        const ScopedEnv len("QSPEC_ATTENTION_DECODE_TILES_SPLIT", split),
            eight("QSPEC_ATTENTION_DECODE_TILES_WARPS", warps);
        test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2000, 1021});
        test_decode_tiles(32, 8, 128, 16, 4, {254, 5, 2045, 509}, "default");
        test_decode_tiles(8, 2, 128, 12, 5, {253, 700}, "300");
        test_decode_tiles(4, 4, 128, 32, 3, {600, 7, 1}, nullptr, "0");
    }
}

static void row_kernel_tests() {
    test_rope_attention(8, 2, 128, 0, 16);
    test_rope_attention(8, 2, 128, 1, 16);
    test_rope_attention(4, 4, 64, 1, 32);
    test_rope_attention(6, 1, 80, 0, 8);
    test_rope_attention(8, 2, 128, 1, 16, true);  // 2000 and 1500 cached positions: every CTA and warp busy
    test_rope_attention(4, 1, 64, 0, 32, true);
    test_rope_attention(32, 8, 128, 1, 16, true);  // Llama-3-8B's heads (head tiles of 4)
    test_rope_attention(8, 2, 128, 0, 12, true);   // a block size neither a power of two nor a multiple of 8
    test_rope_attention(8, 2, 64, 1, 24, true);    // a multiple of 8, not a power of two
    test_fused_rope_attention(8, 2, 128, 0, 16, false);
    test_fused_rope_attention(8, 2, 128, 1, 16, true);
    test_fused_rope_attention(4, 4, 64, 1, 32, false);
    test_fused_rope_attention(6, 1, 80, 0, 8, true);
    test_fused_rope_attention(32, 8, 128, 1, 16, true);  // Llama-3-8B's heads
    test_fused_rope_attention(8, 2, 128, 1, 12, true);
    test_attention_runs(32, 8, 128, 16, 4, {254, 5, 2000, 1021}, false);  // Llama-3-8B's heads, gamma = 3
    test_attention_runs(32, 8, 128, 16, 4, {254, 5, 2000, 1021}, true);
    test_attention_runs(8, 2, 128, 16, 5, {253, 700}, false);   // a run of 5: tiles of 4 and 1
    test_attention_runs(8, 4, 64, 32, 2, {255, 40, 1500}, false);  // groups of 2
    test_attention_runs(6, 6, 80, 8, 3, {510, 1, 300}, false);   // groups of 1, head_dim 80
    test_attention_runs(8, 2, 128, 12, 4, {254, 5, 700}, true);  // block size 12
    test_prefill_tiles(8, 2, 128, 16);
    test_prefill_tiles(4, 4, 64, 32);
}

// Waits for the device and prints the totals; the exit code.
static int summary() {
    CK(cudaDeviceSynchronize());
    printf("%s: %d passed, %d failed\n", failures ? "FAILED" : "ALL PASSED", passes, failures);
    return failures ? 1 : 0;
}

// GEMM shapes {N, K, group}: ragged K (K not a multiple of group, K < group), N not a multiple of 8.
static const int SHAPES[][3] = {{96, 256, 128}, {37, 172, 128}, {64, 200, 64}, {48, 64, 128}, {80, 384, 128},
                                {24, 160, 32}, {40, 1000, 256}, {72, 288, 96}};

// The draft GEMM's cases: every kernel (warp-split, bulk-copy, tiled, warpgroup) with ragged K, N and M.
static void draft_gemm_tests() {
    for (int bits : {8, 4})
        for (int M : {1, 2, 3, 4, 8, 12, 16, 17, 64, 130})
            for (auto& s : SHAPES) test_w4ax(M, s[0], s[1], s[2], bits);
    test_w4ax(100, 24, 4096, 128, 8);
    for (int bits : {8, 4})
        for (int M : {1, 5, 8, 16}) test_w4ax(M, 20007, M == 5 ? 1100 : 1024, 128, bits);  // wide N, specialised loops and not
    test_w4ax(200, 300, 1024, 128, 8);  // tiled: two token tiles, a partial row tile
    // the warpgroup kernel (group 128, a multiple of 8 groups per row): 64-token tiles (few row tiles) and
    // 128-token tiles (a grid that fills the GPU), partial in rows and tokens; 1, 3 and 4 boxes of scales;
    // ragged K
    for (int bits : {8, 4}) {
        test_w4ax(256, 4100, 4096, 128, bits);
        test_w4ax(200, 20007, 1024, 128, bits);
        test_w4ax(150, 333, 1000, 128, bits);
    }
    test_w4ax(64, 4096, 3000, 128, 8);
    // K split across a cluster of 8, and of 7 (sm_90: the sums of the CTAs added through distributed shared memory)
    test_w4ax(64, 1000, 8192, 128, 8);
    test_w4ax(100, 600, 7168, 128, 4);
    // and below M = 64 (from M = 33): 8 ways, 7 ways; at M = 32 for long K (64 steps or more)
    test_w4ax(40, 1000, 8192, 128, 8);
    test_w4ax(48, 1200, 7168, 128, 4);
    test_w4ax(32, 1000, 8192, 128, 4);
    // 32-token tiles at M = 17-32 by the rule on 132 SMs: at most one CTA per SM (65 row tiles) and two (157, A4);
    // the last row tile partial (8 and 39 rows); K split 8 ways on 16 row tiles
    test_w4ax(24, 8200, 1024, 128, 8);
    test_w4ax(17, 20007, 2048, 128, 4);
    test_w4ax(20, 2048, 8192, 128, 8);
    test_w4ax(97, 1000, 640, 256, 8);  // group 256: another kernel
}

// The verify GEMM's warpgroup kernel (sm_90a; group 128, a multiple of 8 groups per row): full and partial
// tiles of 128 rows x 64 tokens (32 at M <= 32), ragged K, padded activation rows, K split across a cluster of 8
// where the grid is small, 256-row CTAs where K is not split and they fill the SMs; and its rows against the
// other W4A16 kernels' bits (M <= 16 takes those).
static void verify_gemm_tests() {
    test_w4a16(130, 3000, 1024, 128, 0);  // 72 CTAs, K not split; partial token tile
    test_w4a16(70, 4100, 1024, 128, 8);   // a partial row tile
    test_w4a16(150, 333, 1000, 128, 0);   // ragged K; 9 CTAs, K split 8 ways (a cluster)
    test_w4a16(97, 1000, 3000, 128, 8);
    test_w4a16(64, 1000, 8192, 128, 0);
    test_w4a16(100, 600, 7168, 128, 8);
    test_w4a16(40, 4096, 2048, 128, 0);  // K split below M = 64 (from M = 33)
    test_w4a16(24, 9000, 1024, 128, 8);  // M = 17-31 where the grid needs no split (71 CTAs): a 32-token tile
    test_w4a16(32, 9000, 2048, 128, 0);  // a full 32-token tile
    test_w4a16(32, 1024, 4096, 128, 8);  // 32-token tiles with K split 8 ways (the split grid is one wave)
    test_w4a16(17, 20000, 1024, 128, 8);  // 32-token tiles on 256-row CTAs (79 of them against 157 of 128 rows)
    test_w4a16_m_invariance(1000, 8192, 128);  // M = 17 and 32: 32-token tiles, K split 8 ways
    // M = 17 and 32 on 32-token tiles (71 CTAs), the other M on the other kernels and 64-token tiles: the same bits
    test_w4a16_m_invariance(9000, 1024, 128);
    // 256-row CTAs by the rule on 132 SMs: 2 x 45 of them (one wave) against 2 x 90 of 128 rows (two); the last
    // row tile's second 128 rows partial (72 rows), the second token tile too
    test_w4a16(100, 11464, 1000, 128, 8);
    // M = 256 on 256-row CTAs (4 x 33), M <= 128 on 128-row ones and the other kernels: the same bits
    test_w4a16_m_invariance(8400, 2048, 128);
}

// ---------------------------------------------------------------- the GEMVs' norm tail (ABI 8)
// qspec_w4a16_gemm_add_rmsnorm / qspec_w4ax_gemm_add_rmsnorm_quantize (bits 8 or 4; 0: W4A16) must leave the
// bits of the accumulating GEMM followed by the standalone norm: the residual y, and the fp16 rows or the codes and
// scales; and the ticket at 0. Two calls in a row (the second on the first's y) check that the ticket is reusable.
// On sm_90 at M <= 4 with N >= 4096 and K % 1024 == 0 the GEMV's last CTA normalises; elsewhere (M = 5, small N
// unless QSPEC_BULK_GEMV=all) the two launches run, which must give the same bits too. The fp16 rows are also
// checked against a float64 reference.
static void test_norm_tail(int M, int N, int K, int bits, int out_group = 128) {
    Int4W W(N, K, 128);
    const float eps = 1e-5f;
    const int out_groups = N / out_group, qmax = bits == 8 ? 127 : 7;
    auto y0 = rand_f32((size_t)M * N, -3.f, 3.f), gain = rand_f32(N, 0.5f, 1.5f);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<float> dgain(gain), ya(y0), yb(y0);
    Dev<unsigned> ticket(std::vector<unsigned>(1, 0u));
    char name[160];
    if (bits == 0) {
        auto x = rand_f16((size_t)M * K, -2.f, 2.f);
        Dev<__half> dx(x);
        Dev<__half> outa(std::vector<__half>((size_t)M * N, __float2half(POISON)));
        Dev<__half> outb(std::vector<__half>((size_t)M * N, __float2half(POISON)));
        for (int call = 0; call < 2; ++call) {
            CQ(qspec_w4a16_gemm(dx.p, K, dw.p, ds.p, ya.p, N, M, N, K, 128, 1, QSPEC_TOKENS_ROW, nullptr));
            CQ(qspec_rmsnorm_f16(ya.p, dgain.p, outa.p, M, N, eps, QSPEC_TOKENS_ROW, nullptr));
            CQ(qspec_w4a16_gemm_add_rmsnorm(dx.p, K, dw.p, ds.p, yb.p, M, N, K, 128, dgain.p, eps, outb.p, ticket.p,
                                            nullptr));
        }
        const auto a = outa.down(), b = outb.down();
        size_t differ = differing_halves(a, b.data());
        const auto ya_h = ya.down(), yb_h = yb.down();
        differ += std::memcmp(ya_h.data(), yb_h.data(), ya_h.size() * sizeof(float)) != 0;
        differ += ticket.down()[0] != 0;
        snprintf(name, sizeof name, "w4a16_gemm_add_rmsnorm M=%d N=%d K=%d = gemm then rmsnorm_f16, twice", M, N, K);
        report(differ == 0, name, "differing outputs=%.0f (tol %.0f)", (double)differ, 0.0);
        // the second call's rows against float64: rmsnorm of the second y
        const auto ref = rmsnorm_ref(ya_h, gain, M, N, eps);
        std::vector<double> got(b.size());
        for (size_t i = 0; i < b.size(); ++i) got[i] = __half2float(b[i]);
        const double e = rel_err(got, ref);
        snprintf(name, sizeof name, "w4a16_gemm_add_rmsnorm M=%d N=%d K=%d rows vs float64", M, N, K);
        report(e < 1e-3, name, "rel_err=%.2e tol=%.0e", e, 1e-3);
        return;
    }
    std::vector<int8_t> xq((size_t)M * W.Kp, 0);
    std::vector<float> xs((size_t)M * W.groups);
    for (int m = 0; m < M; ++m)
        for (int k = 0; k < K; ++k) xq[(size_t)m * W.Kp + k] = (int8_t)irand(-qmax, qmax);
    for (auto& v : xs) v = urand(0.001f, 0.05f);
    Dev<int8_t> dxq(xq), qa(std::vector<int8_t>((size_t)M * N, 77)), qb(std::vector<int8_t>((size_t)M * N, 77));
    Dev<float> dxs(xs), sa(std::vector<float>((size_t)M * out_groups, POISON)),
        sb(std::vector<float>((size_t)M * out_groups, POISON));
    for (int call = 0; call < 2; ++call) {
        CQ(qspec_w4ax_gemm(dxq.p, dxs.p, dw.p, ds.p, ya.p, N, M, N, K, 128, bits, 1, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_rmsnorm_quantize(ya.p, dgain.p, qa.p, sa.p, M, N, out_group, bits, eps, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_w4ax_gemm_add_rmsnorm_quantize(dxq.p, dxs.p, dw.p, ds.p, yb.p, M, N, K, 128, bits, dgain.p, eps,
                                                out_group, qb.p, sb.p, ticket.p, nullptr));
    }
    const auto q1 = qa.down(), q2 = qb.down();
    const auto s1 = sa.down(), s2 = sb.down();
    const auto ya_h = ya.down(), yb_h = yb.down();
    const bool same = q1 == q2 && std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(float)) == 0 &&
                      std::memcmp(ya_h.data(), yb_h.data(), ya_h.size() * sizeof(float)) == 0 &&
                      ticket.down()[0] == 0;
    snprintf(name, sizeof name, "w4ax_gemm_add_rmsnorm_quantize A%d M=%d N=%d K=%d group=%d = the two, twice", bits,
             M, N, K, out_group);
    report(same, name, "bitwise (%.0f codes, tol %.0f)", (double)q1.size(), 0.0);
}

// qspec_w4a16_gemm_swiglu must give the fp16 bits of qspec_w4a16_gemm followed by qspec_swiglu_f16 on the stacked
// gate|up matrix [2H, K] (on sm_90 at M <= 8, with N = 2H >= 4096 and K % 1024 == 0, the GEMV's CTAs pair gate and
// up tiles and store the SwiGLU; elsewhere the two launches run), and be within fp16 rounding of float64.
static void test_swiglu_epilogue(int M, int H, int K) {
    Int4W W(2 * H, K, 128);
    auto x = rand_f16((size_t)M * K, -2.f, 2.f);
    Dev<__half> dx(x);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    Dev<float> ya(std::vector<float>((size_t)M * 2 * H, POISON)), yb(std::vector<float>((size_t)M * 2 * H, POISON));
    Dev<__half> outa(std::vector<__half>((size_t)M * H, __float2half(POISON)));
    Dev<__half> outb(std::vector<__half>((size_t)M * H, __float2half(POISON)));
    CQ(qspec_w4a16_gemm(dx.p, K, dw.p, ds.p, ya.p, 2 * H, M, 2 * H, K, 128, 0, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_swiglu_f16(ya.p, ya.p + H, 2 * H, outa.p, M, H, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_w4a16_gemm_swiglu(dx.p, K, dw.p, ds.p, yb.p, M, H, K, 128, outb.p, QSPEC_TOKENS_ROW, QSPEC_TOKENS_ROW,
                               nullptr));
    const auto a = outa.down(), b = outb.down();
    const size_t differ = differing_halves(a, b.data());
    char name[160];
    snprintf(name, sizeof name, "w4a16_gemm_swiglu M=%d H=%d K=%d = gemm then swiglu_f16", M, H, K);
    report(differ == 0, name, "differing outputs=%.0f of %.0f", (double)differ, (double)a.size());
    if ((size_t)M * H * K > 200000000ull) return;  // the float64 reference of the larger shapes costs seconds
    std::vector<double> got, ref;
    for (int m = 0; m < M; ++m)
        for (int j = 0; j < H; ++j) {
            double g = 0, u = 0;
            for (int k = 0; k < K; ++k) {
                const double xv = __half2float(x[(size_t)m * K + k]);
                g += xv * W.w(j, k);
                u += xv * W.w(H + j, k);
            }
            ref.push_back(g / (1 + std::exp(-g)) * u);
            got.push_back(__half2float(b[(size_t)m * H + j]));
        }
    const double e = rel_err(got, ref);
    snprintf(name, sizeof name, "w4a16_gemm_swiglu M=%d H=%d K=%d vs float64", M, H, K);
    report(e < 3e-3, name, "rel_err=%.2e tol=%.0e", e, 3e-3);
}

// ---------------------------------------------------------------- the GEMVs' norm head (ABI 10)
// The inputs of a norm-head case: an INT4 matrix [N, K] (group 128), M residual rows r and K gains, on the device too,
// and y poisoned twice (the reference's and the fused call's).
struct HeadCase {
    static constexpr float EPS = 1e-5f;
    int M, N, K;
    Int4W W;
    std::vector<float> r, gain;
    Dev<uint8_t> dw;
    Dev<__half> ds;
    Dev<float> dr, dgain, ya, yb;
    HeadCase(int M_, int N_, int K_)
        : M(M_), N(N_), K(K_), W(N_, K_, 128), r(rand_f32((size_t)M_ * K_, -3.f, 3.f)), gain(rand_f32(K_, 0.5f, 1.5f)),
          dw(W.packed), ds(W.scales), dr(r), dgain(gain), ya(std::vector<float>((size_t)M_ * N_, POISON)),
          yb(std::vector<float>((size_t)M_ * N_, POISON)) {}
    // floats of y whose bits differ between the two calls
    size_t differing_y() {
        const auto a = ya.down(), b = yb.down();
        size_t n = 0;
        for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
        return n;
    }
    // the fused call's y against float64 sums of x(m, k) W[n, k]
    template <class X>
    double y_error(X&& x) {
        const auto got_f = yb.down();
        std::vector<double> ref((size_t)M * N), got(got_f.begin(), got_f.end());
        for (int m = 0; m < M; ++m)
            for (int n = 0; n < N; ++n) {
                double acc = 0;
                for (int k = 0; k < K; ++k) acc += x(m, k) * W.w(n, k);
                ref[(size_t)m * N + n] = acc;
            }
        return rel_err(got, ref);
    }
};

// qspec_rmsnorm_w4a16_gemm (and, swiglu, qspec_rmsnorm_w4a16_gemm_swiglu on the stacked [2 N/2, K] matrix) must give
// the bits of qspec_rmsnorm_f16 followed by the GEMM on its rows: y (or the SwiGLU's fp16 rows). On sm_90 at M <= 2
// (QSPEC_NORM_HEAD=all: 4) with K <= 4096 in an even number of chunks each CTA of the bulk GEMV normalises the rows
// itself; elsewhere (larger M, K = 3072 or 5120, K = 8192) the two launches run. y is also checked against float64
// (the fp16 rows of the reference's norm, then the GEMM in float64). The scratch rows start poisoned: the head does
// not read them.
static void test_norm_head(int M, int N, int K, bool swiglu) {
    HeadCase c(M, N, K);
    const int H = N / 2;
    Dev<__half> xa(std::vector<__half>((size_t)M * K, __float2half(POISON)));
    Dev<__half> xb(std::vector<__half>((size_t)M * K, __float2half(POISON)));
    Dev<__half> outa(std::vector<__half>((size_t)M * (swiglu ? H : 1), __float2half(POISON)));
    Dev<__half> outb(std::vector<__half>((size_t)M * (swiglu ? H : 1), __float2half(POISON)));
    CQ(qspec_rmsnorm_f16(c.dr.p, c.dgain.p, xa.p, M, K, c.EPS, QSPEC_TOKENS_ROW, nullptr));
    if (swiglu) {
        CQ(qspec_w4a16_gemm_swiglu(xa.p, K, c.dw.p, c.ds.p, c.ya.p, M, H, K, 128, outa.p, QSPEC_TOKENS_ROW,
                                   QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_rmsnorm_w4a16_gemm_swiglu(c.dr.p, c.dgain.p, c.EPS, xb.p, c.dw.p, c.ds.p, c.yb.p, M, H, K, 128, outb.p,
                                           nullptr));
    } else {
        CQ(qspec_w4a16_gemm(xa.p, K, c.dw.p, c.ds.p, c.ya.p, N, M, N, K, 128, 0, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_rmsnorm_w4a16_gemm(c.dr.p, c.dgain.p, c.EPS, xb.p, c.dw.p, c.ds.p, c.yb.p, N, M, N, K, 128, nullptr));
    }
    const size_t differ = swiglu ? differing_halves(outa.down(), outb.down().data()) : c.differing_y();
    char name[160];
    snprintf(name, sizeof name, "rmsnorm_w4a16_gemm%s M=%d N=%d K=%d = rmsnorm_f16 then the gemm",
             swiglu ? "_swiglu" : "", M, N, K);
    report(differ == 0, name, "differing outputs=%.0f (tol %.0f)", (double)differ, 0.0);
    if (swiglu) return;  // the SwiGLU's float64 check is test_swiglu_epilogue's
    // float64: the reference norm rounded to fp16 as the kernel's inputs are, then the GEMM
    const auto xn = rmsnorm_ref(c.r, c.gain, M, K, c.EPS);
    const double e =
        c.y_error([&](int m, int k) { return (double)__half2float(__float2half((float)xn[(size_t)m * K + k])); });
    snprintf(name, sizeof name, "rmsnorm_w4a16_gemm M=%d N=%d K=%d vs float64", M, N, K);
    report(e < 1e-3, name, "rel_err=%.2e tol=%.0e", e, 1e-3);
}

// qspec_rmsnorm_quantize_w4ax_gemm (A8 or A4) must give the bits of qspec_rmsnorm_quantize followed by the draft GEMM
// on its codes and scales (on sm_90 at M <= 2, or 4 with QSPEC_NORM_HEAD=all, with K <= 4096 in an even number of
// chunks, each CTA of the bulk GEMV quantizes the rows itself; elsewhere the two launches run), and be within float
// rounding of float64 on those codes and scales.
static void test_norm_head_draft(int M, int N, int K, int bits) {
    HeadCase c(M, N, K);
    const int Kp = c.W.Kp, groups = c.W.groups;
    Dev<int8_t> qa(std::vector<int8_t>((size_t)M * Kp, 77)), qb(std::vector<int8_t>((size_t)M * Kp, 77));
    Dev<float> sa(std::vector<float>((size_t)M * groups, POISON)), sb(std::vector<float>((size_t)M * groups, POISON));
    CQ(qspec_rmsnorm_quantize(c.dr.p, c.dgain.p, qa.p, sa.p, M, K, 128, bits, c.EPS, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_w4ax_gemm(qa.p, sa.p, c.dw.p, c.ds.p, c.ya.p, N, M, N, K, 128, bits, 0, QSPEC_TOKENS_ROW, nullptr));
    CQ(qspec_rmsnorm_quantize_w4ax_gemm(c.dr.p, c.dgain.p, c.EPS, qb.p, sb.p, c.dw.p, c.ds.p, c.yb.p, N, M, N, K, 128,
                                        bits, nullptr));
    const size_t differ = c.differing_y();
    char name[160];
    snprintf(name, sizeof name, "rmsnorm_quantize_w4ax_gemm A%d M=%d N=%d K=%d = rmsnorm_quantize then the gemm", bits,
             M, N, K);
    report(differ == 0, name, "differing outputs=%.0f (tol %.0f)", (double)differ, 0.0);
    // float64 on the reference's codes and scales
    const auto q = qa.down();
    const auto sc = sa.down();
    const double e =
        c.y_error([&](int m, int k) { return (double)q[(size_t)m * Kp + k] * sc[(size_t)m * groups + k / 128]; });
    snprintf(name, sizeof name, "rmsnorm_quantize_w4ax_gemm A%d M=%d N=%d K=%d vs float64", bits, M, N, K);
    report(e < 1e-4, name, "rel_err=%.2e tol=%.0e", e, 1e-4);
}

// `qspec_test heads`: the GEMVs' norm head alone. Llama-3-8B's q|k|v (6144 rows: two row tiles, 192 CTAs) and its
// gate|up with SwiGLU (four row tiles from M = 2) at M = 1-5 (with QSPEC_NORM_HEAD=all the head also at 3 and 4, two
// rounds of its rows, and an odd row count); a matrix whose row tiles the CTAs walk (9000 rows at one token); K = 2048
// (half the row warps of the norm hold no input) on two and four row tiles; the two launches at K = 3072 and 5120 (odd
// chunk counts), 8192 (rows too long for the head) and M = 5. The draft's, A8 and A4: q|k|v (two row tiles) and gate|up
// (four from one token) at M = 1-3, K = 2048, and the two launches at K = 3072.
static void head_tests() {
    for (int M : {1, 2, 3}) {
        test_norm_head_draft(M, 6144, 4096, M == 2 ? 4 : 8);
        test_norm_head_draft(M, 2 * 14336, 4096, M == 1 ? 4 : 8);
    }
    test_norm_head_draft(2, 4096, 2048, 8);
    test_norm_head_draft(1, 4096, 3072, 8);
    for (int M : {1, 2, 3, 4, 5}) test_norm_head(M, 6144, 4096, false);
    test_norm_head(1, 9000, 4096, false);
    test_norm_head(2, 14336, 2048, false);
    test_norm_head(2, 4096, 2048, false);
    test_norm_head(4, 4096, 2048, false);
    test_norm_head(1, 4096, 3072, false);
    test_norm_head(2, 4096, 5120, false);
    test_norm_head(1, 4096, 8192, false);
    for (int M : {1, 2, 3, 4, 5}) test_norm_head(M, 2 * 14336, 4096, true);
    test_norm_head(2, 2 * 2048, 2048, true);
}

// qspec_w4a16_gemm_rope_kv (bits 0) and qspec_w4ax_gemm_rope_kv (A8, A4) must give the bits of the GEMM followed by
// qspec_rope_write_kv: y, q_out and every byte of both pools (on sm_90 at M <= 8, or 16 with QSPEC_ROPE_EPILOGUE=16,
// with rope_style 0 the GEMV's threads rotate and store the pairs they hold; elsewhere the two launches run). M tokens: `decode` one per sequence, else one
// sequence's consecutive positions (a verify run), across block edges of a shuffled block table. q_out and the k pool
// are also checked against float64: the GEMM's sums and the rotation in float64 (W4A16; the draft's GEMM has its own).
static void test_rope_kv_epilogue(int bits, int M, int heads, int kv_heads, int hd, int K, int style, bool decode) {
    const int qd = heads * hd, kd = kv_heads * hd, N = qd + 2 * kd, block_size = 16, max_blocks = 8;
    const int S = decode ? M : 1, nblocks = S * max_blocks;
    Int4W W(N, K, 128);
    const auto x = rand_f16((size_t)M * K, -2.f, 2.f);
    std::vector<int32_t> seq(M), pos(M), perm(nblocks);
    for (int t = 0; t < M; ++t) {
        seq[t] = decode ? t : 0;
        pos[t] = decode ? irand(0, max_blocks * block_size - 1) : 13 + t;  // 13 + t: across the edge at 16
    }
    for (int i = 0; i < nblocks; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<float> inv_freq(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv_freq[i] = (float)std::pow(500000.0, -2.0 * i / hd);
    const size_t pool_n = (size_t)nblocks * block_size * kd;
    const auto kpool = rand_f16(pool_n, -1.f, 1.f), vpool = rand_f16(pool_n, -1.f, 1.f);
    Dev<__half> dx(x), ds(W.scales), dka(kpool), dva(vpool), dkb(kpool), dvb(vpool);
    Dev<uint8_t> dw(W.packed);
    Dev<float> dinv(inv_freq), ya(std::vector<float>((size_t)M * N, POISON)), yb(std::vector<float>((size_t)M * N, POISON));
    Dev<float> qa(std::vector<float>((size_t)M * qd, POISON)), qb(std::vector<float>((size_t)M * qd, POISON));
    Dev<int32_t> dseq(seq), dpos(pos), dtab(perm);
    Dev<int8_t> xq((size_t)M * W.Kp);
    Dev<float> xs((size_t)M * W.groups);
    if (bits != 0) {
        CQ(qspec_quantize_activations(dx.p, K, M, K, 128, bits, xq.p, xs.p, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_w4ax_gemm(xq.p, xs.p, dw.p, ds.p, ya.p, N, M, N, K, 128, bits, 0, QSPEC_TOKENS_ROW, nullptr));
    } else {
        CQ(qspec_w4a16_gemm(dx.p, K, dw.p, ds.p, ya.p, N, M, N, K, 128, 0, QSPEC_TOKENS_ROW, nullptr));
    }
    CQ(qspec_rope_write_kv(ya.p, ya.p + qd, ya.p + qd + kd, N, qa.p, dka.p, dva.p, dseq.p, dpos.p, dtab.p, max_blocks,
                           block_size, M, heads, kv_heads, hd, dinv.p, style, nullptr));
    if (bits != 0)
        CQ(qspec_w4ax_gemm_rope_kv(xq.p, xs.p, dw.p, ds.p, yb.p, M, K, 128, bits, qb.p, dkb.p, dvb.p, dseq.p, dpos.p,
                                   dtab.p, max_blocks, block_size, heads, kv_heads, hd, dinv.p, style, QSPEC_TOKENS_ROW, nullptr));
    else
        CQ(qspec_w4a16_gemm_rope_kv(dx.p, K, dw.p, ds.p, yb.p, M, K, 128, qb.p, dkb.p, dvb.p, dseq.p, dpos.p, dtab.p,
                                    max_blocks, block_size, heads, kv_heads, hd, dinv.p, style, QSPEC_TOKENS_ROW, nullptr));
    auto differing_floats = [](const std::vector<float>& a, const std::vector<float>& b) {
        size_t n = 0;
        for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
        return n;
    };
    const auto ka = dka.down(), kb = dkb.down();
    const auto qb_h = qb.down();
    const size_t differ = differing_floats(ya.down(), yb.down()) + differing_floats(qa.down(), qb_h) +
                          differing_halves(ka, kb.data()) + differing_halves(dva.down(), dvb.down().data());
    char name[200];
    snprintf(name, sizeof name, "%s_gemm_rope_kv%s%s M=%d heads=%d kv=%d hd=%d K=%d style=%d %s = gemm then rope_write_kv",
             bits ? "w4ax" : "w4a16", bits ? " A" : "", bits ? (bits == 8 ? "8" : "4") : "", M, heads, kv_heads, hd, K,
             style, decode ? "decode" : "run");
    report(differ == 0, name, "differing y, q, k and v entries=%.0f (tol %.0f)", (double)differ, 0.0);
    if (bits != 0) return;
    std::vector<double> got, ref;
    for (int t = 0; t < M; ++t) {
        std::vector<double> row(N);
        for (int n = 0; n < N; ++n) {
            double acc = 0;
            for (int k = 0; k < K; ++k) acc += (double)__half2float(x[(size_t)t * K + k]) * W.w(n, k);
            row[n] = acc;
        }
        const long slot = ((long)perm[(long)seq[t] * max_blocks + pos[t] / block_size] * block_size + pos[t] % block_size) * kd;
        for (int h = 0; h < heads + kv_heads; ++h)
            for (int i = 0; i < hd / 2; ++i) {
                const int d0 = style == 0 ? 2 * i : i, d1 = style == 0 ? 2 * i + 1 : i + hd / 2;
                const double a = (double)pos[t] * inv_freq[i], c = std::cos(a), sn = std::sin(a);
                const double r0 = row[h * hd + d0] * c - row[h * hd + d1] * sn, r1 = row[h * hd + d0] * sn + row[h * hd + d1] * c;
                ref.push_back(r0);
                ref.push_back(r1);
                if (h < heads) {
                    got.push_back(qb_h[((size_t)t * heads + h) * hd + d0]);
                    got.push_back(qb_h[((size_t)t * heads + h) * hd + d1]);
                } else {
                    got.push_back(__half2float(kb[slot + (h - heads) * hd + d0]));
                    got.push_back(__half2float(kb[slot + (h - heads) * hd + d1]));
                }
            }
    }
    const double e = rel_err(got, ref);
    snprintf(name, sizeof name, "w4a16_gemm_rope_kv M=%d heads=%d kv=%d hd=%d K=%d style=%d vs float64", M, heads, kv_heads,
             hd, K, style);
    report(e < 1e-3, name, "rel_err=%.2e tol=%.0e", e, 1e-3);
}

// `qspec_test rope`: the q|k|v GEMVs with RoPE and the KV write in their epilogue. Llama-3-8B's q|k|v (32 heads, 8 kv
// heads of 128: two row tiles, 192 CTAs) at M = 1-8 in decode passes and a verify run of 4; head size 64 on 4096
// rows (K = 2048); the draft's A8 and A4 at M = 1 and 4; 9-16 tokens (the two-token-tile GEMVs: their epilogue with
// QSPEC_ROPE_EPILOGUE=16, else the two launches), W4A16 and A8, decode passes and a verify run of 16 across a block
// edge; and the cases that take the two launches: the half-split style, fewer than 4096 rows (with
// QSPEC_BULK_GEMV=all the epilogue on a grid of few CTAs).
static void rope_epilogue_tests() {
    for (int M : {1, 2, 3, 8}) test_rope_kv_epilogue(0, M, 32, 8, 128, 4096, 0, true);
    test_rope_kv_epilogue(0, 4, 32, 8, 128, 4096, 0, false);
    test_rope_kv_epilogue(0, 2, 48, 8, 64, 2048, 0, true);
    for (int bits : {8, 4}) {
        test_rope_kv_epilogue(bits, 1, 32, 8, 128, 4096, 0, true);
        test_rope_kv_epilogue(bits, 4, 32, 8, 128, 4096, 0, false);
    }
    for (int M : {9, 12, 16}) {
        test_rope_kv_epilogue(0, M, 32, 8, 128, 4096, 0, true);
        test_rope_kv_epilogue(8, M, 32, 8, 128, 4096, 0, true);
    }
    test_rope_kv_epilogue(0, 16, 32, 8, 128, 4096, 0, false);
    test_rope_kv_epilogue(8, 16, 32, 8, 128, 4096, 0, false);
    test_rope_kv_epilogue(0, 11, 48, 8, 64, 2048, 0, true);
    test_rope_kv_epilogue(0, 1, 32, 8, 128, 4096, 1, true);
    test_rope_kv_epilogue(8, 2, 32, 8, 128, 4096, 1, true);
    test_rope_kv_epilogue(0, 1, 8, 2, 64, 1024, 0, true);
    test_rope_kv_epilogue(8, 1, 8, 2, 64, 1024, 0, true);
}

// `qspec_test epilogues`: the GEMVs' epilogues (the norm tail, SwiGLU) alone.
static void epilogue_tests() {
    for (int M : {1, 2, 3, 4, 5}) {
        test_norm_tail(M, 4096, 5120, 0);
        test_norm_tail(M, 4096, 5120, M % 2 ? 8 : 4, M == 3 ? 64 : 128);
    }
    // more row tiles than CTAs fit (walks) at one token; four row tiles (N > 8192) from M = 2; D = 16384 (four
    // float4 units per row thread)
    test_norm_tail(1, 9000, 4096, 0);
    test_norm_tail(3, 9000, 4096, 0);
    test_norm_tail(1, 9000, 4096, 8);
    test_norm_tail(4, 16384, 2048, 8, 32);
    test_norm_tail(2, 16384, 2048, 0);
    // N < 4096: the two launches, or with QSPEC_BULK_GEMV=all the tail on a grid of few CTAs
    test_norm_tail(2, 1000, 1024, 0);
    test_norm_tail(3, 1024, 2048, 4, 32);
    // SwiGLU in the gate|up GEMV: Llama-3-8B's shape at one token (two row tiles, CTAs that walk two gate and two up
    // tiles) and at 3 (four row tiles, a ring of 2), 2048 hidden units (one gate and one up tile a CTA), 8 tokens (a
    // ring of 3 chunks over 3); and the cases that take the two launches: 5 chunks (no whole ring rounds), 9 tokens,
    // matrices under 4096 rows (with QSPEC_BULK_GEMV=all: 1024 units pair, 1000 do not)
    test_swiglu_epilogue(1, 14336, 4096);
    test_swiglu_epilogue(3, 14336, 4096);
    test_swiglu_epilogue(2, 2048, 4096);
    test_swiglu_epilogue(8, 4096, 3072);
    test_swiglu_epilogue(2, 2048, 5120);
    test_swiglu_epilogue(9, 2048, 2048);
    test_swiglu_epilogue(2, 1024, 1024);
    test_swiglu_epilogue(1, 1000, 1024);
}

// `qspec_test draft`: the draft GEMM's cases alone; `qspec_test verify`: the verify GEMM's warpgroup cases.
// The bulk-copy decode GEMVs' cases (sm_90; elsewhere the same calls take the other kernels).
static void bulk_gemv_tests() {
    // One token, N >= 4096, K % 1024 == 0 (sm_90: the bulk-copy kernels): 5 and 7 chunks, not whole ring
    // rounds. (Placed before the sampling tests they once made two rejection checks at V = 128256 fail on
    // other random data: an absolute edge criterion that flagged 13 of 48 lanes, and a draft weight 0.45
    // ulp under the min-p threshold that the H200's expf rounded above it; check_rejection now judges both.)
    test_w4a16(1, 4112, 5120, 128, 0);
    test_w4a16(1, 4096, 7168, 128, 8);
    test_w4ax(1, 4112, 5120, 128, 8);
    test_w4ax(1, 4096, 7168, 128, 4);
    // M = 6 and 8 on sm_90: the W4A16 bulk kernel with two row tiles and a ring of 3 chunks (ring_depth)
    test_w4a16(8, 4112, 5120, 128, 0);
    test_w4a16(6, 4096, 7168, 128, 8);
    // M = 12 and 16 on sm_90 with QSPEC_BULK_M16=1: the W4A16 bulk kernel with two token tiles
    test_w4a16(12, 4112, 5120, 128, 0);
    test_w4a16(16, 4096, 7168, 128, 8);
    // the same kernel on the stacked q|k|v's 6144 rows (four row tiles, 96 CTAs; with QSPEC_BULK_M16_ROWS64=0 two,
    // 192 CTAs), and on a partial last row tile
    test_w4a16(9, 6144, 4096, 128, 8);
    test_w4a16(13, 4150, 5120, 128, 0);
    // M = 10 over more than 8192 rows: the same kernel by default (M <= 12 there)
    test_w4a16(10, 9000, 4096, 128, 0);
    // M = 3 and 8 on sm_90: the draft's bulk kernel with two row tiles
    test_w4ax(3, 4112, 5120, 128, 8);
    test_w4ax(8, 4096, 7168, 128, 4);
    // M = 9-16 on sm_90: the draft's bulk kernel with two token tiles (a ring of 3 chunks at M = 16), partial
    // token and row tiles
    test_w4ax(12, 4112, 5120, 128, 8);
    test_w4ax(16, 4096, 7168, 128, 4);
    test_w4ax(9, 9000, 4096, 128, 8);
    test_w4ax(16, 9000, 5120, 128, 4);
    test_w4ax(11, 6144, 4096, 128, 8);  // four row tiles; the warp-split kernel with QSPEC_BULK_M16_ROWS64=0
    // M = 6 over more than 8192 rows: with QSPEC_BULK_WIDE_M <= 6 the bulk kernels with four row tiles
    test_w4ax(6, 9000, 4096, 128, 8);
    test_w4a16(6, 9000, 5120, 128, 0);
    // M = 16 over more than 8192 rows: the W4A16 bulk kernel with four row tiles and two token tiles (a partial
    // last row tile of 64), or with QSPEC_BULK_WIDE_ROWS=32 the cluster kernel
    test_w4a16(16, 9000, 5120, 128, 8);
    // sm_90: more row tiles of 32 rows (M >= 2) than CTAs fit at once, so the bulk kernels' CTAs walk several
    // (QSPEC_BULK_WALK=n forces n per CTA on every such grid whose chunks allow it); the bits of a walk are
    // those of the other kernels
    test_w4a16(1, 9000, 4096, 128, 0);
    test_w4a16(5, 9000, 4096, 128, 8);
    test_w4ax(1, 9000, 4096, 128, 8);
    test_w4ax(4, 9000, 4096, 128, 4);
    test_w4a16_m_invariance(9000, 4096, 128);
    // four row tiles that walk with the tokens kept in shared memory (with QSPEC_BULK_KEEP=0 the kernels above):
    // two token tiles at M = 13 (a partial one) and 16, one at M = 8 over K = 8192 (8 chunks kept); the draft's at
    // M = 16 and 7; the SwiGLU epilogue's at M = 3 in epilogue_tests
    test_w4a16(13, 9000, 4096, 128, 8);
    test_w4a16(16, 9000, 4096, 128, 0);
    test_w4a16(8, 9000, 8192, 128, 0);
    test_w4ax(16, 9000, 4096, 128, 8);
    test_w4ax(7, 9000, 4096, 128, 4);
    // M = 17-32 on sm_90 (four token tiles where four_token_tiles says, everywhere with QSPEC_BULK_M32=all): two
    // row tiles a CTA (QSPEC_BULK_M32_ROWS=64: four on the wide matrices and the q|k|v), partial token and row tiles,
    // a ring of 2 (W4A16) or 4 (the draft) at M = 32, 7 chunks; W4A16's K split over a cluster at K = 8192 and
    // N = 4096; the bits of M = 17 and 32 against M = 256 (the warpgroup kernel) on two shapes
    test_w4a16(21, 4112, 5120, 128, 0);
    test_w4a16(32, 4096, 7168, 128, 8);
    test_w4a16(17, 6144, 4096, 128, 8);
    test_w4a16(32, 9000, 4096, 128, 0);
    test_w4a16(29, 4096, 8192, 128, 0);
    test_w4a16_m_invariance(4096, 8192, 128);
    test_w4ax(21, 4112, 5120, 128, 8);
    test_w4ax(32, 4096, 7168, 128, 4);
    test_w4ax(19, 9000, 4096, 128, 8);
    test_w4ax(32, 6144, 4096, 128, 8);
    // the draft at down's K (14336) and at K = 8192 (session 30's K split of the draft, measured and taken out, ran
    // every case above with these two)
    test_w4ax(29, 4096, 8192, 128, 8);
    test_w4ax(14, 4096, 14336, 128, 4);
    epilogue_tests();
    rope_epilogue_tests();
    head_tests();
}

// ---------------------------------------------------------------- token orders (ABI 13)
// Every producer of GEMM inputs writes, in MMA order, the bits it writes in row order, each input k at
// token_order.cuh's position (checked against the kernels' own permutations by token_order_check); and a GEMM whose
// tokens come in MMA order, where qspec_tokens_order names it, gives the bits of the call in row order (which
// test_w4a16 / test_w4ax hold to their float64 references). Elsewhere MMA order is refused, not misread.
template <typename T>
static size_t misplaced(const std::vector<T>& row_order, const std::vector<T>& mma, int M, int ld, int K, bool fp16) {
    size_t n = 0;
    for (int m = 0; m < M; ++m)
        for (int k = 0; k < K; ++k) {
            const int at = fp16 ? token_order::verify_position(k) : token_order::draft_position(k);
            n += std::memcmp(&row_order[(size_t)m * ld + k], &mma[(size_t)m * ld + at], sizeof(T)) != 0;
        }
    return n;
}

// Elements whose bits differ (the scales, which no order moves).
template <typename T>
static size_t differing(const std::vector<T>& a, const std::vector<T>& b) {
    size_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
    return n;
}

static void report_order(const char* what, size_t differ, size_t of) {
    report(differ == 0, std::string(what) + " in MMA order", "misplaced=%.0f of %.0f", (double)differ, (double)of);
}

// The producers on M rows of K (H) inputs: the norms, the quantizers and SwiGLU, each path (registers or not).
static void test_producer_orders(int M, int K, int group) {
    char name[128];
    auto r = rand_f32((size_t)M * K, -3.f, 3.f), gain = rand_f32(K, 0.5f, 1.5f);
    Dev<float> dr(r), dgain(gain);
    const int groups = K / group;
    {  // RMSNorm to fp16
        Dev<__half> a((size_t)M * K), b((size_t)M * K);
        CQ(qspec_rmsnorm_f16(dr.p, dgain.p, a.p, M, K, 1e-5f, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_rmsnorm_f16(dr.p, dgain.p, b.p, M, K, 1e-5f, QSPEC_TOKENS_MMA, nullptr));
        snprintf(name, sizeof name, "rmsnorm_f16 M=%d D=%d", M, K);
        report_order(name, misplaced(a.down(), b.down(), M, K, K, true), (size_t)M * K);
    }
    {  // RMSNorm with the draft's quantizer: codes moved, scales as they are
        Dev<int8_t> qa((size_t)M * K), qb((size_t)M * K);
        Dev<float> sa((size_t)M * groups), sb((size_t)M * groups);
        for (int bits : {8, 4}) {
            CQ(qspec_rmsnorm_quantize(dr.p, dgain.p, qa.p, sa.p, M, K, group, bits, 1e-5f, QSPEC_TOKENS_ROW, nullptr));
            CQ(qspec_rmsnorm_quantize(dr.p, dgain.p, qb.p, sb.p, M, K, group, bits, 1e-5f, QSPEC_TOKENS_MMA, nullptr));
            snprintf(name, sizeof name, "rmsnorm_quantize A%d M=%d D=%d group=%d", bits, M, K, group);
            report_order(name, misplaced(qa.down(), qb.down(), M, K, K, false) + differing(sa.down(), sb.down()),
                         (size_t)M * K);
        }
    }
    {  // SwiGLU (fp16, and quantized) from gate|up rows 2K apart
        auto gu = rand_f32((size_t)M * 2 * K, -4.f, 4.f);
        Dev<float> dgu(gu);
        Dev<__half> a((size_t)M * K), b((size_t)M * K);
        CQ(qspec_swiglu_f16(dgu.p, dgu.p + K, 2 * K, a.p, M, K, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_swiglu_f16(dgu.p, dgu.p + K, 2 * K, b.p, M, K, QSPEC_TOKENS_MMA, nullptr));
        snprintf(name, sizeof name, "swiglu_f16 M=%d H=%d", M, K);
        report_order(name, misplaced(a.down(), b.down(), M, K, K, true), (size_t)M * K);
        Dev<int8_t> qa((size_t)M * K), qb((size_t)M * K);
        Dev<float> sa((size_t)M * groups), sb((size_t)M * groups);
        CQ(qspec_swiglu_quantize(dgu.p, dgu.p + K, 2 * K, M, K, group, 8, qa.p, sa.p, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_swiglu_quantize(dgu.p, dgu.p + K, 2 * K, M, K, group, 8, qb.p, sb.p, QSPEC_TOKENS_MMA, nullptr));
        snprintf(name, sizeof name, "swiglu_quantize A8 M=%d H=%d group=%d", M, K, group);
        report_order(name, misplaced(qa.down(), qb.down(), M, K, K, false) + differing(sa.down(), sb.down()),
                     (size_t)M * K);
        // the fp16 rows quantized (the o projection's input in the draft)
        CQ(qspec_quantize_activations(a.p, K, M, K, group, 4, qa.p, sa.p, QSPEC_TOKENS_ROW, nullptr));
        CQ(qspec_quantize_activations(a.p, K, M, K, group, 4, qb.p, sb.p, QSPEC_TOKENS_MMA, nullptr));
        snprintf(name, sizeof name, "quantize_activations A4 M=%d K=%d group=%d", M, K, group);
        report_order(name, misplaced(qa.down(), qb.down(), M, K, K, false) + differing(sa.down(), sb.down()),
                     (size_t)M * K);
    }
}

// A norm, then the GEMM (bits 16: W4A16 from qspec_rmsnorm_f16, else the draft from qspec_rmsnorm_quantize), with
// the tokens in the order qspec_tokens_order names, against the same in row order; plain and accumulating. Returns
// whether the call took MMA order.
static bool test_gemm_order(int bits, int M, int N, int K) {
    Int4W W(N, K, 128);
    Dev<uint8_t> dw(W.packed);
    Dev<__half> ds(W.scales);
    auto r = rand_f32((size_t)M * K, -3.f, 3.f), gain = rand_f32(K, 0.5f, 1.5f);
    auto y0 = rand_f32((size_t)M * N, -8.f, 8.f);
    Dev<float> dr(r), dgain(gain);
    const int order = qspec_tokens_order(bits, M, N, K, 128);
    std::vector<float> out[2][2];  // [order used][accumulate]
    for (int o : {QSPEC_TOKENS_ROW, order}) {
        Dev<__half> x((size_t)M * K);
        Dev<int8_t> xq((size_t)M * K);
        Dev<float> xs((size_t)M * K / 128);
        if (bits == 16) CQ(qspec_rmsnorm_f16(dr.p, dgain.p, x.p, M, K, 1e-5f, o, nullptr));
        else CQ(qspec_rmsnorm_quantize(dr.p, dgain.p, xq.p, xs.p, M, K, 128, bits, 1e-5f, o, nullptr));
        for (int acc : {0, 1}) {
            Dev<float> y(acc ? y0 : std::vector<float>((size_t)M * N, POISON));
            if (bits == 16) CQ(qspec_w4a16_gemm(x.p, K, dw.p, ds.p, y.p, N, M, N, K, 128, acc, o, nullptr));
            else CQ(qspec_w4ax_gemm(xq.p, xs.p, dw.p, ds.p, y.p, N, M, N, K, 128, bits, acc, o, nullptr));
            out[o == QSPEC_TOKENS_MMA][acc] = y.down();
        }
    }
    char name[160];
    for (int acc : {0, 1}) {
        const auto& a = out[0][acc];
        const size_t differ = differing(a, out[order == QSPEC_TOKENS_MMA][acc]);
        snprintf(name, sizeof name, "%s%s tokens in %s order M=%d N=%d K=%d: the bits of row order",
                 bits == 16 ? "w4a16_gemm" : bits == 8 ? "w4ax_gemm A8" : "w4ax_gemm A4", acc ? " accumulate" : "",
                 order == QSPEC_TOKENS_MMA ? "MMA" : "row", M, N, K);
        report(differ == 0, name, "differing outputs=%.0f of %.0f", (double)differ, (double)a.size());
    }
    return order == QSPEC_TOKENS_MMA;
}

static void token_order_tests() {
    test_producer_orders(5, 4096, 128);   // the register paths
    test_producer_orders(3, 384, 64);     // groups of 64 (the quantizers' warp per group)
    test_producer_orders(2, 16512, 128);  // rows past the register paths (D > 16384)
    char name[128];
    // MMA order needs whole 128-input steps; the GEMMs refuse it where they would not read it so
    Dev<float> r(std::vector<float>(4 * 200, 1.f)), gain(std::vector<float>(200, 1.f));
    Dev<__half> x(4 * 200);
    report(qspec_rmsnorm_f16(r.p, gain.p, x.p, 4, 200, 1e-5f, QSPEC_TOKENS_MMA, nullptr) == QSPEC_ERR_UNSUPPORTED,
           "rmsnorm_f16 refuses MMA order for D=200", "%.0f%.0f", 0, 0);
    report(qspec_rmsnorm_f16(r.p, gain.p, x.p, 4, 200, 1e-5f, 7, nullptr) == QSPEC_ERR_UNSUPPORTED,
           "rmsnorm_f16 refuses an order that is not one", "%.0f%.0f", 0, 0);
    {
        Int4W W(1024, 1024, 128);
        Dev<uint8_t> dw(W.packed);
        Dev<__half> ds(W.scales), dx(4 * 1024);
        Dev<float> dy(4 * 1024);
        snprintf(name, sizeof name, "w4a16_gemm refuses MMA order at M=4 (qspec_tokens_order: %d)",
                 qspec_tokens_order(16, 4, 1024, 1024, 128));
        report(qspec_w4a16_gemm(dx.p, 1024, dw.p, ds.p, dy.p, 1024, 4, 1024, 1024, 128, 0, QSPEC_TOKENS_MMA,
                                nullptr) ==
                   QSPEC_ERR_UNSUPPORTED, name, "%.0f%.0f", 0, 0);
    }
    // Llama-3-8B-sized matrices where the rules take the builds that read MMA order (on an sm_90a device), and
    // sizes where they do not
    int took = 0;
    for (int bits : {16, 8, 4}) {
        took += test_gemm_order(bits, 128, 4096, 4096);   // q/o from 65 tokens
        took += test_gemm_order(bits, 64, 14336, 4096);   // gate/up at 64 tokens (N x K >= 2^25)
        took += test_gemm_order(bits, 200, 4096, 14336);  // down
        test_gemm_order(bits, 40, 1024, 4096);            // k/v: row order
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    snprintf(name, sizeof name, "GEMMs that read MMA order on this device (sm_%d%d)", prop.major, prop.minor);
    // sm_90 (a build with the warpgroup kernels) under the default rules: all nine; other devices: none
    const bool switched = getenv("QSPEC_WGMMA_VERIFY_DIRECT") || getenv("QSPEC_WGMMA_DRAFT_RF") ||
                          getenv("QSPEC_WGMMA_DRAFT") || getenv("QSPEC_WGMMA_VERIFY") || getenv("QSPEC_S4");
    const int want = prop.major != 9 ? 0 : switched ? took : 9;
    report(took == want, name, "took=%.0f want=%.0f", took, want);
}

int main(int argc, char** argv) {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s (sm_%d%d), abi %d\n", prop.name, prop.major, prop.minor, qspec_abi_version());
    if (qspec_abi_version() != QSPEC_ABI_VERSION) { printf("FAIL abi version\n"); return 1; }
    // `qspec_test GROUP`: one group of cases alone
    const struct {
        const char* name;
        void (*run)();
    } groups[] = {{"draft", draft_gemm_tests},
                  {"bulk", bulk_gemv_tests},
                  {"verify", verify_gemm_tests},
                  {"epilogues", epilogue_tests},
                  {"rope", rope_epilogue_tests},
                  {"heads", head_tests},
                  {"order", token_order_tests},
                  {"attention", attention_tests},
                  {"sampling", [] { test_sample(); test_rejection(); }}};
    for (const auto& group : groups)
        if (argc > 1 && strcmp(argv[1], group.name) == 0) {
            group.run();
            return summary();
        }
    // Ragged K (K not a multiple of group, K < group), N not a multiple of 8, padded ldx.
    const auto& shapes = SHAPES;
    // M covers every tile configuration (token tiles per block: 1 up to M = 8, 2, 4, then 8; the tiled
    // kernels, which these small N reach with QSPEC_TILED_GEMM_MIN_M=1 as run.sh runs it too, with one
    // and several token tiles, partly filled)
    for (int M : {1, 2, 3, 4, 8, 12, 16, 17, 64, 130})
        for (auto& s : shapes) test_w4a16(M, s[0], s[1], s[2], M % 2 ? 0 : 8);
    test_w4a16(5, 64, 4096, 128, 0);
    for (int M : {1, 2, 4}) test_w4a16(M, 300, 4000, 128, M == 2 ? 8 : 0);  // many K steps, ragged K
    for (int M : {1, 2}) test_w4a16(M, 4100, 520, 64, 0);                   // wide N
    test_w4a16_m_invariance(300, 1000, 128);
    test_w4a16_m_invariance(4100, 4096, 128);
    test_w4a16_m_invariance(200, 4000, 96);  // group 96: scales multiplied into the weights; a last step past the padded row
    // wide N with a partial last row tile, in the specialised loops (group 128, K % 128 == 0) and not
    for (int M : {1, 3, 8, 16}) test_w4a16(M, 20007, M == 3 ? 1100 : 1024, 128, M == 3 ? 0 : 8);
    test_w4a16(2, 20007, 1056, 96, 0);
    test_w4a16_m_invariance(20007, 1024, 128);
    test_w4a16(100, 24, 512, 128, 3);
    verify_gemm_tests();
    draft_gemm_tests();
    test_w4a16(200, 300, 1024, 128, 0);
    for (int M : {1, 5, 16}) test_w4ax(M, 300, 4000, 128, 8);
    for (int M : {1, 2, 3}) test_w4ax(M, 4100, 520, 64, M == 3 ? 4 : 8);  // wide N: two row tiles per warp
    for (int bits : {8, 4})
        for (int K : {64, 172, 200, 384, 4096}) {
            test_quantize(3, K, 128, bits);
            test_quantize(17, K, 32, bits);
            test_rmsnorm_quantize(3, K, 128, bits);
            test_rmsnorm_quantize(1, K, 64, bits);
            test_swiglu_quantize(3, K, 128, bits);
            test_swiglu_quantize(2, K, 32, bits);
            if (K % 128 == 0) {  // the register paths
                test_quantize(3, K, 128, bits, 4);
                test_swiglu_quantize(3, K, 128, bits, 4);
            }
        }
    test_elementwise();
    test_sample();
    test_rejection();
    // ragged K (K % group != 0, K < group, K % 8 != 0), ldo = K (cuBLAS lda) and padded (odd, and a multiple of 8)
    for (auto& s : shapes) test_dequantize(s[0], s[1], s[2], 0);
    test_dequantize(37, 172, 128, 5);
    test_dequantize(24, 200, 64, 8);
    test_dequantize(9, 21, 32, 0);
    test_dequantize(130, 4096, 128, 0);
    attention_tests();
    bulk_gemv_tests();
    token_order_tests();
    return summary();
}
