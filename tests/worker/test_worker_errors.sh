#!/usr/bin/env bash
# Every malformed input of the worker gets a message naming the file and
# what is wrong, a non-zero exit, and leaves no output folder behind.
. "$(dirname "$0")/lib.sh"

# expect_refused NAME CONTENT MESSAGE: a pack file that must be refused.
expect_refused() {
    local name=$1 content=$2 message=$3 out status
    printf '%s' "$content" > "$TMP/$name.json"
    set +e
    out=$("$WORKER" train --pack "$TMP/$name.json" 2>&1)
    status=$?
    set -e
    [ "$status" -eq 1 ] || fail "$name: exit status $status, expected 1"
    case "$out" in
        *"$TMP/$name.json"*) ;;
        *) fail "$name: message does not name the file: $out" ;;
    esac
    case "$out" in
        *"$message"*) ;;
        *) fail "$name: message lacks '$message': $out" ;;
    esac
    [ ! -e "$TMP/out_$name" ] || fail "$name: left an output folder"
}

d='"dir": "'"$TMP"'/out_NAME"'
expect_refused badjson '{"models": [' "not valid JSON"
expect_refused nomodels '{"config": {}}' "models: missing"
expect_refused emptymodels '{"models": []}' "models: must hold"
expect_refused unknown_top '{"models": [{"seed": 1, '"${d/NAME/unknown_top}"'}], "colour": 1}' \
    "colour: unknown key"
expect_refused unknown_cfg '{"config": {"d_modle": 8}, "models": [{"seed": 1, '"${d/NAME/unknown_cfg}"'}]}' \
    "config.d_modle"
expect_refused permodel_cfg '{"config": {"lr": 0.1}, "models": [{"seed": 1, '"${d/NAME/permodel_cfg}"'}]}' \
    "config.lr: a per-model field"
expect_refused noseed '{"models": [{'"${d/NAME/noseed}"'}]}' "models[0].seed: missing"
expect_refused negseed '{"models": [{"seed": -3, '"${d/NAME/negseed}"'}]}' "models[0].seed"
expect_refused nodir '{"models": [{"seed": 1}]}' "models[0].dir: missing"
expect_refused badlr '{"models": [{"seed": 1, "lr": "fast", '"${d/NAME/badlr}"'}]}' "models[0].lr"
expect_refused neglr '{"models": [{"seed": 1, "lr": -1, '"${d/NAME/neglr}"'}]}' "models[0].lr"
expect_refused badtype '{"config": {"d_model": "eight"}, "models": [{"seed": 1, '"${d/NAME/badtype}"'}]}' \
    "config.d_model"
expect_refused heads '{"config": {"d_model": 8, "n_head": 3}, "models": [{"seed": 1, '"${d/NAME/heads}"'}]}' \
    "n_head"
expect_refused twice '{"state": "a", "state": "b", "models": [{"seed": 1, '"${d/NAME/twice}"'}]}' \
    "state: given twice"
expect_refused twice_model '{"models": [{"seed": 1, "seed": 2, '"${d/NAME/twice_model}"'}]}' \
    "models[0].seed: given twice"
expect_refused badinterval '{"checkpoint_interval": 0, "models": [{"seed": 1, '"${d/NAME/badinterval}"'}]}' \
    "checkpoint_interval"

set +e
out=$("$WORKER" train --pack "$TMP/does-not-exist.json" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] || fail "missing pack file: status $status"
case "$out" in *does-not-exist.json*) ;; *) fail "missing file: $out" ;; esac

# Checkpoints: a good one, then damaged copies of it.
echo '{"d_model": 8}' > "$TMP/model.json"
"$WORKER" init --config "$TMP/model.json" --seed 1 --out "$TMP/good.st"
"$WORKER" predict "$TMP/good.st" 12 34 --json | grep -q '"truth":46' ||
    fail "predict on a fresh model"

expect_bad_ckpt() {
    local name=$1 message=$2 out status
    set +e
    out=$("$WORKER" eval "$TMP/$name" --n 10 --seeds 1 2>&1)
    status=$?
    set -e
    [ "$status" -eq 1 ] || fail "$name: exit status $status, expected 1"
    case "$out" in
        *"$TMP/$name"*"$message"*) ;;
        *) fail "$name: message lacks file or '$message': $out" ;;
    esac
}

size=$(stat -c %s "$TMP/good.st")
head -c $((size - 7)) "$TMP/good.st" > "$TMP/truncated.st"
expect_bad_ckpt truncated.st ""
head -c 4 "$TMP/good.st" > "$TMP/tiny.st"
expect_bad_ckpt tiny.st ""
printf '\377\377\377\377\000\000\000\000{}' > "$TMP/hugeheader.st"
expect_bad_ckpt hugeheader.st ""
python3 - "$TMP" <<'PY'
import json, struct, sys
tmp = sys.argv[1]
raw = open(f"{tmp}/good.st", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]

def write(name, h, d=data):
    text = json.dumps(h).encode()
    open(f"{tmp}/{name}", "wb").write(struct.pack("<Q", len(text)) + text + d)

h = dict(header); del h["ln_f.bias"]; write("missing.st", h)
h = json.loads(json.dumps(header))
h["token_emb.weight"]["shape"] = [7, 16]; write("shape.st", h)
h = json.loads(json.dumps(header))
h["__metadata__"]["model_config"] = '{"d_model": 9}'; write("config.st", h)
h = json.loads(json.dumps(header)); del h["__metadata__"]; write("nometa.st", h)
h = json.loads(json.dumps(header))
h["token_emb.weight"]["dtype"] = "F16"; write("dtype.st", h)
open(f"{tmp}/badjson.st", "wb").write(struct.pack("<Q", 5) + b"{nope")
PY
expect_bad_ckpt missing.st "missing tensor ln_f.bias"
expect_bad_ckpt shape.st "token_emb.weight"
expect_bad_ckpt config.st "wrong shape"
expect_bad_ckpt nometa.st "model_config"
expect_bad_ckpt dtype.st "F16"
expect_bad_ckpt badjson.st ""
echo "worker errors: ok"
