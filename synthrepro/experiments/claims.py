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


def _node(r: dict, stage: str) -> dict:
    """A result's record of a stage: "cpt" or "sft" (the first suite, with the likelihood metrics), or
    "<suite>/<stage>" for another instruction suite's (e.g. "ood/sft": `evaluate_arm`'s `out["ood"]["sft"]`)."""
    suite, _, st = stage.rpartition("/")
    return r[suite][st] if suite else r[st]


def _prop(stage: str, *keys):
    """(getter, sampling-SE) for a proportion stored at result[stage][keys…] measured on that set's items."""
    def get(r):
        v = _node(r, stage)
        for k in keys:
            v = v[k]
        return v
    suite = stage.rpartition("/")[0]
    size = "benchmark" if keys[0].startswith("benchmark") else ("ifeval_" + suite if suite else "ifeval")
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
    return lambda r: [value(p) for p in _node(r, stage)["following"]["per_prompt"] if p["strict"]]


def _leaks(stage: str):
    return lambda r: [int(p["leak"]) for p in _node(r, stage)["following"]["per_prompt"]]


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
    "leakage (SFT)": _leaks("sft"),
    "leakage (before SFT)": _leaks("cpt"),
    "NLL held-out NonSynth mean (CPT)": lambda r: r["cpt"]["nll_nonsynth_heldout"],
    # the ood suite (world track; `data.ood`): the same following metrics on prompts written apart from SFT
    "HSR (SFT, ood)": _prompts("ood/sft", lambda p: int(all(p["strict"]))),
    "SSR (SFT, ood)": _prompts("ood/sft", lambda p: sum(p["strict"]) / len(p["strict"])),
    "leakage (SFT, ood)": _leaks("ood/sft"),
    "leakage (before SFT, ood)": _leaks("ood/cpt"),
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
    "HSR (SFT, ood)": _prop("ood/sft", "following", "hsr"),
    "SSR (SFT, ood)": _prop("ood/sft", "following", "ssr"),
    "leakage (SFT, ood)": _prop("ood/sft", "following", "leak_rate"),
    "leakage (before SFT, ood)": _prop("ood/cpt", "following", "leak_rate"),
}


def metric_suite(name: str) -> str | None:
    """The instruction suite a metric is measured on when it is not the first one: "ood" for "HSR (SFT, ood)"."""
    inner = name.rpartition("(")[2].rstrip(")")
    return inner.split(", ")[1] if ", " in inner else None


def measured(results: list[dict], name: str, per_item: bool = False) -> bool:
    """Whether every result holds metric `name` (a track measures only some: IFEval has no fact accuracy, the
    pretrained track scores the benchmark before SFT only; only the world track has the ood suite). With `per_item`,
    its per-prompt values (`PER_ITEM`) count too (records rebuilt from results.json's outcomes hold only those)."""
    getters = [METRICS[name][0]] + ([PER_ITEM[name]] if per_item and name in PER_ITEM else [])
    for get in getters:
        try:
            for r in results:
                get(r)
            return True
        except KeyError:
            continue
    return False


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


#: Claim 3 and the leak on the ood suite, where the results measure it: verdict key → (metric, expected sign).
OOD_CLAIMS = {"claim3_hsr_ood": ("HSR (SFT, ood)", -1), "claim3_ssr_ood": ("SSR (SFT, ood)", -1),
              "leakage_after_sft_ood": ("leakage (SFT, ood)", +1)}


def claims_1_to_3(results: list[dict], sizes: dict[str, int], arm: str = "synthetic",
                  reference: str = "reference", groups: dict[str, list] | None = None) -> dict:
    """Verdicts, from seed spread, on the paper's claims 1–3 for `arm` against `reference`.

    claim 1: benchmark up (Q-A form and format-neutral form reported separately: the gap between them is format);
    claim 2: the per-sample NLL distribution on held-out NonSynth narrows (std down; its shift is in `shift_summary`);
    claim 3: HSR (and SSR) after identical SFT down — on the first suite and, where measured, on the ood suite
    (`OOD_CLAIMS`; its prompts grouped by template and phrasing with `groups["ood"]`, `Suite.groups`).
    """
    def eff(name, sign):
        return comparison(results, name, reference, arm, sizes, sign, groups)
    out = {
        "claim1_benchmark_qa": eff("benchmark_qa (CPT)", +1),
        "claim1_benchmark_neutral": eff("benchmark_neutral (CPT)", +1),
        "claim2_nll_std_narrows": eff("NLL held-out NonSynth std (CPT)", -1),
        "claim2_nll_mean_shift": eff("NLL held-out NonSynth mean (CPT)", +1),
        "claim3_hsr": eff("HSR (SFT)", -1),
        "claim3_ssr": eff("SSR (SFT)", -1),
        "leakage_after_sft": eff("leakage (SFT)", +1),
    }
    out.update({key: eff(name, sign) for key, (name, sign) in OOD_CLAIMS.items()
                if measured(results, name, per_item=True)})
    return out


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
        *(line(key, what) for key, what in (
            ("claim3_hsr_ood", "Claim 3 on the ood suite (IFEval's wording, fresh templates), HSR after identical SFT"),
            ("claim3_ssr_ood", "Claim 3 on the ood suite, SSR after identical SFT"),
            ("leakage_after_sft_ood", "Pattern leakage after SFT on the ood suite")) if key in verdicts),
    ])


