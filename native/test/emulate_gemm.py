#!/usr/bin/env python3
"""CPU emulation (numpy) of the nine INT4 GEMM kernels as written: w4a16_kernel, w4a16_cluster_kernel,
w4a16_tiled_kernel and w4a16_bulk_kernel (src/w4a16_gemm.cu), w4ax_kernel, w4ax_bulk_kernel and
w4ax_tiled_kernel (src/w4ax_gemm.cu), w4ax_wgmma_kernel (src/w4ax_wgmma.cu: the unpacking into the 128-byte swizzle,
what wgmma reads through its descriptors, the fragment it returns, the scale boxes, the K split and
its rank-ordered sum, the routing rule), w4a16_wgmma_kernel (src/w4a16_wgmma.cu: the A fragments in
registers placed by the fragment layout, the feeding warpgroup's token tasks, permutes and swizzled
stores, what wgmma reads, the slice walk, the cluster's rank-ordered sum, the routing rule; checked
bitwise against the warp-split kernel, since an MMA's sum is modelled exactly, as the H200 showed wgmma's
and mma.sync's to be for the same 16 inputs: native/test/wgmma_bits.cu), with the swap-AB tiling of src/w4_tiles.cuh (weights = the
MMA's A operand, 16 rows per m16 tile; tokens = its B operand, 8 per n8 tile) and the dispatch of
qspec_w4a16_gemm / qspec_w4ax_gemm.
Mirrored: the index math and load guards (clamps of rows >= N and tokens >= M, zero-fills, q = 0 past the
padded row), the rings in shared memory (slot rotation; the per-warp activation layout of the warp-split
kernels, the shared tiles of the cluster and tiled kernels with their x_unit / row layouts, the tiled
kernels' weight tiles, the bulk kernels' ring of chunks (a 3-D box of eight warp steps each) with two or
four row tiles and one or two token tiles, and its CTAs' walks over row tiles, with the scale buffers loaded a chunk ahead; unwritten words read as NaN),
the bit tricks (magic-number int4->fp16, byte-wise int4->int8, __byte_perm, pack_s4), the PTX fragment
layouts of mma.sync m16n8k16 f16, m16n8k32 s8 and m16n8k64 s4, the fp16 and fp32 rounding points, and every
summation order (warp steps, MMAs, folds, the warp-ordered block reduction, the slice-ordered cluster
reduction through distributed shared memory, the tiled W4A16 kernel's walk of the steps in slice order with
each slice summed apart and added to a total at its end, the tiled draft's steps in K order).
Checks: outputs against float64 references; w4a16's bitwise M-invariance, and bit identity of the
cluster, tiled and bulk kernels with the warp-split kernel (so the dispatch, which switches kernels at
M = 2 and M = 9 on sm_90 and at M = 64, is M-invariant too); the draft's bulk kernel bit for bit against its
warp-split kernel; token_order.cuh's positions (ABI 13, the producers' stores in MMA order, printed by
token_order_check) against the two permutations modelled here; and that planted bugs fail.
Run: make -C native emulate, or python3 native/test/emulate_gemm.py (then without the token-order check, which needs
QSPEC_TOKEN_ORDER_TABLE, token_order_check's output); exit code 1 on a mismatch."""
import os
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
    (float64: the products of f16 or small ints are exact). Registers of 32 n lanes (the tiled kernels'
    warps side by side, lane 32 w + l = lane l of warp w): each warp's own MMA, as n separate calls give it
    (a batched matmul may sum in another order, which changes no bit here: the test data's f16 products
    are multiples of 2^-42 below 1 in magnitude, so their float64 sums are exact, as integer ones are)."""
    PA, PB = LAYOUT[per_reg]
    if len(b0) == 32:
        A = unpack(np.concatenate(a)).reshape(-1)[PA]
        B = unpack(np.concatenate([b0, b1])).reshape(-1)[PB]
        return (A @ B)[C_ROW, C_COL]
    nw = len(b0) // 32
    A = unpack(np.stack(a).reshape(4, nw, 32).transpose(1, 0, 2).reshape(-1)).reshape(nw, -1)[:, PA]
    B = unpack(np.stack([b0, b1]).reshape(2, nw, 32).transpose(1, 0, 2).reshape(-1)).reshape(nw, -1)[:, PB]
    return (A @ B)[:, C_ROW, C_COL].reshape(nw * 32, 4)


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
    """step_mma<MT, NT, FOLD>, which every W4A16 kernel runs: acc (MT, NT, 32 lanes, 4) is updated in place
    (or (MT, NT, 32 n, 4): n warps side by side, the tiled kernel's). xfrag(mt, j): (32, 4) words, token g's
    inputs kt + 8j .. + 7 of token tile mt."""
    MT, NT = acc.shape[:2]
    part = np.zeros(acc.shape, F32)  # FOLD: the step's unscaled sums
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


# The bulk-copy kernels' ring (w4_bulk.cuh): chunks of WK steps, R of them in shared memory; per chunk
# one box of WK warp steps (each 16 NT rows x 64 bytes, WSTEP bytes) one after another, and the
# activations at [M][R][CHUNK XB + 32 bytes] after the weights of all R chunks (XB bytes an input)
RING, CHUNK, BARRIERS = 4, WK * KSTEP, 128
SHALLOW_M = 4  # w4_bulk.cuh: rings of 2 up to 4 tokens (one and two row tiles)


def bulk_ring_depth(M, NT, MT=1, XB=2):
    """ring_depth<XB, NT> (XB bytes an activation: W4A16 2, the draft 1): the deepest of RING, 3 and 2 chunks at which two CTAs (each with the kernel's
    static reduction buffer, in the ring with two token tiles, and 1 KB reserved) fit in the 228 KB of an
    SM's shared memory, and 2 up to SHALLOW_M tokens; four row tiles (one CTA per SM): 2 with one token tile (so that
    CTAs walk), 3 with two;
    four token tiles (M = 17-32, one CTA per SM): the deepest that fits one CTA (four row tiles: at most 3)."""
    static = 4 * WK * NT * 128 if MT == 1 else 4
    ring = lambda R: BARRIERS + R * (WK * NT * 16 * KSTEP // 2 + M * (CHUNK * XB + 32)) + static + 1024
    if M > 16:
        return next(R for R in (4, 3, 2) if R == 2 or (R <= (3 if NT == 4 else 4) and ring(R) <= 228 * 1024))
    if NT == 4:
        return 2 if MT == 1 else 3
    if M <= SHALLOW_M:
        return 2
    fits = lambda R: 2 * ring(R) <= 228 * 1024
    return RING if fits(RING) else 3 if fits(3) else 2


def bulk_keeps(M, K, XB, MT):
    """keeps_tokens' shared-memory condition (four row tiles, a ring of 2): the static reduction (one token tile), the
    ring's weights, M tokens' whole K at K XB + 32 bytes each and two token tiles' reduction in 227 KB."""
    static = 4 * WK * 4 * 128 if MT == 1 else 4
    red = 0 if MT == 1 else 4 * WK * MT * 4 * 128
    return (K // CHUNK) % 2 == 0 and static + BARRIERS + 2 * WK * 4 * 16 * KSTEP // 2 + M * (K * XB + 32) + red <= 227 * 1024


def bulk_ring(xw, XB, N, K, NT, MT, R, walk, pw, load, step, keep=False, kz=1):
    """The ring of w4_bulk.cuh as both bulk kernels run it, for M tokens' activations xw (M, K XB / 4 words,
    XB bytes an input), NT row tiles of 16 rows and MT token tiles of 8 tokens per CTA, R chunks: the copying
    lane puts chunk q of its CTA's walk into ring entry q % R: the chunk's 3-D box = rows n_base .. n_base +
    16 NT - 1 (zeros past N, as the tensor map reads them) x steps c WK .. c WK + 7, laid out [step][row][64
    bytes], and token rows m < M at [M][R][CHUNK XB + 32 bytes]; consumer warp w takes step WK c + w of chunk c (fragments
    read from the ring at the kernel's offsets: w[i][h][j] the word j of row 16 i + g + 8 h, xv[mt][j] the 16
    bytes j of token 8 mt + g from input 32 t, tokens >= M reading row M - 1) through step(w, xv, scales,
    acc[warp]), with the step group's scales (load(rows, warp, c): rows[i][h] the lanes' weight rows) from
    the buffer (c % R) % SB they were loaded into a chunk ahead, and the warps are reduced as reduce_store
    does, per tile.
    walk > 1 (WALK, one token tile; the walk needs nchunks % R == 0): ceil(tiles / walk) CTAs, CTA b taking
    tiles b, b + G, ..., its ring and chunk count running on from tile to tile, the next tile's scale rows
    and first scales loaded at a tile's last chunk, the sums zeroed at each tile's start.
    keep (KEEP, a walk): the activations at [M][K XB + 32 bytes] after the ring's weights, copied with the walk's
    first tile only and read at chunk c's offset by every tile; two token tiles walk too.
    kz = 2 (K_SPLIT, no walk): a cluster of two CTAs per tile; CTA z's box holds steps c WK + 4 z .. + 3 of chunk c and
    its tokens inputs c CHUNK + 512 z .. + 511; its warp w takes step w % 4 of them (slice 4 z + w % 4) for row tiles
    2 (w // 4) .. + 1; the slices' sums are added in slice order, as reduce_store adds the warps'.
    The mbarrier protocol is not emulated: chunks are copied and consumed in order."""
    M = xw.shape[0]
    SPC, NTW = WK // kz, NT // kz  # steps a CTA takes of a chunk; row tiles of a warp
    xrowb = CHUNK // kz * XB  # activation bytes of a token per chunk
    xpitch = xrowb + 32
    WSTEP = NT * 16 * KSTEP // 2  # bytes of one warp step of the box
    WSTAGE = SPC * WSTEP
    nchunks = K // CHUNK
    assert walk == 1 or ((MT == 1 or keep) and nchunks % R == 0)
    assert kz == 1 or (walk == 1 and not keep and NT % kz == 0)
    SB = 2 if R % 2 == 0 else R  # scale buffers
    kpitch = K * XB + 32  # keep: bytes from a token's activations to the next's
    words = (BARRIERS + R * WSTAGE + (M * kpitch if keep else R * M * xpitch)) // 4
    wst, xst = BARRIERS, BARRIERS + R * WSTAGE  # byte offsets in the CTA's shared memory
    xm = [np.minimum((0 if BUG == "bulk_token_tile" else 8 * mt) + G, M - 1) for mt in range(MT)]
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    tiles = ceil_div(N, 16 * NT)
    ctas = ceil_div(tiles, walk)
    rows_of = lambda tile: [[np.minimum(tile * 16 * NT + 16 * i + 8 * h + G, N - 1) for h in (0, 1)] for i in range(NT)]
    for b in range(ctas):
        slices = np.zeros((WK, MT, NT, 32, 4), F32)  # kz > 1: the cluster's sums of tile b, by slice
        for z in range(kz):
            smem = np.full(words, POISON, U32)  # unwritten = fp16 NaN
            srows = rows_of(b)
            # warp w's slice and its row tiles' scale rows (kz = 1: w, all of them)
            slice_of = lambda w: z * SPC + w % SPC
            rows_w = lambda rows, w: rows[(w // SPC) * NTW:(w // SPC + 1) * NTW]
            sr = [[None] * SB for _ in range(WK)]  # sr[warp][buffer]: the scales of a chunk
            for warp in range(WK):
                sr[warp][0] = load(rows_w(srows, warp), slice_of(warp), 0)
            q0 = 0
            for tile in range(b, tiles, ctas):
                n_base = tile * 16 * NT
                acc = np.zeros((WK, MT, NTW, 32, 4), F32) if tile == b or BUG != "bulk_walk_zero" else acc
                for c in range(nchunks):
                    st = (q0 + c) % R
                    z0 = 0 if BUG == "bulk_split_step0" else z * SPC  # the CTA's first step of a chunk
                    for w in range(SPC):  # the copying lane's box: step w of its part of the chunk at w * WSTEP
                        for r in range(16 * NT):
                            o = (wst + st * WSTAGE + w * WSTEP + 64 * r) // 4
                            s0 = (c * WK + z0 + w) * 16  # the step's first word of a row
                            smem[o:o + 16] = pw[n_base + r, s0:s0 + 16] if n_base + r < N else 0
                    x0 = (c * CHUNK + z0 * KSTEP) * XB // 4  # the tokens' first word of the CTA's part of the chunk
                    for m in range(M) if not keep or tile == b else ():
                        o = (xst + (m * kpitch + c * xrowb if keep else (m * R + st) * xpitch)) // 4
                        smem[o:o + xrowb // 4] = xw[m, x0:x0 + xrowb // 4]
                    for warp in range(WK):
                        # pre: the next chunk's scales a chunk ahead; after a tile's last chunk, the next tile's first
                        if c + 1 < nchunks:
                            sr[warp][(st + 1) % SB] = load(rows_w(srows, warp), slice_of(warp), c + 1)
                        elif tile + ctas < tiles and warp == WK - 1:
                            if BUG != "bulk_walk_scales":
                                srows = rows_of(tile + ctas)
                            for w2 in range(WK):
                                sr[w2][1 if BUG == "bulk_walk_buffer" else 0] = load(srows, w2, 0)
                    for warp in range(WK):
                        ws_ = warp % SPC  # the warp's step of the CTA's part of the chunk
                        wt = wst + st * WSTAGE + ws_ * WSTEP + (warp // SPC) * NTW * 16 * 64 + 16 * T
                        pitch = CHUNK // 2 if BUG == "bulk_box_pitch" else 64
                        w = [[[smem[(wt + (16 * i + 8 * h + G) * pitch) // 4 + j] for j in range(4)] for h in (0, 1)]
                             for i in range(NTW)]
                        at = (st if BUG == "bulk_keep_chunk" else c) * xrowb  # keep: chunk c's place in the kept buffer
                        xr = [xst + (xm[mt] * kpitch + at if keep else (xm[mt] * R + st) * xpitch) + (ws_ * KSTEP + 32 * T) * XB
                              for mt in range(MT)]
                        xv = [[np.stack([smem[(xr[mt] + 16 * j) // 4 + e] for e in range(4)], 1) for j in range(2 * XB)]
                              for mt in range(MT)]
                        step(w, xv, sr[warp][st % 2 if BUG == "bulk_scale_buffer" else st % SB], acc[warp])
                if kz == 1:
                    reduce_store(Tile(0, tile, MT, NT), acc, y, count, M, N)
                else:  # slice z SPC + s of row tile i: warp (i // NTW) SPC + s's tile i % NTW
                    for s_ in range(SPC):
                        for i in range(NT):
                            slices[z * SPC + s_, :, i] = acc[(i // NTW) * SPC + s_, :, i % NTW]
                q0 += nchunks
        if kz > 1:
            reduce_store(Tile(0, b, MT, NT), slices, y, count, M, N)
    return y, count


def bulk_tiles(M, N, NT, R, first_wide, XB):
    """The bulk kernels' MT, NT and R at M tokens on N rows: two token tiles above 8 tokens, four above 16 (on
    two row tiles: four_token_tiles_rows); four row tiles on matrices wider than 8192 rows from M = first_wide
    (W4A16: 2, the draft: 1; wide_row_tiles), else two (NT given: QSPEC_BULK_ROWS=16, QSPEC_BULK_M32_ROWS=64 and
    the tests); the ring as bulk_ring_depth (R given: QSPEC_BULK_RING)."""
    MT = 1 if M <= 8 else 2 if M <= 16 else 4
    NT = NT or (4 if N > 8192 and M >= first_wide and MT < 4 else 2)
    assert MT == 1 or NT in (2, 4)
    return MT, NT, R or bulk_ring_depth(M, NT, MT, XB)


def w4a16_bulk(x, pw, ws, N, K, group, NT=None, R=None, walk=1, keep=False, kz=1):
    """w4a16_bulk_kernel<NT, R, MT, WALK> (sm_90; M <= 32, group 128, K % 1024 == 0; bulk_tiles; the ring of
    bulk_ring): each warp step through step_mma (FOLD) with its rows' scales of the step's group (four token tiles:
    in blocks of two token tiles by two row tiles, each output's sums and fold the same)."""
    M = x.shape[0]
    assert M <= 32 and group == KSTEP and K % CHUNK == 0
    MT, NT, R = bulk_tiles(M, N, NT, R, 2, 2)
    load = lambda rows, warp, c: [[ws[rows[i][h], (c + (K // CHUNK) * warp if BUG == "bulk_scale_step" else c * WK + warp)]
                                   .astype(F32) for h in (0, 1)] for i in range(len(rows))]
    step = lambda w, xv, sc, acc: a16_step_mma(w, sc, lambda mt, j: xv[mt][j], acc, True)
    return bulk_ring(np.ascontiguousarray(x).view(U32), 2, N, K, NT, MT, R, walk, pw, load, step, keep, kz)


# ---- the CTA-tiled kernels (large M; w4_tiles.cuh) ----

BN, TSTAGES = 128, 3  # weight rows of a CTA tile; steps in the shared-memory ring of both tiled kernels
WUNITS = BN * 4  # uint4 units of a step's weight tile: row r's 64 bytes as units 4r .. 4r + 3
X88 = U32(0x88888888)  # a word of q = 0 (nibbles 8)


class TiledGrid:
    """The CTAs of a tiled kernel (grid x = token tiles of BM, y = row tiles of BN), emulated side by side
    (they share nothing; each has its own shared memory): per CTA n0, m0; per thread (C x 256 of them,
    threadIdx.x L of CTA c at 256 c + L, so a warp's 32 lanes lie together as mma takes them) its CTA,
    g, t and its warp's rows wr and tokens wm in the tile (warps as WARPS_N (rows) x WK / WARPS_N)."""

    def __init__(self, M, N, BM, WARPS_N, NT, MT):
        gx = ceil_div(M, BM)
        by, bx = np.divmod(np.arange(gx * ceil_div(N, BN)), gx)
        self.C, self.n0, self.m0 = len(bx), by * BN, bx * BM
        L = np.tile(np.arange(WK * 32), self.C)
        self.cta = np.repeat(np.arange(self.C), WK * 32)
        lane, warp = L & 31, L >> 5
        self.g, self.t = lane >> 2, lane & 3
        self.wr, self.wm = (warp % WARPS_N) * NT * 16, (warp // WARPS_N) * MT * 8

    def store(self, acc, y, count, M, N):
        """The epilogue of both tiled kernels: acc[a][b][thread][c] to y[m][n] where m < M and n < N."""
        MT, NT = acc.shape[:2]
        n0, m0 = self.n0[self.cta], self.m0[self.cta]
        for a in range(MT):
            for b in range(NT):
                for c in range(4):
                    n = n0 + self.wr + 16 * b + self.g + (8 if c >= 2 else 0)
                    m = m0 + self.wm + 8 * a + 2 * self.t + (c & 1)
                    ok = (m < M) & (n < N)
                    y[m[ok], n[ok]] = acc[a, b, ok, c]
                    np.add.at(count, (m[ok], n[ok]), 1)


def stage_weights(wsm, pw, n0, N, Kp, s):
    """w4::stage_weights of step s into wsm (C, WUNITS) uint4 of every CTA (elements e = threadIdx.x,
    + 256, ...): unit e = 4r + u is row min(n0 + r, N - 1)'s bytes 64 s + 16 u .. (cp.async, in bounds),
    or 0x88888888 (q = 0, a plain store) where its inputs start past the padded row."""
    e = np.arange(WUNITS)
    r, u = e >> 2, e & 3
    ok = s * KSTEP + 32 * u < Kp
    rows = np.minimum(n0[:, None] + r, N - 1)  # (C, WUNITS)
    word = (s * (KSTEP // 2) + 16 * u) // 4  # pw rows as words: byte offset b is word b / 4
    wsm[:] = gather(pw, rows[:, :, None], word[:, None] + np.arange(4), ok[:, None], X88)


def next_step_in_slice_order(s, nsteps):
    """w4::next_step_in_slice_order: slice z = steps z, z + WK, ..., the slices one after another; -1 at
    the end."""
    if BUG == "tiled_k_order":  # planted: the steps in K order
        return s + 1 if s + 1 < nsteps else -1
    if s + WK < nsteps:
        return s + WK
    z = s % WK + 1
    return z if z < WK and z < nsteps else -1


def w4a16_tiled(x, pw, ws, N, K, group):
    """w4a16_tiled_kernel<FOLD> (launch_tiled; qspec_w4a16_gemm where use_tiled and x rows are 16-byte units
    and K % 8 == 0): CTA tiles of BN = 128 rows x BM = 64 tokens over the whole K; 8 warps as 4 (rows) x 2
    (tokens), each step_mma<4, 2> on 32 rows x 32 tokens. Each step's weight tile (stage_weights) and
    activation tile (token row r, unit x_unit(t, j) of XROW, cp.async zero-filled for m >= M and past K)
    sit in a TSTAGES ring of shared memory (tsm: the weight ring, then the activation ring); the steps go
    in slice order, each slice summed apart (sl) and added to the total (fp32) when it ends."""
    M = x.shape[0]
    assert K % 8 == 0  # the dispatch's condition: a unit of 8 inputs lies all inside K or all past it
    MT, NT, WARPS_N = 4, 2, 4
    BM = 2 * MT * 8
    XUNITS = BM * XROW
    FOLD = group % KSTEP == 0
    Kp, nsteps = padded(K, group)
    xb = x.view(np.uint16)
    gr = TiledGrid(M, N, BM, WARPS_N, NT, MT)
    g, t, cta = gr.g, gr.t, gr.cta
    tsm = np.full((gr.C, TSTAGES * (WUNITS + XUNITS), 4), POISON, U32)  # extern __shared__ uint4 tsm[]
    xsm = TSTAGES * WUNITS  # the activation ring's first unit
    # srow: this thread's rows of each row tile (g, g + 8), clamped to N - 1
    rows = [[np.minimum(gr.n0[cta] + gr.wr + 16 * i + 8 * h + g, N - 1) for h in (0, 1)] for i in range(NT)]

    def stage(slot, s):
        stage_weights(tsm[:, slot * WUNITS:(slot + 1) * WUNITS], pw, gr.n0, N, Kp, s)
        e = np.arange(BM * 16)  # elements e = threadIdx.x, + 256, ...
        r, u = e >> 4, e & 15
        m, k = gr.m0[:, None] + r, s * KSTEP + 8 * u  # (C, BM * 16), (BM * 16)
        xu = x_unit(u & 3, u >> 2) if BUG == "tiled_x_unit" else x_unit(u >> 2, u & 3)
        assert (xu < XROW).all()
        # cp_async_16(dst, x + min(m, M - 1) * ldx + min(k, K - 8), m < M && k < K)
        src_m, ok = np.minimum(m, M - 1), (m < M) & (k < K)
        if BUG == "tiled_x_rows":  # planted: no clamp and no zero-fill for tokens >= M
            src_m, ok = m, np.broadcast_to(k < K, m.shape)
        v = gather(xb, src_m[:, :, None], np.minimum(k, K - 8)[:, None] + np.arange(8), ok[:, :, None], 0)
        v = v.astype(U32)
        tsm[:, xsm + slot * XUNITS + r * XROW + xu] = v[..., 0::2] | (v[..., 1::2] << 16)

    total = np.zeros((MT, NT, len(cta), 4), F32)
    sl = np.zeros_like(total)
    s = 0
    s1 = next_step_in_slice_order(0, nsteps)
    s2 = -1 if s1 < 0 else next_step_in_slice_order(s1, nsteps)
    stage(0, s)
    if s1 >= 0:
        stage(1, s1)
    slot = 0
    while s >= 0:
        # scur: the thread's rows' scales for step s, as load_step takes them (0 past the padded row)
        kt = s * KSTEP + 32 * t
        gi = (s if group == KSTEP else s * KSTEP // group) if FOLD else kt // group
        scur = [[gather(ws, rows[i][h], gi, kt < Kp, 0).astype(F32) for h in (0, 1)] for i in range(NT)]
        # (cp_async_wait<1>, __syncthreads: step s's tiles are complete, the slot refilled next is free)
        if s2 >= 0:
            stage(2 if slot == 0 else slot - 1, s2)
        wt = slot * WUNITS
        wcur = [[tsm[cta, wt + (gr.wr + 16 * i + 8 * h + g) * 4 + t] for h in (0, 1)] for i in range(NT)]
        w = [[[wcur[i][h][:, j] for j in range(4)] for h in (0, 1)] for i in range(NT)]
        xt = xsm + slot * XUNITS
        a16_step_mma(w, scur, lambda mt, j: tsm[cta, xt + (gr.wm + 8 * mt + g) * XROW + x_unit(t, j)], sl, FOLD)
        if s1 < 0 or s1 % WK != s % WK or BUG == "tiled_early_total":  # slice s % WK is complete
            total = total + sl  # fp32
            sl[:] = 0
        s, s1, s2 = s1, s2, (-1 if s2 < 0 else next_step_in_slice_order(s2, nsteps))
        slot = 0 if slot == TSTAGES - 1 else slot + 1
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    gr.store(total, y, count, M, N)
    return y, count


# common.cuh's cluster_gemm_min_m() (QSPEC_CLUSTER_GEMM_MIN_M unset) and use_tiled_gemm()'s default rule;
# SMS: the multiprocessors of the H100 the rule is tuned on
CLUSTER_MIN_M, TILED_MIN_M, SMS = 9, 64, 132


def use_tiled(M, N, bm, tiled_min_m=None):
    """common.cuh's use_tiled_gemm: QSPEC_TILED_GEMM_MIN_M (tiled_min_m) takes the tiled kernel from that M;
    unset, from M = 64 where its CTAs (bm tokens x BN rows) fill at least half of the SMS multiprocessors."""
    if tiled_min_m is not None:
        return M >= tiled_min_m
    return M >= TILED_MIN_M and 2 * ceil_div(M, bm) * ceil_div(N, BN) >= SMS


def use_bulk(M, N, K, group, vec, bulk_all=False, max_m=16):
    """use_bulk_gemv for W4A16 on sm_90: group 128, K % 1024 == 0, vec, M <= max_m (16: bulk_two_token_tiles, two
    row tiles up to 8192 rows, four on wider matrices; 32: four_token_tiles); by default N >= 4096; every such M and
    N with QSPEC_BULK_GEMV=all (bulk_all)."""
    if group != KSTEP or K % CHUNK or not vec or M > max_m:
        return False
    return bulk_all or N >= 4096


def four_token_tiles(M, N, mode="rule"):
    """w4_bulk.cuh's four_token_tiles: M = 17-32; QSPEC_BULK_M32 unset (mode "rule") on N <= 4096, and on N <= 8192
    up to M = 24 (session 29's H100 measurement); "all" on every N >= 4096; "off" (QSPEC_BULK_M32=0) never."""
    if not 16 < M <= 32 or mode == "off":
        return False
    if mode == "all":
        return N >= 4096
    return N >= 4096 and (N <= 4096 or (N <= 8192 and M <= 24))


def w4a16_route(M, N, K, sm90=False, vec=True, tiled_min_m=None, group=KSTEP, bulk_all=False, bulk_m32="rule"):
    """qspec_w4a16_gemm's choice of kernel: on sm_90 at M = 17-32 the bulk-copy kernel with four token tiles where
    four_token_tiles says (QSPEC_BULK_M32: bulk_m32), ahead of the warpgroup kernel; the tiled kernel (use_tiled,
    64-token tiles) where x rows are 16-byte units (vec: x 16-byte aligned, ldx % 8 == 0) and K % 8 == 0; else on
    sm_90 the cluster kernel from M = CLUSTER_MIN_M, or the bulk-copy kernel where use_bulk says; else the
    warp-split kernel (each with its tile shape by M)."""
    if sm90 and four_token_tiles(M, N, bulk_m32) and use_bulk(M, N, K, group, vec, bulk_all, 32):
        return "bulk"
    if vec and K % 8 == 0 and use_tiled(M, N, 64, tiled_min_m):
        return "tiled"
    if sm90 and M > 8 and use_bulk(M, N, K, group, vec, bulk_all):
        return "bulk"
    if sm90 and M >= CLUSTER_MIN_M:
        return "cluster"
    if sm90 and use_bulk(M, N, K, group, vec, bulk_all):
        return "bulk"
    return "warp-split"


def qspec_w4a16_gemm(x, pw, ws, N, K, group, **route):
    kernels = {"tiled": w4a16_tiled, "cluster": w4a16_cluster, "warp-split": w4a16, "bulk": w4a16_bulk}
    return kernels[w4a16_route(x.shape[0], N, K, group=group, **route)](x, pw, ws, N, K, group)


# ---- w4ax_gemm.cu ----

def ax_s8_mma(w, x_word, part, MT, NT, per_mma=None, left=KSTEP):
    """step_mma<MT, NT, WIDE, false>'s s8 MMAs of one step (w[i][h][j]: word j of rows g + 8 h of row tile i;
    x_word(mt, j): token g's 8 int8 inputs of word j): the step's int32 sums added into part (WIDE, per_mma
    None), or each MMA j from zero then per_mma(mt, i, j) (not WIDE: MMA j covers inputs 32j .. 32j + 31, one
    group; MMAs wholly past the padded row, `left` inputs from the step's first, are skipped)."""
    for j in range(4):
        if per_mma is not None and 32 * j >= left:  # the whole MMA is past the padded row
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
                if per_mma is not None:
                    part[mt, i] = 0
                mma_s8(part[mt, i], a[i], b0, b1)
                if per_mma is not None:
                    per_mma(mt, i, j)


def ax_fold(acc, part, w0, w1, x0, x1):
    """fold_into: acc += the int32 sums * (wscale * xscale) in fp32 (c = 0, 1: row g, tokens 2t, 2t + 1;
    c = 2, 3: row g + 8)."""
    scale = np.stack([w0 * x0, w0 * x1, w1 * x0, w1 * x1], 1)
    acc[:] = fmaf(part.astype(F32), scale, acc)


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
                ax_fold(acc[warp, mt, i], part, w0, w1, x0, x1)

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
                    def per_mma(mt, i, j):  # MMA j covers inputs 32j .. 32j + 31: one group
                        fold(mt, i, part[mt, i], (k0 + 32 * j) // group)
                    ax_s8_mma(w, x_word, part, MT, NT, None if WIDE else per_mma, Kp - k0)
                if WIDE:  # the step lies in one group
                    gi = s if group == KSTEP else k0 // group
                    for mt in range(MT):
                        for i in range(NT):
                            fold(mt, i, part[mt, i], gi)

            pipeline(warp, nsteps, stage_x, compute)
        reduce_store(tl, acc, y, count, M, N)
    return y, count


def w4ax_bulk(xq, xs, pw, ws, N, K, group, NT=None, R=None, walk=1, keep=False):
    """w4ax_bulk_kernel<NT, R, MT, WALK> (sm_90; M <= 32, s8, group 128, K % 1024 == 0; bulk_tiles; the ring of
    bulk_ring with int8 activations): each warp step's s8 MMAs (ax_s8_mma, WIDE), folded once with the rows'
    weight scales and the x scales of tokens 8 mt + 2t, 8 mt + 2t + 1 (clamped to M - 1) of the step's group,
    both loaded a chunk ahead."""
    M = xq.shape[0]
    assert M <= 32 and group == KSTEP and K % CHUNK == 0
    MT, NT, R = bulk_tiles(M, N, NT, R, 1, 1)
    xsrow = [[np.minimum(8 * mt + 2 * T + h, M - 1) for h in (0, 1)] for mt in range(MT)]

    def load(rows, warp, c):
        gi = c * WK + warp
        return ([[ws[rows[i][h], gi].astype(F32) for h in (0, 1)] for i in range(NT)],
                [[xs[xsrow[mt][h], gi] for h in (0, 1)] for mt in range(MT)])

    def step(w, xv, sc, acc):
        wsc, xsc = sc
        part = np.zeros((MT, NT, 32, 4), np.int64)
        ax_s8_mma(w, lambda mt, j: xv[mt][j >> 1][:, 2 * (j & 1):2 * (j & 1) + 2], part, MT, NT)
        for mt in range(MT):
            for i in range(NT):
                ax_fold(acc[mt, i], part[mt, i], wsc[i][0], wsc[i][1], xsc[mt][0], xsc[mt][1])

    return bulk_ring(np.ascontiguousarray(xq).view(U32), 1, N, K, NT, MT, R, walk, pw, load, step, keep)


def w4ax_tiled(xq, xs, pw, ws, N, K, group):
    """w4ax_tiled_kernel (launch_tiled; qspec_w4ax_gemm where use_tiled and group % 128 == 0, off the s4
    path): CTA tiles of BN = 128 rows x BM = 64 tokens over the whole K, 8 warps as 4 (rows) x 2 (tokens)
    of 32 rows x 32 tokens (NT = 2, MT = 4); weight tiles as in w4a16_tiled, activation tiles of token row r
    = 8 units of 16 int8 inputs (in order) in rows of AXROW = 9 units, zero-filled for m >= M; the steps in
    K order; each step's int32 sums of the s8 MMAs folded into fp32 (one group per step)."""
    M = xq.shape[0]
    assert group % KSTEP == 0
    NT, MT, WARPS_N, AXROW = 2, 4, 4, 9
    BM = (WK // WARPS_N) * MT * 8
    XUNITS = BM * AXROW
    Kp = ceil_div(K, group) * group
    nsteps = Kp // KSTEP
    xw = xq.view("<u4")  # xq rows (Kp int8) as words
    gr = TiledGrid(M, N, BM, WARPS_N, NT, MT)
    g, t, cta = gr.g, gr.t, gr.cta
    tsm = np.full((gr.C, TSTAGES * (WUNITS + XUNITS), 4), POISON, U32)
    xsm = TSTAGES * WUNITS
    rows = [[np.minimum(gr.n0[cta] + gr.wr + 16 * i + 8 * h + g, N - 1) for h in (0, 1)] for i in range(NT)]
    # x scales of tokens 2t, 2t + 1 of each token tile, clamped to M - 1
    xsrow = [[np.minimum(gr.m0[cta] + gr.wm + 8 * a + 2 * t + c, M - 1) for c in (0, 1)] for a in range(MT)]

    def stage(slot, s):
        stage_weights(tsm[:, slot * WUNITS:(slot + 1) * WUNITS], pw, gr.n0, N, Kp, s)
        e = np.arange(BM * 8)
        r, u = e >> 3, e & 7
        m = gr.m0[:, None] + r
        # cp_async_16(dst, xq + min(m, M - 1) * Kp + s * KSTEP + 16 u, m < M)
        word = (s * KSTEP + 16 * u) // 4
        tsm[:, xsm + slot * XUNITS + r * AXROW + u] = gather(
            xw, np.minimum(m, M - 1)[:, :, None], word[:, None] + np.arange(4), (m < M)[:, :, None], 0)

    acc = np.zeros((MT, NT, len(cta), 4), F32)
    stage(0, 0)
    if nsteps > 1:
        stage(1, 1)
    slot = 0
    for s in range(nsteps):
        gi = s if group == KSTEP else s * KSTEP // group
        wsc = [[ws[rows[i][h], gi].astype(F32) for h in (0, 1)] for i in range(NT)]
        xsc = [[xs[xsrow[a][c], gi] for c in (0, 1)] for a in range(MT)]
        if s + 2 < nsteps:
            stage(slot if BUG == "ax_tiled_ring_slot" else (2 if slot == 0 else slot - 1), s + 2)
        wt, xt = slot * WUNITS, xsm + slot * XUNITS
        part = np.zeros((MT, NT, len(cta), 4), np.int64)
        # xv[a][q]: token g's inputs 32t + 16q .. + 15 (units 2t, 2t + 1 of its row)
        xv = [[tsm[cta, xt + (gr.wm + 8 * a + g) * AXROW + 2 * t + q] for q in (0, 1)] for a in range(MT)]
        for j in range(4):
            af = []
            for i in range(NT):  # rows g (a0 even inputs, a2 odd) and g + 8 (a1, a3), word j
                lo, hi = (tsm[cta, wt + (gr.wr + 16 * i + 8 * h + g) * 4 + t][:, j] for h in (0, 1))
                a0, a2 = int4_to_s8x8(lo)
                a1, a3 = int4_to_s8x8(hi)
                af.append([a0, a1, a2, a3])
            for a in range(MT):
                v = xv[a][j >> 1]
                x0, x1 = (v[:, 2], v[:, 3]) if j & 1 else (v[:, 0], v[:, 1])
                b0, b1 = byte_perm(x0, x1, 0x6420), byte_perm(x0, x1, 0x7531)
                for i in range(NT):
                    mma_s8(part[a, i], af[i], b0, b1)
        for a in range(MT):  # acc = fmaf((float)part, wscale * xscale, acc)
            for i in range(NT):
                scale = np.stack([wsc[i][0] * xsc[a][0], wsc[i][0] * xsc[a][1],
                                  wsc[i][1] * xsc[a][0], wsc[i][1] * xsc[a][1]], 1)
                acc[a, i] = fmaf(part[a, i].astype(F32), scale, acc[a, i])
        slot = 0 if slot == TSTAGES - 1 else slot + 1
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    gr.store(acc, y, count, M, N)
    return y, count


def qspec_w4ax_gemm(xq, xs, pw, ws, N, K, group, bits, s4=False, tiled_min_m=None):
    """qspec_w4ax_gemm's choice of kernel (s4: use_s4()): the tiled s8 kernel (use_tiled, 64-token tiles)
    where group % 128 == 0, unless A4 takes the s4 MMA; else the warp-split kernel (its MT by M; s4 for A4
    when use_s4() and group % 128 == 0)."""
    M = xq.shape[0]
    if group % KSTEP == 0 and not (bits == 4 and s4) and use_tiled(M, N, 64, tiled_min_m):
        return w4ax_tiled(xq, xs, pw, ws, N, K, group)
    return w4ax(xq, xs, pw, ws, N, K, group, bits == 4 and s4 and group % KSTEP == 0)


# ---- w4ax_wgmma.cu: the draft's warpgroup kernel (sm_90a, many tokens) ----

WG_ROWS, SCALE_STEPS = 128, 8  # weight rows per CTA; steps per scale box
WG_DRAFT_MIN_M = 17  # grid_of's fewest tokens (QSPEC_WGMMA_DRAFT_MIN_M unset)


def sw128(row, byte):
    """Where the kernel (unpacking) and TMA (CU_TENSOR_MAP_SWIZZLE_128B) put byte `byte` of row `row` of a tile
    of 128-byte rows: 16-byte unit u at u ^ (row % 8)."""
    return row * 128 + (((byte >> 4) ^ (row & 7)) << 4) + (byte & 15)


def wgmma_read(tile, rows, ks):
    """What wgmma reads (layout type 1, K-major, stride offset 1024) from a 1024-byte aligned tile with the
    descriptor's start address advanced by 32 ks: element (r, kk) at linear address 32 ks + (r // 8) 1024 +
    (r % 8) 128 + kk, address bits 4-6 XORed with bits 7-9 (the hardware swizzles the address itself)."""
    r, kk = np.arange(rows)[:, None], np.arange(32)[None, :]
    a = 32 * ks + (r // 8) * 1024 + (r % 8) * 128 + kk
    return tile[a ^ (((a >> 7) & 7) << 4)].view(np.int8).astype(np.int64)


def int_to_float(d):
    """w4ax_wgmma.cu's conversion: the float with bits 0x4b400000 + d, minus 1.5 * 2^23 (exact for |d| < 2^22)."""
    return ((np.asarray(d, np.int64) + 0x4B400000).astype(U32).view(F32) - F32(12582912.0)).astype(F32)


def wg_grid(M, N, steps, every=False, forced_bn=0, forced_split=0, rule=True):
    """w4ax_wgmma.cu's grid_of: (token-tile width or 0, CTAs splitting K); rule=False: the rule before session 24
    (QSPEC_WGMMA_DRAFT_GRID=0)."""
    rows = ceil_div(N, WG_ROWS)
    fits = lambda z: z <= 8 and steps % (SCALE_STEPS * z) == 0
    fills = lambda ctas: 10 * ctas >= 9 * SMS  # 90 % of the SMs get a CTA
    t128 = ceil_div(M, 128)
    wide = 2 * t128 * rows >= SMS or (rule and fits(2) and steps // 2 >= 32 and fills(2 * t128 * rows)
                                      and 4 * M > 3 * 128 * t128)
    bn = (forced_bn if forced_bn in (32, 64, 128) else 128 if M >= 96 and wide else 32 if M <= 32 else 64)
    ctas, slots = ceil_div(M, bn) * rows, SMS * (1 if bn == 128 else 2)
    split = 1
    if forced_split >= 1 and fits(forced_split):
        split = forced_split
    elif M > 32 or steps >= 64:
        for z in range(2, 9):
            if not fits(z) or ctas * z > slots or not (2 * ctas <= SMS or steps // z >= 32):
                continue
            split = z
            if rule and 2 * ctas <= SMS and fills(ctas * z):  # a small grid: the fewest CTAs that fill the SMs
                break
    if not every and (M < WG_DRAFT_MIN_M or ctas * split < 64):
        bn = 0
    return bn, split


def scale_boxes_loaded(nsteps, stages):
    """The scale boxes the feeding lane copies for a CTA of nsteps steps: boxes 0 and 1 first, then box c + 2
    once the multiplying warps released step 8c + 7 (seen at step 8c + 7 + stages)."""
    boxes = [c for c in range(2) if c * SCALE_STEPS < nsteps]
    for s in range(stages, nsteps):
        done = s - stages
        if done % SCALE_STEPS == SCALE_STEPS - 1 and done + 1 + SCALE_STEPS < nsteps:
            boxes.append(done // SCALE_STEPS + 2)
            assert 8 * boxes[-1] > s, "a box refilled after the step that needs it"
    return boxes


def permute_tokens_rf(xq):
    """w4ax_wgmma.cu's permute_tokens_rf: in each 128-input group, the 8 inputs 32t + 8kk .. + 7 go, even ones to
    bytes 32kk + 4t .. + 3 and odd ones to 32kk + 16 + 4t .. + 3."""
    M, Kp = xq.shape
    words = np.ascontiguousarray(xq).view("<u4").reshape(-1, 2)  # 8-byte chunks in order
    at = 8 * np.arange(len(words))
    group, within = at & ~127, at & 127
    t, kk = within >> 5, (within >> 3) & 3
    sel = (0x7531, 0x6420) if BUG == "rf_perm" else (0x6420, 0x7531)
    out = np.zeros(M * Kp // 4, U32)
    out[(group + 32 * kk + 4 * t) >> 2] = byte_perm(words[:, 0], words[:, 1], sel[0])
    out[(group + 32 * kk + 16 + 4 * t) >> 2] = byte_perm(words[:, 0], words[:, 1], sel[1])
    return out.view(np.int8).reshape(M, Kp)


def rf_a_operand(raw):
    """The A operand that w4ax_wgmma_rf_kernel's multiplying threads hold for a step, per MMA kk (128 rows x 32,
    as wgmma reads registers: each warp's 16 rows in mma.sync m16n8k32's A layout): thread (warp w of warpgroup
    me, lane (g, t)) reads the 16 bytes at 16 t of rows r0 = 64 me + 16 w + g and r0 + 8 and gives MMA kk word
    kk's even nibbles (a0: row r0, a1: r0 + 8) and odd ones (a2, a3)."""
    words = raw.view("<u4")  # (128, 16)
    PA = LAYOUT[4][0]
    out = np.zeros((4, WG_ROWS, 32), np.int64)
    for w in range(8):
        r0 = 16 * w + G
        off = 4 * T + (1 if BUG == "rf_word" else 0) * (T & 1)
        for kk in range(4):
            lo_g, hi_g = int4_to_s8x8(words[r0, off + kk])
            lo_g8, hi_g8 = int4_to_s8x8(words[r0 + 8, off + kk])
            regs = [lo_g, hi_g, lo_g8, hi_g8] if BUG == "rf_a_frag" else [lo_g, lo_g8, hi_g, hi_g8]
            out[kk, 16 * w:16 * w + 16] = unpack_s8(np.concatenate(regs)).reshape(-1)[PA]
    return out


def w4ax_wgmma(xq, xs, pw, ws, N, K, group, bn=None, split=None, a_regs=False):
    """w4ax_wgmma_kernel<bn> on a grid split `split` ways along K (grid_of's choice at every M unless given); a_regs:
    w4ax_wgmma_rf_kernel (the weights from registers, the tokens permuted by permute_tokens_rf), the same sums."""
    assert group == KSTEP
    M, groups = xq.shape[0], ceil_div(K, KSTEP)
    Kp, steps = groups * KSTEP, groups
    assert steps % SCALE_STEPS == 0
    if bn is None:
        bn, split = wg_grid(M, N, steps, every=True)
    nl = steps // split
    step_of = (lambda z, s: z * SCALE_STEPS + s) if BUG == "wg_split_step0" else (lambda z, s: z * nl + s)
    pb = pw.view(np.uint8).reshape(N, Kp // 2)
    xb = np.ascontiguousarray(permute_tokens_rf(xq) if a_regs else xq).view(np.uint8)
    ct = np.arange(256)[:, None]  # multiplying thread: warpgroup ct >> 7, warp (ct >> 5) & 3, lane ct & 31
    i = np.arange(bn // 2)[None, :]  # fragment index 4j + 2i + e
    lane = ct & 31
    r_of = 64 * (ct >> 7) + 16 * ((ct >> 5) & 3) + (lane >> 2)  # the store's row, as the kernel's lambda forms it
    r_of = r_of + (0 * i if BUG == "wg_store_row" else 8 * ((i >> 1) & 1))
    t_of = 8 * (i >> 2) + 2 * (lane & 3) + (i & 1)
    rf = 64 * (ct >> 7) + 16 * ((ct >> 5) & 3) + (lane >> 2) + 8 * ((i >> 1) & 1)  # the fragment's row (wgmma_s8)
    e = np.arange(1024)  # unpacking tasks: row e >> 3, 16 inputs at 16 (e & 7)
    er, ec = e >> 3, e & 7
    sel = (0x6420, 0x7531) if BUG == "wg_prmt" else (0x5140, 0x7362)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    for by in range(ceil_div(N, WG_ROWS)):
        n0 = by * WG_ROWS
        nv = min(WG_ROWS, N - n0)
        for bx in range(ceil_div(M, bn)):
            m0 = bx * bn
            mv = min(bn, M - m0)
            parts = []
            for z in range(split):
                acc = np.zeros((256, bn // 2), F32)
                for s in range(nl):
                    gs = step_of(z, s)
                    raw = np.zeros((WG_ROWS, 64), np.uint8)  # the tensor-map box: rows past N read as zeros
                    raw[:nv] = pb[n0:n0 + nv, 64 * gs:64 * gs + 64]
                    words = raw.view("<u4")
                    lo0, hi0 = int4_to_s8x8(words[er, 2 * ec])
                    lo1, hi1 = int4_to_s8x8(words[er, 2 * ec + 1])
                    q = np.stack([byte_perm(lo0, hi0, sel[0]), byte_perm(lo0, hi0, sel[1]),
                                  byte_perm(lo1, hi1, sel[0]), byte_perm(lo1, hi1, sel[1])], axis=1)
                    a = np.zeros(WG_ROWS * 128, np.uint8)
                    unit = ec if BUG == "wg_swizzle" else ec ^ (er & 7)
                    a[(er * 128 + (unit << 4))[:, None] + np.arange(16)] = np.ascontiguousarray(q).view(np.uint8)
                    b = np.zeros(bn * 128, np.uint8)  # the activation box, swizzled by TMA; tokens past M zero
                    tr, kb = np.arange(mv)[:, None], np.arange(128)[None, :]
                    b[sw128(tr, kb)] = xb[m0:m0 + mv, 128 * gs:128 * gs + 128]
                    A = rf_a_operand(raw) if a_regs else [wgmma_read(a, WG_ROWS, ks) for ks in range(4)]
                    d = sum(A[ks] @ wgmma_read(b, bn, ks).T for ks in range(4))
                    # scale boxes: column s % 8 of the box of steps z nl + 8 (s // 8) ..; zeros past N and M
                    col = gs - gs % SCALE_STEPS + (gs + 1) % SCALE_STEPS if BUG == "wg_scale_box" else gs
                    wsc = np.zeros(WG_ROWS, F32)
                    wsc[:nv] = ws[n0:n0 + nv, col].astype(F32)
                    xsc = np.zeros(bn, F32)
                    xsc[:mv] = xs[m0:m0 + mv, col]
                    acc = fmaf(int_to_float(d[rf, t_of]), (wsc[rf] * xsc[t_of]).astype(F32), acc)
                parts.append(acc)
            total = parts[0] if split == 1 else np.zeros_like(parts[0])
            if split > 1:  # rank order, 0 + P0 + P1 + ...
                for p_ in parts:
                    total = (total + p_).astype(F32)
            n, m = n0 + r_of, m0 + t_of
            ok = (n < N) & (m < M)
            y[m[ok], n[ok]] = total[ok]
            np.add.at(count, (m[ok], n[ok]), 1)
    return y, count


# (M, N, K) of the warpgroup kernel, group 128: 64- and 128-token tiles, partial in rows and tokens, ragged
# K (1000 -> 8 groups), 1-3 scale boxes, K split 1, 2, 3 and 7 ways
WG_CASES = [(70, 150, 1000, 64, 1), (130, 20, 1024, 128, 1), (64, 200, 2048, 64, 2), (33, 130, 3072, 64, 3),
            (9, 40, 7168, 64, 7), (200, 300, 2048, 128, 2), (20, 150, 1024, 32, 1), (30, 70, 2048, 32, 2),
            (40, 20, 1024, 32, 1)]


def wg_rf(M, N, K):
    """w4ax_wgmma.cu's rf_of (QSPEC_WGMMA_DRAFT_RF unset): "ahead" where the weights-from-registers build runs (on grids
    of 64- and 128-token tiles), else "off"."""
    takes = N >= 2048 and M <= 256 and (M > 64 or N * K >= 1 << 25)
    return "ahead" if takes and wg_grid(M, N, ceil_div(K, KSTEP))[0] >= 64 else "off"


def check_wgmma_rule():
    """grid_of on the Llama-3-8B shapes the H200 and H100 benchmarks measured (docs/KERNELS.md); the rule before
    session 24 where it differs (QSPEC_WGMMA_DRAFT_GRID=0)."""
    want = {(16, 14336, 4096): (0, 1), (32, 128256, 4096): (32, 1), (64, 14336, 4096): (64, 1),
            (256, 14336, 4096): (128, 1), (256, 1024, 4096): (64, 4), (64, 1024, 4096): (0, 4),
            (64, 4096, 14336): (64, 7), (256, 4096, 14336): (128, 2), (256, 4096, 4096): (64, 1),
            (64, 4096, 4096): (64, 4), (128, 128256, 4096): (128, 1), (40, 4096, 4096): (64, 4),
            (48, 4096, 14336): (64, 7), (32, 4096, 4096): (0, 1), (40, 14336, 4096): (64, 1),
            (32, 4096, 14336): (32, 7), (24, 14336, 4096): (32, 1), (17, 128256, 4096): (32, 1),
            (24, 4096, 4096): (0, 1), (24, 6144, 4096): (0, 1), (128, 4096, 4096): (64, 2),
            (128, 4096, 14336): (64, 2), (128, 1024, 4096): (64, 4), (64, 6144, 4096): (64, 4),
            (256, 6144, 4096): (128, 1)}
    before = {(256, 4096, 14336): (64, 2), (128, 4096, 4096): (64, 4)}
    bad = [f"M={M} N={N} K={K}: {wg_grid(M, N, K // KSTEP)}" for (M, N, K), w in want.items()
           if wg_grid(M, N, K // KSTEP) != w]
    bad += [f"M={M} N={N} K={K} (rule off): {wg_grid(M, N, K // KSTEP, rule=False)}" for (M, N, K), w in before.items()
            if wg_grid(M, N, K // KSTEP, rule=False) != w]
    # session 50's rule (call 2 on an H100): the large matrices from 33 tokens, q/o and q|k|v from 65, never k/v, nor
    # past 256 tokens or on 32-token tiles
    bad += [f"M={M} N={N} K={K}: weights from registers {wg_rf(M, N, K)}" for M, N, K, rf in (
        (64, 14336, 4096, "ahead"), (48, 28672, 4096, "ahead"), (64, 4096, 14336, "ahead"), (48, 128256, 4096, "ahead"),
        (64, 4096, 4096, "off"), (64, 6144, 4096, "off"), (96, 4096, 4096, "ahead"), (128, 6144, 4096, "ahead"),
        (256, 1024, 4096, "off"), (300, 14336, 4096, "off"), (32, 14336, 4096, "off"), (256, 4096, 14336, "ahead"))
        if wg_rf(M, N, K) != rf]
    boxes_bad = [(n, st) for n in (8, 16, 24, 32, 112) for st in (2, 3, 4)
                 if sorted(scale_boxes_loaded(n, st)) != list(range(n // SCALE_STEPS))]
    print(f"{'FAIL' if bad or boxes_bad else 'PASS'} warpgroup draft kernel: routing on the Llama-3-8B shapes, "
          f"every scale box copied once and in time" + "".join(f"; {b}" for b in bad + boxes_bad))
    return len(bad) + len(boxes_bad)


# w4ax_wgmma.cu's builds: (BN, AS unpacked steps, BS activation steps, CS steps a chunk of packed weights, RC chunks)
WG_BUILDS = {"Narrow1": (32, 3, 4, 8, 2), "Narrow2": (32, 2, 2, 4, 2), "Tokens64": (64, 3, 3, 1, 3),
             "Tokens128": (128, 4, 4, 1, 4)}


def draft_ring_schedule(nsteps, AS, BS, CS, RC, bug=None):
    """The feeding warpgroup's copies, event by event as the kernel orders them, into rings of slots: packed
    chunks (RC slots of CS steps), activations (BS slots), unpacked steps (AS slots). At feeder step s the
    multiplying warps are known to be done with step s - AS (a_empty) and no more. Returns the problems: a step
    unpacked or multiplied from a slot that does not hold its data, a slot overwritten while a step not yet done
    still needs it, a copy made twice or never."""
    problems, raw, xs_ = [], {}, {}
    copies = []

    def copy_raw(c):
        copies.append(("raw", c))
        raw[c % RC] = c

    def copy_x(t):
        copies.append(("x", t))
        xs_[t % BS] = t

    for c in range(min(RC, ceil_div(nsteps, CS))):
        copy_raw(c)
    for t in range(min(BS, nsteps)):
        copy_x(t)
    lead = BS - AS + (1 if bug == "ring_x_lead" else 0)
    for s in range(nsteps):
        if s >= AS:
            done = s - AS  # the multiplying warps finished step done: its activation slot may be refilled
            if done + AS + lead < nsteps:
                t = done + AS + lead
                # every step after `done` that is not yet multiplied must keep its activations
                if any(xs_.get(t % BS) == u for u in range(done + 1, nsteps)):
                    problems.append(f"x slot {t % BS} overwritten at step {s} while step {xs_[t % BS]} needs it")
                copy_x(t)
        if raw.get((s // CS) % RC) != s // CS:
            problems.append(f"step {s} unpacked from a slot without its chunk")
        if s % CS == CS - 1 and (s // CS + RC) * CS < nsteps:
            copy_raw(s // CS + RC)  # chunk s // CS has been unpacked by the whole warpgroup
        # the multiplying warps may reach step s as soon as it is unpacked: its activations must be there
        if xs_.get(s % BS) != s:
            problems.append(f"step {s} multiplied without its activations")
    want = [("raw", c) for c in range(ceil_div(nsteps, CS))] + [("x", t) for t in range(nsteps)]
    if sorted(copies) != sorted(want):
        problems.append("copies made twice or never")
    return problems


def check_draft_rings():
    """Each build's rings on CTAs of 8-112 steps (the kernel's K per CTA is a multiple of 8), and a planted bug
    (activations copied one step further ahead than their ring allows) caught."""
    bad = [f"{name} nsteps={n}: {p[0]}" for name, (bn, AS, BS, CS, RC) in WG_BUILDS.items()
           for n in (8, 16, 24, 32, 56, 112) for p in [draft_ring_schedule(n, AS, BS, CS, RC)] if p]
    caught = all(draft_ring_schedule(32, AS, BS, CS, RC, "ring_x_lead")
                 for bn, AS, BS, CS, RC in WG_BUILDS.values())
    ok = not bad and caught
    print(f"{'PASS' if ok else 'FAIL'} warpgroup draft kernel's rings: every build's packed chunks, activations and "
          f"unpacked steps in their slots when used, each copied once; planted bug ring_x_lead "
          f"{'caught' if caught else 'NOT caught'}" + "".join(f"; {b}" for b in bad))
    return 0 if ok else 1


def run_wgmma_cases():
    fails = 0
    for M, N, K, bn, split in WG_CASES:
        q, pw, ws = make_weights(N, K, KSTEP)
        for bits in (8, 4):
            xq, xs = quantized_x(M, K, ceil_div(K, KSTEP) * KSTEP, ceil_div(K, KSTEP), bits)
            y = w4ax_wgmma(xq, xs, pw, ws, N, K, KSTEP, bn, split)
            err = error(y, *ref_w4ax(xq, xs, q, ws, K, KSTEP))
            fails += not err < TOL
            print(f"{'PASS' if err < TOL else 'FAIL'} wgmma draft A{bits} M={M} N={N} K={K} BN={bn} split={split} "
                  f"err {err:.1e}")
            if bn >= 64:  # the weights-from-registers build (QSPEC_WGMMA_DRAFT_RF): its bits must be these
                y_rf, count_rf = w4ax_wgmma(xq, xs, pw, ws, N, K, KSTEP, bn, split, a_regs=True)
                same = np.array_equal(y_rf, y[0], equal_nan=True) and np.array_equal(count_rf, y[1])
                fails += not same
                print(f"{'PASS' if same else 'FAIL'} wgmma draft, weights from registers, A{bits} M={M} N={N} K={K} "
                      f"BN={bn} split={split}: {'the same bits' if same else 'bits differ'}")
    return fails


WV_MIN_M = 17  # w4a16_wgmma.cu's grid_of: the fewest tokens (QSPEC_WGMMA_VERIFY_MIN_M unset)


WV_BN32_MAX_M = 32  # w4a16_wgmma.cu's grid_of: 32-token tiles up to this M (QSPEC_WGMMA_VERIFY_BN32_MAX_M unset)


def wv_split_of(ctas, steps):
    """grid_of's split_of: 8 slices where the grid gives at most a quarter of the SMs a CTA, or half with long slices."""
    return WK if 4 * ctas <= SMS or (2 * ctas <= SMS and steps // WK >= 8) else 1


def wv_bn(M, N, steps):
    """w4a16_wgmma.cu's grid_of: tokens per CTA (32 for passes of at most WV_BN32_MAX_M tokens, and at up to 128
    where the 64-token grid neither splits nor gives half the SMs a CTA)."""
    ctas64 = ceil_div(M, 64) * ceil_div(N, WG_ROWS)
    return 32 if M <= WV_BN32_MAX_M or (M <= 128 and wv_split_of(ctas64, steps) == 1 and 2 * ctas64 <= SMS) else 64


def wv_grid(M, N, steps, every=False):
    """w4a16_wgmma.cu's grid_of: (CTAs along K (1, 2 or 8; 0 where the kernel does not run), 64-row tiles per
    multiplying warpgroup (2: 256-row CTAs, where K is not split and 1.6 x their waves are fewer)), with
    wv_bn(M, N, steps) tokens per CTA; at M <= 32, where 8 slices do not pay, clusters of 2 on grids of at most
    half the SMs' CTAs."""
    bn = wv_bn(M, N, steps)
    ctas = ceil_div(M, bn) * ceil_div(N, WG_ROWS)
    split = wv_split_of(ctas, steps)
    small_split_pays = bn == 32 and (ctas * WK <= SMS or steps // WK >= 8)
    if bn == 32 and M <= 32 and not small_split_pays and 2 * ctas <= SMS:
        split = 2
    if not every and (M < WV_MIN_M or ctas * split < 64 or (M <= 32 and split == WK and not small_split_pays)):
        return 0, 1
    waves, waves2 = ceil_div(ctas, SMS), ceil_div(ceil_div(M, bn) * ceil_div(N, 2 * WG_ROWS), SMS)
    return split, 2 if split == 1 and 8 * waves2 < 5 * waves else 1


def wgmma_read_f16(tile, rows, c):
    """What an fp16 wgmma reads from a 128-byte swizzled K-major tile (64 inputs a row) with the descriptor
    advanced by 32 (c % 4) bytes: (rows, 16) halves, element (r, kk) at linear address 32 (c % 4) + (r // 8) 1024
    + (r % 8) 128 + 2 kk, address bits 4-6 XORed with bits 7-9."""
    r, kk = np.arange(rows)[:, None], np.arange(32)[None, :]
    a = 32 * (c % 4) + (r // 8) * 1024 + (r % 8) * 128 + kk
    return np.ascontiguousarray(tile[a ^ (((a >> 7) & 7) << 4)]).view(F16).astype(np.float64)


def permute_tokens_direct(x, Kp):
    """w4a16_wgmma.cu's permute_tokens_direct: (M, Kp) fp16, per 128-input step MMA c = 2j + q's 16 inputs at halves
    64 (c // 4) + 16 (c % 4) + {2t, 2t + 1} (inputs 32t + 8j + 2q and + 4) and + 8 (+ 1 and + 5); zeros past K."""
    M, K = x.shape
    xp = np.zeros((M, Kp), F16)
    xp[:, :K] = x
    v = xp.reshape(M, Kp // 8, 4, 2).view("<u4").reshape(M, Kp // 8, 4)  # words of 8 inputs: pairs (0,1) .. (6,7)
    k8 = 8 * np.arange(Kp // 8)
    step, t, j = k8 // KSTEP, (k8 % KSTEP) // 32, (k8 % 32) // 8
    out = np.zeros((M, Kp // 2), U32)
    for q in (0, 1):
        c = 2 * j + q
        at = (step * KSTEP + 64 * (c // 4) + 16 * (c % 4) + 2 * t) // 2  # in words of two halves
        sel = (0x7632, 0x5410) if BUG == "wv_direct_perm" else (0x5410, 0x7632)
        for h in (0, 1):
            out[:, at + 4 * h] = byte_perm(v[:, :, q].reshape(-1), v[:, :, q + 2].reshape(-1), sel[h]).reshape(M, -1)
    return out.view(F16)


def w4a16_wgmma(x, pw, ws, N, K, group, split=None, tiles=1, bn=None, direct=False):
    """w4a16_wgmma_kernel (w4a16_wgmma.cu) on a grid split `split` ways along K (1, or 8: a cluster, one slice
    per CTA; grid_of's choice at every M unless given): 128 tiles rows x bn tokens (64 or 32; grid_of's choice
    unless given) per CTA (tiles = 2: K not
    split; multiplying thread ct's rows r0 and r0 + 128, its scales sc[r0 + 128 T]). Modelled as the kernel
    forms them: the multiplying threads' A fragments (rows r0, r0 + 8, step_mma's unpacking) placed in the m64
    A operand by the fragment layout; the feeding warpgroup's token tasks (loads from the two TMA-swizzled
    boxes, byte permutes, swizzled stores); what wgmma reads through the descriptor; the 8 MMAs from zero
    (exact dot products, one fp32 rounding each, as mma_f16); the fold; the slice walk; the rank-order sum.
    direct: the DIRECT build (QSPEC_WGMMA_VERIFY_DIRECT): the MMAs read the copied boxes of the tokens permuted by
    permute_tokens_direct, and no feeding pass writes them."""
    assert group == KSTEP
    M = x.shape[0]
    steps = ceil_div(K, KSTEP)
    Kp, per_slice = steps * KSTEP, steps // WK
    assert steps % WK == 0
    if split is None:
        split, tiles = wv_grid(M, N, steps, every=True)
    bn = bn or wv_bn(M, N, ceil_div(K, KSTEP))
    assert tiles == 1 or split == 1
    R = WG_ROWS * tiles  # rows per CTA
    pb = pw.view(np.uint8).reshape(N, Kp // 2)
    xp = np.zeros((M, Kp), F16)
    xp[:, :K] = x  # the tensor map reads zeros past K
    if direct:
        xp = permute_tokens_direct(x, Kp)
    ct = np.arange(256)  # multiplying thread: warpgroup ct >> 7, warp (ct >> 5) & 3, lane ct & 31
    g, t = (ct & 31) >> 2, ct & 3
    r0 = 64 * (ct >> 7) + 16 * ((ct >> 5) & 3) + g
    e = np.arange(4 * bn)  # feeding tasks e = tid + 128 h: token e % bn, word e // bn
    er, ej = e & (bn - 1), (e >> 6 if BUG == "wv_task_word" else e // bn)
    y, count = np.full((M, N), np.nan, F32), np.zeros((M, N), int)
    for by in range(ceil_div(N, R)):
        n0 = by * R
        nv = min(R, N - n0)
        for bx in range(ceil_div(M, bn)):
            m0 = bx * bn
            mv = min(bn, M - m0)
            totals = []
            spc = WK // split  # slices per CTA of a split (split 2 or 4: 32-token tiles, each slice's sums apart)
            for z in range(split):
                acc, total, mine = np.zeros((R, bn), F32), np.zeros((R, bn), F32), []
                for sl in (range(z * spc, z * spc + spc) if split > 1 else range(WK)):
                    if split > 1:
                        total = np.zeros((R, bn), F32)
                    for k in range(per_slice):
                        st = sl * per_slice + k if BUG == "wv_k_order" else sl + WK * k
                        raw = np.zeros((R, 64), np.uint8)  # the tensor-map boxes: zeros past N and M
                        raw[:nv] = pb[n0:n0 + nv, 64 * st:64 * st + 64]
                        boxes = np.zeros((2, bn * 128), np.uint8)
                        tr, kb = np.arange(mv)[:, None], np.arange(128)[None, :]
                        xb = np.ascontiguousarray(xp[m0:m0 + mv, KSTEP * st:KSTEP * st + KSTEP]).view(np.uint8)
                        for bb in range(2):
                            boxes[bb][sw128(tr, kb)] = xb[:, 128 * bb:128 * bb + 128]
                        # feeding warpgroup: the tokens in MMA order (direct: already the copied boxes)
                        btile = boxes if direct else np.zeros((2, bn * 128), np.uint8)
                        xor = 0 if BUG == "wv_swizzle" else (er & 7)
                        for q in (() if direct else (0, 1)):
                            c = 2 * ej + q
                            lo, hi = [], []
                            for tq in range(4):
                                addr = er * 128 + (((4 * (tq % 2) + ej) ^ (er & 7)) << 4)
                                words = boxes[tq // 2][addr[:, None] + np.arange(16)].copy().view("<u4")
                                a0, a1 = words[:, 1 if q else 0], words[:, 3 if q else 2]
                                sel = (0x7632, 0x5410) if BUG == "wv_prmt" else (0x5410, 0x7632)
                                lo.append(byte_perm(a0, a1, sel[0]))
                                hi.append(byte_perm(a0, a1, sel[1]))
                            for half, vals in ((0, lo), (1, hi)):
                                dst = er * 128 + (((2 * (c % 4) + half) ^ xor) << 4)
                                data = np.ascontiguousarray(np.stack(vals, 1)).view(np.uint8)
                                for cc in range(8):  # k-tile c // 4
                                    sel_c = c == cc
                                    btile[cc // 4][dst[sel_c][:, None] + np.arange(16)] = data[sel_c]
                        # multiplying warpgroups: step_mma's A fragments of rows r0, r0 + 8, into the m64 operand
                        cols = 16 * t[:, None] + np.arange(16)  # the thread's 16 bytes of each row
                        part = np.zeros((R, bn), F32)
                        # tile T's rows: r0 + 128 T (a planted bug: + 64 T, the other warpgroup's)
                        rt = [r0 + (64 if BUG == "wv_tile_rows" else 128) * T for T in range(tiles)]
                        wlo = [np.ascontiguousarray(raw[r[:, None], cols]).view("<u4") for r in rt]
                        whi = [np.ascontiguousarray(raw[r[:, None] + 8, cols]).view("<u4") for r in rt]
                        for j in range(4):
                            for q in (0, 1):
                                c = 2 * j + q
                                A = np.zeros((R, 16))
                                for T in range(tiles):
                                    lo_h, hi_h = int4_to_half2x4(wlo[T][:, j]), int4_to_half2x4(whi[T][:, j])
                                    regs = ([lo_h[2 * q], lo_h[2 * q + 1], hi_h[2 * q], hi_h[2 * q + 1]] if BUG == "wv_a_frag"
                                            else [lo_h[2 * q], hi_h[2 * q], lo_h[2 * q + 1], hi_h[2 * q + 1]])
                                    for reg, (dr, dk) in enumerate(((0, 0), (8, 0), (0, 8), (8, 8))):
                                        A[(128 * T + r0 + dr)[:, None], (2 * t + dk)[:, None] + np.arange(2)] = regs[reg].astype(np.float64)
                                B = wgmma_read_f16(btile[c // 4], bn, c)
                                part = (A @ B.T + part).astype(F32) if c else (A @ B.T).astype(F32)
                        sc = np.zeros(R, F32)
                        sc[:nv] = ws[n0:n0 + nv, st].astype(F32)
                        acc = fmaf(part, sc[:, None], acc)
                        if k == per_slice - 1 or BUG == "wv_early_total":  # total += the slice, in slice order
                            total, acc = (total + acc).astype(F32), np.zeros_like(acc)
                    if split > 1:
                        mine.append(total)
                totals += (mine[::-1] if BUG == "wv_cta_slices" else mine) if split > 1 else [total]
            out = np.zeros((R, bn), F32)
            for p_ in (totals[::-1] if BUG == "wv_rank_order" else totals):  # 0 + P0 + P1 + ...
                out = (out + p_).astype(F32)
            y[m0:m0 + mv, n0:n0 + nv] = out[:nv, :mv].T
            count[m0:m0 + mv, n0:n0 + nv] += 1
    return y, count


# (M, N, K, split, tiles, tokens per CTA) of the verify's warpgroup kernel, group 128: partial row and token tiles,
# ragged K, the split, 256-row CTAs (one partial, one whose second tile holds no rows); then 32-token tiles
# (QSPEC_WGMMA_VERIFY_BN32_MAX_M): a partial one, two of them, split, and on 256-row CTAs
WV_CASES = [(70, 150, 1000, 1, 1, 64), (9, 40, 2048, 8, 1, 64), (64, 200, 1024, 1, 1, 64), (100, 130, 3072, 8, 1, 64),
            (70, 300, 1000, 1, 2, 64), (40, 100, 2048, 1, 2, 64),
            (20, 150, 1000, 1, 1, 32), (45, 130, 1024, 1, 1, 32), (30, 40, 2048, 8, 1, 32), (27, 300, 1000, 1, 2, 32),
            # K split 4 and 2 ways (QSPEC_WGMMA_VERIFY_SPLIT=4|2: each CTA two or four slices, summed apart)
            (24, 130, 2048, 4, 1, 32), (32, 40, 1000, 2, 1, 32)]


def wv_direct(M, N, K):
    """w4a16_wgmma.cu's direct_of (QSPEC_WGMMA_VERIFY_DIRECT unset): whether a call the kernel takes has its tokens
    permuted into MMA order first (the DIRECT build)."""
    return N >= 2048 and 32 < M <= 256 and (M > 64 or N * K > 1 << 24)


def check_wv_rule():
    """w4a16_wgmma.cu's grid_of on the Llama-3-8B shapes the H200 benchmark measured (docs/KERNELS.md; at M <= 32 with
    32-token tiles, session 22: down and k/v split, q/o, q+k+v and the wide matrices as before)."""
    want = {(16, 14336, 4096): (0, 1), (32, 14336, 4096): (1, 1), (32, 4096, 4096): (2, 1),
            (32, 128256, 4096): (1, 2), (64, 4096, 4096): (8, 1), (128, 4096, 4096): (1, 1),
            (256, 4096, 4096): (1, 1), (64, 1024, 4096): (8, 1), (32, 1024, 4096): (8, 1),
            (128, 4096, 14336): (8, 1), (256, 4096, 14336): (1, 1), (64, 14336, 4096): (1, 1),
            (128, 14336, 4096): (1, 2), (256, 14336, 4096): (1, 2), (2048, 4096, 4096): (1, 2),
            (64, 128256, 4096): (1, 2), (128, 6144, 4096): (1, 1), (2048, 14336, 4096): (1, 2),
            (40, 4096, 4096): (8, 1), (48, 4096, 14336): (8, 1), (40, 1024, 4096): (8, 1), (40, 14336, 4096): (1, 1),
            (24, 14336, 4096): (1, 1), (17, 128256, 4096): (1, 2), (20, 28672, 4096): (1, 2), (24, 4096, 4096): (2, 1),
            (24, 4096, 14336): (8, 1), (24, 6144, 4096): (2, 1), (17, 4096, 14336): (8, 1), (32, 4096, 14336): (8, 1),
            (24, 1024, 4096): (8, 1), (16, 4096, 14336): (0, 1), (17, 6144, 4096): (2, 1),
            (40, 6144, 4096): (1, 1), (64, 6144, 4096): (1, 1), (65, 6144, 4096): (1, 1)}
    bad = [f"M={M} N={N} K={K}: {wv_grid(M, N, K // KSTEP)}" for (M, N, K), w in want.items()
           if wv_grid(M, N, K // KSTEP) != w]
    # 32-token tiles up to 32 tokens, q|k|v (48 row tiles, unsplit) up to 64, and q/o (64 CTAs of 64-token tiles,
    # unsplit, at 65-128 tokens: session 47) up to 128; 64 elsewhere (down's 64 CTAs at 128 tokens split, with 14-step
    # slices)
    bad += [f"M={M} N={N} K={K}: {wv_bn(M, N, K // KSTEP)} tokens per CTA" for M, N, K, bn in (
        (17, 4096, 4096, 32), (24, 14336, 4096, 32), (32, 128256, 4096, 32), (33, 14336, 4096, 64),
        (64, 4096, 4096, 64), (40, 1024, 4096, 64), (33, 6144, 4096, 32), (64, 6144, 4096, 32), (65, 6144, 4096, 64),
        (256, 6144, 4096, 64), (65, 4096, 4096, 32), (128, 4096, 4096, 32), (129, 4096, 4096, 64),
        (128, 4096, 14336, 64), (128, 1024, 4096, 64), (128, 14336, 4096, 64)) if wv_bn(M, N, K // KSTEP) != bn]
    # session 50's rule (call 2 on an H100): from 33 tokens every matrix larger than q/o, q/o from 65, never k/v nor
    # past 256
    bad += [f"M={M} N={N} K={K}: tokens in MMA order {wv_direct(M, N, K)}" for M, N, K, direct in (
        (64, 4096, 4096, False), (48, 6144, 4096, True), (96, 4096, 4096, True), (256, 1024, 4096, False),
        (32, 28672, 4096, False), (300, 14336, 4096, False), (64, 4096, 14336, True), (33, 128256, 4096, True))
        if wv_direct(M, N, K) != direct]
    print(f"{'FAIL' if bad else 'PASS'} warpgroup verify kernel: routing on the Llama-3-8B shapes" + "".join(f"; {b}" for b in bad))
    return len(bad)


def wv_differs(M, N, K, split, tiles=1, bn=64, direct=False):
    """The verify's warpgroup kernel (direct: its DIRECT build) against the reference (error) and against the
    warp-split kernel's bits (every W4A16 kernel must give them). Returns a description of what differs, or ""."""
    q, pw, ws = make_weights(N, K, KSTEP)
    x = rng.uniform(-2, 2, (M, K)).astype(F16)
    out = w4a16_wgmma(x, pw, ws, N, K, KSTEP, split, tiles, bn, direct)
    err = error(out, *ref_w4a16(x, q, ws, K, KSTEP))
    warp = w4a16(x, pw, ws, N, K, KSTEP)
    same = (out[1] == 1).all() and np.array_equal(out[0].view(U32), warp[0].view(U32))
    return ("" if err < TOL else f"err {err:.1e}") + ("" if same else " bits differ from the warp-split kernel")


def run_wv_cases():
    fails = 0
    for M, N, K, split, tiles, bn in WV_CASES:
        for direct in (False, True):  # the kernel, and its DIRECT build (QSPEC_WGMMA_VERIFY_DIRECT)
            bad = wv_differs(M, N, K, split, tiles, bn, direct)
            fails += bool(bad)
            print(f"{'FAIL ' + bad if bad else 'PASS'} wgmma verify{', direct' if direct else ''} M={M} N={N} K={K} "
                  f"split={split} rows={128 * tiles} tokens={bn}: "
                  f"the reference within {TOL:.0e} and the warp-split kernel's bits")
    return fails


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
            errs = [(f"w4a16 {'FOLD' if wide else 'HMUL'}", error(qspec_w4a16_gemm(x, pw, ws, N, K, group), *ref)),
                    ("cluster", error(w4a16_cluster(x, pw, ws, N, K, group), *ref))]
            for bits in (8, 4):
                xq, xs = quantized_x(M, K, Kp, groups, bits)
                ref = ref_w4ax(xq, xs, q, ws, K, group)
                name = f"A{bits} {'WIDE' if wide else 'per-MMA'}"
                errs.append((name, error(qspec_w4ax_gemm(xq, xs, pw, ws, N, K, group, bits), *ref)))
                if bits == 4 and wide:  # the s4 MMA path (sm_80/86/89, use_s4())
                    out = qspec_w4ax_gemm(xq, xs, pw, ws, N, K, group, bits, s4=True)
                    errs.append(("A4 s4-MMA", error(out, *ref)))
            bad = sum(not e < TOL for _, e in errs)
            fails += bad
            print(f"{'FAIL' if bad else 'PASS'} M={M} N={N} K={K} group={group} MT={tiles(M)[0]} "
                  f"cluster MT={cluster_mt(M)} err: " + ", ".join(f"{name} {e:.1e}" for name, e in errs))
    return fails


# (N, K, group) of the tiled kernels: W4A16 with K % 8 == 0 (the dispatch's condition), the draft with
# group % 128 == 0. N < BN (one row tile, clamped rows), N = 150 (a second row tile of 22 rows), N = 300;
# ragged K; FOLD and HMUL (96: the last step's tail past the padded row; 32, 64); 1 to 8 steps (the ring
# turning over); the draft's K % 8 != 0 (172, 300: it needs no K % 8).
TILED_A16 = [(24, 200, 64), (40, 1000, 256), (72, 288, 96), (20, 160, 32), (150, 296, 128), (300, 1024, 128)]
TILED_AX = [(37, 172, 128), (40, 1000, 256), (48, 64, 128), (150, 300, 128), (300, 1024, 128)]
# M = 5: QSPEC_TILED_GEMM_MIN_M=1, one token tile of 64 (128) with 59 (123) tokens zero-filled; 64 and 130
# through the dispatch: one full (partial) tile, three (two) tiles with a last one of 2 tokens
TILED_MS = [5, 64, 130]


def check_tiled_rule():
    """use_tiled's default rule on the Llama-3-8B shapes the H100 benchmark measured (docs/KERNELS.md): the
    tiled kernel where its CTAs fill half the GPU, the K-splitting kernels where they would be too few."""
    want = {(64, 14336): True, (64, 4096): False, (128, 4096): False, (256, 4096): True, (256, 1024): False,
            (63, 128256): False, (64, 128256): True}
    bad = [f"M={M} N={N}" for (M, N), w in want.items() if use_tiled(M, N, 64) != w]
    print(f"{'FAIL' if bad else 'PASS'} tiled-kernel rule on the Llama-3-8B shapes {' '.join(bad)}")
    return len(bad)


def run_tiled_cases():
    """The tiled kernels against their float64 references (the draft with A8 and A4 codes; the tiled
    kernel has no s4 path), one line per run."""
    fails = 0
    for M in TILED_MS:
        for N, K, group in TILED_A16:
            q, pw, ws = make_weights(N, K, group)
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            # QSPEC_TILED_GEMM_MIN_M=1 below 64, else 64 (these N are too small for the default rule)
            route = {"tiled_min_m": 1 if M < TILED_MIN_M else TILED_MIN_M}
            assert w4a16_route(M, N, K, **route) == "tiled"
            e = error(qspec_w4a16_gemm(x, pw, ws, N, K, group, **route), *ref_w4a16(x, q, ws, K, group))
            fails += not e < TOL
            print(f"{'PASS' if e < TOL else 'FAIL'} tiled w4a16 {'FOLD' if group % KSTEP == 0 else 'HMUL'} M={M} "
                  f"N={N} K={K} group={group} err {e:.1e}")
        for N, K, group in TILED_AX:
            q, pw, ws = make_weights(N, K, group)
            groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
            errs = []
            for bits in (8, 4):
                xq, xs = quantized_x(M, K, Kp, groups, bits)
                out = qspec_w4ax_gemm(xq, xs, pw, ws, N, K, group, bits, **route)
                errs.append((f"A{bits}", error(out, *ref_w4ax(xq, xs, q, ws, K, group))))
            bad = sum(not e < TOL for _, e in errs)
            fails += bad
            print(f"{'FAIL' if bad else 'PASS'} tiled draft (s8) M={M} N={N} K={K} group={group} err: "
                  + ", ".join(f"{name} {e:.1e}" for name, e in errs))
    return fails


BIT_MS = [1, 3, 8, 9, 16, 17, 33, 70]


def bit_identity(N, K, group, ms=BIT_MS):
    """w4a16 rows of x[:M] (x: 70 tokens) for M in ms, bitwise: (1) the warp-split kernel against its
    rows at M = 70 (M-invariance); (2) the cluster kernel against the warp-split kernel on the same inputs
    (also at M <= 8: QSPEC_CLUSTER_GEMM_MIN_M=1); (3) where K % 8 == 0, the tiled kernel against the
    warp-split kernel (also below M = 64: QSPEC_TILED_GEMM_MIN_M=1); (4) qspec_w4a16_gemm's dispatch,
    before sm_90 (warp-split; tiled from M = 64 where K % 8 == 0, as with QSPEC_TILED_GEMM_MIN_M=64: these
    N are too small for the default rule) and on sm_90 (warp-split to M = 8, cluster from M = 9, tiled from
    M = 64 where K % 8 == 0), against its rows at M = 70. QSpec's verify
    rows must reproduce one-token decoding exactly whatever M is and whichever kernel runs. Returns the
    runs whose bits differ (or that stored an output other than once)."""
    q, pw, ws = make_weights(N, K, group)
    x = rng.uniform(-2, 2, (max(ms), K)).astype(F16)
    bits = lambda out: out[0].view(U32) if (out[1] == 1).all() else None
    same = lambda a, b, M: a is not None and b is not None and np.array_equal(a, b[:M])
    out = {"warp-split": {M: bits(w4a16(x[:M], pw, ws, N, K, group)) for M in ms},
           "cluster": {M: bits(w4a16_cluster(x[:M], pw, ws, N, K, group)) for M in ms},
           "tiled": {M: bits(w4a16_tiled(x[:M], pw, ws, N, K, group)) for M in ms} if K % 8 == 0 else {}}
    warp, top = out["warp-split"], max(ms)
    bad = [f"warp-split M={M} vs M={top}" for M in ms if not same(warp[M], warp[top], M)]
    bad += [f"{k} vs warp-split M={M}" for k in ("cluster", "tiled") for M in out[k] if not same(out[k][M], warp[M], M)]
    for sm90 in (False, True):
        disp = {M: out[w4a16_route(M, N, K, sm90, tiled_min_m=TILED_MIN_M)][M] for M in ms}
        bad += [f"{'sm_90' if sm90 else 'pre-sm_90'} dispatch M={M} vs M={top}" for M in ms
                if not same(disp[M], disp[top], M)]
    return bad


TILED_BIT_MS = [1, 5, 64, 65, 130]


def tiled_bit_identity(N, K, group, ms=TILED_BIT_MS):
    """w4a16 rows of x[:M] for M in ms, bitwise, across the switch to the tiled kernel: the tiled kernel
    (QSPEC_TILED_GEMM_MIN_M=1 below 64) against the warp-split kernel's rows at M = max(ms) and, where
    that runs at M <= 16 or M = max(ms), at the same M; the warp-split rows against its rows at max(ms)
    (the tile shapes MT = 1, 2 against 4; between 17 and max(ms) its MT is 4 and a token's sums do not
    depend on M); both dispatch routes against their rows at max(ms). Returns the runs that differ."""
    q, pw, ws = make_weights(N, K, group)
    top = max(ms)
    x = rng.uniform(-2, 2, (top, K)).astype(F16)
    bits = lambda out: out[0].view(U32) if (out[1] == 1).all() else None
    same = lambda a, b, M: a is not None and b is not None and np.array_equal(a, b[:M])
    warp = {M: bits(w4a16(x[:M], pw, ws, N, K, group)) for M in ms if M <= 16 or M == top}
    out = {"warp-split": warp, "tiled": {M: bits(w4a16_tiled(x[:M], pw, ws, N, K, group)) for M in ms}}
    tiled = out["tiled"]
    bad = [f"warp-split M={M} vs M={top}" for M in warp if not same(warp[M], warp[top], M)]
    bad += [f"tiled M={M} vs warp-split M={top}" for M in ms if not same(tiled[M], warp[top], M)]
    bad += [f"tiled vs warp-split M={M}" for M in warp if not same(tiled[M], warp[M], M)]
    for sm90 in (False, True):
        routes = {M: w4a16_route(M, N, K, sm90, tiled_min_m=TILED_MIN_M) for M in ms}
        assert all(r in out and M in out[r] for M, r in routes.items())  # no cluster run needed at these M
        bad += [f"{'sm_90' if sm90 else 'pre-sm_90'} dispatch M={M} vs M={top}" for M in ms
                if not same(out[routes[M]][M], out[routes[top]][top], M)]
    return bad

# The bulk-copy kernel's cases (group 128, K % 1024 == 0): N = 40 (a partial row tile), 2 chunks; N = 20,
# 5 chunks (the ring of 4 turns over); 4 chunks, where two-row-tile CTAs can walk (3 tiles of 32 rows)
BULK = [(40, 2048), (20, 5120), (70, 4096)]
BULK_MS = [1, 3, 8, 9, 16, 20, 32]  # 20 and 32: four token tiles (QSPEC_BULK_M32, session 27)


def run_bulk_cases():
    """w4a16_bulk and w4ax_bulk against the float64 reference and bit for bit against their warp-split kernels
    on the same tokens (the kernels share step_mma, the slices and their order); W4A16's dispatch rule on
    Llama-3-8B shapes. One line per run."""
    fails = 0
    for N, K in BULK:
        q, pw, ws = make_weights(N, K, KSTEP)
        for M in BULK_MS:
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            warp = w4a16(x, pw, ws, N, K, KSTEP)
            # the default (2) and QSPEC_BULK_ROWS=16; the rule's ring depth and QSPEC_BULK_RING=2, 3
            # and walks of 2 and 3 tiles per CTA (two row tiles, one token tile, rings that divide the chunks)
            cases = ([(1, None, 1)] if M <= 8 else []) + [(2, None, 1), (2, 3, 1), (2, 2, 1), (4, None, 1)]
            cases += [(2, R, walk) for R in (4, 2) for walk in (2, 3)
                      if M <= 8 and (K // CHUNK) % R == 0 and (R == 2 or M <= 5)]  # 4: where two CTAs fit
            cases += [(4, 2, 2)] * (M <= 8 and (K // CHUNK) % 2 == 0)  # four row tiles walk on a ring of 2
            # ... and with the tokens kept (KEEP), one token tile or two; and K split over a cluster of two (walk 0)
            cases += [(4, 2, -2)] * ((K // CHUNK) % 2 == 0) + [(4, 4, 0)]
            for NT, R, walk in cases:
                keep, kz, walk = walk < 0, 2 if walk == 0 else 1, max(abs(walk), 1)
                out = w4a16_bulk(x, pw, ws, N, K, KSTEP, NT, R, walk, keep, kz)
                e = error(out, *ref_w4a16(x, q, ws, K, KSTEP))
                same = (out[1] == 1).all() and np.array_equal(out[0].view(U32), warp[0].view(U32))
                fails += not (e < TOL and same)
                print(f"{'PASS' if e < TOL and same else 'FAIL'} w4a16 bulk M={M} N={N} K={K} NT={NT} "
                      f"ring {R or bulk_tiles(M, N, NT, R, 2, 2)[2]}{f' walk {walk}' if walk > 1 else ''}{' kept' if keep else ''}"
                      f"{' K split over 2 CTAs' if kz > 1 else ''} err {e:.1e}, "
                      f"{'bits = warp-split bits' if same else 'bits differ from the warp-split kernel'}")
        # the draft's bulk kernel: against the float64 reference and bit for bit against its warp-split kernel
        # (the same steps per warp, each folded once, the warps added in order); two and four row tiles,
        # rings of 3 and 2, walks
        for M in BULK_MS:
            xq, xs = quantized_x(M, K, K, K // KSTEP, 8)
            warp = w4ax(xq, xs, pw, ws, N, K, KSTEP)
            cases = ([(1, None, 1)] if M <= 8 else []) + [(2, None, 1), (2, 3, 1), (4, None, 1)]
            cases += [(NT, 2, 2) for NT in (2, 4) if M <= 8 and (K // CHUNK) % 2 == 0]
            cases += [(2, 4, 1)] * (M > 16)  # four token tiles on a ring of 4 (the draft at one CTA per SM)
            cases += [(4, 2, -2)] * ((K // CHUNK) % 2 == 0)  # kept tokens (KEEP)
            for NT, R, walk in cases:
                keep, walk = walk < 0, abs(walk)
                out = w4ax_bulk(xq, xs, pw, ws, N, K, KSTEP, NT, R, walk, keep)
                e = error(out, *ref_w4ax(xq, xs, q, ws, K, KSTEP))
                same = (out[1] == 1).all() and np.array_equal(out[0].view(U32), warp[0].view(U32))
                fails += not (e < TOL and same)
                print(f"{'PASS' if e < TOL and same else 'FAIL'} w4ax bulk M={M} N={N} K={K} NT={NT} "
                      f"ring {R or bulk_tiles(M, N, NT, R, 1, 1)[2]}{f' walk {walk}' if walk > 1 else ''}{' kept' if keep else ''} err {e:.1e}, "
                      f"{'bits = warp-split bits' if same else 'bits differ from the warp-split kernel'}")
    want = {(1, 4096, 4096, KSTEP): True, (1, 128256, 4096, KSTEP): True, (1, 4096, 14336, KSTEP): True,
            (1, 1024, 4096, KSTEP): False, (2, 4096, 4096, KSTEP): True, (1, 4096, 4000, KSTEP): False,
            (1, 4096, 4096, 64): False, (4, 128256, 4096, KSTEP): True, (8, 28672, 4096, KSTEP): True,
            (9, 128256, 4096, KSTEP): True, (12, 14336, 4096, KSTEP): True, (13, 128256, 4096, KSTEP): True,
            (4, 2048, 4096, KSTEP): False, (16, 4096, 4096, KSTEP): True,
            (9, 6144, 4096, KSTEP): True, (16, 14336, 4096, KSTEP): True, (17, 4096, 4096, KSTEP): True,
            (17, 128256, 4096, KSTEP): False,
            (16, 4096, 14336, KSTEP): True}
    bad = [f"M={M} N={N} K={K} group={g}" for (M, N, K, g), w in want.items()
           if (w4a16_route(M, N, K, sm90=True, group=g) == "bulk") != w]
    bad += ["pre-sm_90 M=1 N=4096"] * (w4a16_route(1, 4096, 4096) == "bulk")
    # four token tiles, QSPEC_BULK_M32=all: M = 17-32 on N >= 4096, group 128, K % 1024 == 0
    m32 = {(17, 4096, 4096, KSTEP): True, (32, 128256, 4096, KSTEP): True, (24, 4096, 14336, KSTEP): True,
           (33, 4096, 4096, KSTEP): False, (16, 4096, 4096, KSTEP): True, (32, 1024, 4096, KSTEP): False,
           (32, 4096, 4000, KSTEP): False, (32, 4096, 4096, 64): False}
    bad += [f"M32 all M={M} N={N} K={K} group={g}" for (M, N, K, g), w in m32.items()
            if (w4a16_route(M, N, K, sm90=True, group=g, bulk_m32="all") == "bulk") != w]
    # the rule (unset): q/o and down (N = 4096) at 17-32, q|k|v (6144) at 17-24, never gate/up, gate+up, lm_head
    rule = {(17, 4096, 4096): True, (32, 4096, 4096): True, (32, 4096, 14336): True, (24, 6144, 4096): True,
            (25, 6144, 4096): False, (17, 14336, 4096): False, (17, 28672, 4096): False, (32, 128256, 4096): False,
            (17, 1024, 4096): False}
    bad += [f"M32 rule M={M} N={N} K={K}" for (M, N, K), w in rule.items()
            if (w4a16_route(M, N, K, sm90=True) == "bulk") != w]
    bad += [f"M32 off M={M}" for M in (17, 32) if w4a16_route(M, 4096, 4096, sm90=True, bulk_m32="off") == "bulk"]
    bad += ["M32 pre-sm_90"] * (w4a16_route(24, 4096, 4096, bulk_m32="all") == "bulk")
    depths = {(M, NT): bulk_ring_depth(M, NT) for M in range(1, 9) for NT in (1, 2)}
    bad += [f"ring depth M={M} NT={NT}: {d}" for (M, NT), d in depths.items()
            if d != (2 if M <= SHALLOW_M else 3 if NT == 2 and M >= 6 else 4)]  # the H100 (<= 4), the H200 (from 6)
    bad += [f"ring depth M={M} MT=2: {bulk_ring_depth(M, 2, 2)}" for M in range(9, 17)
            if bulk_ring_depth(M, 2, 2) != (3 if M <= 10 else 2)]
    bad += [f"draft ring depth M={M}: {bulk_ring_depth(M, 2, 1 if M <= 8 else 2, 1)}" for M in range(1, 17)
            if bulk_ring_depth(M, 2, 1 if M <= 8 else 2, 1) != (2 if M <= SHALLOW_M else 4 if M <= 11 else 3)]
    bad += [f"ring depth M={M} NT=4: {bulk_ring_depth(M, 4, 1 if M <= 8 else 2)}" for M in range(1, 17)
            if bulk_ring_depth(M, 4, 1 if M <= 8 else 2) != (2 if M <= 8 else 3)]
    # four token tiles (M = 17-32, one CTA per SM): W4A16 on two row tiles 4 / 3 / 2 chunks at M = 17 / 24 / 32, on four
    # 2 at 32; the draft (int8 tokens) 4 on two row tiles and 3 on four at M = 32
    m32 = {(17, 2, 2): 4, (24, 2, 2): 3, (32, 2, 2): 2, (32, 4, 2): 2, (32, 2, 1): 4, (32, 4, 1): 3}
    bad += [f"ring depth M={M} NT={NT} MT=4 XB={XB}: {bulk_ring_depth(M, NT, 4, XB)}" for (M, NT, XB), d in m32.items()
            if bulk_ring_depth(M, NT, 4, XB) != d]
    # KEEP's shared memory: M tokens' whole K beside a ring of 2 (Llama-3-8B's wide matrices have K = 4096)
    keeps = {(16, 4096, 2, 2): True, (8, 8192, 2, 1): True, (16, 8192, 2, 2): False, (16, 5120, 2, 2): False,
             (8, 14336, 2, 1): False, (16, 8192, 1, 2): True, (4, 14336, 2, 1): True}
    bad += [f"keeps M={M} K={K} XB={XB}" for (M, K, XB, MT), w in keeps.items() if bulk_keeps(M, K, XB, MT) != w]
    fails += bool(bad)
    print(f"{'FAIL' if bad else 'PASS'} bulk-kernel rule (sm_90, N >= 4096, M <= 32) "
          f"{' '.join(bad)}")
    return fails


# (N, K, group), every N a multiple of neither 16 nor CROWS and K ragged: FOLD with group = KSTEP, 9 steps
# (slice 0 takes 2); FOLD with group 256, 3 row blocks of the cluster kernel, 4 steps (slices 4-7 idle);
# HMUL, 9 steps; HMUL with Kp % 128 != 0 (the last step's tail past Kp) and N < CROWS.
INVARIANCE = [(150, 1100, 128), (300, 400, 256), (150, 1100, 64), (37, 600, 96)]
# Across the switch to the tiled kernel (K % 8 == 0, N > BN and not a multiple of 16, 9 steps: slice 0
# takes steps 0 and 8, both with inputs inside K): FOLD with group = KSTEP; HMUL with group 96, Kp = 1056,
# the last step's tail past the padded row.
TILED_INVARIANCE = [(140, 1096, 128), (140, 1048, 96)]

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
    ("tiled_k_order", "tiled_identity", (40, 1096, 128, 5)),  # steps in K order: 0 + S0 + S1 + .. + S8
    ("tiled_early_total", "tiled_identity", (40, 1096, 128, 5)),  # each step's sums into the total at once
    ("tiled_x_unit", "tiled", (16, 256, 128, 5)),      # activation tile staged with x_unit's arguments swapped
    ("tiled_x_rows", "tiled", (16, 256, 128, 5)),      # tokens >= M neither clamped nor zero-filled: x overrun
    ("ax_tiled_ring_slot", "ax_tiled", (16, 512, 128, 5)),  # step s + 2 staged into the slot step s reads
    ("bulk_box_pitch", "bulk", (20, 2048, 128, 1)),    # weight rows read 512 bytes apart, not at the box's 64
    ("bulk_scale_step", "bulk", (20, 2048, 128, 1)),   # chunk c's scales taken from group c + nchunks * warp
    ("bulk_token_tile", "bulk", (20, 2048, 128, 16)),  # the second token tile reads tokens 0-7 again
    ("bulk_walk_scales", "bulk_walk", (100, 4096, 128, 3)),  # a walk's next tile takes this tile's scale rows
    ("bulk_walk_buffer", "bulk_walk", (100, 4096, 128, 3)),  # ... its first scales into buffer 1, not 0
    ("bulk_walk_zero", "bulk_walk", (100, 4096, 128, 3)),    # ... its sums not zeroed at its start
    ("bulk_scale_buffer", "ax_bulk3", (20, 5120, 128, 12)),  # a ring of 3 whose scales are read from buffer st % 2
    ("bulk_keep_chunk", "bulk_keep", (100, 4096, 128, 12)),  # kept tokens read at the ring entry's place, not the chunk's
    ("bulk_split_step0", "bulk_split", (100, 2048, 128, 12)),  # a K split's second CTA copies the first CTA's steps
    ("wg_swizzle", "wgmma", (40, 1024, 128, 20)),      # weights unpacked without the 128-byte swizzle
    ("wg_prmt", "wgmma", (40, 1024, 128, 20)),         # even inputs, then odd ones: not in input order
    ("wg_scale_box", "wgmma", (40, 1024, 128, 20)),    # the next step's column of the scale box
    ("wg_split_step0", "wgmma", (40, 4096, 128, 20)),  # CTA z of a split starts at step 8 z, not z * its share
    ("wg_store_row", "wgmma", (40, 1024, 128, 20)),    # outputs of rows r0 + 8 stored at r0
    ("rf_perm", "wgmma_rf", (40, 1024, 128, 20)),      # the tokens' odd inputs where the even ones go
    ("wv_direct_perm", "wv_direct", (40, 1024, 128, 20)),  # DIRECT: the permutation's two halves of an MMA swapped
    ("rf_a_frag", "wgmma_rf", (40, 1024, 128, 20)),    # a1 holds row r0's odd nibbles, not row r0 + 8's even ones
    ("rf_word", "wgmma_rf", (40, 1024, 128, 20)),      # odd quad threads read their words a word late
    ("wv_swizzle", "wv", (40, 1024, 128, 20)),         # tokens written without the 128-byte swizzle
    ("wv_prmt", "wv", (40, 1024, 128, 20)),            # token pairs (1,5) where (0,4) belong
    ("wv_a_frag", "wv", (40, 1024, 128, 20)),          # A registers of rows g + 8 and k + 8 swapped
    ("wv_k_order", "wv", (40, 2048, 128, 20)),         # steps in K order: the sums of other slices
    ("wv_early_total", "wv", (40, 2048, 128, 20)),     # each step's sums into the total at once
    ("wv_rank_order", "wv8", (40, 1024, 128, 20)),     # the cluster's slices added 7, 6, .., 0
    ("wv_tile_rows", "wv2", (300, 1024, 128, 20)),     # a 256-row CTA's second tile at r0 + 64: the other warpgroup's rows
    ("wv_task_word", "wv32", (40, 1024, 128, 20)),     # 32-token tiles: a feeding task's word as with 64 tokens (e / 64)
    ("wv_cta_slices", "wv4", (40, 2048, 128, 20)),     # a cluster of 4: a CTA's two slices added in reverse order
]


def mutation_check():
    global BUG
    fails = 0
    for bug, kernel, (N, K, group, M) in MUTATIONS:
        q, pw, ws = make_weights(N, K, group)
        groups, Kp = ceil_div(K, group), ceil_div(K, group) * group
        if kernel == "identity":
            check = lambda: bool(bit_identity(N, K, group, [3, 9, 17]))
        elif kernel in ("wv", "wv8"):
            check = lambda: bool(wv_differs(M, N, K, 8 if kernel == "wv8" else 1))
        elif kernel == "wv_direct":
            check = lambda: bool(wv_differs(M, N, K, 1, direct=True))
        elif kernel == "wv2":
            check = lambda: bool(wv_differs(M, N, K, 1, 2))
        elif kernel == "wv32":
            check = lambda: bool(wv_differs(M, N, K, 1, 1, 32))
        elif kernel == "wv4":
            check = lambda: bool(wv_differs(M, N, K, 4, 1, 32))
        elif kernel == "tiled_identity":
            check = lambda: bool(tiled_bit_identity(N, K, group, [M]))
        elif kernel in ("w4a16", "cluster", "tiled", "bulk", "bulk_walk", "bulk_keep", "bulk_split"):
            x = rng.uniform(-2, 2, (M, K)).astype(F16)
            ref = ref_w4a16(x, q, ws, K, group)
            walk2 = lambda *a: w4a16_bulk(*a, NT=2, walk=2)
            kept = lambda *a: w4a16_bulk(*a, NT=4, R=2, walk=2, keep=True)
            split = lambda *a: w4a16_bulk(*a, NT=4, R=4, kz=2)
            run = {"w4a16": w4a16, "cluster": w4a16_cluster, "tiled": w4a16_tiled, "bulk": w4a16_bulk,
                   "bulk_walk": walk2, "bulk_keep": kept, "bulk_split": split}[kernel]
            check = lambda: not error(run(x, pw, ws, N, K, group), *ref) < TOL
        else:
            xq, xs = quantized_x(M, K, Kp, groups, 4)
            ref = ref_w4ax(xq, xs, q, ws, K, group)
            run = (w4ax_tiled if kernel == "ax_tiled" else (lambda *a: w4ax_wgmma(*a, 64, 2)) if kernel == "wgmma"
                   else (lambda *a: w4ax_wgmma(*a, 64, 2, a_regs=True)) if kernel == "wgmma_rf"
                   else (lambda *a: w4ax_bulk(*a, NT=2, R=3)) if kernel == "ax_bulk3"
                   else lambda *a: w4ax(*a, kernel == "s4"))
            check = lambda: not error(run(xq, xs, pw, ws, N, K, group), *ref) < TOL
        BUG = bug
        try:
            caught = check()
        except (AssertionError, IndexError):  # an emulated access out of bounds (checked, or past the array)
            caught = True
        finally:
            BUG = ""
        fails += not caught
        print(f"{'PASS' if caught else 'FAIL'} planted bug {bug} ({kernel}) {'caught' if caught else 'NOT caught'}")
    return fails


def check_token_order(path):
    """token_order.cuh's positions (printed by token_order_check, the table at `path`), with which the producers of
    the GEMMs' inputs write them in MMA order (ABI 13), against the permutations modelled here, which the emulated
    kernels read: input k of a row must land where permute_tokens_rf (int8) and permute_tokens_direct (fp16) put it."""
    if not path:
        print("SKIP token order positions (no table: run through `make emulate`, which builds token_order_check)")
        return 0
    table = {"draft": {}, "verify": {}}
    with open(path) as f:
        for line in f:
            kind, k, at = line.split()
            table[kind][int(k)] = int(at)
    n = 2 * KSTEP
    x8 = (np.arange(n) % KSTEP).astype(np.int8).reshape(1, n)  # inputs 0..127 of each step, as their own codes
    rf = permute_tokens_rf(x8)[0]
    x16 = np.arange(n).astype(F16).reshape(1, n)  # fp16 holds 0..255 exactly
    direct = permute_tokens_direct(x16, n)[0]
    def misplaced(kind, permuted, value):
        return [f"{kind} k={k} at {table[kind].get(k)}" for k in range(n)
                if table[kind].get(k, -1) // KSTEP != k // KSTEP or permuted[table[kind][k]] != value(k)]
    bad = misplaced("draft", rf, lambda k: k % KSTEP) + misplaced("verify", direct, lambda k: k)
    print(f"{'FAIL' if bad else 'PASS'} token order positions (token_order.cuh) = the kernels' permutations "
          f"(int8 and fp16, {n} inputs)" + (f": {bad[:4]}" if bad else ""))
    return int(bool(bad))


def main():
    t0 = time.time()
    fails = run_cases()
    fails += check_tiled_rule()
    fails += run_tiled_cases()
    fails += run_bulk_cases()
    fails += check_wgmma_rule()
    fails += check_draft_rings()
    fails += run_wgmma_cases()
    fails += check_wv_rule()
    fails += run_wv_cases()
    for N, K, group in INVARIANCE:
        bad = bit_identity(N, K, group)
        fails += bool(bad)
        tiled = "tiled rows = warp-split rows, " if K % 8 == 0 else ""
        print(f"{'FAIL' if bad else 'PASS'} w4a16 bit identity N={N} K={K} group={group}: "
              + (f"bits differ: {bad}" if bad else f"M in {BIT_MS}: warp-split rows = its M=70 rows, cluster rows = "
                 f"warp-split rows, {tiled}dispatch rows (sm_90 and before) = its M=70 rows"))
    for N, K, group in TILED_INVARIANCE:
        bad = tiled_bit_identity(N, K, group)
        fails += bool(bad)
        top = max(TILED_BIT_MS)
        print(f"{'FAIL' if bad else 'PASS'} w4a16 tiled bit identity N={N} K={K} group={group}: "
              + (f"bits differ: {bad}" if bad else f"M in {TILED_BIT_MS}: tiled rows = warp-split rows at M={top} "
                 f"(and at M = 1, 5, {top}), dispatch rows (sm_90 and before) = its M={top} rows"))
    fails += check_token_order(os.environ.get("QSPEC_TOKEN_ORDER_TABLE"))
    fails += mutation_check()
    print(("ALL PASSED" if not fails else f"{fails} FAILED") + f" ({time.time() - t0:.1f} s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
