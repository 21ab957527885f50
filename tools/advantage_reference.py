#!/usr/bin/env python3
"""Independent NumPy reference for `exp advantage`.

Writes random inputs (every estimator, random epsilons, weights, uneven groups, ties and
constant groups), runs `exp advantage` on each, and compares with the formulas written out
again here in NumPy. Exit code 0 iff every case matches to 1e-9; malformed inputs must be
rejected with a non-zero exit and a one-line message.

Besides Vigil's own formulas, it holds ports of TRL's and verl's advantage computations, written
from their documented behaviour (`trl_*`: GRPOTrainer's `scale_rewards` and
`multi_objective_aggregation`, RLOOTrainer; `verl_*`: `core_algos` estimators over a token
response mask with `masked_whiten`), and checks `compat = "trl"` / `"verl"` against them, also
with missing (null) rewards, groups of one and unequal response lengths.

    python3 tools/advantage_reference.py --exp target/debug/exp --cases 300
"""
import argparse
import json
import subprocess
import sys
import warnings

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


# ---------------------------------------------------------------------------------------------
# TRL (GRPOTrainer / RLOOTrainer). A missing reward is NaN; statistics skip NaN (nanmean, and a
# Bessel-corrected nanstd that is NaN below two values); a rollout whose every reward is missing
# is NaN after the weighted nansum; every NaN advantage becomes 0 at the end. ε = 1e-4 is added
# to the std. TRL's groups all have num_generations rollouts; uneven groups are treated group by
# group the same way (a group of one has std 0, so its advantage is 0).

def trl_nanstd(x):
    x = np.asarray(x, dtype=np.float64)
    c = int(np.sum(~np.isnan(x)))
    if c <= 1:
        return np.nan
    mu = np.nanmean(x)
    return float(np.sqrt(np.nanmean((x - mu) ** 2) * c / (c - 1)))


def trl_rewards(arrs, w):
    """Weighted nansum per rollout; NaN for a rollout with no reward at all."""
    out = []
    for a in arrs:
        r = np.nansum(a * w, axis=1)
        r[np.all(np.isnan(a), axis=1)] = np.nan
        out.append(r)
    return out


def trl_sum_then_normalize(arrs, w, scale, eps=1e-4):
    rewards = trl_rewards(arrs, w)
    flat = np.concatenate(rewards)
    batch_std = trl_nanstd(flat) if flat.size > 1 else 0.0
    out = []
    for r in rewards:
        mean = np.nanmean(r)
        std = batch_std if scale == "batch" else (trl_nanstd(r) if r.size > 1 else 0.0)
        adv = r - mean
        if scale != "none":
            adv = adv / (std + eps)
        out.append(np.nan_to_num(adv, nan=0.0))
    return out


def trl_normalize_then_sum(arrs, w, eps=1e-4):
    sums = []
    for a in arrs:
        mean_k = np.nanmean(a, axis=0)
        std_k = np.array([trl_nanstd(a[:, k]) for k in range(a.shape[1])]) if a.shape[0] > 1 else np.zeros(a.shape[1])
        r = np.nansum((a - mean_k) / (std_k + eps) * w, axis=1)
        r[np.all(np.isnan(a), axis=1)] = np.nan
        sums.append(r)
    flat = np.concatenate(sums)
    std = trl_nanstd(flat) if flat.size > 1 else 0.0
    adv = np.nan_to_num((flat - np.nanmean(flat)) / (std + eps), nan=0.0)
    return split_like(adv, arrs)


def trl_rloo(arrs, w):
    out = []
    for r in trl_rewards(arrs, w):
        if r.size == 1:
            out.append(np.zeros(1))
            continue
        scorable = np.sum(~np.isnan(r))
        baseline = (np.nansum(r) - r) / (scorable - 1)
        out.append(np.nan_to_num(r - baseline, nan=0.0))
    return out


def trl_reference(cfg, weights, groups):
    k = cfg["kind"]
    w = np.asarray(weights, dtype=np.float64)
    arrs = [nan_array(g) for g in groups]
    eps = cfg.get("epsilon", 1e-4)
    if k == "grpo":
        return trl_sum_then_normalize(arrs, w, cfg.get("scale", "group"), eps)
    if k == "dr_grpo":
        return trl_sum_then_normalize(arrs, w, "none", eps)
    if k == "gdpo":
        return trl_normalize_then_sum(arrs, w, eps)
    if k == "rloo":
        return trl_rloo(arrs, w)
    raise ValueError(k)