def curve_summary(results: list[dict], key: str = "hsr", suite: str | None = None) -> dict:
    """{arm: {"x": SFT steps, "mean": …, "std": …}} of a following metric along SFT, over the seeds that have it (on
    `suite`, another instruction suite than the first, e.g. "ood")."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in results):
        by_step: dict[int, list[float]] = {}
        for r in results:
            if r["arm"] == arm:
                for step, point in (r[suite] if suite else r)["curve"].items():
                    by_step.setdefault(int(step), []).append(point[key])
        steps = sorted(by_step)
        out[arm] = {"x": steps, "mean": [float(np.mean(by_step[s])) for s in steps],
                    "std": [float(np.std(by_step[s])) for s in steps], "n": [len(by_step[s]) for s in steps]}
    return out


def per_level_summary(results: list[dict], key: str = "hsr", suite: str | None = None) -> dict:
    """{arm: {"level k": (mean, std)}} of a following metric after SFT, over seeds (IFEval: per instruction group; on
    `suite` as in `curve_summary`)."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in results):
        levels: dict[str, list[float]] = {}
        for r in results:
            if r["arm"] == arm:
                for lv, m in (r[suite] if suite else r)["sft"]["following"]["per_level"].items():
                    levels.setdefault(f"level {lv}" if str(lv).isdigit() else str(lv), []).append(m[key])
        out[arm] = {lv: (float(np.mean(v)), float(np.std(v))) for lv, v in sorted(levels.items())}
    return out


def suite_summary(results: list[dict], key: str = "hsr", suites: tuple[str, ...] = ("ood",),
                  first: str = "in_distribution") -> dict:
    """{arm: {suite: (mean, std)}} of a following metric after SFT over seeds, on the first suite and on each of
    `suites` the results hold — the two instruments side by side."""
    out = {}
    for arm in dict.fromkeys(r["arm"] for r in results):
        sel = [r for r in results if r["arm"] == arm]
        row = {first: (float(np.mean([r["sft"]["following"][key] for r in sel])),
                       float(np.std([r["sft"]["following"][key] for r in sel])))}
        for suite in suites:
            if all(suite in r for r in sel):
                v = [r[suite]["sft"]["following"][key] for r in sel]
                row[suite] = (float(np.mean(v)), float(np.std(v)))
        out[arm] = row
    return out


def group_breakdown(results: list[dict], groups: list[list[str]], arm: str = "synthetic",
                    reference: str = "reference", suite: str = "ood", stage: str = "sft") -> list[dict]:
    """Delta HSR (arm − reference) of one suite per group of prompts: per constraint type (read off the phrasing ids,
    "type/…"), per phrasing and per task template (`groups`: one list of "kind:label" per prompt, `Suite.groups`). A
    prompt counts in every group it belongs to; each value is over the prompts of the group and the seeds both arms
    share (a description of where a difference sits, with no interval: these groups are small)."""
    def hard(r):
        return [int(all(p["strict"])) for p in r[suite][stage]["following"]["per_prompt"]]
    a = {r["seed"]: hard(r) for r in results if r["arm"] == reference}
    b = {r["seed"]: hard(r) for r in results if r["arm"] == arm}
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return []
    ref, got = np.mean([a[s] for s in seeds], axis=0), np.mean([b[s] for s in seeds], axis=0)
    members: dict[tuple[str, str], list[int]] = {}
    for p, labels in enumerate(groups):
        for label in labels:
            kind, _, name = label.partition(":")
            members.setdefault((kind, name), []).append(p)
            if kind == "phrasing":
                members.setdefault(("constraint type", name.split("/")[0]), []).append(p)
    rows = [{"kind": kind, "group": name, "n_prompts": len(idx), "reference": float(ref[idx].mean()),
             "arm": float(got[idx].mean()), "delta": float(got[idx].mean() - ref[idx].mean()), "n_seeds": len(seeds)}
            for (kind, name), idx in members.items()]
    order = {"constraint type": 0, "phrasing": 1, "task_template": 2}
    return sorted(rows, key=lambda r: (order.get(r["kind"], 3), r["group"]))


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


