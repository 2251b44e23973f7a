#!/usr/bin/env python3
"""CPU emulation (numpy) of the three INT4 GEMM kernels as written: w4a16_kernel and w4a16_cluster_kernel
(src/w4a16_gemm.cu) and w4ax_kernel (src/w4ax_gemm.cu), with the swap-AB tiling of src/w4_tiles.cuh
(weights = the MMA's A operand, 16 rows per m16 tile; tokens = its B operand, 8 per n8 tile) and the
dispatch of qspec_w4a16_gemm / qspec_w4ax_gemm. Mirrored: the index math and load guards, the
activation rings in shared memory (slot rotation; the per-warp layout of the warp-split kernels, the
cluster kernel's shared tile with x_unit's layout; unwritten words read as NaN), the bit tricks
(magic-number int4->fp16, byte-wise int4->int8, __byte_perm, pack_s4), the PTX fragment layouts of
mma.sync m16n8k16 f16, m16n8k32 s8 and m16n8k64 s4, the fp16 and fp32 rounding points, and every
summation order (warp steps, MMAs, folds, the warp-ordered block reduction, the slice-ordered cluster
reduction through distributed shared memory).
Checks: outputs against float64 references; w4a16's bitwise M-invariance, and bit identity of the
cluster kernel with the warp-split kernel (so the sm_90 dispatch, which switches kernels at M = 9, is
M-invariant too); and that planted bugs fail.
Run: python3 native/test/emulate_gemm.py  (exit code 1 on a mismatch)."""
import sys
import time
import numpy as np

rng = np.random.default_rng(7)
KSTEP, WK = 128, 8  # w4_tiles.cuh: inputs per warp step, warps per block (or CTAs per cluster) splitting K
STAGES = 3  # steps in flight: slots of the activation rings
CROWS, XROW = WK * 16, 20  # cluster kernel: rows per CTA (8 warps x 16); uint4 units per token row of its tile
POISON = 0x7E007E00  # what an emulated shared-memory word holds before it is written: two fp16 NaNs
U32, F16, F32 = np.uint32, np.float16, np.float32
LANE = np.arange(32)
G, T = LANE >> 2, LANE & 3  # w4::Tile's g and t of each lane
BUG = ""  # name of a planted bug (mutation self-check); "" in the real run


