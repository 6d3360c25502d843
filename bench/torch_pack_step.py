#!/usr/bin/env python3
"""The peer for bench/pack_vs_torch.sh: the same training step as
tadd-worker's (SPEC sections 2 and 3: baseline model, batch of curriculum
pairs, cross-entropy over the answer positions, clipping, AdamW), written
plainly in PyTorch, for a pack of models stepped one after the other.

A benchmark aid only: nothing in the build or the tests needs PyTorch.
Prints one JSON line: {"threads", "models", "batch", "steps",
"sec_per_step"}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LowRankFixed(nn.Module):
    """y = x (A B + W_fixed), W_fixed never trained."""

    def __init__(self, n_in, n_out, rank):
        super().__init__()
        self.A = nn.Parameter(torch.randn(n_in, rank) *
                              math.sqrt(2 / (n_in + rank)))
        self.B = nn.Parameter(torch.randn(rank, n_out) *
                              math.sqrt(2 / (rank + n_out)))
        self.register_buffer("W_fixed", torch.randn(n_in, n_out) * 0.02)

    def forward(self, x):
        return x @ (self.A @ self.B + self.W_fixed)


class Baseline(nn.Module):
    def __init__(self, d=8, f=28, rank=3, vocab=14, ctx=33):
        super().__init__()
        self.tok = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(ctx, d) * 0.02)
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.lnf = nn.LayerNorm(d)
        self.qkv = nn.Parameter(torch.randn(d, 3 * d) * 0.02)
        self.proj = nn.Parameter(torch.randn(d, d) * 0.02)
        self.fc1 = LowRankFixed(d, f, rank)
        self.fc2 = LowRankFixed(f, d, rank)
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).bool())
        self.d = d

    def forward(self, x):
        T = x.shape[1]
        h = self.tok[x] + self.pos[:T]
        q, k, v = (self.ln1(h) @ self.qkv).split(self.d, dim=-1)
        att = (q @ k.transpose(1, 2)) / math.sqrt(self.d)
        att = att.masked_fill(~self.mask[:T, :T], float("-inf"))
        h = h + (att.softmax(-1) @ v) @ self.proj
        h = h + self.fc2(F.gelu(self.fc1(self.ln2(h))))
        return self.lnf(h) @ self.tok.t()


def batch(gen, size):
    n = torch.randint(1, 4, (size,), generator=gen)
    hi = (10 ** n).double()
    a = (torch.rand(size, generator=gen, dtype=torch.float64) * hi).long()
    b = (torch.rand(size, generator=gen, dtype=torch.float64) * hi).long()
    seq = torch.zeros(size, 34, dtype=torch.long)
    for i in range(10):
        seq[:, 9 - i] = (a // 10 ** i) % 10
        seq[:, 20 - i] = (b // 10 ** i) % 10
    seq[:, 10], seq[:, 21], seq[:, 33] = 10, 11, 13
    s = a + b
    for i in range(11):
        seq[:, 22 + i] = (s // 10 ** i) % 10
    x, y = seq[:, :33], seq[:, 1:].clone()
    y[:, :21] = -100
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", type=int, default=8)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    models = [Baseline() for _ in range(args.models)]
    opts = [torch.optim.AdamW(m.parameters(), lr=0.015, weight_decay=0.01)
            for m in models]

    def step():
        for m, opt in zip(models, opts):
            x, y = batch(gen, args.batch)
            loss = F.cross_entropy(m(x).reshape(-1, 14), y.reshape(-1),
                                   ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()

    for _ in range(3):  # warm-up
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    dt = (time.perf_counter() - t0) / args.steps
    print(json.dumps({"threads": args.threads, "models": args.models,
                      "batch": args.batch, "steps": args.steps,
                      "sec_per_step": dt}))


if __name__ == "__main__":
    main()
