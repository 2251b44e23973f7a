#!/usr/bin/env python3
"""CPU emulation (numpy) of the decode tiles (native/src/attention_decode_tiles.cuh) as written, lane by lane: each
lane's registers built as the kernel builds them (Q's k-step pieces, position g's K words, the byte permutes of two V
rows), the mma.sync m16n8k16 and m16n8k8 fragments assembled by the PTX layouts, the online softmax per row, the warps'
merge through the swizzled scratch, the splits' merge. Checks, with 4 warps a block and splits of 256 (the default), 128
and 64 positions, and with 8 warps and splits of 256 and 64,
against a float64 reference for groups of tokens of one sequence at several positions; that each token's rows alone
(its decode) give the same values as in its group; that the one-token tile gives the 16-row tile's values; that the
scratch's swizzle is a bijection without bank conflicts for the warps' stores and the merge's loads; and that planted
bugs (the V byte permutes swapped, a sum's share from the wrong lane) are caught.
Without a GPU: python3 native/test/emulate_decode_tiles.py  (exit code 1 on a mismatch)."""
import sys
import numpy as np

rng = np.random.default_rng(37)
HD, ROWS, WARPS, CHUNK, SPLIT = 128, 16, 4, 8, 256
LANES = np.arange(32)
G_OF, T_OF = LANES >> 2, LANES & 3  # lane = 4 g + t


def mma_k16(a, b0, b1, c):
    """m16n8k16: a [32, 4, 2], b0/b1 [32, 2] (halves), c [32, 4] -> d [32, 4] (PTX fragment layouts)."""
    A, B, C = np.zeros((16, 16)), np.zeros((16, 8)), np.zeros((16, 8))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for e in range(2):
            A[g, 2 * t + e], A[g + 8, 2 * t + e] = a[lane, 0, e], a[lane, 1, e]
            A[g, 2 * t + 8 + e], A[g + 8, 2 * t + 8 + e] = a[lane, 2, e], a[lane, 3, e]
            B[2 * t + e, g], B[2 * t + 8 + e, g] = b0[lane, e], b1[lane, e]
            C[g, 2 * t + e], C[g + 8, 2 * t + e] = c[lane, e], c[lane, 2 + e]
    D = (A @ B + C).astype(np.float32)
    return np.array([[D[l >> 2, 2 * (l & 3)], D[l >> 2, 2 * (l & 3) + 1], D[(l >> 2) + 8, 2 * (l & 3)],
                      D[(l >> 2) + 8, 2 * (l & 3) + 1]] for l in range(32)], dtype=np.float32)


def mma_k8(a0, a1, b, c):
    """m16n8k8: a0/a1 [32, 2], b [32, 2] (halves), c [32, 4] -> d [32, 4]."""
    A, B, C = np.zeros((16, 8)), np.zeros((8, 8)), np.zeros((16, 8))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for e in range(2):
            A[g, 2 * t + e], A[g + 8, 2 * t + e] = a0[lane, e], a1[lane, e]
            B[2 * t + e, g] = b[lane, e]
            C[g, 2 * t + e], C[g + 8, 2 * t + e] = c[lane, e], c[lane, 2 + e]
    D = (A @ B + C).astype(np.float32)
    return np.array([[D[l >> 2, 2 * (l & 3)], D[l >> 2, 2 * (l & 3) + 1], D[(l >> 2) + 8, 2 * (l & 3)],
                      D[(l >> 2) + 8, 2 * (l & 3) + 1]] for l in range(32)], dtype=np.float32)


def byte_perm_halves(a, b, sel):
    """__byte_perm on two half2 words (as [lo, hi] pairs): 0x5410 -> (a.lo, b.lo), 0x7632 -> (a.hi, b.hi)."""
    return np.array([a[0], b[0]]) if sel == 0x5410 else np.array([a[1], b[1]])


def phys(r, d):
    return (d & ~31) | ((d & 31) ^ (((r & 7) + 8 * (d >> 5)) & 31))


