#!/usr/bin/env python3
"""CPU emulation (numpy, float32 rounding step by step) of norm_rows.cuh as written: the standalone register-resident
RMSNorm kernels (a row thread per CUDA thread of a 1024-thread block: norm.cu, quantize.cu) and the norm tail of the
residual-adding bulk-copy GEMVs (9 warps that take the 32 row warps in turn, in the GEMV's last CTA). The tail must
give the standalone kernels' bits: the same sum of squares, the same fp16 rows, the same codes and group scales.
Checked exactly on random rows of D = 4096, 4104, 16384 and 1056, with planted bugs the check must catch: the tail's
row threads stepping 32 units instead of 1024 (where a row thread holds several units), and the codes' group
maximum taken over half a group.
Without a GPU: python3 native/test/emulate_norm.py  (exit code 1 on a mismatch)."""
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
    print("all passed" if failures == 0 else f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
