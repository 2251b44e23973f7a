#!/usr/bin/env python3
"""CPU emulation of the bulk-copy GEMVs' epilogues (w4_bulk.cuh).

The norm tail (numpy, float32 rounding step by step), norm_rows.cuh as written: the standalone register-resident
RMSNorm kernels (a row thread per CUDA thread of a 1024-thread block: norm.cu, quantize.cu) and the norm tail of the
residual-adding bulk-copy GEMVs (9 warps that take the 32 row warps in turn, in the GEMV's last CTA). The tail must
give the standalone kernels' bits: the same sum of squares, the same fp16 rows, the same codes and group scales.
Checked exactly on random rows of D = 4096, 4104, 16384 and 1056, with planted bugs the check must catch: the tail's
row threads stepping 32 units instead of 1024 (where a row thread holds several units), and the codes' group
maximum taken over half a group.

SwiGLU in W4A16's gate|up GEMV: swiglu_grid's CTA count and the walks it gives (CTA c takes row tiles c, c + G, ...)
for Llama shapes on 132 and 78 SMs: every row tile is taken once, and every up tile (rows from H) by the CTA that took
its gate tile (rows 2H / 2 lower) earlier in its walk, so the thread that reads a gate sum back stored it (reduce_apply
hands output (m, n) of every tile to the same thread). A planted bug (G rounded up where it does not divide the gate
tiles) must be caught.
Without a GPU: python3 native/test/emulate_epilogues.py  (exit code 1 on a mismatch)."""
import sys
import numpy as np

rng = np.random.default_rng(23)
F = np.float32
ROW_THREADS, RMAX, TAIL_WARPS = 1024, 4, 9


def square_sum4(v):
    """norm_rows.cuh square_sum4: ((x^2 + y^2) + z^2) + w^2, each step rounded."""
    return F(F(F(v[0] * v[0]) + F(v[1] * v[1])) + F(v[2] * v[2])) + F(v[3] * v[3])


def warp_sum(vals):
    """common.cuh warp_sum: the xor butterfly over 32 lanes (every lane ends with lane 0's value)."""
    v = [F(x) for x in vals]
    for o in (16, 8, 4, 2, 1):
        v = [F(v[l] + v[l ^ o]) for l in range(32)]
    return v[0]


def thread_sum(units, c0, n4, stride=ROW_THREADS):
    """A row thread's sum: units c0, c0 + 1024, ... below n4, in that order (row_registers / run_tail)."""
    ss = F(0)
    for i in range(RMAX):
        c = c0 + stride * i
        if c < n4:
            ss = F(ss + square_sum4(units[c]))
    return ss


def standalone_total(units, n4):
    """block_sum over 1024 CUDA threads: warp sums, then the 32 warp sums in a warp."""
    red = [warp_sum([thread_sum(units, w * 32 + l, n4) for l in range(32)]) for w in range(32)]
    return warp_sum(red)


def tail_total(units, n4, bug=False):
    """run_tail: warp w of 9 takes row warps w, w + 9, ...; lane l of row warp rw is row thread rw * 32 + l."""
    scratch = [None] * 32
    for w in range(TAIL_WARPS):
        for rw in range(w, 32, TAIL_WARPS):
            scratch[rw] = warp_sum([thread_sum(units, rw * 32 + l, n4, 32 if bug else ROW_THREADS) for l in range(32)])
    return warp_sum(scratch)


def inverse_rms(total, D, eps):
    return F(1.0 / np.sqrt(np.float64(F(F(total / F(D)) + F(eps)))))  # the same rsqrtf in both: any fixed function


def normalised(units, c, rinv, gain):
    """store_half4 / store_codes4's values: v * rinv * g, two roundings."""
    return [F(F(units[c][e] * rinv) * gain[c][e]) for e in range(4)]


