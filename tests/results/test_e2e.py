#!/usr/bin/env python3
"""Results through the whole system: taddd with fake_worker.py, taddctl.

    test_e2e.py TADDD TADDCTL FAKE_WORKER TADD_WORKER

Two configs share a pack (lr is a per-model field); fake_worker.py fixes
each seed's fate, so counts, medians, Fisher p-values and verdicts are
known: lr=0.02 succeeds on 3 of seeds 1-4 (steps 200, 300, 100), lr=0.01
on 1 (seed 2, step 200). Checks `taddctl results` in its three forms, the
sweep's summary.json and results.csv, compare, plot, a baseline taken
from another sweep, a variant baseline matched by grid point, a sweep
looked at while it runs, and eval / predict
through the real tadd-worker.
"""

import csv
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

TADDD, TADDCTL, FAKE, WORKER = sys.argv[1:5]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAILED: %s" % what, file=sys.stderr)


def ctl(home, *args, ok=True):
    r = subprocess.run([TADDCTL, "--home", home] + list(args),
                       capture_output=True, text=True, timeout=60)
    if ok and r.returncode != 0:
        raise RuntimeError("taddctl %s: exit %d: %s"
                           % (" ".join(args), r.returncode, r.stderr))
    return r


def submit(home, sweep):
    path = os.path.join(home, sweep["name"] + ".json")
    with open(path, "w") as f:
        json.dump(sweep, f)
    ctl(home, "submit", path)


BASE = {"train_steps": 400, "eval_interval": 100, "warmup_steps": 10,
        "val_size": 10, "test_size": 10}


def test_results(home):
    submit(home, {"name": "e2e", "base": BASE,
                  "grid": {"lr": [0.01, 0.02]},
                  "seeds": {"start": 1, "count": 4},
                  "baseline": "default.lr=0.01"})
    ctl(home, "wait", "e2e", "--timeout", "60")

    table = ctl(home, "results", "e2e").stdout
    lines = table.splitlines()
    check(all(len(line) <= 100 for line in lines), "table within 100 cols")
    rows = [line for line in lines if line.startswith("default ")]
    # The grid value in a column of its own.
    check(len(rows) == 2 and rows[0].split()[:2] == ["default", "0.01"],
          "baseline first: %s" % rows)
    check("baseline" in rows[0] and "PASS r2" in rows[1],
          "verdict column: %s" % rows)
    check("rule 2: same 896 params and rate 3/4 > 1/4" in table,
          "rule 2 reason in:\n%s" % table)

    j = json.loads(ctl(home, "results", "e2e", "--json").stdout)
    check(j["sweep"] == "e2e" and j["so_far"] is False, "json header")
    check(j["baseline"] == {"sweep": "e2e", "config": "default.lr=0.01"},
          "json baseline %s" % j["baseline"])
    base, hi = j["configs"]
    check((base["n"], base["k"], base["verdict"]) == (4, 1, "baseline"),
          "baseline counts %s" % base)
    check((hi["n"], hi["k"], hi["verdict"], hi["rule"]) ==
          (4, 3, "pass", 2), "lr=0.02 counts %s" % hi)
    check(abs(hi["fisher_p"] - 34 / 70) < 1e-9, "fisher %s" % hi)
    check(hi["median_steps_to_success"] == 200, "median steps %s" % hi)
    # Shared pack: 0.01 s per step, as the fake worker's clock runs.
    check(abs(hi["median_seconds_to_success"] - 2.0) < 1e-6,
          "median seconds %s" % hi)
    check(base["params"] == 896 and hi["params"] == 896, "params")

    out = ctl(home, "results", "e2e", "--csv").stdout
    table_rows = list(csv.DictReader(io.StringIO(out)))
    check([r["config"] for r in table_rows] ==
          ["default.lr=0.01", "default.lr=0.02"], "csv order")
    check(table_rows[1]["k"] == "3" and table_rows[1]["verdict"] == "pass",
          "csv row %s" % table_rows[1])

    # The sweep's own files, written when it finished.
    summary = json.load(open(os.path.join(home, "e2e", "summary.json")))
    check(summary["finished"] is True, "summary.json finished")
    check(summary["configs"][1]["k"] == 3, "summary.json counts")
    on_disk = open(os.path.join(home, "e2e", "results.csv")).read()
    check(on_disk == out, "results.csv equals taddctl results --csv")

    cmp_text = ctl(home, "compare", "e2e", "default.lr=0.01",
                   "default.lr=0.02").stdout
    check("A default.lr=0.01: 896 params, 1/4 ok" in cmp_text,
          "compare header:\n%s" % cmp_text)
    seed_lines = [line for line in cmp_text.splitlines()
                  if line[:1].isdigit()]
    check(len(seed_lines) == 4, "compare: a line per seed")
    cj = json.loads(ctl(home, "compare", "e2e", "default.lr=0.01",
                        "default.lr=0.02", "--json").stdout)
    seed3 = [s for s in cj["seeds"] if s["seed"] == 3][0]
    check(seed3["a"]["success"] is False and
          seed3["b"]["steps_to_success"] == 100, "compare seed 3 %s" % seed3)
    r = ctl(home, "compare", "e2e", "default.lr=0.01", "nope", ok=False)
    check(r.returncode == 1 and 'no config "nope"' in r.stderr,
          "compare of a missing config: %s" % r.stderr)

    plot = ctl(home, "plot", "e2e").stdout.split()
    check(plot == [os.path.join(home, "e2e", "curves.png"),
                   os.path.join(home, "e2e", "curves.svg")],
          "plot files %s" % plot)
    other = os.path.join(home, "other.png")
    check(ctl(home, "plot", "e2e", "-o", other).stdout.split() ==
          [other, os.path.join(home, "other.svg")], "plot -o")
    r = ctl(home, "plot", "e2e", "--threshold", "2", ok=False)
    check(r.returncode == 2 and "--threshold" in r.stderr,
          "plot --threshold 2: %s" % r.stderr)
    with open(plot[0], "rb") as f:
        head = f.read(24)
    w, h = struct.unpack(">II", head[16:24])
    check(head[:4] == b"\x89PNG" and (w, h) == (2 * 460, 340),
          "curves.png %dx%d" % (w, h))


