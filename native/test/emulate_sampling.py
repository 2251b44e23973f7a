#!/usr/bin/env python3
"""CPU emulation (numpy) of sample.cu's algorithm as written: fp32 weights, 2^-40 fixed-point masses,
top-k / top-p thresholds by four 8-bit radix passes over the weights' float bits (the histogram bin
chosen from the top, ties at a threshold kept in index order), min-p, the inverse CDF by integer
prefix sums, and qspec_rejection_sample's decision over kept distributions. The warp mechanics
(ballots, __match_any_sync, block scans) are not modelled: they only add integers, whose sums do not
depend on order. Checked against float64 ports of the host's LogitsProcessor + Sampler and
RejectionSamplingAcceptance.decide on random rows, except where a variate lies within rounding of an
edge; planted bugs must each make it fail. Without a GPU: python3 native/test/emulate_sampling.py
(exit code 1 on a mismatch)."""
import sys
import numpy as np

FIXED_ONE = np.float32(2.0 ** 40)
TOP_P_TOLERANCE = 1e-6
BUGS = set()  # names of planted bugs switched on (see PLANTED)


def fixed_mass(w):
    """__float2ull_rz(w * 2^40) for positive fp32 weights, 0 otherwise (exact: a power-of-two scale)."""
    w = np.asarray(w, np.float32)
    return np.where(w > 0, np.floor(w.astype(np.float64) * float(FIXED_ONE)), 0).astype(np.uint64)


def select_bin_from_top(hist, target):
    """The highest bin where the running total from the top reaches target (bin 0 when none does), and
    what the bins above it hold."""
    acc = 0
    for b in range(255, -1, -1):
        here = int(hist[b])
        if acc + here >= target or b == 0:
            return b, acc
        acc += here


def radix_select(w, target, mass):
    bits = w.view(np.uint32)
    prefix, mask, above = 0, 0, 0
    for shift in ((24, 16, 8) if 'radix-skips-low-byte' in BUGS else (24, 16, 8, 0)):
        mine = (w > 0) & ((bits & np.uint32(mask)) == np.uint32(prefix))
        bins = ((bits[mine] >> np.uint32(shift)) & np.uint32(255)).astype(np.int64)
        hist = np.zeros(256, np.uint64)
        np.add.at(hist, bins, fixed_mass(w[mine]) if mass else np.ones(len(bins), np.uint64))
        b, acc = select_bin_from_top(hist, target - above)
        above += acc
        prefix |= b << shift
        mask |= 255 << shift
    return prefix, above


def keep_above(w, tau, ties):
    bits = w.view(np.uint32)
    positive = w > 0
    tie = positive & (bits == np.uint32(tau))
    rank = np.cumsum(tie) - 1  # index order
    if 'ties-highest' in BUGS:
        rank = tie.sum() - 1 - rank
    w[positive & (bits < np.uint32(tau))] = 0
    w[tie & (rank >= ties)] = 0


def kernel_weights(logits, p, history):
    """sample_kernel up to the inverse CDF: (weights, best index, status) with status 0, -1 (NaN above
    T = 0) or -2 (every logit -inf)."""
    w = np.array(logits, np.float32)
    nan = bool(np.isnan(w).any())
    for tok, count in history:
        l = float(w[tok])
        if 'penalty-divides-negatives' in BUGS:
            l = l / p['repetition']
        else:
            l = l / p['repetition'] if l > 0 else l * p['repetition']
        l -= count * p['frequency'] + p['presence']
        w[tok] = np.float32(l)
    finite = np.where(np.isnan(w), -np.inf, w)
    best = int(np.argmax(finite)) if not np.all(np.isnan(w)) else 0
    mx = finite[best]
    if p['temperature'] == 0:
        one_hot = np.zeros_like(w)
        one_hot[best] = 1
        return one_hot, best, 0
    if nan or mx == -np.inf:
        return None, best, -1 if nan else -2
    inv_t = np.float32(1.0 / p['temperature'])
    with np.errstate(invalid='ignore', over='ignore'):
        x = np.where(w == np.inf, np.float32(1), np.float32(0)) if mx == np.inf \
            else np.exp((w - np.float32(mx)) * inv_t, dtype=np.float32)
    x = x.astype(np.float32)
    positive = int((x > 0).sum())
    if 0 < p['top_k'] < positive:
        tau, above = radix_select(x, p['top_k'], False)
        keep_above(x, tau, p['top_k'] - above)
    if p['top_p'] < 1:
        mass = int(fixed_mass(x).sum())
        target = int(max(1.0, p['top_p'] * mass * (1 - TOP_P_TOLERANCE)))
        tau, above = radix_select(x, target, True)
        each = int(fixed_mass(np.uint32(tau).view(np.float32)))
        ties = 1 if each == 0 else (target - above + each - 1) // each
        if 'top-p-floor' in BUGS and each:
            ties = (target - above) // each
        keep_above(x, tau, max(ties, 1))
    if p['min_p'] > 0:
        floor = p['min_p'] * (x.astype(np.float64).sum() if 'min-p-of-total' in BUGS else 1.0)
        x[x.astype(np.float64) < floor] = 0
    return x, best, 0