def _paired(results, name: str, a_arm: str, b_arm: str, groups: dict[str, list] | None = None) -> dict | None:
    """`stats.paired_effect` of metric `name` (b − a, per prompt within each seed both arms share; prompts grouped
    by `groups[suite]` for a metric of another suite, `metric_suite`), or None when the results do not record its
    per-item values (older results: the comparison is then unpaired)."""
    if name not in PER_ITEM:
        return None
    try:
        a = {r["seed"]: PER_ITEM[name](r) for r in results if r["arm"] == a_arm}
        b = {r["seed"]: PER_ITEM[name](r) for r in results if r["arm"] == b_arm}
    except KeyError:
        return None
    if not set(a) & set(b) or any(len(a[s]) != len(b[s]) for s in set(a) & set(b)):
        return None
    g = (groups or {}).get(metric_suite(name))
    return stats.paired_effect(a, b, groups=g if g is not None and len(g) == len(next(iter(a.values()))) else None)


def comparison(results, name: str, a_arm: str, b_arm: str, sizes: dict[str, int], sign: int,
               groups: dict[str, list] | None = None) -> dict:
    """Metric `name` of arm `b_arm` against `a_arm` with the verdict for the expected `sign` — the one comparison every
    claim uses. Paired per prompt within each seed where the results record per-prompt values (`stats.paired_effect`:
    `paired` True, with its MDE; `groups`: {suite: per-prompt groups} for the suites whose prompts were written from
    sampled templates and phrasings), else over seeds (`stats.effect`: b − a and its SE)."""
    get, se = METRICS[name]
    p = _paired(results, name, a_arm, b_arm, groups)
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


def claim_4(results: list[dict], sizes: dict[str, int], unlearned: str = "unlearned:bounded",
            groups: dict[str, list] | None = None) -> dict:
    """Claim 4 from seed spread: unlearning raises HSR over the synthetic arm, brings it back to the reference
    arm's level (not significantly below it), and keeps the benchmark gain (not significantly below synthetic);
    "one seed" overall when any part was measured on one seed. Where the results measure the ood suite, the same
    on it (`…_ood` keys, `summary_ood`), the benchmark part shared."""
    def parts(hsr: str, leak: str) -> dict:
        return {"hsr_up_vs_synthetic": comparison(results, hsr, "synthetic", unlearned, sizes, +1, groups),
                "hsr_vs_reference": comparison(results, hsr, "reference", unlearned, sizes, +1, groups),
                "benchmark_kept_vs_synthetic": comparison(results, "benchmark_qa (CPT)", "synthetic", unlearned,
                                                          sizes, +1),
                "leakage_down_vs_synthetic": comparison(results, leak, "synthetic", unlearned, sizes, -1, groups)}
    out = parts("HSR (SFT)", "leakage (SFT)")
    out["summary"] = _claim4_overall(out)
    if measured(results, "HSR (SFT, ood)", per_item=True):
        ood = parts("HSR (SFT, ood)", "leakage (SFT, ood)")
        out.update({f"{k}_ood": v for k, v in ood.items() if k != "benchmark_kept_vs_synthetic"})
        out["summary_ood"] = _claim4_overall(ood)
    return out


def _claim4_overall(parts: dict) -> dict:
    restored = parts["hsr_vs_reference"]["verdict"] != "does not hold"
    kept = parts["benchmark_kept_vs_synthetic"]["verdict"] != "does not hold"
    if any(v["verdict"] == "one seed" for v in parts.values()):
        overall = "one seed"  # no seed variation to judge it by
    elif restored and kept and parts["hsr_up_vs_synthetic"]["verdict"] == "holds":
        overall = "holds"
    else:
        overall = "within noise" if restored and kept else "does not hold"
    return {"hsr_restored_to_reference": restored, "benchmark_kept": kept, "claim4": overall}


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
    if "summary_ood" in c4:
        for key, what in (("hsr_up_vs_synthetic_ood", "HSR on the ood suite, unlearned vs synthetic"),
                          ("hsr_vs_reference_ood", "HSR on the ood suite, unlearned vs reference")):
            v = c4[key]
            lines.append(f"- {what}: {v['a']} {v['a_mean']:.3f} → {v['b']} {v['b_mean']:.3f} (difference "
                         f"{v['diff']:+.3f} ± {v['se']:.3f} SE{_how(v)}, seeds {v['n_seeds']}): **{v['verdict']}**.")
        lines.append(f"- **Claim 4 overall on the ood suite: {c4['summary_ood']['claim4']}**.")
    return "\n".join(lines)