def test_other_baseline(home):
    submit(home, {"name": "e2e_b", "base": BASE, "grid": {"lr": [0.02]},
                  "seeds": {"start": 1, "count": 4},
                  "baseline": {"sweep": "e2e", "config": "default.lr=0.01"}})
    ctl(home, "wait", "e2e_b", "--timeout", "60")
    j = json.loads(ctl(home, "results", "e2e_b", "--json").stdout)
    base, mine = j["configs"]
    check(base.get("sweep") == "e2e" and base["verdict"] == "baseline" and
          base["k"] == 1, "baseline from e2e: %s" % base)
    check(mine["verdict"] == "pass" and mine["rule"] == 2,
          "judged against e2e's baseline: %s" % mine)
    table = ctl(home, "results", "e2e_b").stdout
    check("\ne2e/default 0.01" in table and
          "baseline: e2e/default.lr=0.01" in table,
          "table names the other sweep:\n%s" % table)


def test_variant_baseline(home):
    # "baseline" names a variant, as in SPEC section 5's example. The two
    # variants differ only in weight_decay, which the fake worker ignores,
    # so each grid point's pair ties: b.lr=0.02 (3/4) fails against
    # a.lr=0.02 (3/4, the same time) though it would pass against a.lr=0.01.
    submit(home, {"name": "e2e_v", "base": BASE,
                  "variants": [{"name": "a"},
                               {"name": "b", "weight_decay": 0.001}],
                  "grid": {"lr": [0.01, 0.02]},
                  "seeds": {"start": 1, "count": 4}, "baseline": "a"})
    ctl(home, "wait", "e2e_v", "--timeout", "60")
    j = json.loads(ctl(home, "results", "e2e_v", "--json").stdout)
    check(j["baseline"] == {"sweep": "e2e_v", "variant": "a"},
          "json variant baseline %s" % j["baseline"])
    by = {c["config"]: c for c in j["configs"]}
    check(sorted(by) == ["a.lr=0.01", "a.lr=0.02", "b.lr=0.01", "b.lr=0.02"],
          "configs %s" % sorted(by))
    check([c["verdict"] for c in j["configs"][:2]] == ["baseline"] * 2,
          "both of a's configs are baselines: %s" % j["configs"][:2])
    hi = by.get("b.lr=0.02", {})
    check(hi.get("baseline") == "a.lr=0.02" and hi.get("verdict") == "fail"
          and hi.get("k") == 3, "b.lr=0.02 against a.lr=0.02: %s" % hi)
    check(hi.get("fisher_p") == 1.0, "fisher 3/4 against 3/4: %s" % hi)
    lo = by.get("b.lr=0.01", {})
    check(lo.get("baseline") == "a.lr=0.01" and lo.get("verdict") == "fail",
          "b.lr=0.01 against a.lr=0.01: %s" % lo)
    out = ctl(home, "results", "e2e_v", "--csv").stdout
    rows = {r["config"]: r for r in csv.DictReader(io.StringIO(out))}
    check(rows.get("b.lr=0.02", {}).get("baseline") == "a.lr=0.02",
          "csv baseline column: %s" % out)
    table = ctl(home, "results", "e2e_v").stdout
    check("baseline: variant a, each config against" in table and
          "b.lr=0.02: fail against a.lr=0.02" in table,
          "table names each verdict's baseline:\n%s" % table)


