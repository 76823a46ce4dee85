"""Statistics for verdicts: Wilson intervals and rate records; the one inference routine of every paired
comparison (`paired_effect`: outcomes crossed by prompt and seed, seeds nested in base models, a Satterthwaite t
interval); Welch's t for metrics recorded once per seed (`effect`); the interval verdict; Holm's adjustment.

docs/statistics.md states the estimand, the formulas and why.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats as _st
from statsmodels.stats.multitest import multipletests

#: Two-sided level of every interval and verdict (95 % intervals).
ALPHA = 0.05


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
           sampling_se_b: list[float] | None = None, alpha: float = ALPHA) -> dict:
    """Difference of means b − a over seeds (unpaired: a metric recorded once per seed, e.g. the spread of a model's
    per-text NLL), with Welch's SE √(s_a²/n_a + s_b²/n_b), Welch–Satterthwaite degrees of freedom and a t interval.

    Every seed is evaluated on the same items (held-out texts, prompts), so the seed spread misses the variation from
    which items were drawn; where each seed's own sampling SE is given (`sampling_se_*`: e.g. of a std over the
    items), the SE is the larger of Welch's and that sampling SE of the difference (conservative: it treats the two
    arms' item samples as independent). With fewer than two seeds on a side the spread cannot be estimated: `df` is
    0 and the verdict is "one seed".
    """
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    va = a.var(ddof=1) / len(a) if len(a) > 1 else math.nan
    vb = b.var(ddof=1) / len(b) if len(b) > 1 else math.nan
    diff = float(b.mean() - a.mean())
    samp_se = None
    if sampling_se_a is not None and sampling_se_b is not None:
        samp_se = math.sqrt(np.mean(np.square(sampling_se_a)) / len(a) + np.mean(np.square(sampling_se_b)) / len(b))
    out = {"a_mean": float(a.mean()), "b_mean": float(b.mean()), "a_std": float(a.std()), "b_std": float(b.std()),
           "diff": diff, "n_seeds": [len(a), len(b)], "sampling_se": samp_se,
           "method": "welch-t over seeds (SE at least the items' sampling SE)"}
    if math.isnan(va) or math.isnan(vb):  # one seed: its sampling SE is shown, no interval, no verdict
        return {**out, **_interval(diff, math.nan if samp_se is None else samp_se, 0.0, alpha),
                "units": min(len(a), len(b))}
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else float(len(a) + len(b) - 2)
    se = max(se, samp_se or 0.0)
    return {**out, **_interval(diff, se, df, alpha), "units": min(len(a), len(b))}


def proportion_se(p: float, n: int) -> float:
    """Sampling SE of a proportion measured on n items."""
    return math.sqrt(max(p * (1 - p), 0.0) / max(n, 1))




def _interval(diff: float, se: float, df: float, alpha: float = ALPHA) -> dict:
    """SE, degrees of freedom, t critical value, (1 − alpha) interval, two-sided p-value and MDE (= t·SE: the
    smallest |difference| this design would call) of an estimate; df 0 or a NaN SE: not estimable."""
    if not df or not math.isfinite(se):
        return {"se": se, "df": 0.0, "t_crit": math.nan, "ci95": [math.nan, math.nan], "p": math.nan, "mde": math.nan}
    t_crit = float(_st.t.ppf(1 - alpha / 2, df))
    p = float(2 * _st.t.sf(abs(diff) / se, df)) if se > 0 else (0.0 if diff else 1.0)
    return {"se": float(se), "df": float(df), "t_crit": t_crit, "ci95": [diff - t_crit * se, diff + t_crit * se],
            "p": p, "mde": t_crit * float(se)}


def verdict(eff: dict, expected_sign: int) -> str:
    """"holds" when the 95 % interval excludes 0 on the expected side; "does not hold" when it excludes 0 on the
    other side; "within noise" when it covers 0; "one seed" when the seed (or base-model) variation could not be
    estimated (fewer than two seeds: no verdict). Older records without an interval: |diff| > 2 SE."""
    if "ci95" not in eff:
        if eff["se"] == 0 and eff["diff"] == 0 or abs(eff["diff"]) <= 2 * eff["se"]:
            return "within noise"
        return "holds" if eff["diff"] * expected_sign > 0 else "does not hold"
    lo, hi = eff["ci95"]
    if not eff.get("df") or math.isnan(lo):
        return "one seed"
    if lo <= 0 <= hi:
        return "within noise"
    return "holds" if eff["diff"] * expected_sign > 0 else "does not hold"


def _key(k) -> tuple:
    """A unit's (base model, seed): a seed alone means one base model ("0")."""
    return tuple(k) if isinstance(k, (tuple, list)) else ("0", k)


