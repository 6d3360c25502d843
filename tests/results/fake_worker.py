#!/usr/bin/env python3
"""A stand-in for `tadd-worker train` in the results tests.

It speaks the worker's protocol (docs/worker-protocol.md: the pack file,
metrics.csv, summary.json, JSON events on stdout) but trains nothing: a
model's fate is fixed by its seed and learning rate, so the tests know
every count, step and verdict in advance.

  lr >= 0.015: a seed s with s % 4 != 0 reaches val_exact 1.0 at step
               100 * (s % 3 + 1); s % 4 == 0 never succeeds.
  lr <  0.015: only seeds with s % 4 == 2 succeed, at step 200.

Before its success step a model's val_exact is 0.1 * step / train_steps.
Each evaluation's elapsed seconds are 0.01 per step.

When train_steps is 1234 the worker holds after its evaluation of step
100 until a file named "release" appears in the home (its working
folder), so that a test can look at a sweep while it runs.
"""

import json
import os
import sys
import time

HOLD_STEPS = 1234
SEC_PER_STEP = 0.01
PARAMS = 896  # SPEC's default model


def success_step(seed, lr):
    if lr >= 0.015:
        return None if seed % 4 == 0 else 100 * (seed % 3 + 1)
    return 200 if seed % 4 == 2 else None


def val_exact(seed, lr, step, steps):
    s = success_step(seed, lr)
    if s is not None and step >= s:
        return 1.0
    return round(0.1 * step / steps, 6)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv):
    if len(argv) < 3 or argv[0] != "train" or "--pack" not in argv:
        print("fake worker: expected train --pack FILE", file=sys.stderr)
        return 1
    pack = json.load(open(argv[argv.index("--pack") + 1]))
    cfg = pack.get("config", {})
    steps = cfg.get("train_steps", 30000)
    interval = cfg.get("eval_interval", 500)
    thr = pack.get("success_threshold", 0.99)
    models = pack["models"]
    evals = list(range(0, steps, interval)) + [steps]
    best = [(-1.0, -1)] * len(models)
    first = [None] * len(models)

    for m in models:
        os.makedirs(m["dir"], mode=0o700, exist_ok=True)
        with open(os.path.join(m["dir"], "metrics.csv"), "w") as f:
            f.write("step,train_loss,val_exact,val_token_acc,grad_norm,lr,"
                    "elapsed_sec\n")
    emit({"event": "start", "step": 0, "models": len(models),
          "train_steps": steps, "threads": 1})
    for step in evals:
        elapsed = step * SEC_PER_STEP
        rows = []
        for i, m in enumerate(models):
            lr = m.get("lr", 0.015)
            v = val_exact(m["seed"], lr, step, steps)
            if v > best[i][0]:
                best[i] = (v, step)
            if first[i] is None and v > thr:
                first[i] = (step, elapsed)
            with open(os.path.join(m["dir"], "metrics.csv"), "a") as f:
                f.write("%d,1.0,%g,0.5,0.1,%g,%g\n" % (step, v, lr, elapsed))
            rows.append({"index": i, "seed": m["seed"], "status": "training",
                         "train_loss": 1.0, "val_exact": v,
                         "val_token_acc": 0.5, "grad_norm": 0.1, "lr": lr,
                         "best_val_exact": best[i][0],
                         "best_step": best[i][1]})
        emit({"event": "eval", "step": step, "elapsed": elapsed,
              "models": rows})
        if steps == HOLD_STEPS and step == 100:
            while not os.path.exists("release"):
                time.sleep(0.05)
    end = []
    for i, m in enumerate(models):
        ok = first[i] is not None
        summary = {
            "seed": m["seed"], "params": PARAMS, "status": "done",
            "best_val_exact": best[i][0], "best_step": best[i][1],
            "success": ok, "success_threshold": thr,
            "first_success_step": first[i][0] if ok else None,
            "first_success_elapsed_sec": first[i][1] if ok else None,
            "final_step": steps, "test_exact": best[i][0],
            "elapsed_sec": steps * SEC_PER_STEP,
            "pack_models": len(models),
        }
        with open(os.path.join(m["dir"], "summary.json"), "w") as f:
            json.dump(summary, f)
        end.append({"index": i, "seed": m["seed"], "status": "done",
                    "params": PARAMS, "best_val_exact": best[i][0],
                    "best_step": best[i][1], "success": ok,
                    "first_success_step": first[i][0] if ok else None,
                    "first_success_elapsed": first[i][1] if ok else None,
                    "test_exact": best[i][0]})
    emit({"event": "end", "step": steps, "elapsed": steps * SEC_PER_STEP,
          "models": end})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
