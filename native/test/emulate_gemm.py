#!/usr/bin/env python3
"""CPU emulation (numpy) of the two INT4 GEMM kernels as written: w4a16_kernel (src/w4a16_gemm.cu) and
w4ax_kernel (src/w4ax_gemm.cu), with the swap-AB tiling of src/w4_tiles.cuh (weights = the MMA's A
operand, 16 rows per m16 tile; tokens = its B operand, 8 per n8 tile). Mirrored: the index math and
load guards, the bit tricks (magic-number int4->fp16, byte-wise int4->int8, __byte_perm, pack_s4), the
PTX fragment layouts of mma.sync m16n8k16 f16, m16n8k32 s8 and m16n8k64 s4, the fp16 and fp32 rounding
points, and every summation order (warp steps, MMAs, folds, the warp-ordered block reduction).
Checks: outputs against float64 references, w4a16's bitwise M-invariance, and that planted bugs fail.
Run: python3 native/test/emulate_gemm.py  (exit code 1 on a mismatch)."""
import sys
import time
import numpy as np

rng = np.random.default_rng(7)
KSTEP, WK = 128, 8  # w4_tiles.cuh: inputs per warp step, warps per block (splitting K)
U32, F16, F32 = np.uint32, np.float16, np.float32
LANE = np.arange(32)
G, T = LANE >> 2, LANE & 3  # w4::Tile's g and t of each lane
BUG = ""  # name of a planted bug (mutation self-check); "" in the real run


