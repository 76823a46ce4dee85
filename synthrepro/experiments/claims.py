"""Verdicts on the paper's claims from per-seed numbers: the metrics table, claims 1–3 (synthetic vs reference arm)
and claim 4 (unlearned vs synthetic and reference), curves and per-level summaries; statements generated from the
numbers, never typed in by hand.
"""
from __future__ import annotations

import math

import numpy as np

from ..evaluation import stats
from ..evaluation.scoring import compare_distributions


def seed_values(results: list[dict], arm: str, getter) -> list[float]:
    return [getter(r) for r in results if r["arm"] == arm]


def _prop(stage: str, *keys):
    """(getter, sampling-SE) for a proportion stored at result[stage][keys…] measured on that set's items."""
    def get(r):
        v = r[stage]
        for k in keys:
            v = v[k]
        return v
    size = "benchmark" if keys[0].startswith("benchmark") else "ifeval"
    return get, lambda r, sizes: stats.proportion_se(get(r), sizes[size])


def _nll(stage: str, field: str, stat: str):
    """(getter, sampling-SE) for the mean or std of a per-sample NLL list."""
    def get(r):
        return float(np.mean(r[stage][field]) if stat == "mean" else np.std(r[stage][field]))

    def se(r, sizes):
        v = np.asarray(r[stage][field], float)
        return float(v.std() / np.sqrt(len(v)) if stat == "mean" else v.std() / np.sqrt(2 * max(len(v) - 1, 1)))
    return get, se


def _prompts(stage: str, value):
    """Per-prompt values of a following metric (`value` of one per-prompt record: strict and loose lists, leak)."""
    return lambda r: [value(p) for p in r[stage]["following"]["per_prompt"] if p["strict"]]


def _items(stage: str, form: str):
    return lambda r: [int(c) for c in r[stage][form]["per_item"]]


#: Per-item values of a metric, where the results record them: a comparison of two arms is then paired per prompt
#: (per benchmark item, per held-out text) within each seed (`stats.paired_effect`).
PER_ITEM = {
    "benchmark_qa (CPT)": _items("cpt", "benchmark_qa"),
    "benchmark_neutral (CPT)": _items("cpt", "benchmark_neutral"),
    "benchmark_qa (SFT)": _items("sft", "benchmark_qa"),
    "benchmark_neutral (SFT)": _items("sft", "benchmark_neutral"),
    "HSR (SFT)": _prompts("sft", lambda p: int(all(p["strict"]))),
    "SSR (SFT)": _prompts("sft", lambda p: sum(p["strict"]) / len(p["strict"])),
    "HSR loose (SFT)": _prompts("sft", lambda p: int(all(p["loose"]))),
    "leakage (SFT)": lambda r: [int(p["leak"]) for p in r["sft"]["following"]["per_prompt"]],
    "leakage (before SFT)": lambda r: [int(p["leak"]) for p in r["cpt"]["following"]["per_prompt"]],
    "NLL held-out NonSynth mean (CPT)": lambda r: r["cpt"]["nll_nonsynth_heldout"],
}

METRICS = {  # name → (getter over one evaluate_arm result, its evaluation-sampling SE)
    "benchmark_qa (CPT)": _prop("cpt", "benchmark_qa", "accuracy"),
    "benchmark_neutral (CPT)": _prop("cpt", "benchmark_neutral", "accuracy"),
    "benchmark_qa (SFT)": _prop("sft", "benchmark_qa", "accuracy"),
    "benchmark_neutral (SFT)": _prop("sft", "benchmark_neutral", "accuracy"),
    "HSR (SFT)": _prop("sft", "following", "hsr"),
    "SSR (SFT)": _prop("sft", "following", "ssr"),
    "HSR loose (SFT)": _prop("sft", "following", "hsr_loose"),
    "fact accuracy (SFT)": _prop("sft", "following", "fact_accuracy"),
    "leakage (SFT)": _prop("sft", "following", "leak_rate"),
    "leakage (before SFT)": _prop("cpt", "following", "leak_rate"),
    "NLL held-out NonSynth mean (CPT)": _nll("cpt", "nll_nonsynth_heldout", "mean"),
    "NLL held-out NonSynth std (CPT)": _nll("cpt", "nll_nonsynth_heldout", "std"),
}


def measured(results: list[dict], name: str) -> bool:
    """Whether every result holds metric `name` (a track measures only some: IFEval has no fact accuracy, the
    pretrained track scores the benchmark before SFT only)."""
    try:
        for r in results:
            METRICS[name][0](r)
    except KeyError:
        return False
    return True


def summary_table(results: list[dict]) -> list[dict]:
    """One row per metric the results hold: mean ± std over seeds for every arm."""
    arms = list(dict.fromkeys(r["arm"] for r in results))
    rows = []
    for name, (get, _se) in METRICS.items():
        if not measured(results, name):
            continue
        row = {"metric": name}
        for arm in arms:
            v = seed_values(results, arm, get)
            row[arm] = f"{np.mean(v):.3f} ± {np.std(v):.3f} (n={len(v)})"
        rows.append(row)
    return rows


