"""Notebook 03's computations: evaluate every arm before and along SFT, measure the output-distribution shift,
and turn the per-seed numbers into verdicts on the paper's claims 1–3.

Directions: benchmark accuracy, HSR, SSR, fact accuracy — higher is better; leakage — lower is better;
per-sample NLL (nats/token) — a *narrower, lower* distribution on a set means the model expects that set more.
"""
from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from . import evaluate as ev
from .analysis import overlap_score, tsne_2d
from .config import EvalConfig
from .model import load_model
from .results import resolve_path
from .suites import make_suite, probe, reference_pairs
from .tokenizer import load_tokenizer

IF_KEYS = ("hsr", "ssr", "hsr_loose", "ssr_loose", "fact_accuracy", "leak_rate", "leak_qa_marker", "leak_bare_answer")


def instruction_metrics(model, tok, suite, ecfg: EvalConfig) -> tuple[dict, list[str]]:
    """Instruction-following metrics of `model` on `suite` (see `suites`) and the generated responses; generation
    in bf16 where `ecfg.generation_bf16` asks for it and the hardware is fast at it."""
    model = ev.generation_model(model, ecfg.generation_bf16)
    responses = ev.generate(model, tok, suite.prompts, ecfg.max_new_tokens, ecfg.batch_size)
    return suite.score(responses), responses


def likelihood_metrics(model, tok, ds, ecfg: EvalConfig) -> dict:
    """The benchmark in both forms (accuracy, higher is better) and per-sample NLL on held-out NonSynth (nats/token)."""
    heldout = list(ds["nonsynth_heldout"]["text"])[: ecfg.heldout_texts]
    bench = list(ds["benchmark"])
    return {"benchmark_qa": ev.benchmark_accuracy(model, tok, bench, "qa"),
            "benchmark_neutral": ev.benchmark_accuracy(model, tok, bench, "neutral"),
            "nll_nonsynth_heldout": ev.per_sample_nll(model, tok, heldout)}


def evaluate_model(path, ds, ecfg: EvalConfig, suite, likelihoods: bool = True, response_nll: bool = True) -> dict:
    """One checkpoint: the likelihood metrics (unless `likelihoods` is False), the response NLLs of the reference
    pairs (unless `response_nll` is False), then instruction following on `suite` with a few example replies."""
    model, tok = load_model(path), load_tokenizer(path)
    res = likelihood_metrics(model, tok, ds, ecfg) if likelihoods else {}
    if response_nll:
        prompts, responses = reference_pairs(ds, ecfg)
        res["nll_sft_responses"] = ev.response_nll(model, tok, prompts, responses, max_tokens=ecfg.response_tokens)
    follow, replies = instruction_metrics(model, tok, suite, ecfg)
    res.update(following=follow, response_words=[len(r.split()) for r in replies],
               examples=[{"prompt": p, "response": x} for p, x in zip(suite.prompts[:5], replies[:5])])
    return res


def evaluate_arm(row: dict, ds, ecfg: EvalConfig, curve: bool = True) -> dict:
    """Everything measured for one (arm, seed): the CPT model (before SFT) and the SFT model (after), plus the
    instruction-following curve over SFT snapshots when `curve`. `row` is one entry of notebook 02's `arms`.

    Before SFT and along SFT, instruction following is measured on the probe (`ecfg.probe_prompts`; the whole suite
    by default); after SFT on the whole suite."""
    t0 = time.perf_counter()
    suite, small = make_suite(ecfg, ds), probe(ecfg, ds)
    out: dict = {"arm": row["arm"], "seed": row["seed"], "synth_ratio": row["synth_ratio"]}
    both = ecfg.all_metrics_both_stages
    out["cpt"] = evaluate_model(resolve_path(row["cpt"]), ds, ecfg, small, response_nll=both)
    out["sft"] = evaluate_model(resolve_path(row["sft"]), ds, ecfg, suite, likelihoods=both)
    out["curve"] = {"0": _curve_point(out["cpt"]["following"]),
                    str(max(int(k) for k in row["sft_curve"])): _curve_point(out["sft"]["following"])}
    if curve:
        tok = load_tokenizer(resolve_path(row["sft"]))
        for step, ckpt in row["sft_curve"].items():
            if step not in out["curve"]:
                follow, _ = instruction_metrics(load_model(resolve_path(ckpt)), tok, small, ecfg)
                out["curve"][step] = _curve_point(follow)
    out["curve"] = dict(sorted(out["curve"].items(), key=lambda kv: int(kv[0])))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def evaluate_base(base, ds, ecfg: EvalConfig) -> dict:
    """The starting model itself (the pretrained track's SmolLM2-135M-Instruct, before any CPT): likelihood metrics,
    response NLLs and instruction following on the whole suite — the point every arm moves away from."""
    t0 = time.perf_counter()
    out = evaluate_model(resolve_path(base), ds, ecfg, make_suite(ecfg, ds))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _curve_point(follow: dict) -> dict:
    return {k: follow[k] for k in IF_KEYS if k in follow}