def inverse_cdf(masses, u):
    """The first index whose cumulative mass exceeds u * total (-1 when none does), and the total."""
    cum = np.cumsum(masses.astype(np.uint64))
    total = int(cum[-1]) if len(cum) else 0
    target = int(u * total)
    hit = np.nonzero(cum > np.uint64(target))[0]
    return (int(hit[0]) if len(hit) else -1), total


def kernel_draw(logits, p, history, u):
    w, best, status = kernel_weights(logits, p, history)
    if status:
        return status, None, 0
    if p['temperature'] == 0:
        return best, w, int(fixed_mass(np.float32(1)))
    drawn, total = inverse_cdf(fixed_mass(w), u)
    return (drawn if drawn >= 0 else best), w, total


def kernel_decide(drafts, q_kept, p_kept, u):
    """rejection_kernel: q_kept[i], p_kept[i] are (weights, total) pairs."""
    gamma = len(drafts)
    if any(t == 0 for _, t in q_kept) or any(t == 0 for _, t in p_kept):
        return 0, -1
    for i in range(gamma):
        x = drafts[i]
        (wp, tp), (wq, tq) = p_kept[i], q_kept[i]
        pp = int(fixed_mass(wp[x])) / tp
        qq = int(fixed_mass(wq[x])) / tq
        if (pp > 0) if qq <= 0 else (u[i] * qq < pp):
            continue
        mp, mq = fixed_mass(wp).astype(np.float64) / tp, fixed_mass(wq).astype(np.float64) / tq
        r = (mq - mp) if 'residual-inverted' in BUGS else (mp - mq)
        residual = np.where(r > 0, np.floor(r * float(FIXED_ONE)), 0).astype(np.uint64)
        drawn, total = inverse_cdf(residual, u[gamma])
        if total == 0:
            drawn, _ = inverse_cdf(fixed_mass(wp), u[gamma])
        return i, drawn if drawn >= 0 else int(np.nonzero(wp > 0)[0][-1])
    wb, _ = p_kept[gamma - 1] if 'bonus-from-last-draft' in BUGS else p_kept[gamma]
    drawn, _ = inverse_cdf(fixed_mass(wb), u[gamma])
    return gamma, drawn if drawn >= 0 else int(np.nonzero(wb > 0)[0][-1])


# ---- float64 references: io.qspec.sampling.LogitsProcessor + Sampler, RejectionSamplingAcceptance.decide

