"""Statistics for verdicts: Wilson intervals and rate records, effects over seeds with their standard errors, and
the 2-SE verdict rule."""
from __future__ import annotations

import math

import numpy as np


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion (robust near 0 and 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(k: int, n: int) -> dict:
    """A proportion as a record: {"accuracy": k/n, "ci95": Wilson interval, "correct": k, "total": n}."""
    lo, hi = wilson_interval(k, n)
    return {"accuracy": k / n if n else 0.0, "ci95": [lo, hi], "correct": k, "total": n}


def effect(values_a: list[float], values_b: list[float], sampling_se_a: list[float] | None = None,
           sampling_se_b: list[float] | None = None) -> dict:
    """Difference of means b − a over seeds, with its standard error.

    The SE is the larger of the seed-spread SE (√(s_a²/n_a + s_b²/n_b)) and the evaluation-sampling SE of the
    seed means (from each seed's own sampling SE, e.g. √(p(1−p)/N) for a proportion on N items): one seed alone
    is never a verdict by itself.
    """
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    seed_se = math.sqrt((a.var(ddof=1) / len(a) if len(a) > 1 else 0.0) + (b.var(ddof=1) / len(b) if len(b) > 1 else 0.0))
    samp_se = 0.0
    if sampling_se_a is not None and sampling_se_b is not None:
        samp_se = math.sqrt(np.mean(np.square(sampling_se_a)) / len(a) + np.mean(np.square(sampling_se_b)) / len(b))
    return {"a_mean": float(a.mean()), "b_mean": float(b.mean()), "a_std": float(a.std()), "b_std": float(b.std()),
            "diff": float(b.mean() - a.mean()), "se": max(seed_se, samp_se), "n_seeds": [len(a), len(b)]}


def proportion_se(p: float, n: int) -> float:
    """Sampling SE of a proportion measured on n items."""
    return math.sqrt(max(p * (1 - p), 0.0) / max(n, 1))


def verdict(eff: dict, expected_sign: int, z: float = 2.0) -> str:
    """"holds" when the difference has the expected sign and |diff| > z·SE; "does not hold" when it is that
    large with the opposite sign; otherwise "within noise"."""
    if eff["se"] == 0 and eff["diff"] == 0:
        return "within noise"
    if abs(eff["diff"]) <= z * eff["se"]:
        return "within noise"
    return "holds" if eff["diff"] * expected_sign > 0 else "does not hold"


def paired_effect(a: dict, b: dict, z: float = 2.0) -> dict:
    """The difference b − a of per-prompt outcomes that both sides measured on the same prompts, seed by seed.

    `a` and `b` map each seed to one value per prompt (the same prompts, in the same order: e.g. 1/0 for "all
    constraints met"). Within a seed the difference is paired per prompt (its SE is the SD of the per-prompt
    differences / √prompts); over seeds the seed means are averaged. The SE is the larger of the seed-spread SE
    (SD of the seed means / √seeds) and the pooled paired SE (√(mean of the seeds' squared paired SEs / seeds)), as in
    `effect`: one seed alone is never a verdict by itself. `mde` is the smallest |difference| the `z`-SE rule could
    call (z·SE)."""
    seeds = [s for s in a if s in b]
    if not seeds:
        raise ValueError("paired_effect needs at least one seed measured on both sides")
    per_seed, paired_se, a_means, b_means = [], [], [], []
    for s in seeds:
        xa, xb = np.asarray(a[s], float), np.asarray(b[s], float)
        if xa.shape != xb.shape or xa.size == 0:
            raise ValueError(f"seed {s}: both sides must hold one value per prompt of the same prompts "
                             f"({xa.size} vs {xb.size})")
        d = xb - xa
        per_seed.append(float(d.mean()))
        paired_se.append(float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0)
        a_means.append(float(xa.mean()))
        b_means.append(float(xb.mean()))
    n = len(seeds)
    seed_se = float(np.std(per_seed, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    pooled = math.sqrt(float(np.mean(np.square(paired_se))) / n)
    se = max(seed_se, pooled)
    return {"diff": float(np.mean(per_seed)), "se": se, "mde": z * se, "seed_se": seed_se, "paired_se": pooled,
            "a_mean": float(np.mean(a_means)), "b_mean": float(np.mean(b_means)), "per_seed": per_seed,
            "seeds": seeds, "a_seed_means": a_means, "b_seed_means": b_means,
            "n_seeds": n, "n_prompts": int(np.asarray(a[seeds[0]]).size)}
