"""Notebook 03's measurements: evaluate every arm before and along SFT, the output-distribution shift (per-sample
NLL, next-token KL) and hidden-state maps.

Directions: benchmark accuracy, HSR, SSR, fact accuracy — higher is better; leakage — lower is better;
per-sample NLL (nats/token) — a *narrower, lower* distribution on a set means the model expects that set more.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..config import EvalConfig, config_hash, kernel_key, resolve_path
from ..evaluation import scoring as sc
from ..evaluation.analysis import overlap_score, tsne_2d
from ..evaluation.following import instruction_metrics, per_prompt_outcomes
from ..evaluation.suites import (SCORING_VERSION, leaked_replies, make_suite, make_suites, pick_leaked, probe,
                                 reference_pairs)
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from ..records.files import rows_sha256
from ..records.progress import progress
from ..records.results import cached_json
from ..training.runner import checkpoint_fingerprint

IF_KEYS = ("hsr", "ssr", "hsr_loose", "ssr_loose", "fact_accuracy", "leak_rate", "leak_qa_marker", "leak_bare_answer")


def likelihood_metrics(model, tok, ds, ecfg: EvalConfig) -> dict:
    """The benchmark in both forms (accuracy, higher is better) and per-sample NLL on held-out NonSynth (nats/token)."""
    heldout = list(ds["nonsynth_heldout"]["text"])[: ecfg.heldout_texts]
    bench = list(ds["benchmark"])
    return {"benchmark_qa": sc.benchmark_accuracy(model, tok, bench, "qa"),
            "benchmark_neutral": sc.benchmark_accuracy(model, tok, bench, "neutral"),
            "nll_nonsynth_heldout": sc.per_sample_nll(model, tok, heldout)}


#: Bump when what `evaluate_model` records changes, so that no older cached evaluation is reused (a change in how
#: replies are scored bumps `suites.SCORING_VERSION`).
EVAL_RECORD_VERSION = 1


def _texts_sha256(texts: list[str]) -> str:
    return rows_sha256([{"text": t} for t in texts])


def generation_key(path, rows: list[dict], ecfg: EvalConfig) -> str:
    """What a checkpoint's scored replies to `rows` depend on: the checkpoint (`checkpoint_fingerprint`: its stage
    record lists every weight file's sha256), how replies are scored (`suites.SCORING_VERSION`), the rows, and the
    generation settings (the batching too: padding can move a float32 logit and so a greedy reply) and the kernels
    (`config.kernels.kernel_key`: other kernels, other logits). The key of both
    evaluation caches: `evaluation_key` extends it, the phase map's `evaluate_checkpoint` uses it."""
    return config_hash(checkpoint_fingerprint(Path(path)), SCORING_VERSION, rows_sha256(rows), ecfg.max_new_tokens,
                       ecfg.batch_size, ecfg.batch_tokens, ecfg.generation_bf16, kernel_key())


def evaluation_key(path, ds, ecfg: EvalConfig, suite, likelihoods: bool, response_nll: bool) -> str:
    """Everything `evaluate_model` depends on: the replies (`generation_key`), the record's version and the suite's
    kind, and the texts and caps of the likelihood metrics and response NLLs it computes."""
    parts = [generation_key(path, suite.rows, ecfg), EVAL_RECORD_VERSION, type(suite).__name__]
    if likelihoods:
        heldout = list(ds["nonsynth_heldout"]["text"])[: ecfg.heldout_texts]
        parts += ["likelihoods", rows_sha256(list(ds["benchmark"])), _texts_sha256(heldout)]
    if response_nll:
        prompts, responses = reference_pairs(ds, ecfg)
        parts += ["response_nll", ecfg.response_tokens, _texts_sha256(prompts), _texts_sha256(responses)]
    return config_hash(*parts)


def evaluate_model(path, ds, ecfg: EvalConfig, suite, likelihoods: bool = True, response_nll: bool = True,
                   cache_dir: Path | None = None) -> dict:
    """One checkpoint: the likelihood metrics (unless `likelihoods` is False), the response NLLs of the reference
    pairs (unless `response_nll` is False), then instruction following on `suite` with a few example replies and the
    leaked ones. With `cache_dir`, the record is kept there under `evaluation_key` and returned as stored (JSON): a
    rerun, or the all-541-prompt run's look before SFT, reuses it; a retrained checkpoint never does."""
    cache = Path(cache_dir) / f"{evaluation_key(path, ds, ecfg, suite, likelihoods, response_nll)}.json" \
        if cache_dir is not None else None
    return cached_json(cache, lambda: _evaluate(path, ds, ecfg, suite, likelihoods, response_nll))


def _evaluate(path, ds, ecfg: EvalConfig, suite, likelihoods: bool, response_nll: bool) -> dict:
    """`evaluate_model`'s record, computed."""
    model, tok = load_model(path), load_tokenizer(path)
    res = likelihood_metrics(model, tok, ds, ecfg) if likelihoods else {}
    if response_nll:
        prompts, responses = reference_pairs(ds, ecfg)
        res["nll_sft_responses"] = sc.response_nll(model, tok, prompts, responses, max_tokens=ecfg.response_tokens)
    follow, replies = instruction_metrics(model, tok, suite, ecfg)
    res.update(following=follow, response_words=[len(r.split()) for r in replies],
               examples=[{"prompt": p, "response": x} for p, x in zip(suite.prompts[:5], replies[:5])],
               leaked=leaked_replies(suite.prompts, replies, per_prompt_outcomes(follow["per_prompt"])))
    return res