def crossed_variance(d: np.ndarray, n_seeds_per_base: int = 1) -> dict:
    """Variance of the grand mean of `d` (units × prompts, one paired difference per cell) when units and prompts
    are both random samples, crossed: the balanced two-way random-effects ANOVA (method of moments; Cornfield and
    Tukey 1956, Clark 1973), with Satterthwaite's degrees of freedom.

    Units are seeds (one base model), or base models with `n_seeds_per_base` seeds each (rows of `d` are then
    base-model means over their seeds). E[MS_unit] = σ²_e + k·σ²_up + k·P·σ²_u (k seeds per unit, σ²_u holding the
    seed variance within a base model too), E[MS_prompt] = σ²_e + k·σ²_up + k·U·σ²_p, E[MS_unit×prompt] = σ²_e +
    k·σ²_up, so Var(mean) = (MS_unit + MS_prompt − MS_unit×prompt) / (k·U·P). A negative component is set to 0 (its
    mean square replaced by MS_unit×prompt, and the
    degrees of freedom are those of the terms left). With one unit only the prompt term is estimable (`df_units` 0)."""
    d = np.asarray(d, float)
    U, P = d.shape
    k = n_seeds_per_base
    m = d.mean()
    unit_m, prompt_m = d.mean(axis=1), d.mean(axis=0)
    ms_p = k * U * float(np.sum((prompt_m - m) ** 2)) / (P - 1) if P > 1 else 0.0
    if U < 2:
        # one unit: prompts only (d holds that unit's seed means); the unit variance is not estimable
        var = ms_p / (k * P)
        return {"var": var, "df": float(P - 1), "ms_unit": math.nan, "ms_prompt": ms_p, "ms_interaction": math.nan,
                "components": {"unit": math.nan, "prompt": ms_p / (k * U), "interaction": math.nan}, "estimable": False}
    ms_u = k * P * float(np.sum((unit_m - m) ** 2)) / (U - 1)
    resid = d - unit_m[:, None] - prompt_m[None, :] + m
    ms_up = k * float(np.sum(resid ** 2)) / ((U - 1) * (P - 1)) if P > 1 else 0.0
    n = k * U * P
    if ms_u > ms_up and ms_p > ms_up:
        terms = [(ms_u, U - 1), (ms_p, P - 1), (-ms_up, (U - 1) * (P - 1))]
    elif ms_u > ms_up:
        terms = [(ms_u, U - 1)]
    elif ms_p > ms_up:
        terms = [(ms_p, P - 1)]
    else:
        terms = [(ms_up, (U - 1) * (P - 1))]
    total = sum(t for t, _ in terms)
    if total <= 0:
        return {"var": 0.0, "df": float((U - 1) * (P - 1)), "ms_unit": ms_u, "ms_prompt": ms_p, "ms_interaction": ms_up,
                "components": {"unit": 0.0, "prompt": 0.0, "interaction": 0.0}, "estimable": True}
    denom = sum(t * t / df for t, df in terms if df > 0)
    return {"var": total / n, "df": total * total / denom if denom > 0 else math.inf,
            "ms_unit": ms_u, "ms_prompt": ms_p, "ms_interaction": ms_up,
            "components": {"unit": max(ms_u - ms_up, 0.0) / (k * P), "prompt": max(ms_p - ms_up, 0.0) / (k * U),
                           "interaction": ms_up / k}, "estimable": True}


