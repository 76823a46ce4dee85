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