# ---------------------------------------------------------------------------------------------
# verl (core_algos). Scores are scalars per response; advantages are per token: the scalar times
# the response mask, and GDPO / REINFORCE++-baseline whiten the token tensor with masked_whiten
# (mean over mask tokens with a 1e-8 guard in the denominator, Bessel over the token count,
# multiply by rsqrt(var + 1e-8)). A group of one has mean 0 and std 1. The per-rollout advantage
# read back is the value on the response's tokens.

def verl_mask(lengths):
    m = np.zeros((len(lengths), max(max(lengths), 1)))
    for i, n in enumerate(lengths):
        m[i, :n] = 1.0
    return m


def verl_masked_mean(v, m):
    return np.sum(v * m) / (np.sum(m) + 1e-8)


def verl_masked_whiten(v, m):
    mean = verl_masked_mean(v, m)
    var = verl_masked_mean((v - mean) ** 2, m)
    t = np.sum(m)
    if t <= 1:
        raise ValueError("masked_var needs at least two tokens")
    var = var * t / (t - 1)
    return (v - mean) * (1.0 / np.sqrt(var + 1e-8))


def verl_grpo_scalars(scores, sizes, eps, norm_by_std):
    out, i = [], 0
    for n in sizes:
        s = scores[i:i + n]
        mean, std = (0.0, 1.0) if n == 1 else (np.mean(s), np.std(s, ddof=1))
        out.append((s - mean) / (std + eps) if norm_by_std else s - mean)
        i += n
    return np.concatenate(out)


def verl_reference(cfg, weights, groups, lengths):
    k = cfg["kind"]
    w = np.asarray(weights, dtype=np.float64)
    arrs = [nan_array(g) for g in groups]
    sizes = [a.shape[0] for a in arrs]
    flat_vals = np.concatenate(arrs)  # [B, N]
    flat_len = [n for ls in lengths for n in ls]
    mask = verl_mask(flat_len)
    eps = cfg.get("epsilon", 1e-6)
    scores = flat_vals @ w
    if k in ("grpo", "dr_grpo"):
        norm = k == "grpo" and cfg.get("scale", "group") == "group"
        return split_like(verl_grpo_scalars(scores, sizes, eps, norm), arrs)
    if k == "rloo":
        out, i = [], 0
        for n in sizes:
            s = scores[i:i + n]
            out.append(s * n / (n - 1) - np.mean(s) * n / (n - 1) if n > 1 else s)
            i += n
        return split_like(np.concatenate(out), arrs)
    if k == "gdpo":
        total = np.zeros(len(flat_len))
        for c in range(flat_vals.shape[1]):
            total += w[c] * verl_grpo_scalars(flat_vals[:, c], sizes, eps, cfg.get("group_std", True))
        tokens = verl_masked_whiten(total[:, None] * mask, mask) * mask
    elif k == "reinforce_pp_baseline":
        centred = scores - np.concatenate([np.full(n, 0.0 if n == 1 else np.mean(scores[i:i + n]))
                                           for n, i in zip(sizes, np.cumsum([0] + sizes[:-1]))])
        tokens = verl_masked_whiten(centred[:, None] * mask, mask) * mask
    else:
        raise ValueError(k)
    return split_like(tokens[:, 0], arrs)


def nan_array(group):
    return np.array([[np.nan if x is None else x for x in r] for r in group], dtype=np.float64)


def split_like(flat, arrs):
    out, i = [], 0
    for a in arrs:
        out.append(flat[i:i + a.shape[0]])
        i += a.shape[0]
    return out


def random_groups(rng, n, min_size=2):
    groups = []
    for _ in range(int(rng.integers(1, 7))):
        g = int(rng.integers(min_size, 9))
        mode = rng.random()
        if mode < 0.15:  # constant group
            row = list(rng.integers(-2, 3, size=n).astype(float))
            groups.append([row[:] for _ in range(g)])
        elif mode < 0.6:  # ties
            groups.append(rng.integers(-2, 3, size=(g, n)).astype(float).tolist())
        else:
            groups.append((rng.normal(size=(g, n)) * rng.choice([0.01, 1.0, 50.0])).tolist())
    return groups


def random_weights(rng, n):
    # Multiples of 1/8: the weighted sum of a constant group then has an exact mean, so the ports'
    # `(x - mean) / (0 + ε)` is exactly 0 as in Vigil, instead of rounding noise times 1/ε.
    w = np.round(rng.normal(size=n) * 16) / 8
    if rng.random() < 0.3:
        w[int(rng.integers(0, n))] = 0.0
    return w.tolist()


def random_lengths(rng, groups):
    if rng.random() < 0.2:  # equal lengths: token weighting is rollout weighting
        n = int(rng.integers(2, 65))
        return [[n] * len(g) for g in groups]
    return [[int(rng.integers(2, 65)) for _ in g] for g in groups]


