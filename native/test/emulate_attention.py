#!/usr/bin/env python3
"""CPU emulation (numpy) of rope_kv.cu + attention.cu as written: per-block RoPE pair mapping and
paged slot addressing, splits of 256 positions whose chunks of 8 the warps take in turn with an online
softmax each, the lane-owns-dims V accumulation, the merge of the warps and the in-order merge of
the splits. Checks them against a direct float64 reference, and the fused build (qspec_rope_attention: each
block rotates its own q and new k, reads the token's own k and v from where it computed them, one block per
(token, kv head) writes them) against the two kernels, exactly, for passes of one token per sequence, with a
planted bug that the check must catch.
Without a GPU: python3 native/test/emulate_attention.py  (exit code 1 on a mismatch)."""
import sys
import numpy as np

rng = np.random.default_rng(11)
WARPS = 4


def rope_pair(a, b, c, s):
    """common.cuh rope_pair: the one rotation both kernels use."""
    return a * c - b * s, a * s + b * c


def angle(p, inv_i):
    ang = np.float32(p) * np.float32(inv_i)
    return np.cos(np.float64(ang)), np.sin(np.float64(ang))


def rope_write_kv(qkv, ld, q_out, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, inv, style):
    """rope_kv.cu: q, k, v read from the fused rows (stride ld) of qkv (flat), rotated q to q_out [T, heads*hd]."""
    qd, kvd = heads * hd, kvh * hd
    for t in range(len(seq)):
        p = pos[t]
        blk = tables[seq[t] * max_blocks + p // bs]
        slot = (blk * bs + p % bs) * kvh * hd
        for pr in range((heads + kvh) * (hd // 2)):
            h, i = divmod(pr, hd // 2)
            d0, d1 = (2 * i, 2 * i + 1) if style == 0 else (i, i + hd // 2)
            c, s = angle(p, inv[i])
            if h < heads:
                a, b = qkv[t * ld + h * hd + d0], qkv[t * ld + h * hd + d1]
                q_out[t, h * hd + d0], q_out[t, h * hd + d1] = rope_pair(a, b, c, s)
            else:
                kh = h - heads
                a, b = qkv[t * ld + qd + kh * hd + d0], qkv[t * ld + qd + kh * hd + d1]
                x0, x1 = rope_pair(a, b, c, s)
                kpool[slot + kh * hd + d0], kpool[slot + kh * hd + d1] = np.float16(x0), np.float16(x1)
        vpool[slot:slot + kvd] = qkv[t * ld + qd + kvd:t * ld + qd + 2 * kvd].astype(np.float16)


CHUNK = 8  # positions per warp turn


SPLIT = 256  # positions per split (32 chunks)


def split_partial(qs, kpool, vpool, table_row, npos, bs, kvh, kv, hd, s, fresh=None):
    """Split s: the 4 warps take its chunks in turn, each an online softmax; merged in warp order. fresh: the
    fused build's (position, k, v) of the token's own position, read instead of the pool."""
    nchunks = -(-npos // CHUNK)
    c0, c1 = s * (SPLIT // CHUNK), min(nchunks, (s + 1) * (SPLIT // CHUNK))
    warps = []
    for warp in range(WARPS):
        m, l, acc = -np.inf, 0.0, np.zeros(hd)
        for c in range(c0 + warp, c1, WARPS):
            base = c * CHUNK
            sc, off = np.full(CHUNK, -np.inf), np.zeros(CHUNK, np.int64)
            for pp in range(CHUNK):  # 4 lanes per position, each a quarter of the 16-byte K chunks
                p = base + pp
                if p < npos:
                    off[pp] = ((table_row[p // bs] * bs + p % bs) * kvh + kv) * hd
                    k = (fresh[1] if fresh is not None and p == fresh[0] else kpool[off[pp]:off[pp] + hd]).astype(np.float64)
                    sc[pp] = sum(k[8 * c8:8 * c8 + 8] @ qs[8 * c8:8 * c8 + 8]
                                 for qq in range(4) for c8 in range(qq, hd // 8, 4))
            mnew = max(m, sc.max())
            corr = np.exp(m - mnew)
            pr = np.where(np.isfinite(sc), np.exp(sc - mnew), 0.0)
            l = l * corr + pr.sum()
            m = mnew
            acc *= corr
            for j in range(min(CHUNK, npos - base)):
                vj = fresh[2] if fresh is not None and base + j == fresh[0] else vpool[off[j]:off[j] + hd]
                acc += pr[j] * vj.astype(np.float64)
        warps.append((m, l, acc))
    gm = max(m for m, _, _ in warps)
    e = [0.0 if m == -np.inf else np.exp(m - gm) for m, _, _ in warps]
    return gm, sum(l * w for (_, l, _), w in zip(warps, e)), sum(a * w for (_, _, a), w in zip(warps, e))


def fused_inputs(qkv, ld, t, p, h, kv, heads, kvh, hd, inv, style):
    """attention.cu load_q_rope: head h's rotated q, kv head kv's rotated k and v in fp16."""
    row = qkv[t * ld:(t + 1) * ld]
    qh, kh = row[h * hd:(h + 1) * hd], row[heads * hd + kv * hd:heads * hd + (kv + 1) * hd]
    vh = row[(heads + kvh) * hd + kv * hd:(heads + kvh) * hd + (kv + 1) * hd]
    q, k = np.empty(hd), np.empty(hd, np.float16)
    for i in range(hd // 2):
        d0, d1 = (2 * i, 2 * i + 1) if style == 0 else (i, i + hd // 2)
        c, s = angle(p, inv[i])
        q[d0], q[d1] = rope_pair(qh[d0], qh[d1], c, s)
        x0, x1 = rope_pair(kh[d0], kh[d1], c, s)
        k[d0], k[d1] = np.float16(x0), np.float16(x1)
    return q, k, vh.astype(np.float16)


def attention(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, fused=None, plant=0):
    """Splits of SPLIT positions merged in split order by the kernels' online recurrence (split 0 as is).
    fused = (qkv, ld, inv, style): the fused build (q unused); plant: a bug for the check to catch (the fresh k and
    v taken for position pos - plant)."""
    T = len(seq)
    out = np.zeros((T, heads * hd))
    for t in range(T):
        for h in range(heads):
            kv = h // (heads // kvh)
            npos = pos[t] + 1
            row = tables[seq[t] * max_blocks:(seq[t] + 1) * max_blocks]
            fresh = None
            if fused is None:
                qs = q[t, h * hd:(h + 1) * hd] / np.sqrt(hd)
            else:
                qkv, ld, inv, style = fused
                qr, knew, vnew = fused_inputs(qkv, ld, t, pos[t], h, kv, heads, kvh, hd, inv, style)
                qs = qr / np.sqrt(hd)
                fresh = (pos[t] - plant, knew, vnew)
                if h % (heads // kvh) == 0:  # the writer of (token, kv head)
                    o = ((row[pos[t] // bs] * bs + pos[t] % bs) * kvh + kv) * hd
                    kpool[o:o + hd], vpool[o:o + hd] = knew, vnew
            m, l, acc = split_partial(qs, kpool, vpool, row, npos, bs, kvh, kv, hd, 0, fresh)
            for s in range(1, -(-npos // SPLIT)):
                pm, pl, pacc = split_partial(qs, kpool, vpool, row, npos, bs, kvh, kv, hd, s, fresh)
                mnew = max(m, pm)
                a, b = np.exp(m - mnew), np.exp(pm - mnew)
                l, acc, m = l * a + pl * b, acc * a + pacc * b, mnew
            out[t, h * hd:(h + 1) * hd] = acc / l
    return out


def head_tile(T, heads, kv_heads, sms):
    """attention.cu's head_tile (the rule, QSPEC_ATTENTION_HEAD_TILES unset): the heads of one kv head per block (4,
    or 2) where the one-head grid has more blocks than fit at once (4 per SM) and the tiled grid three per SM."""
    group = heads // kv_heads
    gt = 4 if group % 4 == 0 else 2 if group % 2 == 0 else 1
    return gt if T * heads > 4 * sms and T * heads // gt >= 3 * sms else 1


def check_head_tile_rule():
    """The rule on Llama-3-8B's heads (32 / 8) at 132 SMs, as measured (docs/KERNELS.md, "Head tiles"): verify passes
    of 16 x 4 and 32 x 4 tokens and prefills tiled; 8 x 4 and decode of 16-32 sequences one head a block."""
    want = {64: 4, 128: 4, 512: 4, 2048: 4, 32: 1, 16: 1, 8: 1, 1: 1, 50: 4, 49: 1}
    bad = [f"T={T}: {head_tile(T, 32, 8, 132)}" for T, w in want.items() if head_tile(T, 32, 8, 132) != w]
    bad += [f"GQA 6:1 T=64: {head_tile(64, 24, 4, 132)}"] * (head_tile(64, 24, 4, 132) != 2)
    bad += [f"MHA T=512: {head_tile(512, 32, 32, 132)}"] * (head_tile(512, 32, 32, 132) != 1)
    print(f"{'FAIL' if bad else 'PASS'} attention head-tile rule on Llama-3-8B's heads" + "".join(f"; {b}" for b in bad))
    return len(bad)


def split_tiles_auto(T, heads, kv_heads, npos, sms):
    """attention.cu's attention_split_auto_kernel choice (QSPEC_ATTENTION_SPLIT_TILES=auto) for a token of a pass of T
    tokens in the split schedule: the heads of one kv head per block (4, or 2) where the pass keeps at least 2 tiled
    blocks per SM at this token's context (split_tiles_min_blocks), else 1."""
    group = heads // kv_heads
    gt = 4 if group % 4 == 0 else 2 if group % 2 == 0 else 1
    return gt if gt > 1 and T * (heads // gt) * -(-npos // SPLIT) >= 2 * sms else 1


def check_split_tile_rule():
    """The per-token rule on Llama-3-8B's heads at 132 SMs against the H100 runs of sessions 24 and 25 (docs/KERNELS.md,
    "Head tiles in the split schedule"): tiled where the per-token kernel won (8 x 1 at 2048 and 8192 positions, 1 x 4
    at 8192), one head a block where it lost (1 x 4 at 2048, 1 x 1 at 8192: 256 tiled blocks) and where tiles on the
    whole grid lost (512 positions; 1 x 1 at 2048)."""
    want = {(1, 512): 1, (4, 512): 1, (8, 512): 1, (1, 2048): 1, (4, 2048): 1, (8, 2048): 4, (1, 8192): 1,
            (4, 8192): 4, (8, 8192): 4}
    bad = [f"T={T} context={c}: {split_tiles_auto(T, 32, 8, c, 132)}" for (T, c), w in want.items()
           if split_tiles_auto(T, 32, 8, c, 132) != w]
    print(f"{'FAIL' if bad else 'PASS'} attention split-schedule head-tile rule (auto) on Llama-3-8B's heads"
          + "".join(f"; {b}" for b in bad))
    return len(bad)


def split_schedule(T, heads, kv_heads, table_positions, sms, workspace_tokens, large_from=2048):
    """attention.cu launch_attention's choice (QSPEC_ATTENTION_SPLIT_TILES unset): the split schedule for passes of
    fewer than 2 x SMs (token, head) pairs, and for larger ones where the block table spans large_from positions or
    more (passes of fewer than 4 x SMs pairs from 2 x large_from), in both cases where the context has more than one
    split and the workspace holds the pass."""
    if -(-table_positions // SPLIT) <= 1 or T > workspace_tokens:
        return False
    group = heads // kv_heads
    large = group % 2 == 0 and 0 < large_from <= table_positions and (T * heads >= 4 * sms
                                                                      or table_positions >= 2 * large_from)
    return T * heads < 2 * sms or large


def check_split_schedule_rule():
    """The schedule rule on Llama-3-8B's heads at 132 SMs against the H100 runs of sessions 25 and 26 (docs/KERNELS.md,
    "Large passes in the split schedule"): large passes split at 2048 and 8192 positions (verify of 8-32 x 4 tokens,
    decode of 32 sequences: 1.4-2.0x faster), decode of 16 sequences at 8192 (1.38x) but not at 2048 (7 % slower),
    sequential at 512 (16 x 4 and 16 x 1 lost there) and beyond the workspace; small passes split wherever there is
    more than one split."""
    want = {(32, 2048): True, (32, 8192): True, (64, 2048): True, (16, 8192): True, (16, 2048): False,
            (128, 2048): False, (64, 512): False, (16, 512): False, (8, 512): True, (4, 8192): True, (1, 128): False}
    bad = [f"T={T} table={c}: {split_schedule(T, 32, 8, c, 132, 64)}" for (T, c), w in want.items()
           if split_schedule(T, 32, 8, c, 132, 64) != w]
    bad += [f"QSPEC_ATTENTION_LARGE_SPLIT=0, T=32: split"] * split_schedule(32, 32, 8, 8192, 132, 64, large_from=0)
    print(f"{'FAIL' if bad else 'PASS'} attention split-schedule rule for large passes on Llama-3-8B's heads"
          + "".join(f"; {b}" for b in bad))
    return len(bad)


def auto_block(b, T, heads, S, gt):
    """attention_split_auto_kernel's (token, head, split) of the block launched b-th: the tiles' first heads first
    (token, tile, split), then the other heads (token, head, split)."""
    tiles = heads // gt
    firsts = T * tiles * S
    if b < firsts:
        r = b // T
        return b % T, (r % tiles) * gt, r // tiles
    c = b - firsts
    r, others = c // T, tiles * (gt - 1)
    j = r % others
    return c % T, (j // (gt - 1)) * gt + 1 + j % (gt - 1), r // others


def check_auto_block_order():
    """auto_block numbers every (token, head, split) of the grid once, the tiles' first heads first."""
    bad = []
    for T, heads, S, gt in [(1, 32, 32, 4), (3, 8, 5, 4), (2, 6, 3, 2), (16, 32, 2, 4)]:
        blocks = [auto_block(b, T, heads, S, gt) for b in range(T * heads * S)]
        firsts = T * (heads // gt) * S
        if sorted(blocks) != [(t, h, s) for t in range(T) for h in range(heads) for s in range(S)] or \
                any(h % gt != 0 for _, h, _ in blocks[:firsts]) or any(h % gt == 0 for _, h, _ in blocks[firsts:]):
            bad.append(f"T={T} heads={heads} S={S} GT={gt}")
    print(f"{'FAIL' if bad else 'PASS'} attention per-token split schedule: each block once, the tiles' first heads "
          "first" + "".join(f"; {b}" for b in bad))
    return len(bad)


def split_schedule_auto(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, sms, plant=False):
    """The split schedule under QSPEC_ATTENTION_SPLIT_TILES=auto, block by block: attention_split_auto_kernel on the
    one-head grid (t, h, s) writing partials to the workspace at ((t heads + h) S + s), then attention_merge_kernel.
    A tiled token's block of the tile's first head computes the GT heads (the head-tile walk gives each head the
    one-head partial, which split_partial here is); the other blocks of the tile exit. plant: a bug for the check to
    catch (a tile's partials all stored at its first head's place)."""
    T, S = len(seq), -(-(max_blocks * bs) // SPLIT)
    group = heads // kvh
    gt = 4 if group % 4 == 0 else 2 if group % 2 == 0 else 1
    ws = np.full((T * heads * S, hd + 2), np.nan)
    tiled = False
    for b in range(T * heads * S):  # the blocks in launch order
        t, h, s = auto_block(b, T, heads, S, gt)
        npos, row = pos[t] + 1, tables[seq[t] * max_blocks:(seq[t] + 1) * max_blocks]
        ns = -(-npos // SPLIT)
        tiled_t = T * (heads // gt) * ns >= 2 * sms
        tiled = tiled or tiled_t
        if s >= ns or (tiled_t and h % gt != 0):
            continue
        for hh in (range(h, h + gt) if tiled_t else [h]):
            qs = q[t, hh * hd:(hh + 1) * hd] / np.sqrt(hd)
            m, l, acc = split_partial(qs, kpool, vpool, row, npos, bs, kvh, hh // group, hd, s)
            dst = (t * heads + (h if plant else hh)) * S + s
            ws[dst, :hd], ws[dst, hd], ws[dst, hd + 1] = acc, m, l
    return merge_workspace(ws, pos, heads, hd, S), tiled


def merge_workspace(ws, pos, heads, hd, S):
    """attention_merge_kernel: each (token, head)'s split partials at ((t heads + h) S + s) merged in split order."""
    out = np.zeros((len(pos), heads * hd))
    for t in range(len(pos)):
        for h in range(heads):
            src = (t * heads + h) * S
            acc, m, l = ws[src, :hd], ws[src, hd], ws[src, hd + 1]
            for s in range(1, -(-(pos[t] + 1) // SPLIT)):
                pacc, pm, pl = ws[src + s, :hd], ws[src + s, hd], ws[src + s, hd + 1]
                mnew = max(m, pm)
                a, b = np.exp(m - mnew), np.exp(pm - mnew)
                l, acc, m = l * a + pl * b, acc * a + pacc * b, mnew
            out[t, h * hd:(h + 1) * hd] = acc / l
    return out


def check_split_schedule_auto():
    """The per-token split schedule gives each head the one-head result exactly, for a pass whose tokens fall on
    both sides of the tiling threshold (a small SM count puts a long token over it and a short one under), and
    catches two planted bugs in its block walk."""
    fails = 0
    for heads, kvh, hd, bs in [(8, 2, 32, 16), (6, 1, 32, 8)]:
        hist, ntok, max_blocks = [600, 3], [2, 1], 640 // bs
        seq = [s for s in range(len(hist)) for _ in range(ntok[s])]
        pos = [hist[s] + i for s in range(len(hist)) for i in range(ntok[s])]
        nblocks = len(hist) * max_blocks
        tables = rng.permutation(nblocks)
        n = nblocks * bs * kvh * hd
        kpool, vpool = rng.uniform(-1, 1, n).astype(np.float16), rng.uniform(-1, 1, n).astype(np.float16)
        q = rng.uniform(-1, 1, (len(seq), heads * hd))
        want = attention(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd)
        sms = 8  # 3 tokens x heads / GT x 3 splits >= 16 tiles the long tokens; 1 split does not
        got, _ = split_schedule_auto(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, sms)
        caught = not np.array_equal(want, split_schedule_auto(q, kpool, vpool, seq, pos, tables, max_blocks, bs,
                                                               heads, kvh, hd, sms, plant=True)[0])
        ok = np.array_equal(want, got) and caught
        fails += not ok
        print(f"{'PASS' if ok else 'FAIL'} emulated split schedule with per-token head tiles = one head a block, "
              f"bit for bit, heads={heads} kv={kvh} (planted bug caught: {caught})")
    return fails


RUN_TILE = 4


def run_tile(tile, run):
    """attention.cu run_tile: the tile's first token and count (tiles of up to RUN_TILE tokens of a run)."""
    per = -(-run // RUN_TILE)
    r, j = divmod(tile, per)
    return r * run + j * RUN_TILE, min(RUN_TILE, run - j * RUN_TILE)


def attention_runs(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, run, split, plant=False):
    """attention_runs_kernel block by block: tiles of up to RUN_TILE tokens of a run, the GT heads of a kv head; the
    four warps of token qi walk the split's chunk streams as a one-query block's do (split_partial here); split: block
    (tile, hg, s) stores each token's partial of split s to the workspace and attention_merge_kernel merges them;
    otherwise the block merges its tokens' splits in split order. plant: every token walks the tile's longest context
    with the tile's first token's table (bugs the check must catch)."""
    T, S = len(seq), -(-(max_blocks * bs) // SPLIT)
    group = heads // kvh
    gt = 4 if group % 4 == 0 else 2 if group % 2 == 0 else 1
    ws = np.full((T * heads * S, hd + 2), np.nan)
    out = np.full((T, heads * hd), np.nan)
    ntiles = T // run * -(-run // RUN_TILE)
    for tile in range(ntiles):
        t0, n = run_tile(tile, run)
        toks = list(range(t0, t0 + n))
        nposs = [pos[t] + 1 for t in toks]
        last = max(nposs)
        for hg in range(heads // gt):
            for g in range(gt):
                h = hg * gt + g
                for i, t in enumerate(toks):  # warps 4 i .. 4 i + 3
                    st = seq[t0] if plant else seq[t]
                    row = tables[st * max_blocks:(st + 1) * max_blocks]
                    own = last if plant else nposs[i]
                    qs = q[t, h * hd:(h + 1) * hd] / np.sqrt(hd)
                    parts = [split_partial(qs, kpool, vpool, row, own, bs, kvh, h // group, hd, s)
                             for s in range(-(-last // SPLIT))]
                    ns = -(-nposs[i] // SPLIT)
                    if split:
                        for s in range(ns):
                            m, l, acc = parts[s]
                            dst = (t * heads + h) * S + s
                            ws[dst, :hd], ws[dst, hd], ws[dst, hd + 1] = acc, m, l
                        continue
                    m, l, acc = parts[0]
                    for s in range(1, ns):
                        pm, pl, pacc = parts[s]
                        mnew = max(m, pm)
                        a, b = np.exp(m - mnew), np.exp(pm - mnew)
                        l, acc, m = l * a + pl * b, acc * a + pacc * b, mnew
                    out[t, h * hd:(h + 1) * hd] = acc / l
    return merge_workspace(ws, pos, heads, hd, S) if split else out


def check_attention_runs():
    """Query tiles (qspec_attention_runs) give each (token, head) the one-query result exactly, in both schedules,
    for runs whose tokens straddle a split (different split counts in one tile), a run of 5 (tiles of 4 and 1) and
    runs that mix sequences (a wrong hint); and catch planted bugs (one context or one table for the whole tile)."""
    fails = 0
    for heads, kvh, hd, bs, run, hist, mixed in [(8, 2, 32, 16, 4, [254, 3, 520], False),
                                                 (8, 2, 32, 16, 4, [254, 3, 520], True),
                                                 (6, 3, 32, 8, 5, [253, 40], False)]:
        S, max_blocks = len(hist), 800 // bs
        order = [(a % S, a // S) if mixed else (a // run, a % run) for a in range(S * run)]
        seq = [s for s, _ in order]
        pos = [hist[s] + i for s, i in order]
        nblocks = S * max_blocks
        tables = rng.permutation(nblocks)
        n = nblocks * bs * kvh * hd
        kpool, vpool = rng.uniform(-1, 1, n).astype(np.float16), rng.uniform(-1, 1, n).astype(np.float16)
        q = rng.uniform(-1, 1, (len(seq), heads * hd))
        want = attention(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd)
        for split in (False, True):
            got = attention_runs(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, run, split)
            planted = attention_runs(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, run, split,
                                     plant=True)
            caught = not np.array_equal(want, planted, equal_nan=True)
            ok = np.array_equal(want, got) and caught
            fails += not ok
            print(f"{'PASS' if ok else 'FAIL'} emulated query tiles ({'split' if split else 'sequential'} schedule) "
                  f"= one query a block, bit for bit, heads={heads} kv={kvh} run={run}"
                  f"{' mixing sequences' if mixed else ''} (planted bug caught: {caught})")
    return fails


def main():
    fails = check_head_tile_rule() + check_split_tile_rule() + check_auto_block_order() + check_split_schedule_auto()
    fails += check_attention_runs() + check_split_schedule_rule()
    for heads, kvh, hd, style, bs in [(4, 2, 64, 0, 16), (4, 1, 80, 1, 8), (2, 2, 32, 1, 32)]:
        S, max_blocks = 3, 96
        hist, ntok = [37, 5, 700], [1, 1, 5]  # 700 + 5 positions: three splits
        seq = [s for s in range(S) for _ in range(ntok[s])]
        pos = [hist[s] + i for s in range(S) for i in range(ntok[s])]
        T, nblocks = len(seq), S * max_blocks
        tables = rng.permutation(nblocks)
        n = nblocks * bs * kvh * hd
        kpool, vpool = rng.uniform(-1, 1, n).astype(np.float16), rng.uniform(-1, 1, n).astype(np.float16)
        q = rng.uniform(-1, 1, (T, heads * hd))
        k, v = rng.uniform(-1, 1, (T, kvh * hd)), rng.uniform(-1, 1, (T, kvh * hd))
        inv = (500000.0 ** (-2.0 * np.arange(hd // 2) / hd)).astype(np.float32)
        q0, kp0, vp0 = q.copy(), kpool.copy(), vpool.copy()
        ld = heads * hd + 2 * kvh * hd + 3  # the fused q|k|v GEMM output, padded rows
        qkv = np.full(T * ld, np.nan)
        for t in range(T):
            qkv[t * ld:t * ld + ld - 3] = np.concatenate([q[t], k[t], v[t]])
        q = np.full((T, heads * hd), np.nan)
        rope_write_kv(qkv, ld, q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, inv, style)
        out = attention(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd)
        # direct reference: rotate with complex numbers, write, dense causal softmax
        ref = np.zeros_like(out)
        kr, vr = kp0.astype(np.float64), vp0.astype(np.float64)
        qr = q0.copy()

        def rot(x, p):
            x = x.copy()
            ang = (np.float32(p) * inv).astype(np.float64)
            idx0 = np.arange(0, hd, 2) if style == 0 else np.arange(hd // 2)
            idx1 = idx0 + 1 if style == 0 else idx0 + hd // 2
            z = (x[idx0] + 1j * x[idx1]) * np.exp(1j * ang)
            x[idx0], x[idx1] = z.real, z.imag
            return x

        slot = lambda s, p, kh: ((tables[s * max_blocks + p // bs] * bs + p % bs) * kvh + kh) * hd
        for t in range(T):
            for h in range(heads):
                qr[t, h * hd:(h + 1) * hd] = rot(q0[t, h * hd:(h + 1) * hd], pos[t])
            for kh in range(kvh):
                o = slot(seq[t], pos[t], kh)
                kr[o:o + hd] = rot(k[t, kh * hd:(kh + 1) * hd], pos[t])
                vr[o:o + hd] = v[t, kh * hd:(kh + 1) * hd]
        for t in range(T):
            for h in range(heads):
                kh = h // (heads // kvh)
                K = np.stack([kr[slot(seq[t], p, kh):slot(seq[t], p, kh) + hd] for p in range(pos[t] + 1)])
                V = np.stack([vr[slot(seq[t], p, kh):slot(seq[t], p, kh) + hd] for p in range(pos[t] + 1)])
                sc = K @ qr[t, h * hd:(h + 1) * hd] / np.sqrt(hd)
                w = np.exp(sc - sc.max())
                ref[t, h * hd:(h + 1) * hd] = w @ V / w.sum()
        eq = np.linalg.norm(q - qr) / np.linalg.norm(qr)
        eo = np.linalg.norm(out - ref) / np.linalg.norm(ref)
        ok = eq < 1e-6 and eo < 2e-3
        fails += not ok
        print(f"{'PASS' if ok else 'FAIL'} emulated rope+attention heads={heads} kv={kvh} hd={hd} style={style} "
              f"bs={bs} q_err={eq:.1e} out_err={eo:.1e}")
    # the fused build against the two kernels, bit for bit, on passes of one token per sequence (positions 0, a
    # split's last and next, further on); the writer's slot starts as other data, as it would after a draft
    for heads, kvh, hd, style, bs in [(4, 2, 64, 0, 16), (6, 1, 32, 1, 8), (2, 2, 32, 1, 32)]:
        hist = [0, 255, 256, 600]
        S, max_blocks = len(hist), max(hist) // bs + 1
        seq, pos = list(range(S)), hist
        nblocks = S * max_blocks
        tables = rng.permutation(nblocks)
        n = nblocks * bs * kvh * hd
        kpool, vpool = rng.uniform(-1, 1, n).astype(np.float16), rng.uniform(-1, 1, n).astype(np.float16)
        ld = heads * hd + 2 * kvh * hd + 3
        qkv = rng.uniform(-1, 1, S * ld)
        inv = (500000.0 ** (-2.0 * np.arange(hd // 2) / hd)).astype(np.float32)
        kp2, vp2, q = kpool.copy(), vpool.copy(), np.full((S, heads * hd), np.nan)
        rope_write_kv(qkv, ld, q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd, inv, style)
        out = attention(q, kpool, vpool, seq, pos, tables, max_blocks, bs, heads, kvh, hd)
        kp3, vp3 = kp2.copy(), vp2.copy()
        fused = attention(None, kp2, vp2, seq, pos, tables, max_blocks, bs, heads, kvh, hd, (qkv, ld, inv, style))
        ok = np.array_equal(out, fused) and np.array_equal(kp2, kpool) and np.array_equal(vp2, vpool)
        planted = attention(None, kp3, vp3, seq, pos, tables, max_blocks, bs, heads, kvh, hd, (qkv, ld, inv, style),
                            plant=1)
        caught = not np.array_equal(out, planted)
        fails += not (ok and caught)
        print(f"{'PASS' if ok and caught else 'FAIL'} emulated fused rope+attention = the two kernels, bit for bit "
              f"heads={heads} kv={kvh} hd={hd} style={style} bs={bs} (planted bug caught: {caught})")
    print("ALL PASSED" if not fails else f"{fails} FAILED")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
