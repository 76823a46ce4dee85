"""Notebook 03's measurements: evaluate every arm before and along SFT, the output-distribution shift (per-sample
NLL, next-token KL) and hidden-state maps.

Directions: benchmark accuracy, HSR, SSR, fact accuracy — higher is better; leakage — lower is better;
per-sample NLL (nats/token) — a *narrower, lower* distribution on a set means the model expects that set more.
"""
from __future__ import annotations

import time

import numpy as np

from ..config import EvalConfig, resolve_path
from ..evaluation import scoring as sc
from ..evaluation.analysis import overlap_score, tsne_2d
from ..evaluation.following import instruction_metrics
from ..evaluation.suites import make_suite, probe, reference_pairs
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from ..records.progress import progress

IF_KEYS = ("hsr", "ssr", "hsr_loose", "ssr_loose", "fact_accuracy", "leak_rate", "leak_qa_marker", "leak_bare_answer")


def likelihood_metrics(model, tok, ds, ecfg: EvalConfig) -> dict:
    """The benchmark in both forms (accuracy, higher is better) and per-sample NLL on held-out NonSynth (nats/token)."""
    heldout = list(ds["nonsynth_heldout"]["text"])[: ecfg.heldout_texts]
    bench = list(ds["benchmark"])
    return {"benchmark_qa": sc.benchmark_accuracy(model, tok, bench, "qa"),
            "benchmark_neutral": sc.benchmark_accuracy(model, tok, bench, "neutral"),
            "nll_nonsynth_heldout": sc.per_sample_nll(model, tok, heldout)}


def evaluate_model(path, ds, ecfg: EvalConfig, suite, likelihoods: bool = True, response_nll: bool = True) -> dict:
    """One checkpoint: the likelihood metrics (unless `likelihoods` is False), the response NLLs of the reference
    pairs (unless `response_nll` is False), then instruction following on `suite` with a few example replies."""
    model, tok = load_model(path), load_tokenizer(path)
    res = likelihood_metrics(model, tok, ds, ecfg) if likelihoods else {}
    if response_nll:
        prompts, responses = reference_pairs(ds, ecfg)
        res["nll_sft_responses"] = sc.response_nll(model, tok, prompts, responses, max_tokens=ecfg.response_tokens)
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
            for r in progress(arms, desc="evaluating arms", unit="arm")]


def next_token_shift(arms: list[dict], ds, ecfg: EvalConfig, reference: str = "reference") -> dict:
    """Mean next-token KL(reference SFT ‖ arm SFT) on the probe's instruction prompts, per arm and seed (nats)."""
    prompts = probe(ecfg, ds).prompts
    dists = {}
    for r in arms:
        path = resolve_path(r["sft"])
        dists[(r["arm"], r["seed"])] = sc.next_token_distributions(load_model(path), load_tokenizer(path), prompts)
    out: dict[str, dict[str, float]] = {}
    for (arm, seed), d in dists.items():
        if arm != reference and (reference, seed) in dists:
            out.setdefault(arm, {})[str(seed)] = sc.mean_kl(dists[(reference, seed)], d)
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
        h = sc.mean_pooled_hidden(load_model(path), load_tokenizer(path), texts)
        pts = tsne_2d(h, seed)
        maps[r["arm"]] = {"points": pts, "labels": labels,
                          "overlap_hidden": overlap_score(h, np.array(labels)),
                          "overlap_tsne": overlap_score(pts, np.array(labels))}
    return maps