def load_k_v(kpool, vpool, offset, base, maxnpos):
    """A chunk's loads (load_chunk): K words of position base + g, V dims 16 g .. + 15 of positions 2t, 2t + 1."""
    kw = np.zeros((32, 16, 2), np.float16)
    va, vb = np.zeros((32, 8, 2), np.float16), np.zeros((32, 8, 2), np.float16)
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        if base + g < maxnpos:
            kw[lane] = kpool[offset(base + g) + 32 * t: offset(base + g) + 32 * t + 32].reshape(16, 2)
        if base + 2 * t < maxnpos:
            va[lane] = vpool[offset(base + 2 * t) + 16 * g: offset(base + 2 * t) + 16 * g + 16].reshape(8, 2)
        if base + 2 * t + 1 < maxnpos:
            vb[lane] = vpool[offset(base + 2 * t + 1) + 16 * g: offset(base + 2 * t + 1) + 16 * g + 16].reshape(8, 2)
    return kw, va, vb


def warp_split(qa, kpool, vpool, offset, npos_rows, maxnpos, s, warp, plant):
    """One warp's walk of split s: its state (m, l, o) per lane, as attend_chunk leaves it."""
    m = np.full((32, 2), -np.inf, np.float32)
    l = np.zeros((32, 2), np.float32)
    o = np.zeros((32, HD // 8, 4), np.float32)
    c0, c1 = s * (SPLIT // CHUNK), min(s * (SPLIT // CHUNK) + SPLIT // CHUNK, -(-maxnpos // CHUNK))
    for c in range(c0 + warp, c1, WARPS):
        base = c * CHUNK
        kw, va, vb = load_k_v(kpool, vpool, offset, base, maxnpos)
        sc = np.zeros((32, 4), np.float32)
        for st in range(HD // 16):
            w0 = 4 * (st >> 1) + 2 * (st & 1)  # word(k[s >> 1], 2 (s & 1)): uint4 j holds words 4 j .. 4 j + 3
            sc = mma_k16(qa[:, st], kw[:, w0], kw[:, w0 + 1], sc)
        p0 = base + 2 * T_OF
        for e in range(2):
            sc[p0 + e >= npos_rows[G_OF], e] = -np.inf
            sc[p0 + e >= npos_rows[G_OF + 8], 2 + e] = -np.inf
        mx = np.stack([np.maximum(sc[:, 0], sc[:, 1]), np.maximum(sc[:, 2], sc[:, 3])], 1)
        for x in (1, 2):
            mx = np.maximum(mx, mx[LANES ^ x])
        mn = np.maximum(m, mx)
        ms = np.where(mn == -np.inf, np.float32(0), mn)
        corr = np.exp(m - ms).astype(np.float32)
        e4 = np.exp(sc - np.repeat(ms, 2, axis=1)).astype(np.float32)
        m = mn
        l = (l * corr + np.stack([e4[:, 0] + e4[:, 1], e4[:, 2] + e4[:, 3]], 1)).astype(np.float32)
        o *= np.repeat(corr, 2, axis=1)[:, None, :]
        pa0, pa1 = e4[:, 0:2].astype(np.float16), e4[:, 2:4].astype(np.float16)
        for u in range(HD // 8):
            wd = u >> 1
            sel = 0x7632 if (u & 1) else 0x5410
            if plant:
                sel = 0x5410 if (u & 1) else 0x7632
            b = np.array([byte_perm_halves(va[lane, wd], vb[lane, wd], sel) for lane in range(32)])
            o[:, u] = mma_k8(pa0, pa1, b, o[:, u])
    for x in (1, 2):
        l = l + l[LANES ^ x]
    return m, l, o


def transpose8x8(x):
    """movmatrix.m8n8.trans.b16: lane (g, t) holds [row g, cols 2t, 2t + 1]; returns the transposed matrix likewise."""
    M = np.zeros((8, 8), x.dtype)
    for lane in range(32):
        M[lane >> 2, 2 * (lane & 3):2 * (lane & 3) + 2] = x[lane]
    return np.array([M.T[l >> 2, 2 * (l & 3):2 * (l & 3) + 2] for l in range(32)])


def attend_chunk_one(s2, pos, np2, va, vb, m, l, o, plant):
    """attend_chunk_one: s2 [32, 2] the scores of position pos[lane] with heads 2t, 2t + 1, whose contexts are np2."""
    s2 = s2.copy()
    s2[pos >= np2[:, 0], 0] = -np.inf
    s2[pos >= np2[:, 1], 1] = -np.inf
    mx = s2.copy()
    for x in (4, 8, 16):
        mx = np.maximum(mx, mx[LANES ^ x])
    mn = np.maximum(m, mx)
    ms = np.where(mn == -np.inf, np.float32(0), mn)
    corr = np.exp(m - ms).astype(np.float32)
    e2 = np.exp(s2 - ms).astype(np.float32)
    pair = (e2 + e2[LANES ^ (8 if plant else 4)]).astype(np.float32)  # the planted bug: the wrong partner
    l = (l * corr + pair).astype(np.float32)
    o = o * np.stack([corr[:, 0], corr[:, 1], corr[:, 0], corr[:, 1]], 1)[:, None, :]
    pb = transpose8x8(e2.astype(np.float16))
    for u in range(HD // 16):
        a0 = np.array([byte_perm_halves(va[lane, u], vb[lane, u], 0x5410) for lane in range(32)])
        a1 = np.array([byte_perm_halves(va[lane, u], vb[lane, u], 0x7632) for lane in range(32)])
        o[:, u] = mma_k8(a0, a1, pb, o[:, u])
    return mn, l, o


def warp_split_one(qb, kpool, vpool, offset, npos_rows, maxnpos, s, warp, plant):
    """One warp's walk of split s with the one-token tile (walk_one): chunks c and c + WARPS as the MMA's rows."""
    m = np.full((32, 2), -np.inf, np.float32)
    l = np.zeros((32, 2), np.float32)
    o = np.zeros((32, HD // 16, 4), np.float32)
    np2 = np.stack([npos_rows[2 * T_OF], npos_rows[2 * T_OF + 1]], 1)
    c0, c1 = s * (SPLIT // CHUNK), min(s * (SPLIT // CHUNK) + SPLIT // CHUNK, -(-maxnpos // CHUNK))
    for c in range(c0 + warp, c1, 2 * WARPS):
        two = c + WARPS < c1
        ka, va_a, vb_a = load_k_v(kpool, vpool, offset, c * CHUNK, maxnpos)
        kb, va_b, vb_b = load_k_v(kpool, vpool, offset, (c + WARPS) * CHUNK, maxnpos) if two else (
            np.zeros((32, 16, 2), np.float16), None, None)
        sc = np.zeros((32, 4), np.float32)
        for st in range(HD // 16):
            w0 = 4 * (st >> 1) + 2 * (st & 1)
            a = np.stack([ka[:, w0], kb[:, w0], ka[:, w0 + 1], kb[:, w0 + 1]], 1)
            sc = mma_k16(a, qb[:, st, 0], qb[:, st, 1], sc)
        m, l, o = attend_chunk_one(sc[:, 0:2], c * CHUNK + G_OF, np2, va_a, vb_a, m, l, o, plant)
        if two:
            m, l, o = attend_chunk_one(sc[:, 2:4], (c + WARPS) * CHUNK + G_OF, np2, va_b, vb_b, m, l, o, plant)
    for x in (8, 16):
        l = l + l[LANES ^ x]
    return m, l, o


def group_attention(q, kpool, vpool, offset, rows_npos, rows_q, plant=False, one=False):
    """The decode tiles for one walk: rows_q [16, HD] (zeros outside), rows_npos [16]; returns each row's output
    (float32) merged over warps and splits as the kernel merges them (split by split, merge_split in order)."""
    qscale = np.float32(1 / np.sqrt(HD))
    qh = (rows_q * qscale).astype(np.float32).astype(np.float16)
    qa = np.zeros((32, HD // 16, 4, 2), np.float16)
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for st in range(HD // 16):
            d = 32 * t + 4 * st
            qa[lane, st] = [qh[g, d:d + 2], qh[g + 8, d:d + 2], qh[g, d + 2:d + 4], qh[g + 8, d + 2:d + 4]]
    qb = np.zeros((32, HD // 16, 2, 2), np.float16)  # the one-token tile's Q^T fragments (head g)
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for st in range(HD // 16):
            d = 32 * t + 4 * st
            qb[lane, st] = [qh[g, d:d + 2], qh[g, d + 2:d + 4]]
    maxnpos = int(rows_npos.max())
    nsplits = -(-maxnpos // SPLIT)
    out = np.zeros((ROWS, HD))
    run_m, run_l, run_acc = {}, {}, {}
    for s in range(nsplits):
        wm, wl = np.zeros((WARPS, ROWS), np.float32), np.zeros((WARPS, ROWS), np.float32)
        wacc = np.full((WARPS, ROWS, HD), np.nan, np.float32)
        for w in range(WARPS):
            if one:
                m, l, o = warp_split_one(qb, kpool, vpool, offset, rows_npos, maxnpos, s, w, plant)
                for lane in range(32):
                    g, t = lane >> 2, lane & 3
                    if g == 0:
                        wm[w, 2 * t], wm[w, 2 * t + 1], wl[w, 2 * t], wl[w, 2 * t + 1] = m[lane, 0], m[lane, 1], l[lane, 0], l[lane, 1]
                    for u in range(HD // 16):
                        d0, r0 = 16 * g + 2 * u, 2 * t
                        wacc[w, r0, phys(r0, d0)], wacc[w, r0 + 1, phys(r0 + 1, d0)] = o[lane, u, 0], o[lane, u, 1]
                        wacc[w, r0, phys(r0, d0 + 1)], wacc[w, r0 + 1, phys(r0 + 1, d0 + 1)] = o[lane, u, 2], o[lane, u, 3]
                continue
            m, l, o = warp_split(qa, kpool, vpool, offset, rows_npos, maxnpos, s, w, plant)
            for lane in range(32):
                g, t = lane >> 2, lane & 3
                wm[w, g], wm[w, g + 8], wl[w, g], wl[w, g + 8] = m[lane, 0], m[lane, 1], l[lane, 0], l[lane, 1]
                for u in range(HD // 8):
                    d0, d1 = 32 * t + u, 32 * t + 16 + u
                    wacc[w, g, phys(g, d0)], wacc[w, g, phys(g, d1)] = o[lane, u, 0], o[lane, u, 1]
                    wacc[w, g + 8, phys(g + 8, d0)], wacc[w, g + 8, phys(g + 8, d1)] = o[lane, u, 2], o[lane, u, 3]
        for r in range(ROWS):
            if s >= -(-int(rows_npos[r]) // SPLIT):
                continue
            gm = wm[:, r].max()
            e = np.where(wm[:, r] == -np.inf, 0, np.exp(wm[:, r] - gm))
            lsum = float((wl[:, r] * e).sum())
            acc = np.array([(wacc[:, r, phys(r, d)] * e).sum() for d in range(HD)])
            if s == 0:
                run_m[r], run_l[r], run_acc[r] = gm, lsum, acc
            else:
                mnew = max(run_m[r], gm)
                a, b = np.exp(run_m[r] - mnew), np.exp(gm - mnew)
                run_l[r], run_acc[r], run_m[r] = run_l[r] * a + lsum * b, run_acc[r] * a + acc * b, mnew
    for r in run_acc:
        out[r] = run_acc[r] / run_l[r]
    return out


def check_swizzle():
    """phys: a bijection of each row's dims; the warps' stores (lanes 32 dims apart) and the merge's loads (32
    consecutive dims) each touch 32 distinct banks."""
    fails = 0
    for r in range(ROWS):
        if sorted(phys(r, d) for d in range(HD)) != list(range(HD)):
            print(f"FAIL swizzle of row {r} is not a bijection")
            fails += 1
    for u in range(HD // 8):
        for row_off, dim_off in [(0, 0), (0, 16), (8, 0), (8, 16)]:
            banks = {(r * HD + phys(r, d)) % 32 for r, d in
                     ((int(G_OF[l]) + row_off, 32 * int(T_OF[l]) + u + dim_off) for l in range(32))}
            if len(banks) != 32:
                print(f"FAIL swizzle: the stores of n tile {u} meet {32 - len(banks)} bank conflicts")
                fails += 1
    for r in range(ROWS):
        for w0 in range(0, HD, 32):
            if len({(r * HD + phys(r, d)) % 32 for d in range(w0, w0 + 32)}) != 32:
                print(f"FAIL swizzle: the merge's loads of row {r} meet bank conflicts")
                fails += 1
    if fails == 0:
        print("PASS decode tiles' scratch swizzle: bijective, no bank conflicts")
    return fails


def main():
    fails = check_swizzle()
    global SPLIT, WARPS
    # the default (4 warps, splits of 256), the shorter splits of QSPEC_ATTENTION_DECODE_TILES_SPLIT, and 8 warps a
    # block (QSPEC_ATTENTION_DECODE_TILES_WARPS=8)
    for warps, split in ((4, 256), (4, 128), (4, 64), (8, 256), (8, 64)):
        WARPS, SPLIT = warps, split
        print(f"{WARPS} warps, splits of {SPLIT} positions:")
        fails += check_tiles()
    return fails


def check_tiles():
    fails = 0
    G, bs, max_blocks = 4, 16, 40  # Llama-3-8B's 4 heads a kv head; one sequence of up to 640 positions
    tables = rng.permutation(max_blocks)
    kv_heads, kvh = 2, 1
    n = max_blocks * bs * kv_heads * HD
    kpool, vpool = rng.uniform(-1, 1, n).astype(np.float16), rng.uniform(-1, 1, n).astype(np.float16)
    offset = lambda p: int((tables[p // bs] * bs + p % bs) * kv_heads * HD + kvh * HD)
    for positions in ([5], [254, 255, 256, 257], [509, 510, 511, 512]):  # runs straddling splits
        n_tok = len(positions)
        q = rng.uniform(-2, 2, (n_tok, G, HD))
        rows_q, rows_npos = np.zeros((ROWS, HD)), np.zeros(ROWS, np.int64)
        for i, p in enumerate(positions):
            rows_q[i * G:(i + 1) * G], rows_npos[i * G:(i + 1) * G] = q[i], p + 1
        out = group_attention(q, kpool, vpool, offset, rows_npos, rows_q)
        ref = np.zeros((ROWS, HD))
        for r in range(n_tok * G):
            npos = int(rows_npos[r])
            K = np.array([kpool[offset(p):offset(p) + HD] for p in range(npos)], np.float64)
            V = np.array([vpool[offset(p):offset(p) + HD] for p in range(npos)], np.float64)
            sc = K @ rows_q[r] / np.sqrt(HD)
            e = np.exp(sc - sc.max())
            ref[r] = e @ V / e.sum()
        err = np.linalg.norm(out - ref) / np.linalg.norm(ref)
        tag = f"tokens at {positions}"
        if err < 2e-3:
            print(f"PASS decode tiles against float64, {tag}: rel_err={err:.2e}")
        else:
            print(f"FAIL decode tiles against float64, {tag}: rel_err={err:.2e}")
            fails += 1
        # the last token alone (its decode): its rows' values equal those in the group
        last = n_tok - 1
        alone_q, alone_n = np.zeros((ROWS, HD)), np.zeros(ROWS, np.int64)
        alone_q[:G], alone_n[:G] = rows_q[last * G:(last + 1) * G], rows_npos[last * G]
        alone = group_attention(q, kpool, vpool, offset, alone_n, alone_q)
        if np.array_equal(alone[:G], out[last * G:(last + 1) * G]):
            print(f"PASS decode tiles: the last token alone = its rows in the group, {tag}")
        else:
            print(f"FAIL decode tiles: the last token alone differs from its rows in the group, {tag}")
            fails += 1
        # the one-token tile (K as the A operand): the same values as the 16-row tile, bit for bit where the MMA's sums
        # do not depend on the operand a value sits in (as this emulation's exact sums do not)
        one = group_attention(q, kpool, vpool, offset, alone_n, alone_q, one=True)
        if np.array_equal(one[:G], alone[:G]):
            print(f"PASS one-token tile = the 16-row tile, the last token alone, {tag}")
        else:
            print(f"FAIL one-token tile differs from the 16-row tile, {tag}: max diff {np.abs(one[:G] - alone[:G]).max():.3e}")
            fails += 1
        if n_tok == 4:  # its planted bug (a sum's share from the wrong partner lane) must be caught
            bad = group_attention(q, kpool, vpool, offset, alone_n, alone_q, plant=True, one=True)
            if np.array_equal(bad[:G], alone[:G]):
                print(f"FAIL one-token tile: the planted bug (the wrong partner lane) passed")
                fails += 1
            else:
                print(f"PASS one-token tile: the planted bug is caught, max diff {np.abs(bad[:G] - alone[:G]).max():.3e}")
        if n_tok == 4:  # the planted bug must be caught
            bad = group_attention(q, kpool, vpool, offset, rows_npos, rows_q, plant=True)
            berr = np.linalg.norm(bad - ref) / np.linalg.norm(ref)
            if berr < 2e-3:
                print(f"FAIL decode tiles: the planted bug (V permutes swapped) passed, rel_err={berr:.2e}")
                fails += 1
            else:
                print(f"PASS decode tiles: the planted bug is caught, rel_err={berr:.2e}")
    return fails


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