def codes(units, n4, rinv, gain, group, qmax, walk, bug=False):
    """store_codes4 over the row threads in the order `walk` yields them, whole warps at a time (the amax shuffles
    over group / 4 adjacent lanes)."""
    out, scales = {}, {}
    for base in walk:  # base: the row thread of lane 0
        for i in range(RMAX):
            if ROW_THREADS * i >= n4:
                break
            lanes = []
            for l in range(32):
                c = base + l + ROW_THREADS * i
                lanes.append(normalised(units, c, rinv, gain) if c < n4 else [F(0)] * 4)
            amax = [max(abs(a) for a in lane) for lane in lanes]
            span = group // 8 if bug else group // 4
            for l in range(32):
                c = base + l + ROW_THREADS * i
                if c >= n4:
                    continue
                g0 = l - l % span
                m = F(max(amax[g0:g0 + span]))
                inv = F(qmax / m) if m > 0 else F(0)
                out[c] = tuple(int(np.clip(np.rint(F(a * inv)), -qmax, qmax)) for a in lanes[l])
                if (4 * c) % group == 0:
                    scales[4 * c // group] = F(m / F(qmax))
    return out, scales


def swiglu_grid(tiles, rows_per_tile, N, resident, bug=False):
    """w4_bulk.cuh swiglu_grid: G = tiles / (2 j), the smallest j at which G CTAs are resident; 0: cannot pair."""
    if N % (2 * rows_per_tile):
        return 0
    half = tiles // 2
    if bug:  # enough CTAs to be resident, rounded up instead of dividing the gate tiles
        return -(-half // -(-half // resident))
    for j in range(1, half + 1):
        if half % j == 0 and half // j <= resident:
            return half // j
    return 0


def walks_pair(N, rows_per_tile, G):
    """Every tile once; each up tile taken after its gate tile by the same CTA (reduce_swiglu's reads)."""
    tiles, H = -(-N // rows_per_tile), N // 2
    seen = []
    for c in range(G):
        stored = set()
        for tile in range(c, tiles, G):
            seen.append(tile)
            n_base = tile * rows_per_tile
            if n_base < H:
                stored.add(n_base)
            elif n_base - H not in stored:
                return False
    return sorted(seen) == list(range(tiles))


def swiglu_checks():
    failures = 0
    for H in (14336, 11008, 8192, 2048, 1024, 1000):
        for rows_per_tile, per_sm in ((32, 2), (64, 1)):
            for sms in (132, 78):
                N = 2 * H
                tiles = -(-N // rows_per_tile)
                G = swiglu_grid(tiles, rows_per_tile, N, sms * per_sm)
                if G == 0:
                    ok = N % (2 * rows_per_tile) != 0  # only a gate half that ends inside a tile falls back
                else:
                    ok = walks_pair(N, rows_per_tile, G) and G <= sms * per_sm
                print(f"{'PASS' if ok else 'FAIL'} swiglu walk H={H} rows/tile={rows_per_tile} {sms} SMs: "
                      f"{G} CTAs{' (two launches)' if G == 0 else ''}")
                failures += not ok
    # the planted bug must be caught somewhere: 11008 hidden units on 78 SMs with 64-row tiles
    N, rows = 2 * 11008, 64
    G_bad = swiglu_grid(-(-N // rows), rows, N, 78, bug=True)
    caught = not walks_pair(N, rows, G_bad)
    print(f"{'PASS' if caught else 'FAIL'} swiglu walk: planted grid bug ({G_bad} CTAs) {'caught' if caught else 'NOT caught'}")
    return failures + (not caught)


def reduce_map(e, NT):
    """w4_bulk.cuh reduce_apply: element e of MT token tiles -> (lane, m, row offset in the CTA's tile)."""
    ln, c, i, mt = e & 31, (e >> 5) & 3, (e >> 7) % NT, (e >> 7) // NT
    return ln, 8 * mt + 2 * (ln & 3) + (c & 1), 16 * i + (ln >> 2) + (8 if c >= 2 else 0)


def rope_token_of(lane, m, MT, bug=False):
    """w4_bulk.cuh reduce_rope_kv: the preloaded token (t0 .. t3: tokens 2 (lane & 3) + {0, 1} + 8 mt) that output
    token m takes by select; which token that is."""
    tokens = [2 * (lane & 3) + k + 8 * mt for mt in range(MT) for k in (0, 1)]
    pick = (2 if (MT == 2 and m >= 8 and not bug) else 0) + (m & 1)
    return tokens[pick]


def rope_pair(a, b, c, s):
    """common.cuh rope_pair: each product and sum rounded on its own."""
    return F(F(a * c) - F(b * s)), F(F(a * s) + F(b * c))


def rope_checks():
    failures = 0
    # every element's shuffle partner holds row n ^ 1 of the same token, and the token a thread picks by select is
    # the element's own (one or two token tiles; any number of threads a multiple of 32 walks the elements)
    for MT in (1, 2):
        for NT in (1, 2, 4):
            ok = bug_caught = tok_bug_caught = True
            for e in range(MT * NT * 128):
                ln, m, n = reduce_map(e, NT)
                pe = (e & ~31) | (ln ^ 4)
                _, pm, pn = reduce_map(pe, NT)
                ok &= pm == m and pn == n ^ 1 and rope_token_of(ln, m, MT) == m
                _, bm, bn = reduce_map((e & ~31) | (ln ^ 1), NT)
                bug_caught &= not (bm == m and bn == n ^ 1)
                tok_bug_caught &= MT == 1 or rope_token_of(ln, m, MT, bug=True) == m
            tok_bug_caught = MT == 1 or not tok_bug_caught
            print(f"{'PASS' if ok and bug_caught and tok_bug_caught else 'FAIL'} rope pairs MT={MT} NT={NT}: lane ^ 4 "
                  f"holds row n ^ 1 of token m, the selected token is m; planted lane ^ 1 "
                  f"{'caught' if bug_caught else 'NOT caught'}"
                  + (f", planted first-tile token {'caught' if tok_bug_caught else 'NOT caught'}" if MT == 2 else ""))
            failures += (not ok) + (not bug_caught) + (not tok_bug_caught)
    for heads, kv, hd in ((32, 8, 128), (16, 4, 64)):
        qd, kd = heads * hd, kv * hd
        N, pos, bs = qd + 2 * kd, 700, 16
        inv = (500000.0 ** (-2.0 * np.arange(hd // 2) / hd)).astype(F)
        y = rng.uniform(-4, 4, N).astype(F)
        slot = ((3 * bs) + pos % bs) * kd  # block 3 of the table
        # qspec_rope_write_kv, interleaved: pair p of head h
        q_ref, k_ref, v_ref = {}, {}, {}
        for h in range(heads + kv):
            for i in range(hd // 2):
                a = F(F(pos) * inv[i])
                c, s = F(np.cos(np.float64(a))), F(np.sin(np.float64(a)))  # sincosf stand-in: both sides call it alike
                src = y[h * hd:] if h < heads else y[qd + (h - heads) * hd:]
                r0, r1 = rope_pair(src[2 * i], src[2 * i + 1], c, s)
                if h < heads:
                    q_ref[h * hd + 2 * i], q_ref[h * hd + 2 * i + 1] = r0, r1
                else:
                    k_ref[slot + (h - heads) * hd + 2 * i], k_ref[slot + (h - heads) * hd + 2 * i + 1] = r0, r1
        for e in range(kd):
            v_ref[slot + e] = y[qd + kd + e]

        def store(n, own, pair, bug=False):  # common.cuh rope_kv_store: (which buffer, index, value)
            if n >= qd + kd:
                return "v", slot + n - qd - kd, own
            d = n % hd
            a = F(F(pos) * inv[d // 2])
            c, s = F(np.cos(np.float64(a))), F(np.sin(np.float64(a)))
            odd = d & 1
            r = rope_pair(pair, own, c, s) if odd and not bug else rope_pair(own, pair, c, s)
            return ("q", n, r[1] if odd else r[0]) if n < qd else ("k", slot + n - qd, r[1] if odd else r[0])

        got, bad = {"q": {}, "k": {}, "v": {}}, {"q": {}, "k": {}, "v": {}}
        for n in range(N):
            which, idx, val = store(n, y[n], y[n ^ 1])
            got[which][idx] = val
            which, idx, val = store(n, y[n], y[n ^ 1], bug=True)
            bad[which][idx] = val
        ok = got["q"] == q_ref and got["k"] == k_ref and got["v"] == v_ref
        caught = bad["q"] != q_ref
        print(f"{'PASS' if ok and caught else 'FAIL'} rope_kv_store heads={heads} kv={kv} hd={hd}: q, k and v as "
              f"qspec_rope_write_kv writes them; planted odd-row order {'caught' if caught else 'NOT caught'}")
        failures += (not ok) + (not caught)
    return failures


def main():
    failures = 0
    eps = F(1e-5)
    for D, M in ((4096, 2), (4104, 1), (16384, 1), (1056, 3)):
        n4 = D // 4
        gain = rng.uniform(0.5, 1.5, (n4, 4)).astype(F)
        for m in range(M):
            units = rng.uniform(-3, 3, (n4, 4)).astype(F)
            t_std, t_tail = standalone_total(units, n4), tail_total(units, n4)
            ok = t_std == t_tail
            caught = n4 <= ROW_THREADS or tail_total(units, n4, bug=True) != t_std  # one unit a row thread: no stride
            rinv = inverse_rms(t_std, D, eps)
            ref = np.sum(units.astype(np.float64) ** 2)
            ok &= abs(float(t_std) - ref) <= 1e-5 * ref  # and the sum is a sum of squares
            groups = [g for g in (128, 64, 32) if D % g == 0]
            for group, qmax in ((128, 127), (64, 7), (32, 127)):
                if group not in groups:
                    continue
                std = codes(units, n4, rinv, gain, group, qmax, [w * 32 for w in range(32)])
                tail = codes(units, n4, rinv, gain, group, qmax,
                             [rw * 32 for w in range(TAIL_WARPS) for rw in range(w, 32, TAIL_WARPS)])
                ok &= std == tail and len(std[0]) == n4
                caught &= codes(units, n4, rinv, gain, group, qmax, [w * 32 for w in range(32)], bug=True) != std
            print(f"{'PASS' if ok else 'FAIL'} norm tail D={D} row {m}: sum {float(t_std)!r} (tail {float(t_tail)!r}), "
                  f"codes of groups {groups or 'none (D % 32 != 0)'} the same; planted bugs {'caught' if caught else 'NOT caught'}")
            failures += (not ok) + (not caught)
    failures += swiglu_checks()
    failures += rope_checks()
    print("all passed" if failures == 0 else f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