def evaluate_arms(arms: list[dict], ds, ecfg: EvalConfig, curve_seeds: tuple[int, ...]) -> list[dict]:
    """`evaluate_arm` for every (arm, seed) of notebook 02, with a progress bar; SFT curves for `curve_seeds`."""
    return [evaluate_arm(r, ds, ecfg, curve=r["seed"] in curve_seeds)
            for r in tqdm(arms, desc="evaluating arms", unit="arm")]


def next_token_shift(arms: list[dict], ds, ecfg: EvalConfig, reference: str = "reference") -> dict:
    """Mean next-token KL(reference SFT ‖ arm SFT) on the probe's instruction prompts, per arm and seed (nats)."""
    prompts = probe(ecfg, ds).prompts
    dists = {}
    for r in arms:
        path = resolve_path(r["sft"])
        dists[(r["arm"], r["seed"])] = ev.next_token_distributions(load_model(path), load_tokenizer(path), prompts)
    out: dict[str, dict[str, float]] = {}
    for (arm, seed), d in dists.items():
        if arm != reference and (reference, seed) in dists:
            out.setdefault(arm, {})[str(seed)] = ev.mean_kl(dists[(reference, seed)], d)
    return out


def hidden_state_maps(arms: list[dict], ds, seed: int, n: int = 200) -> dict:
    """t-SNE of each arm's CPT-model mean-pooled hidden states for SynthQA vs NonSynth samples (one seed),
    with the neighbour-overlap score (0 = separated, ≈0.5 = mixed)."""
    rng = np.random.default_rng(seed)
    synth = list(ds["synthqa"]["text"])
    natural = list(ds["nonsynth_heldout"]["text"])
    texts = [natural[i] for i in rng.choice(len(natural), min(n, len(natural)), replace=False)]
    texts += [synth[i] for i in rng.choice(len(synth), min(n, len(synth)), replace=False)]
    labels = ["NonSynth"] * min(n, len(natural)) + ["SynthQA"] * min(n, len(synth))
    maps = {}
    for r in arms:
        if r["seed"] != seed:
            continue
        path = resolve_path(r["cpt"])
        h = ev.mean_pooled_hidden(load_model(path), load_tokenizer(path), texts)
        pts = tsne_2d(h, seed)
        maps[r["arm"]] = {"points": pts, "labels": labels,
                          "overlap_hidden": overlap_score(h, np.array(labels)),
                          "overlap_tsne": overlap_score(pts, np.array(labels))}
    return maps


# ---------------------------------------------------------------- table and verdicts


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
    return get, lambda r, sizes: ev.proportion_se(get(r), sizes[size])


def _nll(stage: str, field: str, stat: str):
    """(getter, sampling-SE) for the mean or std of a per-sample NLL list."""
    def get(r):
        return float(np.mean(r[stage][field]) if stat == "mean" else np.std(r[stage][field]))

    def se(r, sizes):
        v = np.asarray(r[stage][field], float)
        return float(v.std() / np.sqrt(len(v)) if stat == "mean" else v.std() / np.sqrt(2 * max(len(v) - 1, 1)))
    return get, se


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
        get, se = METRICS[name]
        e = ev.effect(seed_values(results, reference, get), seed_values(results, arm, get),
                      seed_values(results, reference, lambda r: se(r, sizes)),
                      seed_values(results, arm, lambda r: se(r, sizes)))
        return {**e, "metric": name, "expected_sign": sign, "verdict": ev.verdict(e, sign)}
    return {
        "claim1_benchmark_qa": eff("benchmark_qa (CPT)", +1),
        "claim1_benchmark_neutral": eff("benchmark_neutral (CPT)", +1),
        "claim2_nll_std_narrows": eff("NLL held-out NonSynth std (CPT)", -1),
        "claim2_nll_mean_shift": eff("NLL held-out NonSynth mean (CPT)", +1),
        "claim3_hsr": eff("HSR (SFT)", -1),
        "claim3_ssr": eff("SSR (SFT)", -1),
        "leakage_after_sft": eff("leakage (SFT)", +1),
    }


