#!/usr/bin/env python3
"""CPU emulation of the two INT4 GEMM kernels at warp level (numpy), mirroring their index math,
the bit tricks (magic-number int4->fp16, byte-wise int4->int8, PRMT) and the PTX fragment layouts
of mma.sync m16n8k16 (f16) and m16n8k32 (s8). It checks the k-permutation and fragment mapping
without a GPU: python3 native/test/emulate_gemm.py  (exit code 1 on a mismatch)."""
import sys
import numpy as np

rng = np.random.default_rng(7)
KSTEP = 128


def byte_perm(a, b, sel):
    src = [(a >> (8 * i)) & 0xFF for i in range(4)] + [(b >> (8 * i)) & 0xFF for i in range(4)]
    return sum(src[(sel >> (4 * i)) & 7] << (8 * i) for i in range(4))


def h2(u32):  # uint32 -> (lo, hi) float16
    return np.array([u32 & 0xFFFF, u32 >> 16], dtype=np.uint16).view(np.float16)


def h2u(pair):  # (lo, hi) float16 -> uint32
    u = np.asarray(pair, dtype=np.float16).view(np.uint16).astype(np.uint32)
    return int(u[0] | (u[1] << 16))


def int4_to_half2x4(w):
    ex = 0x64006400
    a, b = (w & 0x000F000F) | ex, (w & 0x00F000F0) | ex
    c, d = ((w >> 8) & 0x000F000F) | ex, ((w >> 8) & 0x00F000F0) | ex
    sub, mul, add = np.float16(1032), np.float16(1 / 16), np.float16(-72)
    f = lambda v: np.float16(np.float32(v))
    return [f(h2(a).astype(np.float32) - np.float32(sub)), f(h2(b).astype(np.float32) * np.float32(mul) + np.float32(add)),
            f(h2(c).astype(np.float32) - np.float32(sub)), f(h2(d).astype(np.float32) * np.float32(mul) + np.float32(add))]


def int4_to_s8x8(w):
    lo = (((w & 0x0F0F0F0F) + 0x78787878) ^ 0x80808080) & 0xFFFFFFFF
    hi = ((((w >> 4) & 0x0F0F0F0F) + 0x78787878) ^ 0x80808080) & 0xFFFFFFFF
    return lo, hi


def s8(u32):
    return np.array([u32], dtype=np.uint32).view(np.int8)


def mma_f16(acc, a, b0, b1):
    """acc[lane][4] += A(16x16) B(16x8) with the PTX m16n8k16 fragment layouts; a[lane][4], b*[lane]."""
    A, B = np.zeros((16, 16)), np.zeros((16, 8))
    for ln in range(32):
        g, t = ln >> 2, ln & 3
        for r, (row, col) in enumerate([(g, 2 * t), (g + 8, 2 * t), (g, 2 * t + 8), (g + 8, 2 * t + 8)]):
            A[row, col:col + 2] = h2(a[ln][r])
        B[2 * t:2 * t + 2, g] = h2(b0[ln])
        B[2 * t + 8:2 * t + 10, g] = h2(b1[ln])
    D = A @ B
    for ln in range(32):
        g, t = ln >> 2, ln & 3
        acc[ln] += [D[g, 2 * t], D[g, 2 * t + 1], D[g + 8, 2 * t], D[g + 8, 2 * t + 1]]


def mma_int(acc, a, b0, b1, per_reg, unpack):
    """Integer m16n8k(8*per_reg) MMA with the PTX fragment layout: a register holds per_reg values of a
    row (a0 row g, a1 row g+8 at k = per_reg*t; a2, a3 the same at k + 4*per_reg), b0/b1 per_reg values
    of column g at the same k ranges. per_reg 4: s8 (m16n8k32); 8: s4 (m16n8k64)."""
    kdim, half = 8 * per_reg, 4 * per_reg
    A, B = np.zeros((16, kdim), np.int64), np.zeros((kdim, 8), np.int64)
    for ln in range(32):
        g, t = ln >> 2, ln & 3
        k0 = per_reg * t
        for r, (row, col) in enumerate([(g, k0), (g + 8, k0), (g, k0 + half), (g + 8, k0 + half)]):
            A[row, col:col + per_reg] = unpack(a[ln][r])
        B[k0:k0 + per_reg, g] = unpack(b0[ln])
        B[k0 + half:k0 + half + per_reg, g] = unpack(b1[ln])
    D = A @ B
    for ln in range(32):
        g, t = ln >> 2, ln & 3
        acc[ln] += [D[g, 2 * t], D[g, 2 * t + 1], D[g + 8, 2 * t], D[g + 8, 2 * t + 1]]