def reference_distribution(logits, p, history):
    """The host's float probabilities; one-hot at T = 0; None when no token is possible."""
    l = np.array(logits, np.float32)
    for tok, count in history:
        v = float(l[tok])
        v = v / p['repetition'] if v > 0 else v * p['repetition']
        v -= count * p['frequency'] + p['presence']
        l[tok] = np.float32(v)
    best = int(np.argmax(l))
    if p['temperature'] == 0:
        one_hot = np.zeros(len(l), np.float32)
        one_hot[best] = 1
        return one_hot
    mx = float(l[best])
    if mx == -np.inf:
        return None
    w = np.where(l == np.inf, 1.0, 0.0) if mx == np.inf else np.exp((l.astype(np.float64) - mx) / p['temperature'])
    V = len(w)
    if (0 < p['top_k'] < V) or p['top_p'] < 1:
        positive = int((w > 0).sum())
        k = p['top_k'] if 0 < p['top_k'] < positive else 0
        order = [i for i in np.argsort(-w.astype(np.float32), kind='stable') if w[i] > 0]
        keep = k if k else len(order)
        if p['top_p'] < 1:
            kept = w[order[:keep]].sum() if k else w.sum()
            target = p['top_p'] * kept * (1 - TOP_P_TOLERANCE)
            cum, nucleus = 0.0, 0
            while nucleus < keep:
                cum += w[order[nucleus]]
                nucleus += 1
                if cum >= target:
                    break
            keep = nucleus
        survives = np.zeros(V, bool)
        survives[order[:keep]] = True
        w = np.where(survives, w, 0)
    if p['min_p'] > 0:
        w = np.where(w < p['min_p'] * w.max(), 0, w)
    return (w / w.sum()).astype(np.float32)


def reference_pick(prob, u):
    """Sampler.sample(prob, u), and the distance of u * total from the nearest CDF edge (relative)."""
    total = float(prob.astype(np.float64).sum())
    cum = np.cumsum(prob.astype(np.float64))
    target = u * total
    nz = np.nonzero((prob > 0) & (cum > target))[0]
    token = int(nz[0]) if len(nz) else int(np.nonzero(prob > 0)[0][-1])
    margin = float(np.min(np.abs(cum[prob > 0] - target))) / total
    return token, margin


def reference_decide(drafts, q, p, u):
    gamma = len(drafts)
    near_edge = False
    for i in range(gamma):
        x = drafts[i]
        qq, pp = float(q[i][x]), float(p[i][x])
        if qq > 0 and abs(u[i] * qq - pp) < 1e-6:
            near_edge = True
        if (pp > 0) if qq <= 0 else (u[i] * qq < pp):
            continue
        r = np.maximum(p[i] - q[i], 0).astype(np.float32)
        mass = float(r.astype(np.float64).sum())
        token, margin = reference_pick(r if mass > 0 else p[i], u[gamma])
        return i, token, near_edge or margin < 2e-7 / max(mass, 1e-3)
    token, margin = reference_pick(p[gamma], u[gamma])
    return gamma, token, near_edge or margin < 2e-7


# ---- cases

def params(**kw):
    p = dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, repetition=1.0, frequency=0.0, presence=0.0)
    p.update(kw)
    return p


SETTINGS = [params(), params(temperature=0.7, top_k=40), params(top_p=0.9), params(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05),
            params(temperature=1.3, min_p=0.1), params(top_k=1), params(top_p=0.01),
            params(temperature=0.9, top_p=0.8, repetition=1.3, frequency=0.2, presence=0.4), params(temperature=0)]


def random_rows(rng, rows, V, ties=False):
    l = rng.uniform(-8, 8, (rows, V)).astype(np.float32)
    for r in range(rows):
        l[r, rng.integers(0, V, 20)] = rng.uniform(8, 14, 20)
        if ties:  # four equal top logits: top-k 2 and top-p cut inside the tie
            l[r, rng.choice(V, 4, replace=False)] = 20
    return l