def vigil_case(rng):
    n = int(rng.integers(1, 5))
    groups = random_groups(rng, n)
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
    doc = {"advantage": cfg, "weights": random_weights(rng, n), "groups": groups}
    if rng.random() < 0.3:  # lengths are ignored by rollout-weighted estimators
        doc["lengths"] = random_lengths(rng, groups)
    return doc, lambda: reference(cfg, doc["weights"], groups)


def trl_case(rng):
    """TRL settings, as `compat = "trl"` or spelled out knob by knob on `compat = "vigil"`."""
    n = int(rng.integers(1, 5))
    groups = random_groups(rng, n, min_size=1 if rng.random() < 0.3 else 2)
    if rng.random() < 0.6:
        p = float(rng.choice([0.1, 0.3, 0.6]))
        groups = [[[None if rng.random() < p else x for x in r] for r in g] for g in groups]
    kind = str(rng.choice(["grpo", "dr_grpo", "gdpo", "rloo"]))
    cfg, port = {"kind": kind}, {"kind": kind}
    if kind == "grpo":
        cfg["scale"] = port["scale"] = str(rng.choice(["group", "batch", "none"]))
    has_eps = kind in ("grpo", "gdpo")
    if has_eps and rng.random() < 0.3:
        cfg["epsilon"] = port["epsilon"] = float(rng.choice([1e-6, 1e-3, 0.1]))
    if rng.random() < 0.3:
        cfg.update(compat="vigil", groups_of_one="zero", missing="skip")
        if has_eps:
            cfg["epsilon"] = port.get("epsilon", 1e-4)
    else:
        cfg["compat"] = "trl"
    doc = {"advantage": cfg, "weights": random_weights(rng, n), "groups": groups}
    return doc, lambda: trl_reference(port, doc["weights"], groups)


def verl_case(rng):
    """verl estimators, as `compat = "verl"` or spelled out knob by knob on `compat = "vigil"`."""
    n = int(rng.integers(1, 5))
    groups = random_groups(rng, n, min_size=1 if rng.random() < 0.3 else 2)
    lengths = random_lengths(rng, groups)
    kind = str(rng.choice(["grpo", "dr_grpo", "gdpo", "rloo", "reinforce_pp_baseline"]))
    cfg, port = {"kind": kind}, {"kind": kind}
    if kind == "grpo":
        cfg["scale"] = port["scale"] = str(rng.choice(["group", "none"]))
    if kind == "gdpo":
        cfg["group_std"] = port["group_std"] = bool(rng.random() < 0.7)
    if kind in ("grpo", "gdpo") and rng.random() < 0.3:
        cfg["epsilon"] = port["epsilon"] = float(rng.choice([1e-8, 1e-4, 0.1]))
    if rng.random() < 0.3:
        cfg.update(compat="vigil", groups_of_one="raw")
        if kind == "gdpo":
            cfg.update(whiten="tokens", batch_epsilon=1e-8, batch_epsilon_on="variance")
        if kind == "reinforce_pp_baseline":
            cfg.update(whiten="tokens", epsilon=1e-8, epsilon_on="variance")
    else:
        cfg["compat"] = "verl"
    doc = {"advantage": cfg, "weights": random_weights(rng, n), "groups": groups, "lengths": lengths}
    return doc, lambda: verl_reference(port, doc["weights"], groups, lengths)


def random_case(rng):
    return [vigil_case, trl_case, verl_case][int(rng.integers(0, 3))](rng)


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
    ("null without missing = skip", '{"advantage":{"kind":"gdpo"},"weights":[1],"groups":[[[0],[null]]]}'),
    ("token whitening without lengths", '{"advantage":{"kind":"gdpo","compat":"verl"},"weights":[1],"groups":[[[0],[1]]]}'),
    ("lengths not shaped like groups", '{"advantage":{"kind":"gdpo","compat":"verl"},"weights":[1],"groups":[[[0],[1]]],"lengths":[[3]]}'),
    ("unknown compat", '{"advantage":{"kind":"gdpo","compat":"openrlhf"},"weights":[1],"groups":[[[0],[1]]]}'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exp", default="target/debug/exp")
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    np.seterr(all="ignore")  # TRL's formulas divide 0 by 0 on purpose (NaN means "no signal")
    warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of an all-NaN group
    worst = 0.0
    for i in range(a.cases):
        doc, expected = random_case(rng)
        r = run_exp(a.exp, json.dumps(doc))
        if r.returncode != 0:
            print(f"case {i}: exp failed: {r.stderr.strip()}\n{json.dumps(doc)}", file=sys.stderr)
            return 1
        got = json.loads(r.stdout)["advantages"]
        want = expected()
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