def describe_claims(verdicts: dict, arm: str = "synthetic") -> str:
    """Plain-language statements generated from the verdicts (never typed in by hand)."""
    def line(key, what):
        v = verdicts[key]
        return (f"- {what}: reference {v['a_mean']:.3f} → {arm} {v['b_mean']:.3f} (difference {v['diff']:+.3f} ± "
                f"{v['se']:.3f} SE, seeds {v['n_seeds']}): **{v['verdict']}**.")
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
            out.setdefault(r["arm"], {})[str(r["seed"])] = ev.compare_distributions(ref[r["seed"]], r[stage][field])
    return out


def pooled(results: list[dict], stage: str, field: str, seed: int) -> dict[str, list[float]]:
    """{arm: values} of a per-sample field for one seed (for distribution plots)."""
    return {r["arm"]: r[stage][field] for r in results if r["seed"] == seed}


def _eff(results, name, a_arm, b_arm, sizes, sign):
    get, se = METRICS[name]
    e = ev.effect(seed_values(results, a_arm, get), seed_values(results, b_arm, get),
                  seed_values(results, a_arm, lambda r: se(r, sizes)), seed_values(results, b_arm, lambda r: se(r, sizes)))
    return {**e, "metric": name, "a": a_arm, "b": b_arm, "expected_sign": sign, "verdict": ev.verdict(e, sign)}


def claim_4(results: list[dict], sizes: dict[str, int], unlearned: str = "unlearned:bounded") -> dict:
    """Claim 4 from seed spread: unlearning raises HSR over the synthetic arm, brings it back to the reference
    arm's level (not significantly below it), and keeps the benchmark gain (not significantly below synthetic)."""
    out = {"hsr_up_vs_synthetic": _eff(results, "HSR (SFT)", "synthetic", unlearned, sizes, +1),
           "hsr_vs_reference": _eff(results, "HSR (SFT)", "reference", unlearned, sizes, +1),
           "benchmark_kept_vs_synthetic": _eff(results, "benchmark_qa (CPT)", "synthetic", unlearned, sizes, +1),
           "leakage_down_vs_synthetic": _eff(results, "leakage (SFT)", "synthetic", unlearned, sizes, -1)}
    restored = out["hsr_vs_reference"]["verdict"] != "does not hold"
    kept = out["benchmark_kept_vs_synthetic"]["verdict"] != "does not hold"
    out["summary"] = {"hsr_restored_to_reference": restored, "benchmark_kept": kept,
                      "claim4": "holds" if (restored and kept and out["hsr_up_vs_synthetic"]["verdict"] == "holds")
                      else ("within noise" if restored and kept else "does not hold")}
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
                     f"{v['diff']:+.3f} ± {v['se']:.3f} SE, seeds {v['n_seeds']}): **{v['verdict']}**.")
    s = c4["summary"]
    lines.append(f"- **Claim 4 overall: {s['claim4']}** (HSR restored to the reference level: "
                 f"{s['hsr_restored_to_reference']}; benchmark gain kept: {s['benchmark_kept']}).")
    return "\n".join(lines)


def cost_table(r02_arms: list[dict], unlearn_rows: list[dict]) -> list[dict]:
    """Tokens and wall seconds of CPT (synthetic arm), the dilution arm's extra training, and each unlearning run;
    `share_of_cpt_tokens` = tokens / synthetic CPT tokens (the paper: unlearning ≈ 0.33 %, dilution 100 %)."""
    syn = [a for a in r02_arms if a["arm"] == "synthetic"]
    cpt_tokens = float(np.mean([a["cpt_info"]["tokens"] for a in syn]))
    rows = [{"what": "CPT, synthetic arm", "tokens": cpt_tokens,
             "seconds": float(np.mean([a["cpt_info"]["train_seconds_this_run"] for a in syn]))}]
    dil = [a for a in r02_arms if a["arm"] == "dilution"]
    if dil:
        rows.append({"what": "dilution (extra NonSynth after synthetic CPT)",
                     "tokens": float(np.mean([a["cpt_info"]["tokens"] for a in dil])),
                     "seconds": float(np.mean([a["cpt_info"]["train_seconds_this_run"] for a in dil]))})
    for method in dict.fromkeys(r["arm"] for r in unlearn_rows):
        sel = [r["unlearn_info"] for r in unlearn_rows if r["arm"] == method]
        rows.append({"what": method, "tokens": float(np.mean([i["tokens"] for i in sel])),
                     "seconds": float(np.mean([i["train_seconds_this_run"] for i in sel]))})
    for r in rows:
        r["share_of_cpt_tokens"] = r["tokens"] / cpt_tokens
    return rows
