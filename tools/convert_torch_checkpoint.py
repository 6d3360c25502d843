#!/usr/bin/env python3
"""Convert a PyTorch reference checkpoint into a tadd checkpoint.

The input is what the reference trainer saves with torch.save: a dict with
'model_config' (the ModelConfig fields) and 'model_state' (the module's
state_dict). The output is a safetensors file in the layout of SPEC
section 6, readable by tadd-worker eval / predict.

    convert_torch_checkpoint.py best.pt best.safetensors

How the reference's names map onto tadd's (the reference source is not at
hand: the mapping follows its config fields and the module names its logs
show, and refuses what it cannot place rather than guessing):

  model_config      use_rmsnorm true/false -> norm rmsnorm/layernorm;
                    tie_qkv -> qkv_tie; fixed_full_rank -> both
                    fixed_full_rank_attn and fixed_full_rank_mlp (the
                    per-kind names are taken as they are). max_seq_len must
                    be 33 and vocab_size 14; dropout is a training setting
                    and is dropped. Every model field is then checked
                    against the tensors' shapes, which win where the config
                    is silent.
  lm_head.weight    dropped: tadd ties the head to token_emb.weight, so the
                    two must be equal (the reference ties them too).
  block.*           one block shared by every layer (the reference's
                    shared-depth experiment): copied into blocks.0..L-1,
                    which computes the same function.
  *.weight of qkv, proj, fc1, fc2
                    nn.Linear stores [out, in]; tadd stores [in, out], so
                    these are transposed (--linear-layout in_out if a
                    checkpoint already stores x @ W).
  *.A, *.B, *.W_fixed of a low-rank layer
                    the reference computes x @ A @ B + x @ W_fixed, as tadd
                    does: copied as they are.
  shareA_tieKV      the shared A becomes attn.qkv_A; a B whose name has
                    "kv" becomes attn.qkv_Bkv, the other B attn.qkv_Bq.
  ln1, ln2, ln_f    also accepted as norm1, norm2, norm_f; an RMSNorm
                    "scale" is taken as its weight.
  causal masks      buffers named mask, causal_mask or attn.bias (a
                    lower-triangular [.., T, T] of ones) are dropped.

Anything else (a fixed positional term, a fixed part of A, LoRA-XS
positions, a bias of a linear layer) has no place in SPEC's model and is
refused by name. A checkpoint of several models trained at once (a
leading model axis, num_models > 1) needs --model-index.

Loading runs the pickle inside the .pt file: convert only files you trust.
"""

import argparse
import array
import json
import math
import os
import re
import struct
import sys

VOCAB = 14
CONTEXT = 33
MODEL_FIELDS = (
    "n_layer", "d_model", "n_head", "d_ff", "pos_rank", "qkv_rank",
    "attn_out_rank", "ffn_rank", "fixed_full_rank_attn",
    "fixed_full_rank_mlp", "norm", "qkv_tie",
)
# Reference config keys that carry nothing for inference.
IGNORED_CONFIG = ("dropout", "num_models", "max_seq_len", "vocab_size")
# Reference config keys of experiments SPEC's model does not have; a
# non-zero (true) value is refused.
UNSUPPORTED_CONFIG = ("pos_fixed_a_rank", "pos_xs_rank", "pos_fixed",
                      "fixed_full_rank_pos")
NORM_ALIASES = {"ln1": "ln1", "norm1": "ln1", "ln2": "ln2", "norm2": "ln2",
                "ln_f": "ln_f", "norm_f": "ln_f", "final_norm": "ln_f"}
MASK_NAMES = ("mask", "causal_mask", "attn_mask", "bias")


class ConvertError(Exception):
    pass