def ceil_div(a, b):
    return -(-a // b)


# ---- bit tricks, on arrays of 32 lanes ----

def byte_perm(a, b, sel):
    """__byte_perm (PRMT): byte i of the result is byte sel[i] of the 8 bytes (b:a)."""
    src = np.empty((len(a), 2), U32)
    src[:, 0], src[:, 1] = a, b
    return np.ascontiguousarray(src.view(np.uint8)[:, [(sel >> (4 * i)) & 7 for i in range(4)]]).view(U32).reshape(-1)


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


def mma_layout(per_reg):
    """The PTX fragment layout that m16n8k16 f16 (per_reg 2), m16n8k32 s8 (4) and m16n8k64 s4 (8) share:
    lane (g, t) holds per_reg values of row g / g + 8 at k = per_reg t .. in a0 / a1, the same rows at
    k + 4 per_reg in a2 / a3, and column g at those two k ranges in b0 / b1. Returns, for A (16 x 8 per_reg)
    and B (8 per_reg x 8), where each element sits in the concatenated unpacked registers (a0..a3 of the
    32 lanes; b0, b1), checking that the layout fills either operand exactly once."""
    kk, k = 8 * per_reg, per_reg * T[:, None] + np.arange(per_reg)
    pos = lambda reg: reg * 32 * per_reg + per_reg * LANE[:, None] + np.arange(per_reg)
    A, B = np.full((16, kk), -1), np.full((kk, 8), -1)
    na, nb = np.zeros((16, kk), int), np.zeros((kk, 8), int)
    for reg, rows, koff in ((0, G, 0), (1, G + 8, 0), (2, G, kk // 2), (3, G + 8, kk // 2)):
        A[rows[:, None], k + koff] = pos(reg)
        np.add.at(na, (np.broadcast_to(rows[:, None], k.shape), k + koff), 1)
    for reg, koff in ((0, 0), (1, kk // 2)):
        B[k + koff, G[:, None]] = pos(reg)
        np.add.at(nb, (k + koff, np.broadcast_to(G[:, None], k.shape)), 1)
    assert (na == 1).all() and (nb == 1).all()
    return A, B


LAYOUT = {per_reg: mma_layout(per_reg) for per_reg in (2, 4, 8)}


def mma(a, b0, b1, per_reg, unpack):
    """A(16 x 8 per_reg) B(8 per_reg x 8) of one warp from its fragments (mma_layout). Returns D[lane, c]
    (float64: the products of f16 or small ints are exact)."""
    PA, PB = LAYOUT[per_reg]
    A = unpack(np.concatenate(a)).reshape(-1)[PA]
    B = unpack(np.concatenate([b0, b1])).reshape(-1)[PB]
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

def tiles(M):
    """(MT, NT) of the warp-split kernels as both qspec_*_gemm entry points choose them."""
    return (1 if M <= 8 else 2 if M <= 16 else 4), 1


def cluster_mt(M):
    """MT of w4a16_cluster_kernel as qspec_w4a16_gemm chooses it."""
    return 1 if M <= 8 else 2 if M <= 16 else 4 if M <= 32 else 8


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


def cluster_reduce_store(reds, bx, by, MT, y, count, M, N):
    """w4::cluster_reduce_store: reds[z] is CTA z's red[] (red[(warp * FR + mt * 4 + c) * 32 + lane], in
    its shared memory); CTA z sums elements e = 256 z + thread (+ 2048 ...) over the cluster's slices in
    slice order (0 + P0 + ... + P7, read through distributed shared memory) and stores them."""
    FR = MT * 4
    total = WK * FR * 32
    stride = WK * WK * 32
    order = range(WK - 1, -1, -1) if BUG == "cluster_slice_order" else range(WK)
    for z in range(WK):  # CTA z (cluster rank z: cluster dims (1, 1, WK))
        first = z * 32 if BUG == "cluster_share" else z * WK * 32
        e = (first + np.arange(WK * 32))[None, :] + stride * np.arange(ceil_div(total, stride))[:, None]
        e = e[e < total]
        s = np.zeros(len(e), F32)
        for zz in order:  # cluster.map_shared_rank(red, zz)[e]
            s = s + reds[zz][e]
        w, idx, ln = e // (FR * 32), (e >> 5) % FR, e & 31
        c, mt = idx & 3, idx >> 2
        n = by * CROWS + w * 16 + (ln >> 2) + np.where(c >= 2, 8, 0)
        m = bx * MT * 8 + mt * 8 + 2 * (ln & 3) + (c & 1)
        ok = (m < M) & (n < N)
        y[m[ok], n[ok]] = s[ok]
        np.add.at(count, (m[ok], n[ok]), 1)


def pipeline(first, nsteps, stage, compute):
    """The ring of every kernel here (STAGES slots): steps first, first + WK, ...; the prologue stages the
    first two into slots 0, 1; step s stages s + 2 WK into the slot step s - WK used, then computes from
    its own slot. Weights ride in registers (wcur <- wnext <- wnn): a step computes with load(s)'s values,
    so the emulation loads them in compute."""
    if first < nsteps:
        stage(0, first)
    if first + WK < nsteps:
        stage(1, first + WK)
    slot = 0
    for s in range(first, nsteps, WK):
        if s + 2 * WK < nsteps:
            stage(slot if BUG == "ring_slot" else (2 if slot == 0 else slot - 1), s + 2 * WK)
        compute(slot, s)
        slot = 0 if slot == STAGES - 1 else slot + 1


def gather(arr, r, c, ok, fill):
    """arr[r, c] where ok (a kernel's guarded load: those reads must be in bounds), fill elsewhere."""
    r, c, ok = np.broadcast_arrays(r, c, ok)
    r, c = np.where(ok, r, 0), np.where(ok, c, 0)
    assert r.min() >= 0 and r.max() < arr.shape[0], "row read out of bounds"
    assert c.min() >= 0 and c.max() < arr.shape[1], "column read out of bounds"
    return np.where(ok, arr[r, c], np.asarray(fill).astype(arr.dtype))


def padded(K, group):
    """(Kp, nsteps): the padded row length (whole groups) and the 128-input steps covering it."""
    Kp = ceil_div(K, group) * group
    return Kp, ceil_div(Kp, KSTEP)


# ---- w4a16_gemm.cu ----

def x8(xb, m, k, M, K):
    """uint4 (4 words) of halves x[m][k .. k + 8) for arrays m, k, zero beyond K and for m >= M: what the
    staging of both W4A16 kernels writes (cp.async where aligned and inside K, zero-filled for m >= M,
    reading row min(m, M - 1); else load_x8)."""
    e = k[:, None] + np.arange(8)
    v = gather(xb, np.minimum(m, M - 1)[:, None], e, (m < M)[:, None] & (e < K), 0).astype(U32)
    return v[:, 0::2] | (v[:, 1::2] << 16)


def a16_load_step(pw, ws, rows, s, Kp, group, FOLD):
    """load_step: words j = 0..3 of rows[i][h] at input 32t of step s (one 16-byte load) and the scale
    (FOLD: the step's group; else the group of the thread's 32 inputs); q = 0, scale 0 past Kp."""
    kt = s * KSTEP + 32 * T
    inb = kt < Kp
    gi = (s if group == KSTEP else s * KSTEP // group) if FOLD else kt // group
    w = [[[gather(pw, r, kt // 8 + j, inb, 0x88888888) for j in range(4)] for r in ri] for ri in rows]
    sc = [[gather(ws, r, gi, inb, 0).astype(F32) for r in ri] for ri in rows]
    if BUG == "a16_fold_scale":
        sc = [[si[0], si[0]] for si in sc]
    return w, sc


def a16_step_mma(w, sc, xfrag, acc, FOLD):
    """step_mma<MT, NT, FOLD>, which both W4A16 kernels run: acc (MT, NT, 32 lanes, 4) is updated in place.
    xfrag(mt, j): (32, 4) words, token g's inputs kt + 8j .. + 7 of token tile mt."""
    MT, NT = acc.shape[:2]
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
                a.append([[u32(lo[2 * q]), u32(lo[2 * q + 1]), u32(hi[2 * q]), u32(hi[2 * q + 1])] for q in (0, 1)])
            else:
                a.append([[u32(lo[2 * q]), u32(hi[2 * q]), u32(lo[2 * q + 1]), u32(hi[2 * q + 1])] for q in (0, 1)])
        for mt in range(MT):
            xv = xfrag(mt, j)  # uint4 x, y, z, w = halves (0,1) .. (6,7)
            lo_sel, hi_sel = (0x7632, 0x5410) if BUG == "a16_b_perm" else (0x5410, 0x7632)
            b1 = (byte_perm(xv[:, 0], xv[:, 2], lo_sel), byte_perm(xv[:, 0], xv[:, 2], hi_sel))
            b2 = (byte_perm(xv[:, 1], xv[:, 3], lo_sel), byte_perm(xv[:, 1], xv[:, 3], hi_sel))
            for i in range(NT):
                d = part[mt, i] if FOLD else acc[mt, i]
                mma_f16(d, a[i][0], *b1)
                mma_f16(d, a[i][1], *b2)
    if FOLD:  # c0, c1 are row g's outputs, c2, c3 row g + 8's
        for mt in range(MT):
            for i in range(NT):
                srow = np.stack([sc[i][0], sc[i][0], sc[i][1], sc[i][1]], 1)
                acc[mt, i] = fmaf(part[mt, i], srow, acc[mt, i])


def w4a16(x, pw, ws, N, K, group, MT=None, NT=None):
    """w4a16_kernel<MT, NT, FOLD> (K split across the WK warps of a block) with qspec_w4a16_gemm's tile
    choice unless MT, NT are given. x: (M, K) fp16; pw: (N, Kp / 8) uint32 words of the packed rows;
    ws: (N, groups) fp16 scales. Returns y (M, N) fp32 and how often each output was stored."""
    M = x.shape[0]
    if MT is None:
        MT, NT = tiles(M)
    FOLD = group % KSTEP == 0
    Kp, nsteps = padded(K, group)
    xb = x.view(np.uint16)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    for tl in blocks(M, N, MT, NT):
        rows = [[tl.row(i, h, N) for h in (0, 1)] for i in range(NT)]
        tok = [tl.m_base + 8 * mt + G for mt in range(MT)]  # B operand: token g of each token tile
        acc = np.zeros((WK, MT, NT, 32, 4), F32)
        for warp in range(WK):
            # this warp's ring: xsm[((slot * MT + mt) * 4 + j) * 32 + lane], uint4; unwritten = fp16 NaN
            xsm = np.full((STAGES * MT * 4 * 32, 4), POISON, U32)

            def stage_x(slot, s):  # token g's inputs kt + 8j .. + 7 of step s
                kt = s * KSTEP + 32 * T
                for mt in range(MT):
                    for j in range(4):
                        xsm[((slot * MT + mt) * 4 + j) * 32 + LANE] = x8(xb, tok[mt], kt + 8 * j, M, K)

            def compute(slot, s):
                w, sc = a16_load_step(pw, ws, rows, s, Kp, group, FOLD)
                a16_step_mma(w, sc, lambda mt, j: xsm[((slot * MT + mt) * 4 + j) * 32 + LANE], acc[warp], FOLD)

            pipeline(warp, nsteps, stage_x, compute)
        reduce_store(tl, acc, y, count, M, N)
    return y, count


def x_unit(t, j):
    """w4a16_gemm.cu's x_unit: unit of a tile row that holds thread t's word j (inputs 32t + 8j .. + 7)."""
    return 4 * j + t


def w4a16_cluster(x, pw, ws, N, K, group, MT=None):
    """w4a16_cluster_kernel<MT, FOLD> (sm_90; K split across the WK CTAs of a cluster) with
    qspec_w4a16_gemm's MT unless given. Grid (token blocks of 8 MT, row blocks of CROWS, WK slices):
    CTA z takes steps z, z + WK, ... for rows by * CROWS + 16 warp + g (+ 8), its warps sharing one staged
    activation tile per step (token row r, unit x_unit(t, j) of XROW), the same step_mma as w4a16_kernel;
    then the ring's shared memory holds the partial sums that cluster_reduce_store adds in slice order."""
    M = x.shape[0]
    if MT is None:
        MT = cluster_mt(M)
    FOLD = group % KSTEP == 0
    Kp, nsteps = padded(K, group)
    xb = x.view(np.uint16)
    FR = MT * 4
    units = max(STAGES * MT * 8 * XROW, WK * MT * 4 * 32 // 4)  # ClusterSmem<MT>::units (uint4)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    for by in range(ceil_div(N, CROWS)):
        # rows[warp][0][h]: the warp's one row tile, rows g, g + 8, clamped to N - 1
        rows = [[[np.minimum(by * CROWS + 16 * warp + 8 * h + G, N - 1) for h in (0, 1)]] for warp in range(WK)]
        for bx in range(ceil_div(M, MT * 8)):
            m_base = bx * MT * 8
            reds = []
            for z in range(WK):  # CTA z of the cluster: slice z
                smem = np.full((units, 4), POISON, U32)  # __shared__ uint4 smem[]; unwritten = fp16 NaN
                acc = np.zeros((WK, MT, 1, 32, 4), F32)

                def stage_x(slot, s):  # the block copies step s's tile: elements e = thread (+ 256 ...)
                    e = np.arange(MT * 8 * 16)
                    r, u = e >> 4, e & 15  # token row r of the tile, inputs 8u .. 8u + 7 of the step
                    xu = x_unit(u & 3, u >> 2) if BUG == "cluster_x_unit" else x_unit(u >> 2, u & 3)
                    assert (xu < XROW).all()
                    smem[(slot * MT * 8 + r) * XROW + xu] = x8(xb, m_base + r, s * KSTEP + 8 * u, M, K)

                def compute(slot, s):
                    tile = slot * MT * 8 * XROW
                    for warp in range(WK):
                        w, sc = a16_load_step(pw, ws, rows[warp], s, Kp, group, FOLD)
                        a16_step_mma(w, sc, lambda mt, j: smem[tile + (mt * 8 + G) * XROW + x_unit(T, j)],
                                     acc[warp], FOLD)

                pipeline(z, nsteps, stage_x, compute)
                red = smem.reshape(-1).view(F32)  # the ring, reused: red[(warp * FR + mt * 4 + c) * 32 + lane]
                red[:WK * FR * 32] = acc[:, :, 0].transpose(0, 1, 3, 2).reshape(-1)
                reds.append(red)
            cluster_reduce_store(reds, bx, by, MT, y, count, M, N)
    return y, count


# qspec_w4a16_gemm on sm_90: the cluster kernel from M = CLUSTER_MIN_M (common.cuh's cluster_gemm_min_m(),
# QSPEC_CLUSTER_GEMM_MIN_M unset), the warp-split kernel below it; elsewhere the warp-split kernel at every M.
CLUSTER_MIN_M = 9


# ---- w4ax_gemm.cu ----

def w4ax(xq, xs, pw, ws, N, K, group, S4=False, MT=None, NT=None):
    """w4ax_kernel<MT, NT, WIDE, S4> with qspec_w4ax_gemm's tile choice (unless MT, NT are given).
    xq: (M, Kp) int8 codes, zero past K; xs: (M, groups) fp32 scales; pw, ws as for w4a16."""
    M = xq.shape[0]
    if MT is None:
        MT, NT = tiles(M)
    WIDE = group % KSTEP == 0
    assert WIDE or not S4
    Kp, nsteps = padded(K, group)
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
            # this warp's ring: xsm[((slot * MT + mt) * 4 + j) * 32 + lane], uint2 (8 int8 inputs)
            xsm = np.full((STAGES * MT * 4 * 32, 2), POISON, U32)

            def stage_x(slot, s):  # cp_async_8 of xrow + min(k, Kp - 8), zero-filled unless m < M, k < Kp
                for mt in range(MT):
                    for j in range(4):
                        k = s * KSTEP + k_in(j)
                        xsm[((slot * MT + mt) * 4 + j) * 32 + LANE] = gather(
                            xw, xrow[mt][:, None], np.minimum(k, Kp - 8)[:, None] // 4 + np.arange(2),
                            (xok[mt] & (k < Kp))[:, None], 0)

            def fold(mt, i, part, gi):  # acc += int32 sums * (wscale[row, gi] * xscale[token, gi]) in fp32
                w0, w1 = (ws[rows[i][h], gi].astype(F32) for h in (0, 1))
                x0, x1 = (xs[xsrow[mt][c], gi] for c in (0, 1))
                scale = np.stack([w0 * x0, w0 * x1, w1 * x0, w1 * x1], 1)
                acc[warp, mt, i] = fmaf(part.astype(F32), scale, acc[warp, mt, i])

            def compute(slot, s):  # load(s) and step_mma<MT, NT, WIDE, S4>
                k0 = s * KSTEP
                x_word = lambda mt, j: xsm[((slot * MT + mt) * 4 + j) * 32 + LANE]
                # WIDE, one 16-byte load per row guarded by its first input; else 4 guarded words
                w = [[[gather(pw, rows[i][h], (k0 + k_in(j)) // 8, k0 + k_in(0 if WIDE else j) < Kp, X88)
                       for j in range(4)] for h in (0, 1)] for i in range(NT)]
                part = np.zeros((MT, NT, 32, 4), np.int64)
                if S4:
                    # words j, j + 1 of rows g, g + 8 (inputs 32t + 8j .. + 15) fill k slots 8t .. and
                    # 32 + 8t ..; s4 = u ^ 8 needs no unpacking
                    xor = U32(0) if BUG == "s4_xor" else X88
                    for j in (0, 2):
                        for mt in range(MT):
                            v0, v1 = x_word(mt, j), x_word(mt, j + 1)
                            b0, b1 = pack_s4(v0[:, 0], v0[:, 1]), pack_s4(v1[:, 0], v1[:, 1])
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
                            v = x_word(mt, j)
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

            pipeline(warp, nsteps, stage_x, compute)
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
# Kp % 128 != 0 (a step's tail past the padded row: 288/96, 160/32, 40/64), N > CROWS and not a multiple
# of it (150: two cluster row blocks, the second mostly clamped), nsteps > 2 WK (2200: the ring's
# stage-ahead of step s + 16, 3 steps in slices 0, 1)
SHAPES = [(37, 172, 128), (24, 200, 64), (40, 1000, 256), (72, 288, 96), (48, 64, 128), (20, 160, 32),
          (24, 40, 64), (150, 300, 128), (20, 2200, 128)]
MS = [1, 3, 8, 9, 16, 17, 33]  # warp-split MT = 1 (M <= 8), 2, 4; cluster MT = 1, 2, 4, 8 (M = 33)


def run_cases():
    """Every shape at every M, each kernel path against its float64 reference: one line per run. The
    cluster kernel runs at M <= 8 too (QSPEC_CLUSTER_GEMM_MIN_M=1)."""
    fails = 0
    for N, K, group in SHAPES:
        q, pw, ws = make_weights(N, K, group)
        groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
        wide = group % KSTEP == 0
        for M in MS:
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            ref = ref_w4a16(x, q, ws, K, group)
            errs = [(f"w4a16 {'FOLD' if wide else 'HMUL'}", error(w4a16(x, pw, ws, N, K, group), *ref)),
                    ("cluster", error(w4a16_cluster(x, pw, ws, N, K, group), *ref))]
            for bits in (8, 4):
                xq, xs = quantized_x(M, K, Kp, groups, bits)
                ref = ref_w4ax(xq, xs, q, ws, K, group)
                name = f"A{bits} {'WIDE' if wide else 'per-MMA'}"
                errs.append((name, error(w4ax(xq, xs, pw, ws, N, K, group), *ref)))
                if bits == 4 and wide:  # the s4 MMA path (sm_80/86/89)
                    errs.append(("A4 s4-MMA", error(w4ax(xq, xs, pw, ws, N, K, group, True), *ref)))
            bad = sum(not e < TOL for _, e in errs)
            fails += bad
            print(f"{'FAIL' if bad else 'PASS'} M={M} N={N} K={K} group={group} MT={tiles(M)[0]} "
                  f"cluster MT={cluster_mt(M)} err: " + ", ".join(f"{name} {e:.1e}" for name, e in errs))
    return fails


BIT_MS = [1, 3, 8, 9, 16, 17, 33, 70]


def bit_identity(N, K, group, ms=BIT_MS):
    """w4a16 rows of x[:M] (x: 70 tokens) for M in ms, bitwise: (1) the warp-split kernel against its
    rows at M = 70 (M-invariance, pre-sm_90 dispatch); (2) the cluster kernel against the warp-split
    kernel on the same inputs (also at M <= 8: QSPEC_CLUSTER_GEMM_MIN_M=1); (3) the sm_90 dispatch
    (warp-split to M = 8, cluster from M = 9) against its rows at M = 70 (the cluster kernel, MT = 8, two
    token blocks). QSpec's verify rows must reproduce one-token decoding exactly whatever M is and
    whichever kernel runs. Returns the runs whose bits differ (or that stored an output other than once)."""
    q, pw, ws = make_weights(N, K, group)
    x = rng.uniform(-2, 2, (max(ms), K)).astype(F16)
    bits = lambda out: out[0].view(U32) if (out[1] == 1).all() else None
    same = lambda a, b, M: a is not None and b is not None and np.array_equal(a, b[:M])
    warp = {M: bits(w4a16(x[:M], pw, ws, N, K, group)) for M in ms}
    clus = {M: bits(w4a16_cluster(x[:M], pw, ws, N, K, group)) for M in ms}
    sm90 = {M: warp[M] if M < CLUSTER_MIN_M else clus[M] for M in ms}  # qspec_w4a16_gemm on sm_90
    top = max(ms)
    bad = [f"warp-split M={M} vs M={top}" for M in ms if not same(warp[M], warp[top], M)]
    bad += [f"cluster vs warp-split M={M}" for M in ms if not same(clus[M], warp[M], M)]
    bad += [f"sm_90 dispatch M={M} vs M={top}" for M in ms if not same(sm90[M], sm90[top], M)]
    return bad


# (N, K, group), every N a multiple of neither 16 nor CROWS and K ragged: FOLD with group = KSTEP, 9 steps
# (slice 0 takes 2); FOLD with group 256, 3 row blocks of the cluster kernel, 4 steps (slices 4-7 idle);
# HMUL, 9 steps; HMUL with Kp % 128 != 0 (the last step's tail past Kp) and N < CROWS.
INVARIANCE = [(150, 1100, 128), (300, 400, 256), (150, 1100, 64), (37, 600, 96)]

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
    ("ring_slot", "w4a16", (16, 2200, 128, 3)),      # step s + 16 staged into the slot step s reads
    ("reduce_order", "identity", (16, 1000, 128, 0)),  # warps summed in another order when MT > 1
    ("cluster_x_unit", "cluster", (16, 256, 128, 9)),  # tile staged with x_unit's arguments swapped
    ("cluster_share", "cluster", (16, 256, 128, 9)),   # CTA z's share starts at 32 z: shares overlap
    ("cluster_slice_order", "identity", (16, 1000, 128, 0)),  # slices summed 7, 6, .., 0
]


def mutation_check():
    global BUG
    fails = 0
    for bug, kernel, (N, K, group, M) in MUTATIONS:
        q, pw, ws = make_weights(N, K, group)
        groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
        if kernel == "identity":
            check = lambda: bool(bit_identity(N, K, group, [3, 9, 17]))
        elif kernel in ("w4a16", "cluster"):
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            ref = ref_w4a16(x, q, ws, K, group)
            run = w4a16 if kernel == "w4a16" else w4a16_cluster
            check = lambda: not error(run(x, pw, ws, N, K, group), *ref) < TOL
        else:
            xq, xs = quantized_x(M, K, Kp, groups, 4)
            ref = ref_w4ax(xq, xs, q, ws, K, group)
            check = lambda: not error(w4ax(xq, xs, pw, ws, N, K, group, kernel == "s4"), *ref) < TOL
        BUG = bug
        try:
            caught = check()
        except AssertionError:  # an emulated access out of bounds
            caught = True
        finally:
            BUG = ""
        fails += not caught
        print(f"{'PASS' if caught else 'FAIL'} planted bug {bug} ({kernel}) {'caught' if caught else 'NOT caught'}")
    return fails


def main():
    t0 = time.time()
    fails = run_cases()
    for N, K, group in INVARIANCE:
        bad = bit_identity(N, K, group)
        fails += bool(bad)
        print(f"{'FAIL' if bad else 'PASS'} w4a16 bit identity N={N} K={K} group={group}: "
              + (f"bits differ: {bad}" if bad else f"M in {BIT_MS}: warp-split rows = its M=70 rows, cluster rows = "
                 "warp-split rows, sm_90 dispatch rows = its M=70 rows"))
    fails += mutation_check()
    print(("ALL PASSED" if not fails else f"{fails} FAILED") + f" ({time.time() - t0:.1f} s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