def grouped_variance(values, groups: Sequence[Sequence[str]]) -> dict:
    """Variance of the mean of `values` (one per prompt) when prompts that share a group are correlated: the
    cluster-robust (sandwich) estimate with overlapping memberships, Σ_{p,q share a group} e_p·e_q / P² (e: deviations
    from the mean; a prompt always shares with itself), times G/(G − 1), G the number of groups of the sparsest kind.

    `groups[p]` lists prompt p's groups as "kind:label" — e.g. "task_template:task03" and one "phrasing:…" per
    constraint: a prompt can belong to several groups of one kind (multi-membership; Cameron, Gelbach and Miller 2011
    for several clusterings; the same sum over pairs for overlapping ones). Returns {"var", "n_groups" (G), "kinds":
    {kind: number of groups}}."""
    e = np.asarray(values, float)
    e = e - e.mean()
    P = e.size
    if len(groups) != P:
        raise ValueError(f"groups must list one entry per prompt: {len(groups)} for {P} prompts")
    kinds: dict[str, dict[str, list[int]]] = {}
    for p, labels in enumerate(groups):
        for label in labels:
            kind, sep, _ = str(label).partition(":")
            if not sep:
                raise ValueError(f"prompt {p}: group {label!r} must read 'kind:label'")
            kinds.setdefault(kind, {}).setdefault(label, []).append(p)
    if not kinds:
        raise ValueError("groups name no group")
    shared = np.eye(P, dtype=bool)
    for members_of in kinds.values():
        for members in members_of.values():
            idx = np.asarray(members)
            shared[np.ix_(idx, idx)] = True
    G = min(len(v) for v in kinds.values())
    var = float(e @ shared @ e) / P ** 2 * (G / (G - 1) if G > 1 else math.nan)
    return {"var": var, "n_groups": G, "kinds": {k: len(v) for k, v in kinds.items()}}


def paired_effect(a: Mapping, b: Mapping, alpha: float = ALPHA, groups: Sequence[Sequence[str]] | None = None) -> dict:
    """The mean paired difference b − a of per-prompt outcomes, with an SE that counts prompts, seeds and base models.

    `a` and `b` map each unit — a seed, or a (base model, seed) pair — to one value per prompt (the same prompts in
    the same order; e.g. 1/0 for "all constraints met"). Units measured on one side only are left out. The estimand
    is the mean difference over the population of prompts, seeds (and base models) that those were drawn from; its
    variance comes from `crossed_variance` (prompts crossed with seeds, seeds nested in base models where there are
    two or more, each with the same number of seeds), the interval from Student's t with Satterthwaite's degrees of
    freedom. `mde` (= t·SE) is the smallest |difference| the design calls. `seed_se` (SD of the seed means / √seeds)
    and `paired_se` (the per-seed paired SEs pooled) are kept as diagnostics: each misses a source of variation.

    `groups` (one list of "kind:label" per prompt, e.g. the task template and the constraint phrasings a prompt was
    written from): the prompts are themselves drawn from a sample of templates and phrasings, so the prompt term is
    the cluster-robust variance of the per-prompt mean differences (`grouped_variance`; at least the independent
    one), with G − 1 degrees of freedom, added to the seed term (MS_unit − MS_unit×prompt)/(k·U·P); Satterthwaite
    combines the two."""
    keys = [k for k in a if k in b]
    if not keys:
        raise ValueError("paired_effect needs at least one seed measured on both sides")
    per_seed, paired_se, a_means, b_means, rows = [], [], [], [], {}
    n_prompts = None
    for k in keys:
        xa, xb = np.asarray(a[k], float), np.asarray(b[k], float)
        if xa.shape != xb.shape or xa.size == 0:
            raise ValueError(f"seed {k}: both sides must hold one value per prompt of the same prompts "
                             f"({xa.size} vs {xb.size})")
        if n_prompts is not None and xa.size != n_prompts:
            raise ValueError(f"seed {k}: {xa.size} prompts, other seeds {n_prompts}: every seed must answer the same "
                             f"prompts")
        n_prompts = xa.size
        d = xb - xa
        rows.setdefault(_key(k)[0], []).append(d)
        per_seed.append(float(d.mean()))
        paired_se.append(float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0)
        a_means.append(float(xa.mean()))
        b_means.append(float(xb.mean()))
    counts = {len(v) for v in rows.values()}
    if len(rows) >= 2:
        if len(counts) != 1:
            raise ValueError(f"base models with different numbers of seeds ({sorted(counts)}): the nested design "
                             f"needs the same seeds per base model; compare the balanced subset")
        k_seeds = counts.pop()
        mat = np.array([np.mean(v, axis=0) for v in rows.values()])
        design = f"{len(rows)} base models × {k_seeds} seeds × {n_prompts} prompts"
    else:
        k_seeds = 1
        mat = np.array(next(iter(rows.values())))
        design = f"{len(keys)} seeds × {n_prompts} prompts"
    cv = crossed_variance(mat, k_seeds)
    n = len(keys)
    diff = float(np.mean(per_seed))
    method = "crossed random effects (prompt × seed, seeds in base models), Satterthwaite t"
    grouping = None
    if groups is not None:
        cv, grouping = _with_groups(cv, mat, k_seeds, groups)
        design += f" in {grouping['kinds']} groups"
        method += "; prompts cluster-robust by " + " and ".join(grouping["kinds"])
    se = math.sqrt(cv["var"])
    inter = _interval(diff, se, cv["df"] if cv["estimable"] else 0.0, alpha)
    return {"diff": diff, **inter, "method": method, "design": design, "components": cv["components"],
            "grouping": grouping,
            "prompt_only_se": math.sqrt(cv["ms_prompt"] / (k_seeds * len(rows) * n_prompts)) if n_prompts else 0.0,
            "seed_se": float(np.std(per_seed, ddof=1) / math.sqrt(n)) if n > 1 else 0.0,
            "paired_se": math.sqrt(float(np.mean(np.square(paired_se))) / n),
            "a_mean": float(np.mean(a_means)), "b_mean": float(np.mean(b_means)), "per_seed": per_seed,
            "seeds": keys, "a_seed_means": a_means, "b_seed_means": b_means, "n_seeds": n,
            "n_bases": len(rows), "n_prompts": int(n_prompts), "units": len(rows) if len(rows) >= 2 else n}


