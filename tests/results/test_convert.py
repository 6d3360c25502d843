#!/usr/bin/env python3
"""PyTorch interop: tools/convert_torch_checkpoint.py and tools/tadd_torch.py.

Each golden case's weights are written back the way the PyTorch reference
stores them (nn.Linear weights as [out, in], a tied lm_head, a causal-mask
buffer, use_rmsnorm / tie_qkv / fixed_full_rank in model_config), saved
with torch.save, converted, and compared with the golden file by the
project's own reader (st_compare, argv[1]). Then the refusals, a shared
block and a several-models checkpoint. Last, tadd_torch.load must give
each golden case's parameter count and logits.

Exits 77 (a skip, as meson reports it) when PyTorch is not installed.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("PyTorch is not installed: nothing to convert")
    sys.exit(77)

SRC = os.environ.get("TADD_SOURCE_ROOT",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tools"))
import convert_torch_checkpoint as conv  # noqa: E402
import tadd_torch  # noqa: E402

GOLDEN = os.environ["TADD_GOLDEN_DIR"]
ST_COMPARE = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAILED: %s" % what, file=sys.stderr)


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        data = raw[8 + n + a:8 + n + b]
        values = struct.unpack("<%df" % (len(data) // 4), data)
        out[name] = torch.tensor(values, dtype=torch.float32).reshape(
            info["shape"])
    return out, meta


LINEAR = (".attn.qkv.weight", ".attn.proj.weight", ".mlp.fc1.weight",
          ".mlp.fc2.weight")


def reference_state(tensors):
    """The golden tensors as the reference's state_dict holds them."""
    state = {}
    for name, t in tensors.items():
        state[name] = t.t().contiguous() if name.endswith(LINEAR) else t
    state["lm_head.weight"] = tensors["token_emb.weight"].clone()
    for key in list(state):
        if key.endswith(".attn.proj.weight") or \
                key.endswith(".attn.proj.A"):
            mask = key.split(".attn.")[0] + ".attn.mask"
            state[mask] = torch.tril(torch.ones(1, 1, 33, 33))
    return state


def reference_config(cfg):
    out = {k: v for k, v in cfg.items()
           if k not in ("norm", "qkv_tie", "fixed_full_rank_attn",
                        "fixed_full_rank_mlp")}
    out.update(max_seq_len=33, vocab_size=14, dropout=0.0,
               use_rmsnorm=cfg["norm"] == "rmsnorm",
               tie_qkv=cfg["qkv_tie"])
    if cfg["fixed_full_rank_attn"] == cfg["fixed_full_rank_mlp"]:
        out["fixed_full_rank"] = cfg["fixed_full_rank_attn"]
    else:
        out["fixed_full_rank_attn"] = cfg["fixed_full_rank_attn"]
        out["fixed_full_rank_mlp"] = cfg["fixed_full_rank_mlp"]
    return out


def save(tmp, name, payload):
    path = os.path.join(tmp, name + ".pt")
    torch.save(payload, path)
    return path


def expect_error(tmp, name, payload, needle):
    src = save(tmp, name, payload)
    try:
        conv.convert(src, os.path.join(tmp, name + ".safetensors"))
    except conv.ConvertError as e:
        check(needle in str(e), "%s: '%s' lacks '%s'" % (name, e, needle))
        return
    check(False, "%s: converted, expected an error with '%s'"
          % (name, needle))


def test_golden(tmp):
    cases = sorted(d for d in os.listdir(GOLDEN)
                   if os.path.isfile(os.path.join(GOLDEN, d, "config.json")))
    check(len(cases) >= 5, "golden cases found: %d" % len(cases))
    index = json.load(open(os.path.join(GOLDEN, "index.json")))
    for case in cases:
        golden = os.path.join(GOLDEN, case, "weights.safetensors")
        cfg = json.load(open(os.path.join(GOLDEN, case, "config.json")))
        tensors, _ = read_st(golden)
        src = save(tmp, case, {"model_config": reference_config(cfg),
                               "model_state": reference_state(tensors),
                               "step": 1500, "seed": 43})
        dst = os.path.join(tmp, case + ".safetensors")
        m, params, dropped = conv.convert(src, dst)
        check(params == index[case]["params"],
              "%s: %d params, golden %d" % (case, params,
                                             index[case]["params"]))
        check("lm_head.weight" in dropped, "%s: lm_head dropped" % case)
        r = subprocess.run([ST_COMPARE, dst, golden], capture_output=True,
                           text=True)
        check(r.returncode == 0, "%s: st_compare: %s" % (case, r.stderr))
        _, meta = read_st(dst)
        check(meta.get("step") == "1500" and meta.get("seed") == "43",
              "%s: metadata %s" % (case, meta))