def claims_1_to_3(results: list[dict], sizes: dict[str, int], arm: str = "synthetic",
                  reference: str = "reference") -> dict:
    """Verdicts, from seed spread, on the paper's claims 1–3 for `arm` against `reference`.

    claim 1: benchmark up (Q-A form and format-neutral form reported separately: the gap between them is format);
    claim 2: the per-sample NLL distribution on held-out NonSynth narrows (std down; its shift is in `shift_summary`);
    claim 3: HSR (and SSR) after identical SFT down.
    """
    def eff(name, sign):
        return comparison(results, name, reference, arm, sizes, sign)
    return {
        "claim1_benchmark_qa": eff("benchmark_qa (CPT)", +1),
        "claim1_benchmark_neutral": eff("benchmark_neutral (CPT)", +1),
        "claim2_nll_std_narrows": eff("NLL held-out NonSynth std (CPT)", -1),
        "claim2_nll_mean_shift": eff("NLL held-out NonSynth mean (CPT)", +1),
        "claim3_hsr": eff("HSR (SFT)", -1),
        "claim3_ssr": eff("SSR (SFT)", -1),
        "leakage_after_sft": eff("leakage (SFT)", +1),
    }


def _how(v: dict) -> str:
    """How a comparison's SE was made, for the generated sentences: the interval, degrees of freedom and MDE."""
    ci = (f"; 95 % CI [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}], {v['df']:.1f} df" if v.get("df") else
          "; one seed: no interval") if "ci95" in v else ""
    mde = f"; MDE {v['mde']:.3f}" if math.isfinite(v.get("mde", math.nan)) else ""
    if v.get("paired"):
        return f", paired per item over {v['n_items']} items, prompts and seeds as samples{ci}{mde}"
    return f", over seeds{ci}{mde}"


def describe_claims(verdicts: dict, arm: str = "synthetic") -> str:
    """Plain-language statements generated from the verdicts (never typed in by hand)."""
    def line(key, what):
        v = verdicts[key]
        return (f"- {what}: reference {v['a_mean']:.3f} → {arm} {v['b_mean']:.3f} (difference {v['diff']:+.3f} ± "
                f"{v['se']:.3f} SE{_how(v)}, seeds {v['n_seeds']}): **{v['verdict']}**.")
    return "\n".join([
        line("claim1_benchmark_qa", "Claim 1, benchmark in the Q-A form (higher is better)"),
        line("claim1_benchmark_neutral", "Claim 1, format-neutral benchmark (knowledge without the format)"),
        line("claim2_nll_std_narrows", "Claim 2, spread (std) of per-sample NLL on held-out NonSynth, narrowing expected"),
        line("claim2_nll_mean_shift", "Claim 2, mean per-sample NLL on held-out NonSynth (a shift up — natural text "
             "expected less — read as the output-distribution shift)"),
        line("claim3_hsr", "Claim 3, HSR after identical SFT (higher is better; a drop expected)"),
        line("claim3_ssr", "Claim 3, SSR after identical SFT (a drop expected)"),
        line("leakage_after_sft", "Pattern leakage after SFT (lower is better; a rise expected)"),
    ])


def curve_summary(results: list[dict], key: str = "hsr") -> dict:
    """{arm: {"x": SFT steps, "mean": …, "std": …}} of a following metric along SFT, over the seeds that have it."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in results):
        by_step: dict[int, list[float]] = {}
        for r in results:
            if r["arm"] == arm:
                for step, point in r["curve"].items():
                    by_step.setdefault(int(step), []).append(point[key])
        steps = sorted(by_step)
        out[arm] = {"x": steps, "mean": [float(np.mean(by_step[s])) for s in steps],
                    "std": [float(np.std(by_step[s])) for s in steps], "n": [len(by_step[s]) for s in steps]}
    return out


def per_level_summary(results: list[dict], key: str = "hsr") -> dict:
    """{arm: {"level k": (mean, std)}} of a following metric after SFT, over seeds (IFEval: per instruction group)."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in results):
        levels: dict[str, list[float]] = {}
        for r in results:
            if r["arm"] == arm:
                for lv, m in r["sft"]["following"]["per_level"].items():
                    levels.setdefault(f"level {lv}" if str(lv).isdigit() else str(lv), []).append(m[key])
        out[arm] = {lv: (float(np.mean(v)), float(np.std(v))) for lv, v in sorted(levels.items())}
    return out


def shift_summary(results: list[dict], field: str, stage: str = "cpt", reference: str = "reference") -> dict:
    """Per arm and seed: mean, std and KS statistic/p-value of per-sample NLLs (`field`) against the reference arm."""
    ref = {r["seed"]: r[stage][field] for r in results if r["arm"] == reference}
    out: dict = {}
    for r in results:
        if r["seed"] in ref:
            out.setdefault(r["arm"], {})[str(r["seed"])] = compare_distributions(ref[r["seed"]], r[stage][field])
    return out


def pooled(results: list[dict], stage: str, field: str, seed: int) -> dict[str, list[float]]:
    """{arm: values} of a per-sample field for one seed (for distribution plots)."""
    return {r["arm"]: r[stage][field] for r in results if r["seed"] == seed}


