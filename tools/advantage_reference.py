#!/usr/bin/env python3
"""Independent NumPy reference for `exp advantage`.

Writes random inputs (every estimator, random epsilons, weights, uneven groups, ties and
constant groups), runs `exp advantage` on each, and compares with the formulas written out
again here in NumPy. Exit code 0 iff every case matches to 1e-9; malformed inputs must be
rejected with a non-zero exit and a one-line message.

    python3 tools/advantage_reference.py --exp target/debug/exp --cases 300
"""
import argparse
import json
import subprocess
import sys

import numpy as np


def std(x, kind):
    return np.std(x, ddof=1 if kind == "sample" else 0)


def centred_scaled(x, eps, kind, scale=True):
    """(x - mean) / (std + eps), with exact zeros for an all-equal vector."""
    x = np.asarray(x, dtype=np.float64)
    if np.all(x == x[0]):
        return np.zeros_like(x)
    c = x - x.mean()
    return c / (std(x, kind) + eps) if scale else c


def reference(cfg, weights, groups):
    kind = cfg.get("std", "sample")
    eps = cfg.get("epsilon", 1e-6)
    w = np.asarray(weights, dtype=np.float64)
    arrs = [np.asarray(g, dtype=np.float64) for g in groups]  # [G_i, N]
    sums = [a @ w for a in arrs]
    k = cfg["kind"]
    if k in ("grpo", "dr_grpo"):
        scale = cfg.get("scale", "group") if k == "grpo" else "none"
        if k == "dr_grpo":
            eps = 0.0
        out = [centred_scaled(s, eps, kind, scale == "group") for s in sums]
        if scale == "batch":
            allsums = np.concatenate(sums)
            if not np.all(allsums == allsums[0]):
                sd = std(allsums, kind) + eps
                out = [o / sd for o in out]
        return out
    if k == "gdpo":
        out = []
        for a in arrs:
            acc = np.zeros(a.shape[0])
            for n in range(a.shape[1]):
                acc += w[n] * centred_scaled(a[:, n], eps, kind)
            out.append(acc)
        if cfg.get("batch_norm", True):
            flat = centred_scaled(np.concatenate(out), eps, kind)
            out, i = [], 0
            for a in arrs:
                out.append(flat[i:i + a.shape[0]])
                i += a.shape[0]
        return out
    if k == "rloo":
        out = []
        for s in sums:
            if np.all(s == s[0]):
                out.append(np.zeros_like(s))
            else:
                out.append(s - (s.sum() - s) / (len(s) - 1))
        return out
    if k == "reinforce_pp_baseline":
        centred = [centred_scaled(s, 0.0, kind, scale=False) for s in sums]
        flat = centred_scaled(np.concatenate(centred), eps, kind)
        out, i = [], 0
        for s in sums:
            out.append(flat[i:i + len(s)])
            i += len(s)
        return out
    raise ValueError(k)


def random_case(rng):
    n = int(rng.integers(1, 5))
    groups = []
    for _ in range(int(rng.integers(1, 7))):
        g = int(rng.integers(2, 9))
        mode = rng.random()
        if mode < 0.15:  # constant group
            row = list(rng.integers(-2, 3, size=n).astype(float))
            groups.append([row[:] for _ in range(g)])
        elif mode < 0.6:  # ties
            groups.append(rng.integers(-2, 3, size=(g, n)).astype(float).tolist())
        else:
            groups.append((rng.normal(size=(g, n)) * rng.choice([0.01, 1.0, 50.0])).tolist())
    weights = (rng.normal(size=n) * 2).tolist()
    kind = rng.choice(["grpo", "dr_grpo", "gdpo", "rloo", "reinforce_pp_baseline"])
    cfg = {"kind": str(kind)}
    eps = float(rng.choice([0.0, 1e-8, 1e-6, 1e-4, 0.1]))
    std_kind = str(rng.choice(["sample", "population"]))
    if kind == "grpo":
        cfg.update(scale=str(rng.choice(["group", "batch", "none"])), epsilon=eps, std=std_kind)
    elif kind == "gdpo":
        cfg.update(epsilon=eps, batch_norm=bool(rng.random() < 0.7), std=std_kind)
    elif kind == "reinforce_pp_baseline":
        cfg.update(epsilon=eps, std=std_kind)
    return {"advantage": cfg, "weights": weights, "groups": groups}


def run_exp(exp, doc_text):
    return subprocess.run([exp, "advantage", "-"], input=doc_text, capture_output=True, text=True)


MALFORMED = [
    ("ragged", '{"advantage":{"kind":"gdpo"},"weights":[1,1],"groups":[[[0,1],[0]]]}'),
    ("weight count", '{"advantage":{"kind":"grpo"},"weights":[1],"groups":[[[0,1],[0,2]]]}'),
    ("NaN", '{"advantage":{"kind":"gdpo"},"weights":[1],"groups":[[[0],[NaN]]]}'),
    ("group of one", '{"advantage":{"kind":"rloo"},"weights":[1],"groups":[[[0]]]}'),
    ("unknown key", '{"advantage":{"kind":"gdpo","eps":1},"weights":[1],"groups":[[[0],[1]]]}'),
    ("unknown kind", '{"advantage":{"kind":"ppo"},"weights":[1],"groups":[[[0],[1]]]}'),
    ("negative epsilon", '{"advantage":{"kind":"gdpo","epsilon":-1},"weights":[1],"groups":[[[0],[1]]]}'),
    ("empty", '{"advantage":{"kind":"gdpo"},"weights":[],"groups":[]}'),
    ("not json", 'groups'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exp", default="target/debug/exp")
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    worst = 0.0
    for i in range(a.cases):
        doc = random_case(rng)
        r = run_exp(a.exp, json.dumps(doc))
        if r.returncode != 0:
            print(f"case {i}: exp failed: {r.stderr.strip()}\n{json.dumps(doc)}", file=sys.stderr)
            return 1
        got = json.loads(r.stdout)["advantages"]
        want = reference(doc["advantage"], doc["weights"], doc["groups"])
        for g, w in zip(got, want):
            if len(g) != len(w):
                print(f"case {i}: shape mismatch", file=sys.stderr)
                return 1
            err = float(np.max(np.abs(np.asarray(g) - w))) if len(g) else 0.0
            worst = max(worst, err)
            if not err <= 1e-9:
                print(f"case {i}: max abs error {err}\n{json.dumps(doc)}\ngot  {g}\nwant {w.tolist()}", file=sys.stderr)
                return 1
    for name, text in MALFORMED:
        r = run_exp(a.exp, text)
        lines = r.stderr.strip().splitlines()
        if r.returncode == 0 or len(lines) != 1:
            print(f"malformed input `{name}` was not rejected with one line: rc={r.returncode} stderr={r.stderr!r}", file=sys.stderr)
            return 1
    print(f"exp advantage matches the NumPy reference on {a.cases} random cases (max abs error {worst:.2e}); "
          f"{len(MALFORMED)} malformed inputs rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