def baseline_payload():
    golden = os.path.join(GOLDEN, "baseline_896", "weights.safetensors")
    cfg = json.load(open(os.path.join(GOLDEN, "baseline_896",
                                      "config.json")))
    tensors, _ = read_st(golden)
    return cfg, tensors, {"model_config": reference_config(cfg),
                          "model_state": reference_state(tensors)}


def test_refusals(tmp):
    cfg, tensors, good = baseline_payload()

    p = dict(good, model_state=dict(good["model_state"]))
    p["model_state"]["lm_head.weight"] = torch.zeros(14, 8)
    expect_error(tmp, "untied", p, "lm_head.weight differs")

    p = dict(good, model_state={k: v for k, v in good["model_state"].items()
                                if not k.endswith("W_fixed")})
    expect_error(tmp, "no_fixed", p, "holds no W_fixed for the mlp")

    p = dict(good, model_config=dict(good["model_config"],
                                     pos_fixed_a_rank=2))
    expect_error(tmp, "fixed_a", p, "pos_fixed_a_rank = 2")

    p = dict(good, model_state=dict(good["model_state"]))
    p["model_state"]["blocks.0.mlp.fc1.bias"] = torch.zeros(28)
    expect_error(tmp, "bias", p, "mlp.fc1 has a bias")

    p = dict(good, model_config=dict(good["model_config"], d_model=7))
    expect_error(tmp, "wrong_d", p, "model_config.d_model is 7")

    p = dict(good, model_config=dict(good["model_config"], max_seq_len=34))
    expect_error(tmp, "context", p, "max_seq_len is 34")

    expect_error(tmp, "no_state", {"model_config": {}}, "no 'model_state'")


def test_shared_block(tmp):
    cfg, tensors, good = baseline_payload()
    state = {}
    for k, v in good["model_state"].items():
        state[k.replace("blocks.0.", "block.")] = v
    src = save(tmp, "shared", {"model_config": dict(good["model_config"],
                                                    n_layer=2),
                               "model_state": state})
    dst = os.path.join(tmp, "shared.safetensors")
    m, params, _ = conv.convert(src, dst)
    check(m["n_layer"] == 2, "shared: n_layer %d" % m["n_layer"])
    out, _ = read_st(dst)
    check(torch.equal(out["blocks.0.mlp.fc1.A"], out["blocks.1.mlp.fc1.A"]),
          "shared: both layers hold the shared block")
    check(torch.equal(out["blocks.1.attn.qkv.weight"],
                      tensors["blocks.0.attn.qkv.weight"]),
          "shared: qkv transposed back to [in, out]")


def test_several_models(tmp):
    cfg, tensors, good = baseline_payload()
    state = {k: torch.stack([v, v + 1.0]) for k, v in
             good["model_state"].items()}
    payload = {"model_config": dict(good["model_config"], num_models=2),
               "model_state": state}
    expect_error(tmp, "pick", payload, "holds 2 models")
    src = save(tmp, "two", payload)
    dst = os.path.join(tmp, "two.safetensors")
    conv.convert(src, dst, model_index=1)
    out, _ = read_st(dst)
    check(torch.allclose(out["token_emb.weight"],
                         tensors["token_emb.weight"] + 1.0),
          "several: the second model was taken")


def test_loader():
    batch = json.load(open(os.path.join(GOLDEN, "batch.json")))
    x = torch.tensor(batch["x"])
    index = json.load(open(os.path.join(GOLDEN, "index.json")))
    for case in sorted(index):
        model = tadd_torch.load(os.path.join(GOLDEN, case,
                                             "weights.safetensors"))
        n = sum(p.numel() for p in model.parameters())
        check(n == index[case]["params"],
              "loader %s: %d params, golden %d" % (case, n,
                                                    index[case]["params"]))
        expected, _ = read_st(os.path.join(GOLDEN, case,
                                           "expected.safetensors"))
        with torch.no_grad():
            logits = model(x)
        diff = (logits - expected["logits"]).abs().max().item()
        scale = expected["logits"].abs().max().item()
        check(diff <= 1e-5 * max(1.0, scale),
              "loader %s: logits differ by %g" % (case, diff))
        greedy = expected["greedy_digits"].to(torch.long)
        pairs = batch["pairs"]
        a, b = pairs[0]
        want = 0
        for i, tok in enumerate(greedy[0].tolist()):
            if tok > 9:
                break
            want += tok * 10 ** i
        check(tadd_torch.predict(model, a, b) == want,
              "loader %s: predict differs from greedy_digits" % case)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_golden(tmp)
        test_refusals(tmp)
        test_shared_block(tmp)
        test_several_models(tmp)
    test_loader()
    if failures:
        print("%d check(s) failed" % failures, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
