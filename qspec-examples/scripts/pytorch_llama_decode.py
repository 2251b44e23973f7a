#!/usr/bin/env python3
"""GPU peer for `qspec bench`: decode throughput of a random-weight Llama-3-8B-shaped model in
PyTorch, (1) FP16 eager with a static KV cache and (2) int4 weight-only through PyTorch's own
int4 matmul kernel (aten._weight_int4pack_mm, the gpt-fast path), at batch 1/8/16/32.

Run on the GPU machine (PyTorch installed):  python3 pytorch_llama_decode.py --out DIR
Weights are random normal (std 0.02), never zeros. Prints a table; writes DIR/pytorch_peer.csv.
"""
import argparse
import csv
import os
import time

import torch
import torch.nn.functional as F

SHAPES = {  # dim, hidden, layers, heads, kv_heads, vocab
    "llama-3-8b": (4096, 14336, 32, 32, 8, 128256),
    "llama-3.2-1b": (2048, 8192, 16, 32, 8, 128256),
}


def rand(*shape, device="cuda"):
    return (torch.randn(*shape, device=device, dtype=torch.float16) * 0.02).contiguous()


class Int4Linear:
    """Weight-only int4 (group 128, asymmetric as gpt-fast packs it) via aten._weight_int4pack_mm."""

    def __init__(self, w, group=128, inner_k_tiles=8):
        n, k = w.shape
        wg = w.float().reshape(n, k // group, group)
        lo, hi = wg.amin(-1, keepdim=True), wg.amax(-1, keepdim=True)
        scale = ((hi - lo).clamp(min=1e-6) / 15)
        zero = lo + scale * 8
        q = ((wg - lo) / scale).round().clamp(0, 15).to(torch.int32).reshape(n, k)
        packed_u8 = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
        self.packed = torch.ops.aten._convert_weight_to_int4pack(packed_u8, inner_k_tiles)
        self.scales_zeros = torch.stack([scale.squeeze(-1), zero.squeeze(-1)], dim=-1).transpose(0, 1).contiguous().to(torch.bfloat16)
        self.group = group

    def __call__(self, x):
        shape = x.shape
        y = torch.ops.aten._weight_int4pack_mm(x.reshape(-1, shape[-1]).to(torch.bfloat16), self.packed, self.group, self.scales_zeros)
        return y.reshape(*shape[:-1], -1).to(x.dtype)


class DenseLinear:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return F.linear(x, self.w)


class Model:
    def __init__(self, shape, batch, max_len, int4):
        dim, hidden, layers, heads, kv_heads, vocab = SHAPES[shape]
        self.heads, self.kv_heads, self.hd = heads, kv_heads, dim // heads
        lin = (lambda w: Int4Linear(w)) if int4 else DenseLinear
        self.emb = rand(vocab, dim)
        self.layers = []
        for _ in range(layers):
            self.layers.append(dict(
                wqkv=lin(rand((heads + 2 * kv_heads) * self.hd, dim)), wo=lin(rand(dim, dim)),
                w13=lin(rand(2 * hidden, dim)), w2=lin(rand(dim, hidden)),
                n1=torch.ones(dim, device="cuda", dtype=torch.float16), n2=torch.ones(dim, device="cuda", dtype=torch.float16),
                k=torch.zeros(batch, kv_heads, max_len, self.hd, device="cuda", dtype=torch.float16),
                v=torch.zeros(batch, kv_heads, max_len, self.hd, device="cuda", dtype=torch.float16)))
        self.norm = torch.ones(dim, device="cuda", dtype=torch.float16)
        self.out = lin(rand(vocab, dim))
        self.hidden = hidden

    @staticmethod
    def rms(x, w):
        return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * w

    def step(self, tokens, pos):
        b = tokens.shape[0]
        x = self.emb[tokens]  # [b, 1, dim]
        for L in self.layers:
            h = self.rms(x, L["n1"])
            qkv = L["wqkv"](h)
            q, k, v = qkv.split([self.heads * self.hd, self.kv_heads * self.hd, self.kv_heads * self.hd], dim=-1)
            q = q.view(b, 1, self.heads, self.hd).transpose(1, 2)
            L["k"][:, :, pos] = k.view(b, self.kv_heads, self.hd)
            L["v"][:, :, pos] = v.view(b, self.kv_heads, self.hd)
            kk = L["k"][:, :, : pos + 1].repeat_interleave(self.heads // self.kv_heads, 1)
            vv = L["v"][:, :, : pos + 1].repeat_interleave(self.heads // self.kv_heads, 1)
            a = F.scaled_dot_product_attention(q, kk, vv).transpose(1, 2).reshape(b, 1, -1)
            x = x + L["wo"](a)
            h = self.rms(x, L["n2"])
            g, u = L["w13"](h).split([self.hidden, self.hidden], dim=-1)
            x = x + L["w2"](F.silu(g) * u)
        return self.out(self.rms(x, self.norm)).argmax(-1)


def measure(shape, batch, int4, prompt, tokens):
    model = Model(shape, batch, prompt + tokens + 1, int4)
    t = torch.randint(0, 1000, (batch, 1), device="cuda")
    with torch.inference_mode():
        for p in range(prompt):  # fill the cache (not timed)
            t = model.step(t, p)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for p in range(prompt, prompt + tokens):
            t = model.step(t, p)
        torch.cuda.synchronize()
    return batch * tokens / (time.perf_counter() - start)


def linear_bandwidth():
    """Sanity check of the machine: GB/s of one fp16 F.linear at M = 1 over a 14336x4096 weight."""
    w, x = rand(14336, 4096), rand(1, 4096)
    for _ in range(5):
        F.linear(x, w)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(50):
        F.linear(x, w)
    torch.cuda.synchronize()
    return 50 * w.numel() * 2 / (time.perf_counter() - start) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="llama-3-8b", choices=SHAPES)
    ap.add_argument("--batch", default="1,8,16,32")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--out", default=".")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"sanity: fp16 F.linear at M=1 reads {linear_bandwidth():.0f} GB/s", flush=True)
    rows = []
    for mode, int4 in (("pytorch-fp16-eager", False), ("pytorch-int4-weight-only", True)):
        for b in map(int, args.batch.split(",")):
            try:
                tps = measure(args.shape, b, int4, args.prompt, args.tokens)
                rows.append((mode, b, f"{tps:.1f}", ""))
            except Exception as e:  # a missing kernel on this PyTorch version is a finding, not a crash
                rows.append((mode, b, "", f"{type(e).__name__}: {e}"[:200]))
            print(rows[-1], flush=True)
            torch.cuda.empty_cache()
    with open(os.path.join(args.out, "pytorch_peer.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mode", "batch", "tokens_per_second", "error"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
