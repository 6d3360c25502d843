#!/usr/bin/python3
"""Trains one model with SPEC section 3's recipe written plainly in PyTorch,
on exactly tadd-worker's batches and from a tadd checkpoint's weights, and
prints the loss of every step, so that bench/trajectory_vs_torch.sh can set
the two trajectories side by side.

    trajectory_vs_torch.py --init INIT.safetensors --seed 42 --steps 1000

The batch generator is worker/data.h's, re-done here: splitmix64-seeded
xoshiro256** keyed (seed, TADD_STREAM_BATCH, step), rejection sampling for
every bound, the curriculum phase, n = min + below(span), a = below(10^n),
b = below(10^n). The held-out pairs are drawn too (stream
TADD_STREAM_HELDOUT) and a training pair that hits one is redrawn, as tadd
does; the script counts such redraws.

A benchmark aid only: nothing in the build or the tests needs PyTorch.
Output: one line "step loss grad_norm lr" per step.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import tadd_torch  # noqa: E402

MASK = (1 << 64) - 1
STREAM_HELDOUT, STREAM_BATCH = 2, 3
FIRST_ANSWER_POS = 21


def splitmix64(x):
    """(new state, output) of worker/rng.c's splitmix64."""
    x = (x + 0x9e3779b97f4a7c15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Rng:
    """tadd_rng: xoshiro256** seeded as tadd_rng_seed(seed, stream, index)."""

    def __init__(self, seed, stream, index):
        x, k = splitmix64(seed & MASK)
        x, k = splitmix64(k ^ stream)
        x = k ^ index
        self.s = []
        for _ in range(4):
            x, z = splitmix64(x)
            self.s.append(z)

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, n):
        limit = MASK - (MASK % n)
        while True:
            v = self.next()
            if v < limit:
                return v % n


def heldout_pairs(seed, count):
    r = Rng(seed, STREAM_HELDOUT, 0)
    seen = set()
    while len(seen) < count:
        seen.add((r.below(10 ** 10), r.below(10 ** 10)))
    return seen


def phase_at(curriculum, step):
    end = 0
    for k, (_, _, steps) in enumerate(curriculum[:-1]):
        end += steps
        if step < end:
            return k
    return len(curriculum) - 1


def train_batch(seed, step, curriculum, batch, exclude, stats):
    lo, hi, _ = curriculum[phase_at(curriculum, step)]
    span = hi - lo + 1
    r = Rng(seed, STREAM_BATCH, step)
    pairs = []
    for _ in range(batch):
        while True:
            n = lo + r.below(span)
            a = r.below(10 ** n)
            b = r.below(10 ** n)
            if (a, b) not in exclude:
                break
            stats["redraws"] += 1
        pairs.append((a, b))
    return pairs


def encode(pairs):
    """x (B, 33) input ids, y (B, 12) labels of positions 21..32."""
    rows = []
    for a, b in pairs:
        s = a + b
        ans = [(s // 10 ** i) % 10 for i in range(11)]
        rows.append(tadd_torch.prompt(a, b) + ans + [tadd_torch.EOS])
    seq = torch.tensor(rows, dtype=torch.long)
    return seq[:, :33], seq[:, FIRST_ANSWER_POS + 1:]


def lr_at(step, lr, warmup, train_steps, min_ratio):
    lr_min = lr * min_ratio
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= train_steps:
        return lr_min
    progress = (step - warmup) / (train_steps - warmup)
    return lr_min + (lr - lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="tadd-worker init output")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--dtype", choices=["float32", "float64"],
                    default="float32")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=0.015)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=1350)
    ap.add_argument("--train-steps", type=int, default=30000)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--test-size", type=int, default=10000)
    args = ap.parse_args()
    torch.set_num_threads(1)

    curriculum = [(1, 3, 2000), (1, 6, 5000), (1, 10, 20000)]
    dtype = getattr(torch, args.dtype)
    model = tadd_torch.load(args.init).to(dtype).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999),
                            eps=1e-8, weight_decay=args.weight_decay)
    exclude = heldout_pairs(args.seed, args.val_size + args.test_size)
    stats = {"redraws": 0}

    for step in range(args.steps):
        pairs = train_batch(args.seed, step, curriculum, args.batch,
                            exclude, stats)
        x, y = encode(pairs)
        logits = model(x)[:, FIRST_ANSWER_POS:]  # (B, 12, 14)
        loss = F.cross_entropy(logits.reshape(-1, 14), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, args.grad_clip)
        lr = lr_at(step, args.lr, args.warmup, args.train_steps,
                   args.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        print("%d %.10g %.10g %.10g" % (step, loss.item(), norm.item(), lr),
              flush=True)
    print("# held-out redraws: %d" % stats["redraws"], file=sys.stderr)


if __name__ == "__main__":
    main()