def run_checks(rng):
    bad, counts = [], {'compared': 0, 'edges': 0}

    def check_draw(row, p, hist, u, label):
        """One draw: the emulated kernel's token against the reference's, unless u lies at a CDF edge."""
        got, _, _ = kernel_draw(row, p, hist, u)
        prob = reference_distribution(row, p, hist)
        want, margin = (int(np.argmax(prob)), 1.0) if p['temperature'] == 0 else reference_pick(prob, u)
        if margin < 2e-7:
            counts['edges'] += 1
        else:
            counts['compared'] += 1
            if got != want:
                bad.append(f"{label} {p} u={u}: kernel {got}, reference {want}")

    history = [(t, 1 + j % 3) for j, t in enumerate(sorted(set((np.arange(40) * 7919 + 13) % 1000)))]
    for V in (1000, 32000):
        for ties in (False, True):
            rows = random_rows(rng, 6, V, ties)
            for p in SETTINGS + ([params(top_k=2), params(top_p=0.3)] if ties else []):
                for r in range(len(rows)):
                    check_draw(rows[r], p, history if p['repetition'] != 1 else [], float(rng.uniform()), f"draw V={V} row {r}")
    # a top-k cut inside weights that differ only in their lowest mantissa bits (the fourth radix pass)
    for V in (1000, 32000):
        for r in range(6):
            row = rng.uniform(-8, 8, V).astype(np.float32)
            at = rng.choice(V, 10, replace=False)
            row[at[:4]] = 20
            row[at[4:]] = np.float32(15) + np.arange(6, dtype=np.float32) * np.float32(2.0 ** -19)
            for u in (0.2, 0.7, 0.999):
                check_draw(row, params(top_k=6), [], u, f"low-bit cut V={V} row {r}")
    # penalties on negative logits: the history's tokens lead before the penalty and trail after it
    for V in (1000, 32000):
        for p in (params(temperature=0, repetition=1.3), params(temperature=0.5, top_k=3, repetition=1.3)):
            row = rng.uniform(-8, -3, V).astype(np.float32)
            row[[t for t, _ in history[:3]]] = -2.0  # x 1.3 = -2.6 (a division would give -1.54)
            row[rng.integers(0, V, 3)] = -2.2
            for u in (0.1, 0.5, 0.9):
                check_draw(row, p, history, u, f"penalized draw V={V}")
    compared, edges = counts['compared'], counts['edges']
    # rejection rounds: drafts drawn by the emulated kernel from verify rows plus noise
    for V in (1000, 32000):
        for p in [params(), params(temperature=0.8, top_k=50, top_p=0.95), params(top_p=0.9, min_p=0.05), params(temperature=0)]:
            for lane in range(12):
                gamma = 1 + lane % 4
                verify = random_rows(rng, gamma + 1, V)
                draft = verify[:gamma] + rng.normal(0, 1.0, (gamma, V)).astype(np.float32)
                drafts, q_kept, q_ref, edge = [], [], [], False
                for i in range(gamma):
                    u = float(rng.uniform())
                    tok, w, total = kernel_draw(draft[i], p, [], u)
                    q = reference_distribution(draft[i], p, [])
                    if p['temperature'] != 0 and reference_pick(q, u)[1] < 2e-7:
                        edge = True
                    drafts.append(tok)
                    q_kept.append((w, total))
                    q_ref.append(q)
                p_kept = [kernel_draw(verify[i], p, [], 0.5)[1:] for i in range(gamma + 1)]
                p_ref = [reference_distribution(verify[i], p, []) for i in range(gamma + 1)]
                u = rng.uniform(size=gamma + 1)
                got = kernel_decide(drafts, q_kept, p_kept, u)
                want_acc, want_tok, near = reference_decide(drafts, q_ref, p_ref, u)
                if edge or near:
                    edges += 1
                    continue
                compared += 1
                if got != (want_acc, want_tok):
                    bad.append(f"round V={V} {p} lane {lane}: kernel {got}, reference {(want_acc, want_tok)}")
    return bad, compared, edges


PLANTED = ['ties-highest', 'radix-skips-low-byte', 'top-p-floor', 'min-p-of-total', 'penalty-divides-negatives',
           'residual-inverted', 'bonus-from-last-draft']


def main():
    bad, compared, edges = run_checks(np.random.default_rng(5))
    ok = not bad and edges * 20 <= compared
    print(f"{'PASS' if ok else 'FAIL'} emulated sampling and rejection: {compared} compared, {edges} at an edge,"
          f" {len(bad)} mismatches")
    for line in bad[:5]:
        print("   ", line)
    for bug in PLANTED:
        BUGS.clear()
        BUGS.add(bug)
        caught, _, _ = run_checks(np.random.default_rng(5))
        print(f"{'PASS' if caught else 'FAIL'} planted bug '{bug}' is caught ({len(caught)} mismatches)")
        ok &= bool(caught)
    BUGS.clear()
    print("ALL PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