def test_running(home):
    # train_steps 1234 holds the fake worker after step 100.
    submit(home, {"name": "e2e_hold",
                  "base": dict(BASE, train_steps=1234, lr=0.02),
                  "seeds": {"start": 1, "count": 4}, "baseline": "default"})
    summary_path = os.path.join(home, "e2e_hold", "summary.json")
    # The worker holds once it has reported step 100, where seed 3 passed.
    deadline = time.time() + 30
    while True:
        j = json.loads(ctl(home, "results", "e2e_hold", "--json").stdout)
        c = j["configs"][0]
        if c["max_best_val_exact"] == 1.0 or time.time() > deadline:
            break
        time.sleep(0.1)
    check(j["so_far"] is True and c["so_far"] is True, "so far while held")
    check((c["n"], c["k"], c["running"]) == (4, 1, 4),
          "counts so far (seed 3 passed at step 100): %s" % c)
    check(c["median_steps_to_success"] == 100 and
          abs(c["median_seconds_to_success"] - 1.0) < 1e-6,
          "time so far from the metrics: %s" % c)
    check("1/4*" in ctl(home, "results", "e2e_hold").stdout,
          "the table marks counts so far")
    check(os.path.exists(summary_path), "summary.json written while it runs")
    if os.path.exists(summary_path):
        s = json.load(open(summary_path))
        check(s["finished"] is False and s["so_far"] is True,
              "summary.json of a running sweep")
    open(os.path.join(home, "release"), "w").close()
    ctl(home, "wait", "e2e_hold", "--timeout", "60")
    j = json.loads(ctl(home, "results", "e2e_hold", "--json").stdout)
    c = j["configs"][0]
    check(j["so_far"] is False and c["k"] == 3, "finished: %s" % c)
    s = json.load(open(summary_path))
    check(s["finished"] is True and s["configs"][0]["k"] == 3,
          "summary.json rewritten when the sweep finished")


def test_eval_predict(home):
    cfg = os.path.join(home, "model.json")
    ckpt = os.path.join(home, "init.safetensors")
    with open(cfg, "w") as f:
        json.dump({"d_model": 8, "d_ff": 28}, f)
    subprocess.run([WORKER, "init", "--config", cfg, "--seed", "5", "--out",
                    ckpt], check=True, capture_output=True, timeout=60)
    r = ctl(home, "predict", ckpt, "12", "34")
    check(r.stdout.strip() != "", "predict printed the model's sum")
    direct = subprocess.run([WORKER, "predict", ckpt, "12", "34"],
                            capture_output=True, text=True, timeout=60)
    check(r.stdout == direct.stdout, "predict is tadd-worker's answer")
    r = ctl(home, "eval", ckpt, "--n", "50", "--seeds", "1", "--json")
    check(r.returncode == 0 and r.stdout.strip().startswith(("{", "[")),
          "eval --json: %s" % r.stdout[:200])
    r = ctl(home, "predict", ckpt, "12", ok=False)
    check(r.returncode == 2 and "expected CKPT A B" in r.stderr,
          "predict usage: %s" % r.stderr)


def main():
    with tempfile.TemporaryDirectory() as home:
        subprocess.run([TADDD, "--home", home, "--daemonize", "--worker",
                        FAKE, "--workers", "1", "--threads", "1",
                        "--max-models-per-pack", "8", "--log-level", "warn"],
                       check=True, timeout=30)
        try:
            test_results(home)
            test_other_baseline(home)
            test_variant_baseline(home)
            test_running(home)
            test_eval_predict(home)
        finally:
            open(os.path.join(home, "release"), "w").close()
            ctl(home, "shutdown", ok=False)
    if failures:
        print("%d check(s) failed" % failures, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