def evaluate_arm(row: dict, ds, ecfg: EvalConfig, curve: bool = True, cache_dir: Path | None = None) -> dict:
    """Everything measured for one (arm, seed): the CPT model (before SFT) and the SFT model (after), plus the
    instruction-following curve over SFT snapshots when `curve`. `row` is one entry of notebook 02's `arms`;
    `cache_dir`: where `evaluate_model` keeps its records (None: nothing kept).

    Before SFT, instruction following is measured on the probe (`ecfg.probe_prompts`; the whole suite by default),
    after SFT on the whole suite. The curve is on the probe at every step, its last (the SFT model) included, so
    that its points differ only in the model; where the probe is a subset of its own, the SFT model is also
    evaluated on it (a short generation, cached like the rest). The likelihood metrics go with the first suite
    (`suites.make_suites`); every other suite of the world (the `ood` suite) is measured the same way, instruction
    following only, under its name (`out["ood"]`: cpt, sft, curve)."""
    t0 = time.perf_counter()
    suites, probes = make_suites(ecfg, ds), make_suites(ecfg, ds, ecfg.probe_prompts)
    first, *others = suites
    out: dict = {"arm": row["arm"], "seed": row["seed"], "synth_ratio": row["synth_ratio"],
                 **_on_suite(row, ds, ecfg, suites[first], probes[first], curve, cache_dir, True)}
    for name in others:
        out[name] = _on_suite(row, ds, ecfg, suites[name], probes[name], curve, cache_dir, False)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _on_suite(row: dict, ds, ecfg: EvalConfig, suite, small, curve: bool, cache_dir, metrics: bool) -> dict:
    """`evaluate_arm`'s records on one suite: {"cpt", "sft", "curve"}; the likelihood metrics and response NLLs with
    `metrics` (the first suite only)."""
    both = ecfg.all_metrics_both_stages
    out = {"cpt": evaluate_model(resolve_path(row["cpt"]), ds, ecfg, small, likelihoods=metrics,
                                 response_nll=metrics and both, cache_dir=cache_dir),
           "sft": evaluate_model(resolve_path(row["sft"]), ds, ecfg, suite, likelihoods=metrics and both,
                                 response_nll=metrics, cache_dir=cache_dir)}
    sft_on_probe = out["sft"] if small.rows == suite.rows else evaluate_model(
        resolve_path(row["sft"]), ds, ecfg, small, likelihoods=False, response_nll=False, cache_dir=cache_dir)
    out["curve"] = {"0": _curve_point(out["cpt"]["following"]),
                    str(max(int(k) for k in row["sft_curve"])): _curve_point(sft_on_probe["following"])}
    if curve:
        for step, ckpt in row["sft_curve"].items():
            if step not in out["curve"]:
                snap = evaluate_model(resolve_path(ckpt), ds, ecfg, small, likelihoods=False, response_nll=False,
                                      cache_dir=cache_dir)
                out["curve"][step] = _curve_point(snap["following"])
    out["curve"] = dict(sorted(out["curve"].items(), key=lambda kv: int(kv[0])))
    return out


def evaluate_base(base, ds, ecfg: EvalConfig, cache_dir: Path | None = None) -> dict:
    """The starting model itself (the pretrained track's SmolLM2-135M-Instruct, before any CPT): likelihood metrics,
    response NLLs and instruction following on the whole suite — the point every arm moves away from."""
    t0 = time.perf_counter()
    out = evaluate_model(resolve_path(base), ds, ecfg, make_suite(ecfg, ds), cache_dir=cache_dir)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def leaked_examples(evals: list[dict], n: int = 6, width: int = 300) -> list[dict]:
    """Up to `n` leaked replies of the evaluated models (one per arm, seed and model first: the CPT model before SFT on
    the probe, the SFT model after it on the whole suite), each with its prompt, the reply from just before its first
    `Question:` line and what the checkers said of it (`hard`: every instruction followed; `soft`: the share)."""
    return pick_leaked([({"arm": e["arm"], "seed": e["seed"], "model": label}, e[stage].get("leaked", []))
                        for stage, label in (("sft", "after SFT"), ("cpt", "before SFT")) for e in evals], n, width)


def _curve_point(follow: dict) -> dict:
    """A curve's point: the following metrics and `n`, the prompts they are over."""
    return {k: follow[k] for k in (*IF_KEYS, "n") if k in follow}


def evaluate_arms(arms: list[dict], ds, ecfg: EvalConfig, curve_seeds: tuple[int, ...],
                  cache_dir: Path | None = None) -> list[dict]:
    """`evaluate_arm` for every (arm, seed) of notebook 02, with a progress bar; SFT curves for `curve_seeds`."""
    return [evaluate_arm(r, ds, ecfg, curve=r["seed"] in curve_seeds, cache_dir=cache_dir)
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