def mma_s8(acc, a, b0, b1):
    mma_int(acc, a, b0, b1, 4, s8)


def s4(u32):
    """8 signed 4-bit values of a word, element i in bits 4i..4i+3."""
    v = [(u32 >> (4 * i)) & 0xF for i in range(8)]
    return np.array([x - 16 if x >= 8 else x for x in v], np.int64)


def pack_s4(lo, hi):  # mirror of the kernel's pack_s4 (8 int8 codes -> 8 nibbles)
    a, b = lo & 0x0F0F0F0F, hi & 0x0F0F0F0F
    a = (a | (a >> 4)) & 0x00FF00FF
    b = (b | (b >> 4)) & 0x00FF00FF
    return ((a | (a >> 8)) & 0xFFFF) | (((b | (b >> 8)) & 0xFFFF) << 16)


def mma_s4(acc, a, b0, b1):
    mma_int(acc, a, b0, b1, 8, s4)


def make_weights(N, K, group):
    groups = -(-K // group)
    Kp = groups * group
    q = np.zeros((N, Kp), np.int64)
    q[:, :K] = rng.integers(-8, 8, (N, K))
    u = (q + 8).astype(np.uint8)
    packed = (u[:, 0::2] | (u[:, 1::2] << 4)).astype(np.uint8)
    scales = rng.uniform(0.005, 0.05, (N, groups)).astype(np.float16)
    return q, packed, scales, groups, Kp


def word(packed, n, byte_off):
    return int(packed[n, byte_off:byte_off + 4].view(np.uint32)[0])


def w4a16(x, packed, scales, M, N, K, group, MT, NT, WK):
    groups = -(-K // group); Kp = groups * group; nsteps = -(-Kp // KSTEP)
    xpad = np.zeros((M, Kp + 32), np.float16); xpad[:, :K] = x[:, :K]
    y = np.full((M, N), np.nan)
    for bx in range(-(-N // (NT * 8))):
        for by in range(-(-M // (MT * 16))):
            n_base, m_base = bx * NT * 8, by * MT * 16
            total = np.zeros((32, MT, NT, 4))
            for warp in range(WK):
                acc = np.zeros((32, MT, NT, 4))
                for s in range(warp, nsteps, WK):
                    for j in range(4):
                        b = [[None] * NT for _ in range(32)]
                        for ln in range(32):
                            g, t = ln >> 2, ln & 3
                            kt = s * KSTEP + 32 * t
                            for i in range(NT):
                                n = n_base + i * 8 + g
                                if n < N and kt < Kp:
                                    wv, sc = word(packed, n, kt // 2 + 4 * j), scales[n, kt // group]
                                else:
                                    wv, sc = 0x88888888, np.float16(0)
                                b[ln][i] = [h2u(np.float16(h.astype(np.float32) * np.float32(sc))) for h in int4_to_half2x4(wv)]
                        for mt in range(MT):
                            a1, a2 = [], []
                            for ln in range(32):
                                g, t = ln >> 2, ln & 3
                                k = s * KSTEP + 32 * t + 8 * j
                                xs = []
                                for r in (m_base + mt * 16 + g, m_base + mt * 16 + g + 8):
                                    v = xpad[r, k:k + 8] if (r < M and k < Kp) else np.zeros(8, np.float16)
                                    u = np.asarray(v, np.float16).view(np.uint32)
                                    xs.append([int(e) for e in u])
                                x0, x1 = xs
                                a1.append([byte_perm(x0[0], x0[2], 0x5410), byte_perm(x1[0], x1[2], 0x5410),
                                           byte_perm(x0[0], x0[2], 0x7632), byte_perm(x1[0], x1[2], 0x7632)])
                                a2.append([byte_perm(x0[1], x0[3], 0x5410), byte_perm(x1[1], x1[3], 0x5410),
                                           byte_perm(x0[1], x0[3], 0x7632), byte_perm(x1[1], x1[3], 0x7632)])
                            for i in range(NT):
                                mma_f16(acc[:, mt, i], a1, [b[ln][i][0] for ln in range(32)], [b[ln][i][1] for ln in range(32)])
                                mma_f16(acc[:, mt, i], a2, [b[ln][i][2] for ln in range(32)], [b[ln][i][3] for ln in range(32)])
                total += acc
            for ln in range(32):
                for mt in range(MT):
                    for i in range(NT):
                        for c in range(4):
                            m = m_base + mt * 16 + (ln >> 2) + (8 if c >= 2 else 0)
                            n = n_base + i * 8 + 2 * (ln & 3) + (c & 1)
                            if m < M and n < N:
                                y[m, n] = total[ln, mt, i, c]
    return y


def w4ax(xq, xs, packed, scales, M, N, K, group, MT, NT, WK, use_s4=False):
    groups = -(-K // group); Kp = groups * group; nsteps = -(-Kp // KSTEP)
    wide = group % KSTEP == 0
    y = np.full((M, N), np.nan)
    k_of = lambda s, t, j: s * KSTEP + (32 * t + 8 * j if wide else 32 * j + 8 * t)
    for bx in range(-(-N // (NT * 8))):
        for by in range(-(-M // (MT * 16))):
            n_base, m_base = bx * NT * 8, by * MT * 16
            total = np.zeros((32, MT, NT, 4))
            for warp in range(WK):
                acc = np.zeros((32, MT, NT, 4))

                def fold(mt, i, part, gi):
                    for ln in range(32):
                        g, t = ln >> 2, ln & 3
                        r0, n0 = m_base + mt * 16 + g, n_base + i * 8 + 2 * t
                        x0 = xs[r0, gi] if r0 < M else 0.0
                        x1 = xs[r0 + 8, gi] if r0 + 8 < M else 0.0
                        w0 = float(scales[n0, gi]) if n0 < N else 0.0
                        w1 = float(scales[n0 + 1, gi]) if n0 + 1 < N else 0.0
                        acc[ln, mt, i] += part[ln] * [x0 * w0, x0 * w1, x1 * w0, x1 * w1]

                for s in range(warp, nsteps, WK):
                    part = np.zeros((32, MT, NT, 4), np.int64)
                    for j in range(4):
                        if use_s4:  # words j, j+1: one m16n8k64 s4 MMA, weights as stored ^ 0x88888888
                            if j & 1:
                                continue
                            def wd(ln, i, jj):
                                n, k = n_base + i * 8 + (ln >> 2), k_of(s, ln & 3, jj)
                                return (word(packed, n, k // 2) if (n < N and k < Kp) else 0x88888888) ^ 0x88888888
                            for mt in range(MT):
                                a = []
                                for ln in range(32):
                                    g, t = ln >> 2, ln & 3
                                    k = k_of(s, t, j)
                                    rows = []
                                    for r in (m_base + mt * 16 + g, m_base + mt * 16 + g + 8):
                                        v = xq[r, k:k + 16] if (r < M and k < Kp) else np.zeros(16, np.int8)
                                        rows.append([int(w) for w in np.asarray(v, np.int8).view(np.uint32)])
                                    (x0, x1) = rows
                                    a.append([pack_s4(x0[0], x0[1]), pack_s4(x1[0], x1[1]),
                                              pack_s4(x0[2], x0[3]), pack_s4(x1[2], x1[3])])
                                for i in range(NT):
                                    if j == 0:
                                        part[:, mt, i] = 0
                                    mma_s4(part[:, mt, i], a, [wd(ln, i, j) for ln in range(32)],
                                           [wd(ln, i, j + 1) for ln in range(32)])
                            continue
                        if not wide and s * KSTEP + 32 * j >= Kp:
                            break
                        b = [[int4_to_s8x8(word(packed, n_base + i * 8 + (ln >> 2), k_of(s, ln & 3, j) // 2)
                                           if (n_base + i * 8 + (ln >> 2) < N and k_of(s, ln & 3, j) < Kp) else 0x88888888)
                              for i in range(NT)] for ln in range(32)]
                        for mt in range(MT):
                            a = []
                            for ln in range(32):
                                g, t = ln >> 2, ln & 3
                                k = k_of(s, t, j)
                                rows = []
                                for r in (m_base + mt * 16 + g, m_base + mt * 16 + g + 8):
                                    v = xq[r, k:k + 8] if (r < M and k < Kp) else np.zeros(8, np.int8)
                                    u = np.asarray(v, np.int8).view(np.uint32)
                                    rows.append((int(u[0]), int(u[1])))
                                (l0, h0), (l1, h1) = rows
                                a.append([byte_perm(l0, h0, 0x6420), byte_perm(l1, h1, 0x6420),
                                          byte_perm(l0, h0, 0x7531), byte_perm(l1, h1, 0x7531)])
                            for i in range(NT):
                                if j == 0 or not wide:
                                    part[:, mt, i] = 0
                                mma_s8(part[:, mt, i], a, [b[ln][i][0] for ln in range(32)], [b[ln][i][1] for ln in range(32)])
                                if not wide:
                                    fold(mt, i, part[:, mt, i], (s * KSTEP + 32 * j) // group)
                    if wide:
                        for mt in range(MT):
                            for i in range(NT):
                                fold(mt, i, part[:, mt, i], (s * KSTEP) // group)
                total += acc
            for ln in range(32):
                for mt in range(MT):
                    for i in range(NT):
                        for c in range(4):
                            m = m_base + mt * 16 + (ln >> 2) + (8 if c >= 2 else 0)
                            n = n_base + i * 8 + 2 * (ln & 3) + (c & 1)
                            if m < M and n < N:
                                y[m, n] = total[ln, mt, i, c]
    return y


def main():
    fails = 0
    # (M, N, K, group, MT, NT, WK): the kernel configurations with ragged K, K < group, N % 8 != 0
    cases = [(3, 37, 172, 128, 1, 2, 8), (17, 24, 200, 64, 2, 2, 8), (40, 16, 384, 128, 4, 2, 8),
             (5, 20, 160, 32, 1, 2, 8), (9, 16, 64, 128, 1, 2, 8), (2, 8, 288, 96, 1, 2, 8), (4, 8, 1000, 256, 1, 2, 8)]
    for M, N, K, group, MT, NT, WK in cases:
        q, packed, scales, groups, Kp = make_weights(N, K, group)
        Wd = q[:, :K] * np.repeat(scales.astype(np.float64), group, axis=1)[:, :K]
        x = rng.uniform(-2, 2, (M, K)).astype(np.float16)
        ref = x.astype(np.float64) @ Wd.T
        y = w4a16(x, packed, scales, M, N, K, group, MT, NT, WK)
        e = np.linalg.norm(y - ref) / np.linalg.norm(ref) if np.all(np.isfinite(y)) else np.inf
        ok = e < 2e-3
        fails += not ok
        print(f"{'PASS' if ok else 'FAIL'} emulated w4a16 M={M} N={N} K={K} group={group} MT={MT} rel_err={e:.2e}")
        for bits in (8, 4):
            qmax = 127 if bits == 8 else 7
            xq = np.zeros((M, Kp + 32), np.int8)
            xq[:, :K] = rng.integers(-qmax, qmax + 1, (M, K))
            xs = rng.uniform(0.001, 0.05, (M, groups))
            ref = np.zeros((M, N))
            for g in range(groups):
                dot = xq[:, g * group:(g + 1) * group].astype(np.int64) @ q[:, g * group:(g + 1) * group].T
                ref += dot * xs[:, g:g + 1] * scales[:, g].astype(np.float64)[None, :]
            y = w4ax(xq, xs, packed, scales, M, N, K, group, MT, NT, WK)
            e = np.linalg.norm(y - ref) / np.linalg.norm(ref) if np.all(np.isfinite(y)) else np.inf
            ok = e < 1e-9
            fails += not ok
            print(f"{'PASS' if ok else 'FAIL'} emulated w4ax A{bits} M={M} N={N} K={K} group={group} MT={MT} rel_err={e:.2e}")
            if bits == 4 and group % KSTEP == 0:  # the s4 MMA path (sm_80/86/89)
                y = w4ax(xq, xs, packed, scales, M, N, K, group, MT, NT, WK, use_s4=True)
                e = np.linalg.norm(y - ref) / np.linalg.norm(ref) if np.all(np.isfinite(y)) else np.inf
                ok = e < 1e-9
                fails += not ok
                print(f"{'PASS' if ok else 'FAIL'} emulated w4ax A4 s4-MMA M={M} N={N} K={K} group={group} MT={MT} rel_err={e:.2e}")
    print("ALL PASSED" if not fails else f"{fails} FAILED")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