def load_checkpoint(path):
    try:
        import torch
    except ImportError:
        raise ConvertError("PyTorch is not installed (python3-torch)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch older than 1.13 has no weights_only
        ckpt = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ConvertError("%s: cannot load: %s" % (path, e))
    if not isinstance(ckpt, dict):
        raise ConvertError("%s: not a dict but %s" % (path, type(ckpt)))
    state = ckpt.get("model_state", ckpt.get("state_dict"))
    if state is None:
        raise ConvertError("%s: no 'model_state' (keys: %s)"
                           % (path, ", ".join(sorted(map(str, ckpt)))))
    config = ckpt.get("model_config", {})
    if not isinstance(config, dict):
        # A dataclass ModelConfig pickled as such.
        config = dict(getattr(config, "__dict__", {}))
    tensors = {}
    for name, t in state.items():
        if not hasattr(t, "shape"):
            raise ConvertError("model_state[%r] is not a tensor" % name)
        tensors[name] = t.detach().to("cpu", dtype=torch.float64)
    return ckpt, config, tensors


class Tensor:
    """A float tensor as a shape and a flat row-major list."""

    def __init__(self, shape, values):
        self.shape = list(shape)
        self.values = values

    @classmethod
    def from_torch(cls, t):
        return cls(t.shape, t.reshape(-1).tolist())

    def transposed(self):
        rows, cols = self.shape
        v = self.values
        return Tensor([cols, rows],
                      [v[r * cols + c] for c in range(cols)
                       for r in range(rows)])



def select_model(tensors, config, index):
    """Drops a leading model axis (num_models) from every tensor."""
    emb = tensors.get("token_emb.weight")
    num = config.get("num_models", 1) or 1
    stacked = num > 1 or (emb is not None and len(emb.shape) == 3)
    if not stacked:
        if index not in (None, 0):
            raise ConvertError("--model-index %d: the checkpoint holds one "
                               "model" % index)
        return tensors
    count = emb.shape[0] if emb is not None else num
    if index is None:
        raise ConvertError("the checkpoint holds %d models: pick one with "
                           "--model-index" % count)
    if not 0 <= index < count:
        raise ConvertError("--model-index %d: the checkpoint holds %d models"
                           % (index, count))
    out = {}
    for name, t in tensors.items():
        if is_mask(name, t):
            out[name] = t  # a constant, dropped later, stacked or not
            continue
        if not t.shape or t.shape[0] != count:
            raise ConvertError("%s has shape %s, no leading axis of %d "
                               "models" % (name, t.shape, count))
        out[name] = t[index]
    return out


def is_mask(name, t):
    leaf = name.rsplit(".", 1)[-1]
    if leaf not in MASK_NAMES or len(t.shape) < 2:
        return False
    return t.shape[-1] == t.shape[-2] and t.shape[-1] >= CONTEXT


def split_block(name):
    """(layer or None for a shared block, rest) for block names, else None."""
    m = re.match(r"^(?:blocks|layers|h)\.(\d+)\.(.+)$", name)
    if m:
        return int(m.group(1)), m.group(2)
    m = re.match(r"^(?:block|shared_block)\.(.+)$", name)
    if m:
        return None, m.group(1)
    return None


def map_block_param(rest):
    """The tadd name of a parameter inside a block (without blocks.L.)."""
    parts = rest.split(".")
    if parts[0] in NORM_ALIASES and len(parts) == 2:
        leaf = {"scale": "weight", "g": "weight"}.get(parts[1], parts[1])
        return "%s.%s" % (NORM_ALIASES[parts[0]], leaf), False
    if len(parts) == 3 and parts[0] == "attn":
        layer = {"qkv": "qkv", "c_attn": "qkv", "proj": "proj",
                 "c_proj": "proj", "out_proj": "proj",
                 "o_proj": "proj"}.get(parts[1])
        if layer:
            return linear_param("attn." + layer, parts[2])
    if len(parts) == 3 and parts[0] == "mlp":
        layer = {"fc1": "fc1", "c_fc": "fc1", "fc2": "fc2",
                 "c_proj": "fc2"}.get(parts[1])
        if layer:
            return linear_param("mlp." + layer, parts[2])
    if len(parts) == 2 and parts[0] == "attn":
        return tied_qkv_param(parts[1]), False
    raise ConvertError("no tadd tensor for block parameter '%s'" % rest)


def linear_param(layer, leaf):
    """(name, is an nn.Linear weight) of a linear layer's parameter."""
    if leaf == "weight":
        return layer + ".weight", True
    if leaf in ("A", "B", "W_fixed"):
        return "%s.%s" % (layer, leaf), False
    if leaf == "bias":
        raise ConvertError("%s has a bias: SPEC's model has none" % layer)
    raise ConvertError("no tadd tensor for %s.%s" % (layer, leaf))


def tied_qkv_param(leaf):
    low = leaf.lower()
    if low.startswith("qkv_"):
        low = low[4:]
    low = low.replace("_", "")
    if low in ("a", "shareda", "ashared"):
        return "attn.qkv_A"
    if low in ("bkv", "kvb"):
        return "attn.qkv_Bkv"
    if low in ("bq", "qb"):
        return "attn.qkv_Bq"
    raise ConvertError("no tadd tensor for attn.%s" % leaf)


def map_names(tensors, linear_layout):
    """{tadd name or (None, rest) for a shared block: (Tensor, linear)}."""
    out = {}
    dropped = []
    for name, t in tensors.items():
        if name == "lm_head.weight":
            dropped.append(name)
            continue
        if is_mask(name, t):
            dropped.append(name)
            continue
        block = split_block(name)
        if block is None:
            top = {"token_emb.weight": "token_emb.weight",
                   "pos_emb.weight": "pos_emb.weight",
                   "pos_emb.A": "pos_emb.A", "pos_emb.B": "pos_emb.B"}
            leaf = name.split(".")
            if len(leaf) == 2 and leaf[0] in NORM_ALIASES:
                lf = {"scale": "weight", "g": "weight"}.get(leaf[1], leaf[1])
                key = "%s.%s" % (NORM_ALIASES[leaf[0]], lf)
            elif name in top:
                key = top[name]
            else:
                raise ConvertError("no tadd tensor for '%s' (SPEC's model "
                                   "has no such part)" % name)
            out[key] = (Tensor.from_torch(t), False)
            continue
        layer, rest = block
        key, linear = map_block_param(rest)
        full = ("blocks.%d.%s" % (layer, key)) if layer is not None \
            else ("*", key)
        if linear and linear_layout == "in_out":
            linear = False
        out[full] = (Tensor.from_torch(t), linear)
    if "lm_head.weight" in tensors and "token_emb.weight" in tensors:
        a, b = tensors["lm_head.weight"], tensors["token_emb.weight"]
        if list(a.shape) != list(b.shape) or \
                float((a - b).abs().max()) > 0.0:
            raise ConvertError("lm_head.weight differs from "
                               "token_emb.weight: tadd ties the output head "
                               "to the embedding")
    return out, dropped


def expand_shared(mapped, n_layer):
    shared = {k[1]: v for k, v in mapped.items() if isinstance(k, tuple)}
    out = {k: v for k, v in mapped.items() if not isinstance(k, tuple)}
    if shared:
        if any(k.startswith("blocks.") for k in out):
            raise ConvertError("both a shared block and per-layer blocks")
        for layer in range(n_layer):
            for key, v in shared.items():
                out["blocks.%d.%s" % (layer, key)] = v
    return out


def shape_of(mapped, name):
    v = mapped.get(name)
    return v[0].shape if v else None


def infer_config(mapped, config, n_layer_shared):
    """SPEC's model fields, from the config checked against the shapes."""
    for key in config:
        if key in UNSUPPORTED_CONFIG and config[key]:
            raise ConvertError("model_config.%s = %r: SPEC's model has no "
                               "such part" % (key, config[key]))
    if config.get("max_seq_len", CONTEXT) != CONTEXT:
        raise ConvertError("model_config.max_seq_len is %r, tadd's context "
                           "is %d" % (config["max_seq_len"], CONTEXT))
    if config.get("vocab_size", VOCAB) != VOCAB:
        raise ConvertError("model_config.vocab_size is %r, tadd's is %d"
                           % (config["vocab_size"], VOCAB))
    emb = shape_of(mapped, "token_emb.weight")
    if not emb or len(emb) != 2 or emb[0] != VOCAB:
        raise ConvertError("token_emb.weight must be [%d, d_model], is %s"
                           % (VOCAB, emb))
    d = emb[1]
    layers = {int(k.split(".")[1]) for k in mapped if k.startswith("blocks.")}
    n_layer = (max(layers) + 1) if layers else 0
    if n_layer_shared is not None:
        n_layer = n_layer_shared
    if n_layer == 0:
        raise ConvertError("no block parameters in model_state")

    def other_dim(shape, known):
        """The dimension of a 2-D shape that is not known (either order)."""
        if not shape or len(shape) != 2:
            return 0
        return shape[1] if shape[0] == known else shape[0]

    def rank_of(name, n_in):
        return other_dim(shape_of(mapped, name), n_in)

    tied = "blocks.0.attn.qkv_A" in mapped
    m = {
        "n_layer": n_layer,
        "d_model": d,
        "n_head": config.get("n_head", 1),
        "pos_rank": rank_of("pos_emb.A", CONTEXT),
        "qkv_rank": rank_of("blocks.0.attn.qkv_A" if tied
                            else "blocks.0.attn.qkv.A", d),
        "attn_out_rank": rank_of("blocks.0.attn.proj.A", d),
        "ffn_rank": rank_of("blocks.0.mlp.fc1.A", d),
        "norm": "layernorm" if "ln_f.bias" in mapped else "rmsnorm",
        "qkv_tie": "shareA_tieKV" if tied else "none",
    }
    # fc1 is [f, d] (nn.Linear) or [d, f]; low-rank, its B is [r, f].
    if "blocks.0.mlp.fc1.weight" in mapped:
        m["d_ff"] = other_dim(shape_of(mapped, "blocks.0.mlp.fc1.weight"), d)
    else:
        m["d_ff"] = other_dim(shape_of(mapped, "blocks.0.mlp.fc1.B"),
                              m["ffn_rank"])
    if not m["d_ff"]:
        raise ConvertError("cannot tell d_ff from the mlp.fc1 tensors")
    has_fixed = {kind: any(k.endswith(".W_fixed") and ".%s." % kind in k
                           for k in mapped) for kind in ("attn", "mlp")}
    for kind in ("attn", "mlp"):
        m["fixed_full_rank_" + kind] = has_fixed[kind]

    # The config, where it speaks, must agree with the tensors.
    given = dict(config)
    if "use_rmsnorm" in given:
        given["norm"] = "rmsnorm" if given.pop("use_rmsnorm") else \
            "layernorm"
    if "tie_qkv" in given:
        given["qkv_tie"] = given.pop("tie_qkv") or "none"
    if "fixed_full_rank" in given:
        flag = bool(given.pop("fixed_full_rank"))
        given.setdefault("fixed_full_rank_attn", flag)
        given.setdefault("fixed_full_rank_mlp", flag)
    for key, value in given.items():
        if key in IGNORED_CONFIG or key in UNSUPPORTED_CONFIG:
            continue
        if key not in MODEL_FIELDS:
            raise ConvertError("model_config.%s: no such tadd model field"
                               % key)
        if key.startswith("fixed_full_rank_"):
            kind = key[len("fixed_full_rank_"):]
            rank_keys = ("qkv_rank", "attn_out_rank") if kind == "attn" \
                else ("ffn_rank",)
            low_rank = any(m[r] > 0 for r in rank_keys)
            # A full-rank layer ignores the flag: only low rank must agree.
            if low_rank and bool(value) and not has_fixed[kind]:
                raise ConvertError(
                    "model_config.%s is on but model_state holds no "
                    "W_fixed for the %s layers (a buffer not saved?): "
                    "the model cannot be rebuilt" % (key, kind))
            if low_rank and not value and has_fixed[kind]:
                raise ConvertError("model_config.%s is off but model_state "
                                   "holds W_fixed for the %s layers"
                                   % (key, kind))
            m[key] = bool(value)
            continue
        if m.get(key) != value:
            raise ConvertError("model_config.%s is %r but the tensors say "
                               "%r" % (key, value, m.get(key)))
    if d % m["n_head"]:
        raise ConvertError("d_model %d is not a multiple of n_head %d"
                           % (d, m["n_head"]))
    return {k: m[k] for k in MODEL_FIELDS}


def expected_shapes(m):
    """Every tensor of SPEC section 6 for model fields m, with its shape."""
    d, f, T, V = m["d_model"], m["d_ff"], CONTEXT, VOCAB
    out = {"token_emb.weight": [V, d]}
    if m["pos_rank"]:
        out["pos_emb.A"] = [T, m["pos_rank"]]
        out["pos_emb.B"] = [m["pos_rank"], d]
    else:
        out["pos_emb.weight"] = [T, d]
    norms = ("weight", "bias") if m["norm"] == "layernorm" else ("weight",)

    def linear(prefix, n_in, n_out, rank, fixed):
        if rank:
            out[prefix + ".A"] = [n_in, rank]
            out[prefix + ".B"] = [rank, n_out]
            if fixed:
                out[prefix + ".W_fixed"] = [n_in, n_out]
        else:
            out[prefix + ".weight"] = [n_in, n_out]

    for layer in range(m["n_layer"]):
        p = "blocks.%d." % layer
        for ln in ("ln1", "ln2"):
            for leaf in norms:
                out[p + ln + "." + leaf] = [d]
        if m["qkv_tie"] == "shareA_tieKV":
            out[p + "attn.qkv_A"] = [d, m["qkv_rank"]]
            out[p + "attn.qkv_Bq"] = [m["qkv_rank"], d]
            out[p + "attn.qkv_Bkv"] = [m["qkv_rank"], d]
        else:
            linear(p + "attn.qkv", d, 3 * d, m["qkv_rank"],
                   m["fixed_full_rank_attn"])
        linear(p + "attn.proj", d, d, m["attn_out_rank"],
               m["fixed_full_rank_attn"])
        linear(p + "mlp.fc1", d, f, m["ffn_rank"], m["fixed_full_rank_mlp"])
        linear(p + "mlp.fc2", f, d, m["ffn_rank"], m["fixed_full_rank_mlp"])
    for leaf in norms:
        out["ln_f." + leaf] = [d]
    return out


def count_params(m, shapes):
    n = 0
    for name, shape in shapes.items():
        if not name.endswith(".W_fixed"):
            n += math.prod(shape)
    return n


def place(mapped, shapes):
    """The tensors in tadd's layout, transposed where needed."""
    missing = sorted(set(shapes) - set(mapped))
    extra = sorted(set(mapped) - set(shapes))
    if missing or extra:
        raise ConvertError("tensors do not match the model: missing %s; "
                           "unexpected %s" % (missing or "none",
                                              extra or "none"))
    out = {}
    for name, want in shapes.items():
        t, linear = mapped[name]
        if linear:
            # nn.Linear's [out, in].
            if t.shape != want[::-1]:
                raise ConvertError("%s: nn.Linear weight %s, expected [out, "
                                   "in] = %s" % (name, t.shape, want[::-1]))
            t = t.transposed()
        elif t.shape != want:
            if len(want) == 2 and t.shape == want[::-1]:
                t = t.transposed()
            else:
                raise ConvertError("%s has shape %s, expected %s"
                                   % (name, t.shape, want))
        out[name] = t
    return out


def metadata(ckpt, m, source):
    meta = {"format": "tadd-checkpoint/1",
            "model_config": json.dumps(m),
            "converted_from": os.path.basename(source)}
    for key in ("seed", "step"):
        if isinstance(ckpt.get(key), int):
            meta[key] = str(ckpt[key])
    for key in ("val_exact", "best_val_exact"):
        if isinstance(ckpt.get(key), float):
            meta["val_exact"] = repr(ckpt[key])
            break
    return meta


def write_safetensors(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        data = array.array("f", t.values)
        if sys.byteorder != "little":
            data.byteswap()
        raw = data.tobytes()
        header[name] = {"dtype": "F32", "shape": t.shape,
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    # Pad with spaces so the data starts 8-byte aligned.
    text += b" " * (-(8 + len(text)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def convert(src, dst, model_index=None, linear_layout="out_in",
            n_layer=None):
    ckpt, config, tensors = load_checkpoint(src)
    tensors = select_model(tensors, config, model_index)
    mapped, dropped = map_names(tensors, linear_layout)
    shared = any(isinstance(k, tuple) for k in mapped)
    if shared and n_layer is None:
        n_layer = config.get("n_layer", 1)
    mapped = expand_shared(mapped, n_layer or 1)
    m = infer_config(mapped, config, n_layer if shared else None)
    shapes = expected_shapes(m)
    placed = place(mapped, shapes)
    write_safetensors(dst, placed, metadata(ckpt, m, src))
    return m, count_params(m, shapes), dropped


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert a PyTorch reference checkpoint (model_config "
                    "+ model_state) into a tadd safetensors checkpoint.")
    ap.add_argument("src", help="the .pt file")
    ap.add_argument("dst", help="the .safetensors file to write")
    ap.add_argument("--model-index", type=int, default=None,
                    help="which model of a num_models checkpoint")
    ap.add_argument("--linear-layout", choices=("out_in", "in_out"),
                    default="out_in",
                    help="how full-rank '.weight' tensors are stored "
                         "(nn.Linear: out_in, the default)")
    args = ap.parse_args(argv)
    try:
        m, params, dropped = convert(args.src, args.dst, args.model_index,
                                     args.linear_layout)
    except ConvertError as e:
        print("convert_torch_checkpoint: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %d params, %s" % (args.dst, params, json.dumps(m)))
    if dropped:
        print("dropped (tied or constant): %s" % ", ".join(sorted(dropped)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