def _paired(results, name: str, a_arm: str, b_arm: str) -> dict | None:
    """`stats.paired_effect` of metric `name` (b − a, per prompt within each seed both arms share), or None when the
    results do not record its per-item values (older results: the comparison is then unpaired)."""
    if name not in PER_ITEM:
        return None
    try:
        a = {r["seed"]: PER_ITEM[name](r) for r in results if r["arm"] == a_arm}
        b = {r["seed"]: PER_ITEM[name](r) for r in results if r["arm"] == b_arm}
    except KeyError:
        return None
    if not set(a) & set(b) or any(len(a[s]) != len(b[s]) for s in set(a) & set(b)):
        return None
    return stats.paired_effect(a, b)


def comparison(results, name: str, a_arm: str, b_arm: str, sizes: dict[str, int], sign: int) -> dict:
    """Metric `name` of arm `b_arm` against `a_arm` with the verdict for the expected `sign` — the one comparison every
    claim uses. Paired per prompt within each seed where the results record per-prompt values (`stats.paired_effect`:
    `paired` True, with its MDE), else over seeds (`stats.effect`: b − a and its SE)."""
    get, se = METRICS[name]
    p = _paired(results, name, a_arm, b_arm)
    if p is not None:
        a_vals, b_vals = p["a_seed_means"], p["b_seed_means"]
        e = {"a_mean": p["a_mean"], "b_mean": p["b_mean"], "a_std": float(np.std(a_vals)),
             "b_std": float(np.std(b_vals)), "diff": p["diff"], "se": p["se"], "mde": p["mde"], "df": p["df"],
             "ci95": p["ci95"], "p": p["p"], "t_crit": p["t_crit"], "method": p["method"],
             "n_seeds": [p["n_seeds"], p["n_seeds"]], "n_items": p["n_prompts"], "paired": True}
    else:
        e = {**stats.effect(seed_values(results, a_arm, get), seed_values(results, b_arm, get),
                            seed_values(results, a_arm, lambda r: se(r, sizes)),
                            seed_values(results, b_arm, lambda r: se(r, sizes))), "paired": False}
    return {**e, "metric": name, "a": a_arm, "b": b_arm, "expected_sign": sign, "verdict": stats.verdict(e, sign)}


def claim_4(results: list[dict], sizes: dict[str, int], unlearned: str = "unlearned:bounded") -> dict:
    """Claim 4 from seed spread: unlearning raises HSR over the synthetic arm, brings it back to the reference
    arm's level (not significantly below it), and keeps the benchmark gain (not significantly below synthetic);
    "one seed" overall when any part was measured on one seed."""
    out = {"hsr_up_vs_synthetic": comparison(results, "HSR (SFT)", "synthetic", unlearned, sizes, +1),
           "hsr_vs_reference": comparison(results, "HSR (SFT)", "reference", unlearned, sizes, +1),
           "benchmark_kept_vs_synthetic": comparison(results, "benchmark_qa (CPT)", "synthetic", unlearned, sizes, +1),
           "leakage_down_vs_synthetic": comparison(results, "leakage (SFT)", "synthetic", unlearned, sizes, -1)}
    restored = out["hsr_vs_reference"]["verdict"] != "does not hold"
    kept = out["benchmark_kept_vs_synthetic"]["verdict"] != "does not hold"
    if any(v["verdict"] == "one seed" for v in out.values()):
        overall = "one seed"  # no seed variation to judge it by
    elif restored and kept and out["hsr_up_vs_synthetic"]["verdict"] == "holds":
        overall = "holds"
    else:
        overall = "within noise" if restored and kept else "does not hold"
    out["summary"] = {"hsr_restored_to_reference": restored, "benchmark_kept": kept, "claim4": overall}
    return out


def describe_claim_4(c4: dict) -> str:
    """Plain-language statements of claim 4's verdicts, generated from the numbers."""
    lines = []
    for key, what in (("hsr_up_vs_synthetic", "HSR, unlearned vs synthetic (a rise expected)"),
                      ("hsr_vs_reference", "HSR, unlearned vs reference (restored = not significantly below)"),
                      ("benchmark_kept_vs_synthetic", "Q-A-form benchmark, unlearned vs synthetic (kept = not "
                                                      "significantly below)"),
                      ("leakage_down_vs_synthetic", "leakage after SFT, unlearned vs synthetic (a drop expected)")):
        v = c4[key]
        lines.append(f"- {what}: {v['a']} {v['a_mean']:.3f} → {v['b']} {v['b_mean']:.3f} (difference "
                     f"{v['diff']:+.3f} ± {v['se']:.3f} SE{_how(v)}, seeds {v['n_seeds']}): **{v['verdict']}**.")
    s = c4["summary"]
    lines.append(f"- **Claim 4 overall: {s['claim4']}** (HSR restored to the reference level: "
                 f"{s['hsr_restored_to_reference']}; benchmark gain kept: {s['benchmark_kept']}).")
    return "\n".join(lines)