def _with_groups(cv: dict, mat: np.ndarray, k_seeds: int, groups) -> tuple[dict, dict]:
    """`crossed_variance`'s record with the prompt term replaced by the grouped one (see `paired_effect`)."""
    U, P = mat.shape
    g = grouped_variance(mat.mean(axis=0), groups)
    v_iid = cv["ms_prompt"] / (k_seeds * U * P)
    v_prompt, df_prompt = max(g["var"], v_iid), float(g["n_groups"] - 1)
    terms = [(v_prompt, df_prompt)]
    if cv["estimable"] and cv["ms_unit"] > cv["ms_interaction"]:
        ms_u, ms_up = cv["ms_unit"], cv["ms_interaction"]
        v_unit = (ms_u - ms_up) / (k_seeds * U * P)
        df_unit = (ms_u - ms_up) ** 2 / (ms_u ** 2 / (U - 1) + ms_up ** 2 / ((U - 1) * (P - 1)))
        terms.append((v_unit, df_unit))
    var = sum(v for v, _ in terms)
    denom = sum(v * v / df for v, df in terms if df > 0)
    df = var * var / denom if denom > 0 else float(df_prompt)
    grouping = {**g, "prompt_var_independent": v_iid, "prompt_var_grouped": g["var"], "df_prompt": df_prompt}
    return {**cv, "var": var, "df": df}, grouping


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> list[dict]:
    """Holm's step-down adjustment of a family of p-values (statsmodels' `multipletests`): per p-value the
    adjusted p and whether the family-wise test rejects at `alpha`. NaN p-values (no verdict) are left out of the
    family and come back as NaN."""
    idx = [i for i, p in enumerate(p_values) if p is not None and math.isfinite(p)]
    out = [{"p_holm": math.nan, "reject_holm": False} for _ in p_values]
    if idx:
        reject, adj, _, _ = multipletests([p_values[i] for i in idx], alpha=alpha, method="holm")
        for j, i in enumerate(idx):
            out[i] = {"p_holm": float(adj[j]), "reject_holm": bool(reject[j])}
    return out
