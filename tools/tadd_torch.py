#!/usr/bin/env python3
"""Load a tadd checkpoint (SPEC section 6) into PyTorch.

    import tadd_torch
    model = tadd_torch.load("runs/sweep/config/seed_42/best.safetensors")
    print(tadd_torch.predict(model, 1234567890, 9876543210))

The module computes SPEC section 2's model from the file's own
model_config; it needs only torch (the safetensors header is read here, so
the safetensors package is not required). Weights keep tadd's [in, out]
layout and are applied as x @ W. W_fixed tensors are buffers, not
parameters, so counting parameters gives SPEC's count.

Run as a script, it prints a checkpoint's config, parameter count and the
model's sum for a pair:  tadd_torch.py CKPT A B
"""

import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

VOCAB, CONTEXT, PROMPT, DIGITS = 14, 33, 22, 11
PLUS, EQUALS, EOS = 10, 11, 13


def read_safetensors(path):
    """({name: float32 tensor}, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: %s is %s, not F32"
                             % (path, name, info["dtype"]))
        a, b = info["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        t = torch.frombuffer(buf, dtype=torch.float32) if buf else \
            torch.zeros(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


class Linear(torch.nn.Module):
    """y = x W with W [in, out], or x A B (+ x W_fixed) when low-rank."""

    def __init__(self, tensors, prefix):
        super().__init__()
        self.full = prefix + ".weight" in tensors
        if self.full:
            self.weight = torch.nn.Parameter(tensors[prefix + ".weight"])
        else:
            self.A = torch.nn.Parameter(tensors[prefix + ".A"])
            self.B = torch.nn.Parameter(tensors[prefix + ".B"])
        fixed = tensors.get(prefix + ".W_fixed")
        self.register_buffer("W_fixed", fixed)

    def forward(self, x):
        y = x @ self.weight if self.full else (x @ self.A) @ self.B
        if self.W_fixed is not None:
            y = y + x @ self.W_fixed
        return y


class Norm(torch.nn.Module):
    def __init__(self, tensors, prefix, kind):
        super().__init__()
        self.kind = kind
        self.weight = torch.nn.Parameter(tensors[prefix + ".weight"])
        if kind == "layernorm":
            self.bias = torch.nn.Parameter(tensors[prefix + ".bias"])

    def forward(self, x):
        if self.kind == "layernorm":
            return F.layer_norm(x, x.shape[-1:], self.weight, self.bias,
                                eps=1e-5)
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-8) * \
            self.weight


class Block(torch.nn.Module):
    def __init__(self, tensors, p, cfg):
        super().__init__()
        self.n_head = cfg["n_head"]
        self.tied = cfg["qkv_tie"] == "shareA_tieKV"
        self.ln1 = Norm(tensors, p + "ln1", cfg["norm"])
        self.ln2 = Norm(tensors, p + "ln2", cfg["norm"])
        if self.tied:
            self.qkv_A = torch.nn.Parameter(tensors[p + "attn.qkv_A"])
            self.qkv_Bq = torch.nn.Parameter(tensors[p + "attn.qkv_Bq"])
            self.qkv_Bkv = torch.nn.Parameter(tensors[p + "attn.qkv_Bkv"])
        else:
            self.qkv = Linear(tensors, p + "attn.qkv")
        self.proj = Linear(tensors, p + "attn.proj")
        self.fc1 = Linear(tensors, p + "mlp.fc1")
        self.fc2 = Linear(tensors, p + "mlp.fc2")

    def attention(self, u):
        n, t, d = u.shape
        if self.tied:
            g = u @ self.qkv_A
            q, k = g @ self.qkv_Bq, g @ self.qkv_Bkv
            v = k
        else:
            q, k, v = self.qkv(u).split(d, dim=-1)
        hd = d // self.n_head

        def heads(z):  # (n, t, d) -> (n, h, t, hd)
            return z.view(n, t, self.n_head, hd).transpose(1, 2)

        att = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(hd)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        return (att @ heads(v)).transpose(1, 2).reshape(n, t, d)

    def forward(self, x):
        a = x + self.proj(self.attention(self.ln1(x)))
        return a + self.fc2(F.gelu(self.fc1(self.ln2(a))))


class TaddModel(torch.nn.Module):
    def __init__(self, tensors, cfg):
        super().__init__()
        self.config = cfg
        self.token_emb = torch.nn.Parameter(tensors["token_emb.weight"])
        if cfg["pos_rank"]:
            self.pos_A = torch.nn.Parameter(tensors["pos_emb.A"])
            self.pos_B = torch.nn.Parameter(tensors["pos_emb.B"])
        else:
            self.pos_emb = torch.nn.Parameter(tensors["pos_emb.weight"])
        self.blocks = torch.nn.ModuleList(
            Block(tensors, "blocks.%d." % i, cfg)
            for i in range(cfg["n_layer"]))
        self.ln_f = Norm(tensors, "ln_f", cfg["norm"])

    def forward(self, idx):
        """Logits (n, t, 14) for token ids idx (n, t), t <= 33."""
        pos = self.pos_A @ self.pos_B if self.config["pos_rank"] else \
            self.pos_emb
        x = self.token_emb[idx] + pos[:idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x) @ self.token_emb.t()


def load(path):
    """A TaddModel from a tadd checkpoint, in eval mode."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "tadd-checkpoint/1":
        raise ValueError("%s: format is %r" % (path, meta.get("format")))
    cfg = json.loads(meta["model_config"])
    cfg.setdefault("n_layer", 1)
    cfg.setdefault("n_head", 1)
    cfg.setdefault("pos_rank", 0)
    cfg.setdefault("norm", "layernorm")
    cfg.setdefault("qkv_tie", "none")
    return TaddModel(tensors, cfg).eval()


def prompt(a, b):
    """The 22 prompt tokens of SPEC section 1."""
    return [int(c) for c in "%010d" % a] + [PLUS] + \
        [int(c) for c in "%010d" % b] + [EQUALS]


@torch.no_grad()
def predict(model, a, b):
    """The model's sum of a and b, read as SPEC section 1 says."""
    idx = torch.tensor([prompt(a, b)])
    out = []
    for _ in range(12):  # greedy: 11 digits and <EOS>
        nxt = model(idx)[0, -1].argmax().item()
        out.append(nxt)
        idx = torch.cat([idx, torch.tensor([[nxt]])], dim=1)
    total = 0
    for i, tok in enumerate(out[:DIGITS]):
        if tok > 9:
            break
        total += tok * 10 ** i
    return total


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: tadd_torch.py CKPT A B")
    m = load(sys.argv[1])
    n = sum(p.numel() for p in m.parameters())
    print(json.dumps(m.config), "params", n)
    print(predict(m, int(sys.argv[2]), int(sys.argv[3])))