def ceil_div(a, b):
    return -(-a // b)


# ---- bit tricks, on arrays of 32 lanes ----

def byte_perm(a, b, sel):
    """__byte_perm (PRMT): byte i of the result is byte sel[i] of the 8 bytes (b:a)."""
    src = [(a >> (8 * i)) & 0xFF for i in range(4)] + [(b >> (8 * i)) & 0xFF for i in range(4)]
    return sum(src[(sel >> (4 * i)) & 7] << (8 * i) for i in range(4)).astype(U32)


def h2(u):
    """uint32 words -> half2 as (n, 2) float16, low half first (little-endian, as the registers)."""
    return np.asarray(u, U32).reshape(-1).view(F16).reshape(-1, 2)


def u32(h):
    """(n, 2) half2 -> uint32 words."""
    b = np.ascontiguousarray(h, F16).view(np.uint16).astype(U32)
    return b[:, 0] | (b[:, 1] << 16)


SUB, MUL, ADD = h2(0x64086408)[0], h2(0x2C002C00)[0], h2(0xD480D480)[0]  # common.cuh's 1032, 1/16, -72


def int4_to_half2x4(w):
    """common.cuh: 8 nibbles -> 4 half2 of u - 8, input pairs (0,4) (1,5) (2,6) (3,7). __hsub2/__hfma2
    round once to fp16 (the exact result, in float64, rounded)."""
    ex, w2 = 0x64006400, w >> 8
    a, b = (w & 0x000F000F) | ex, (w & 0x00F000F0) | ex
    c, d = (w2 & 0x000F000F) | ex, (w2 & 0x00F000F0) | ex
    hsub = lambda v: (h2(v).astype(np.float64) - np.float64(SUB)).astype(F16)
    hfma = lambda v: (h2(v).astype(np.float64) * np.float64(MUL) + np.float64(ADD)).astype(F16)
    return [hsub(a), hfma(b), hsub(c), hfma(d)]


def int4_to_s8x8(w):
    """common.cuh: 8 nibbles -> (lo, hi) words of int8 u - 8: lo = inputs 0,2,4,6, hi = 1,3,5,7."""
    return ((w & 0x0F0F0F0F) + 0x78787878) ^ 0x80808080, (((w >> 4) & 0x0F0F0F0F) + 0x78787878) ^ 0x80808080


def pack_s4(lo, hi):
    """w4ax_gemm.cu: 8 int8 codes (two words) -> 8 s4 nibbles, element i in bits 4i..4i+3."""
    a, b = lo & 0x0F0F0F0F, hi & 0x0F0F0F0F
    a = (a | (a >> 4)) & 0x00FF00FF
    b = (b | (b >> 4)) & 0x00FF00FF
    return ((a | (a >> 8)) & 0xFFFF) | (((b | (b >> 8)) & 0xFFFF) << 16)


def unpack_f16(u):
    return h2(u).astype(np.float64)


def unpack_s8(u):
    return np.asarray(u, U32).view(np.int8).reshape(-1, 4).astype(np.float64)


def unpack_s4(u):
    v = (np.asarray(u, U32)[:, None] >> (4 * np.arange(8))) & 0xF
    return np.where(v >= 8, v.astype(np.int64) - 16, v).astype(np.float64)


# ---- mma.sync, for one warp ----

C_ROW = np.stack([G, G, G + 8, G + 8], 1)  # accumulator c of a lane: row of the m16 tile (weight row)
C_COL = np.stack([2 * T, 2 * T + 1, 2 * T, 2 * T + 1], 1)  # ... and column of the n8 tile (token)


def mma(a, b0, b1, per_reg, unpack):
    """A(16 x 8 per_reg) B(8 per_reg x 8) in the PTX fragment layout that m16n8k16 f16 (per_reg 2),
    m16n8k32 s8 (4) and m16n8k64 s4 (8) share: lane (g, t) holds per_reg values of row g / g + 8 at
    k = per_reg t .. in a0 / a1, the same rows at k + 4 per_reg in a2 / a3, and column g at those two
    k ranges in b0 / b1. Returns D[lane, c] (float64: the products of f16 or small ints are exact)."""
    kk, k = 8 * per_reg, per_reg * T[:, None] + np.arange(per_reg)
    A, B = np.full((16, kk), np.nan), np.full((kk, 8), np.nan)
    for reg, rows, koff in ((0, G, 0), (1, G + 8, 0), (2, G, kk // 2), (3, G + 8, kk // 2)):
        A[rows[:, None], k + koff] = unpack(a[reg])
    B[k, G[:, None]] = unpack(b0)
    B[k + kk // 2, G[:, None]] = unpack(b1)
    assert not (np.isnan(A).any() or np.isnan(B).any())  # the layout covers both operands
    return (A @ B)[C_ROW, C_COL]


def mma_f16(d, a, b0, b1):  # fp32 accumulation: the exact dot product plus d, rounded to fp32 once
    d[:] = (mma(a, b0, b1, 2, unpack_f16) + d).astype(F32)


def mma_s8(d, a, b0, b1):  # int32 accumulation is exact
    d += mma(a, b0, b1, 4, unpack_s8).astype(np.int64)


def mma_s4(d, a, b0, b1):
    d += mma(a, b0, b1, 8, unpack_s4).astype(np.int64)


def fmaf(a, b, c):  # a * b is exact in float64; the sum rounds twice (float64, then fp32), negligibly
    return (np.asarray(a, np.float64) * b + c).astype(F32)


# ---- w4_tiles.cuh ----

def tiles(M, N):
    """(MT, NT) as both qspec_*_gemm entry points choose them."""
    if M <= 8:
        return 1, (2 if N >= 8192 else 1)
    return (2 if M <= 16 else 4 if M <= 32 else 8), 1


class Tile:
    """w4::Tile of block (bx, by): grid x = token blocks of 8 MT tokens, y = row blocks of 16 NT rows."""

    def __init__(self, bx, by, MT, NT):
        self.MT, self.NT, self.m_base, self.n_base = MT, NT, bx * MT * 8, by * NT * 16

    def row(self, i, h, N):  # weight row g (h = 0) or g + 8 (h = 1) of row tile i, clamped to N - 1
        return np.minimum(self.n_base + 16 * i + 8 * h + G, N - 1)


def blocks(M, N, MT, NT):
    for by in range(ceil_div(N, NT * 16)):
        for bx in range(ceil_div(M, MT * 8)):
            yield Tile(bx, by, MT, NT)


def reduce_store(tl, acc, y, count, M, N):
    """w4::reduce_store: acc[warp][mt][i][lane][c] goes to red[] in the kernel's layout, each element is
    summed over the WK warps in warp order in fp32 and stored if m < M and n < N."""
    MT, NT = tl.MT, tl.NT
    FR = MT * NT * 4
    red = acc.transpose(0, 1, 2, 4, 3).reshape(WK, FR * 32)  # red[w * FR * 32 + (idx * 32 + lane)]
    s = np.zeros(FR * 32, F32)
    for w in (range(WK - 1, -1, -1) if BUG == "reduce_order" and MT > 1 else range(WK)):
        s = s + red[w]
    e = np.arange(FR * 32)
    idx, ln = e >> 5, e & 31
    c, i, mt = idx & 3, (idx >> 2) % NT, (idx >> 2) // NT
    n = tl.n_base + i * 16 + (ln >> 2) + np.where(c >= 2, 8, 0)
    if BUG == "store_row":
        n = tl.n_base + i * 16 + (ln >> 2)
    m = tl.m_base + mt * 8 + 2 * (ln & 3) + (c & 1)
    ok = (m < M) & (n < N)
    y[m[ok], n[ok]] = s[ok]
    np.add.at(count, (m[ok], n[ok]), 1)


def gather(arr, r, c, ok, fill):
    """arr[r, c] where ok (a kernel's guarded load: those reads must be in bounds), fill elsewhere."""
    r, c = np.broadcast_arrays(r, c)
    ok = np.broadcast_to(ok, r.shape)
    assert (r[ok] >= 0).all() and (r[ok] < arr.shape[0]).all(), "row read out of bounds"
    assert (c[ok] >= 0).all() and (c[ok] < arr.shape[1]).all(), "column read out of bounds"
    v = arr[np.clip(r, 0, arr.shape[0] - 1), np.clip(c, 0, arr.shape[1] - 1)]
    return np.where(ok, v, np.asarray(fill).astype(arr.dtype))


# ---- the kernels ----

def w4a16(x, pw, ws, N, K, group, MT=None, NT=None):
    """w4a16_kernel<MT, NT, FOLD> with qspec_w4a16_gemm's tile choice (unless MT, NT are given).
    x: (M, K) fp16; pw: (N, Kp / 8) uint32 words of the packed rows; ws: (N, groups) fp16 scales."""
    M = x.shape[0]
    if MT is None:
        MT, NT = tiles(M, N)
    FOLD = group % KSTEP == 0
    groups = ceil_div(K, group)
    Kp = groups * group
    nsteps = ceil_div(Kp, KSTEP)
    xb = x.view(np.uint16)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    for tl in blocks(M, N, MT, NT):
        rows = [[tl.row(i, h, N) for h in (0, 1)] for i in range(NT)]
        tok = [tl.m_base + 8 * mt + G for mt in range(MT)]  # B operand: token g of each token tile
        acc = np.zeros((WK, MT, NT, 32, 4), F32)
        for warp in range(WK):
            # The kernel loads two steps ahead; the values a step computes with are load(s)'s.
            for s in range(warp, nsteps, WK):
                kt = s * KSTEP + 32 * T
                inb = kt < Kp  # past the padded row (Kp % 128 != 0): q = 0, scale 0
                if FOLD:  # the step lies in one group
                    gi = s if group == KSTEP else s * KSTEP // group
                else:  # the group of this thread's 32 inputs
                    gi = kt // group
                w = [[[gather(pw, rows[i][h], kt // 8 + j, inb, 0x88888888) for j in range(4)] for h in (0, 1)]
                     for i in range(NT)]
                sc = [[gather(ws, rows[i][h], gi, inb, 0).astype(F32) for h in (0, 1)] for i in range(NT)]
                if BUG == "a16_fold_scale":
                    sc = [[sc[i][0], sc[i][0]] for i in range(NT)]
                part = np.zeros((MT, NT, 32, 4), F32)  # FOLD: the step's unscaled sums
                for j in range(4):
                    a = []
                    for i in range(NT):
                        lo, hi = int4_to_half2x4(w[i][0][j]), int4_to_half2x4(w[i][1][j])
                        if not FOLD:  # __hmul2 by __float2half2_rn(scale): one fp16 rounding
                            sl, sh = sc[i][0].astype(F16)[:, None], sc[i][1].astype(F16)[:, None]
                            if BUG == "a16_hmul_scale":
                                sl, sh = sh, sl
                            lo = [(p.astype(np.float64) * sl).astype(F16) for p in lo]
                            hi = [(p.astype(np.float64) * sh).astype(F16) for p in hi]
                        # rows g (a0, a2) and g + 8 (a1, a3); MMA q takes pairs 2q and 2q + 1 of word j
                        if BUG == "a16_a_frag":
                            a.append([[u32(lo[2 * q]), u32(lo[2 * q + 1]), u32(hi[2 * q]), u32(hi[2 * q + 1])]
                                      for q in (0, 1)])
                        else:
                            a.append([[u32(lo[2 * q]), u32(hi[2 * q]), u32(lo[2 * q + 1]), u32(hi[2 * q + 1])]
                                      for q in (0, 1)])
                    for mt in range(MT):
                        # load_x8: token g's inputs kt + 8j .. + 7, zero beyond K or for tokens >= M
                        # (its unguarded fast path reads the same values)
                        k = kt[:, None] + 8 * j + np.arange(8)
                        xok = (tok[mt] < M)[:, None] & (k < K)
                        v = gather(xb, np.minimum(tok[mt], M - 1)[:, None], k, xok, 0).astype(U32)
                        xv = v[:, 0::2] | (v[:, 1::2] << 16)  # uint4 x, y, z, w = halves (0,1) .. (6,7)
                        lo_sel, hi_sel = (0x7632, 0x5410) if BUG == "a16_b_perm" else (0x5410, 0x7632)
                        b1 = (byte_perm(xv[:, 0], xv[:, 2], lo_sel), byte_perm(xv[:, 0], xv[:, 2], hi_sel))
                        b2 = (byte_perm(xv[:, 1], xv[:, 3], lo_sel), byte_perm(xv[:, 1], xv[:, 3], hi_sel))
                        for i in range(NT):
                            d = part[mt, i] if FOLD else acc[warp, mt, i]
                            mma_f16(d, a[i][0], *b1)
                            mma_f16(d, a[i][1], *b2)
                if FOLD:  # c0, c1 are row g's outputs, c2, c3 row g + 8's
                    for mt in range(MT):
                        for i in range(NT):
                            srow = np.stack([sc[i][0], sc[i][0], sc[i][1], sc[i][1]], 1)
                            acc[warp, mt, i] = fmaf(part[mt, i], srow, acc[warp, mt, i])
        reduce_store(tl, acc, y, count, M, N)
    return y, count


def w4ax(xq, xs, pw, ws, N, K, group, S4=False, MT=None, NT=None):
    """w4ax_kernel<MT, NT, WIDE, S4> with qspec_w4ax_gemm's tile choice (unless MT, NT are given).
    xq: (M, Kp) int8 codes, zero past K; xs: (M, groups) fp32 scales; pw, ws as for w4a16."""
    M = xq.shape[0]
    if MT is None:
        MT, NT = tiles(M, N)
    WIDE = group % KSTEP == 0
    assert WIDE or not S4
    groups = ceil_div(K, group)
    Kp = groups * group
    nsteps = ceil_div(Kp, KSTEP)
    xw = xq.view("<u4")  # xq rows as words: byte offset k is word k / 4
    X88 = U32(0x88888888)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    k_in = lambda j: 32 * T + 8 * j if (WIDE or BUG == "ax_k_in") else 32 * j + 8 * T  # word j's inputs
    for tl in blocks(M, N, MT, NT):
        rows = [[tl.row(i, h, N) for h in (0, 1)] for i in range(NT)]
        tok = [tl.m_base + 8 * mt + G for mt in range(MT)]  # B operand: token g of each token tile
        xok = [t_ < M for t_ in tok]
        xrow = [np.minimum(t_, M - 1) for t_ in tok]
        # fold: x scales of tokens 2t, 2t + 1 (the lane's output columns), clamped to M - 1
        xsrow = [[np.minimum(tl.m_base + 8 * mt + 2 * T + c, M - 1) for c in (0, 1)] for mt in range(MT)]
        if BUG == "ax_xscale":
            xsrow = [[r[1], r[0]] for r in xsrow]
        acc = np.zeros((WK, MT, NT, 32, 4), F32)
        for warp in range(WK):

            def fold(mt, i, part, gi):  # acc += int32 sums * (wscale[row, gi] * xscale[token, gi]) in fp32
                w0, w1 = (ws[rows[i][h], gi].astype(F32) for h in (0, 1))
                x0, x1 = (xs[xsrow[mt][c], gi] for c in (0, 1))
                scale = np.stack([w0 * x0, w0 * x1, w1 * x0, w1 * x1], 1)
                acc[warp, mt, i] = fmaf(part.astype(F32), scale, acc[warp, mt, i])

            for s in range(warp, nsteps, WK):
                k0 = s * KSTEP
                # load(s): WIDE, one 16-byte load per row guarded by its first input; else 4 guarded words
                w = [[[gather(pw, rows[i][h], (k0 + k_in(j)) // 8, k0 + k_in(0 if WIDE else j) < Kp, X88)
                       for j in range(4)] for h in (0, 1)] for i in range(NT)]
                part = np.zeros((MT, NT, 32, 4), np.int64)
                if S4:
                    # words j, j + 1 of rows g, g + 8 (inputs 32t + 8j .. + 15) fill k slots 8t .. and
                    # 32 + 8t ..; s4 = u ^ 8 needs no unpacking
                    xor = U32(0) if BUG == "s4_xor" else X88
                    for j in (0, 2):
                        for mt in range(MT):
                            kb = k0 + k_in(j)
                            v = gather(xw, xrow[mt][:, None], kb[:, None] // 4 + np.arange(4),
                                       (xok[mt] & (kb < Kp))[:, None], 0)
                            b0, b1 = pack_s4(v[:, 0], v[:, 1]), pack_s4(v[:, 2], v[:, 3])
                            if BUG == "s4_b":
                                b0, b1 = b1, b0
                            for i in range(NT):
                                a = [w[i][0][j] ^ xor, w[i][1][j] ^ xor, w[i][0][j + 1] ^ xor, w[i][1][j + 1] ^ xor]
                                mma_s4(part[mt, i], a, b0, b1)
                else:
                    for j in range(4):
                        if not WIDE and k0 + 32 * j >= Kp:  # the whole MMA is past the padded row
                            break
                        a = []
                        for i in range(NT):  # rows g (a0 even inputs, a2 odd) and g + 8 (a1, a3)
                            lo_g, hi_g = int4_to_s8x8(w[i][0][j])
                            lo_g8, hi_g8 = int4_to_s8x8(w[i][1][j])
                            a.append([lo_g, hi_g, lo_g8, hi_g8] if BUG == "ax_a_frag" else [lo_g, lo_g8, hi_g, hi_g8])
                        for mt in range(MT):
                            kb = k0 + k_in(j)
                            v = gather(xw, xrow[mt][:, None], kb[:, None] // 4 + np.arange(2),
                                       (xok[mt] & (kb < Kp))[:, None], 0)
                            # token g's even inputs, then its odd ones, as the unpacking orders the weights
                            sel = (0x7531, 0x6420) if BUG == "ax_b_perm" else (0x6420, 0x7531)
                            b0, b1 = byte_perm(v[:, 0], v[:, 1], sel[0]), byte_perm(v[:, 0], v[:, 1], sel[1])
                            for i in range(NT):
                                if not WIDE:
                                    part[mt, i] = 0
                                mma_s8(part[mt, i], a[i], b0, b1)
                                if not WIDE:  # MMA j covers inputs 32j .. 32j + 31: one group
                                    fold(mt, i, part[mt, i], (k0 + 32 * j) // group)
                if WIDE:  # the step lies in one group
                    gi = s if group == KSTEP else k0 // group
                    for mt in range(MT):
                        for i in range(NT):
                            fold(mt, i, part[mt, i], gi)
        reduce_store(tl, acc, y, count, M, N)
    return y, count


# ---- test data, references, checks ----

def make_weights(N, K, group):
    """q (N, Kp) in [-8, 7], zero past K; packed 2 nibbles a byte (u = q + 8, even input low) as words;
    fp16 scales (N, groups)."""
    groups = ceil_div(K, group)
    Kp = groups * group
    q = np.zeros((N, Kp), np.int64)
    q[:, :K] = rng.integers(-8, 8, (N, K))
    u = (q + 8).astype(np.uint8)
    packed = np.ascontiguousarray(u[:, 0::2] | (u[:, 1::2] << 4))
    scales = rng.uniform(0.005, 0.05, (N, groups)).astype(F16)
    return q, packed.view("<u4"), scales


def ref_w4a16(x, q, ws, K, group):
    """float64 x W^T with W = q * scale as the kernel forms it: exact under FOLD, rounded to fp16 (HMUL2)
    otherwise. Returns the reference and |x| |W|^T (the scale of fp32 rounding errors)."""
    Wd = q[:, :K] * np.repeat(ws.astype(np.float64), group, axis=1)[:, :K]
    if group % KSTEP:
        Wd = Wd.astype(F16).astype(np.float64)
    x64 = x.astype(np.float64)
    return x64 @ Wd.T, np.abs(x64) @ np.abs(Wd).T


def ref_w4ax(xq, xs, q, ws, K, group):
    ref, mag = 0.0, 0.0
    for g in range(ceil_div(K, group)):
        sl = slice(g * group, (g + 1) * group)
        xg, qg = xq[:, sl].astype(np.int64), q[:, sl]
        sc = xs[:, g:g + 1].astype(np.float64) * ws[:, g].astype(np.float64)[None, :]
        ref = ref + (xg @ qg.T) * sc
        mag = mag + (np.abs(xg) @ np.abs(qg).T) * sc
    return ref, mag


TOL = 1e-5  # max |y - ref| / (|x| |W|^T); fp32 accumulation gives < 1e-6, a fragment or scale bug >> 1e-4


def error(out, ref, mag):
    y, count = out
    if not (count == 1).all():  # every output stored exactly once
        return np.inf
    return float(np.max(np.abs(y - ref) / np.maximum(mag, 1e-30)))


def quantized_x(M, K, Kp, groups, bits):
    qmax = 127 if bits == 8 else 7
    xq = np.zeros((M, Kp), np.int8)
    xq[:, :K] = rng.integers(-qmax, qmax + 1, (M, K))
    return xq, rng.uniform(0.001, 0.05, (M, groups)).astype(F32)


# (N, K, group): N % 16 != 0 (clamped rows), ragged K, K < group, FOLD/WIDE (128, 256) and not (32, 64, 96),
# Kp % 128 != 0 (a step's tail past the padded row: 288/96, 160/32, 40/64)
SHAPES = [(37, 172, 128), (24, 200, 64), (40, 1000, 256), (72, 288, 96), (48, 64, 128), (20, 160, 32),
          (24, 40, 64)]
MS = [1, 3, 8, 9, 16, 17, 33]  # every tile config: MT = 1 (M <= 8), 2, 4, 8


def run_cases():
    """Every shape at every M, each kernel path against its float64 reference: one line per run."""
    fails = 0
    for N, K, group in SHAPES:
        q, pw, ws = make_weights(N, K, group)
        groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
        wide = group % KSTEP == 0
        for M in MS:
            MT, NT = tiles(M, N)
            for nt in ([NT, 2] if M <= 3 else [NT]):  # NT = 2 (N >= 8192 in the dispatch) on small N
                x = rng.uniform(-2, 2, (M, K)).astype(F16)
                errs = [(f"w4a16 {'FOLD' if wide else 'HMUL'}",
                         error(w4a16(x, pw, ws, N, K, group, MT, nt), *ref_w4a16(x, q, ws, K, group)))]
                for bits in (8, 4):
                    xq, xs = quantized_x(M, K, Kp, groups, bits)
                    ref = ref_w4ax(xq, xs, q, ws, K, group)
                    errs.append((f"A{bits} {'WIDE' if wide else 'per-MMA'}",
                                 error(w4ax(xq, xs, pw, ws, N, K, group, False, MT, nt), *ref)))
                    if bits == 4 and wide:  # the s4 MMA path (sm_80/86/89)
                        errs.append(("A4 s4-MMA", error(w4ax(xq, xs, pw, ws, N, K, group, True, MT, nt), *ref)))
                bad = sum(not e < TOL for _, e in errs)
                fails += bad
                print(f"{'FAIL' if bad else 'PASS'} M={M} N={N} K={K} group={group} MT={MT} NT={nt} err: "
                      + ", ".join(f"{name} {e:.1e}" for name, e in errs))
    return fails


def m_invariance(N, K, group):
    """w4a16 rows at each M of MS (and at M = 1, 5 with NT = 2) against the same rows at M = 70 (MT = 8,
    two token blocks): the runs whose bits differ. QSpec's verify pass must reproduce one-token decoding
    exactly."""
    q, pw, ws = make_weights(N, K, group)
    x = rng.uniform(-2, 2, (70, K)).astype(F16)
    full = w4a16(x, pw, ws, N, K, group)[0].view(U32)
    runs = [(M, None, None) for M in MS] + [(1, 1, 2), (5, 1, 2)]
    return [f"M={M}{'' if nt is None else ' NT=2'}" for M, mt, nt in runs
            if not np.array_equal(w4a16(x[:M], pw, ws, N, K, group, mt, nt)[0].view(U32), full[:M])]


INVARIANCE = [(37, 1000, 128), (24, 1000, 64)]  # FOLD and HMUL, 8 steps: every warp holds a share

# A planted bug and a case that reaches it (N, K, group, M): each must make its check fail.
MUTATIONS = [
    ("a16_a_frag", "w4a16", (16, 256, 128, 3)),      # A registers in the wrong rows / k slots
    ("a16_b_perm", "w4a16", (16, 256, 128, 3)),      # token pairs (1,5) where (0,4) belong
    ("a16_fold_scale", "w4a16", (16, 256, 128, 3)),  # FOLD scales rows g + 8 with row g's scale
    ("a16_hmul_scale", "w4a16", (16, 256, 64, 3)),   # HMUL2 swaps the two rows' scales
    ("ax_a_frag", "w4ax", (16, 256, 128, 3)),
    ("ax_b_perm", "w4ax", (16, 256, 128, 3)),        # odd inputs against even weights
    ("ax_k_in", "w4ax", (16, 256, 32, 3)),           # per-MMA path with WIDE offsets: wrong groups
    ("ax_xscale", "w4ax", (16, 256, 128, 3)),        # tokens 2t, 2t + 1's x scales swapped
    ("s4_xor", "s4", (16, 256, 128, 3)),             # nibbles u taken as s4 without ^ 8
    ("s4_b", "s4", (16, 256, 128, 3)),
    ("store_row", "w4a16", (16, 256, 128, 3)),       # reduce_store misplaces rows g + 8
    ("reduce_order", "invariance", (16, 1000, 128, 0)),  # warps summed in another order when MT > 1
]


def mutation_check():
    global BUG
    fails = 0
    for bug, kernel, (N, K, group, M) in MUTATIONS:
        q, pw, ws = make_weights(N, K, group)
        groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
        if kernel == "invariance":
            check = lambda: bool(m_invariance(N, K, group))
        elif kernel == "w4a16":
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            ref = ref_w4a16(x, q, ws, K, group)
            check = lambda: not error(w4a16(x, pw, ws, N, K, group), *ref) < TOL
        else:
            xq, xs = quantized_x(M, K, Kp, groups, 4)
            ref = ref_w4ax(xq, xs, q, ws, K, group)
            check = lambda: not error(w4ax(xq, xs, pw, ws, N, K, group, kernel == "s4"), *ref) < TOL
        BUG = bug
        try:
            caught = check()
        finally:
            BUG = ""
        fails += not caught
        print(f"{'PASS' if caught else 'FAIL'} planted bug {bug} ({kernel}) {'caught' if caught else 'NOT caught'}")
    return fails


def main():
    t0 = time.time()
    fails = run_cases()
    for N, K, group in INVARIANCE:
        bad = m_invariance(N, K, group)
        fails += bool(bad)
        print(f"{'FAIL' if bad else 'PASS'} w4a16 M-invariance N={N} K={K} group={group}: "
              + (f"bits differ at {bad}" if bad else f"M in {MS} and NT=2 bit-identical to M=70"))
    fails += mutation_check()
    print(("ALL PASSED" if not fails else f"{fails} FAILED") + f" ({time.time() - t0:.1f} s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
