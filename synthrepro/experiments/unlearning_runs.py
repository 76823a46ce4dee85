"""Notebook 04's unlearning runs: unlearn each synthetic arm then the identical SFT, the dynamics at snapshots, the
γ sweep and the ablations, and the list of jobs (one source for notebook 04 and the CLI)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..config import EvalConfig, UnlearnConfig, resolve_path
from ..evaluation.following import instruction_metrics
from ..evaluation.scoring import benchmark_accuracy
from ..evaluation.suites import make_suite
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from ..training.runner import stage_info
from ..training.stages import sft, sft_checkpoints
from ..unlearning.stage import unlearn


def unlearn_then_sft(profile, r02: dict, ucfg: UnlearnConfig, seed: int, do_sft: bool = True) -> dict:
    """Unlearn the synthetic arm of `seed` (from notebook 02's record), then the identical SFT (unless `do_sft`
    is False). Returns a row shaped like notebook 02's `arms` rows (`arm` = 'unlearned:<method>')."""
    arms = {(a["arm"], a["seed"]): a for a in r02["arms"]}
    syn = arms[("synthetic", seed)]
    ref = arms.get(("reference", seed))
    data_dir = resolve_path(r02["data_dir"])
    final = unlearn(resolve_path(syn["cpt"]), data_dir, profile.run_dir(), ucfg, syn["cpt_info"]["tokens"], seed,
                    resolve_path(ref["cpt"]) if ref else None, separator=profile.cpt.separator)
    row = {"arm": f"unlearned:{ucfg.method}", "seed": seed, "synth_ratio": syn["synth_ratio"], "cpt": final,
           "unlearn_info": stage_info(final.parent)}
    if do_sft:
        sft_final = sft(final, data_dir, profile.run_dir(), profile.sft, seed)
        row.update(sft=sft_final, sft_curve={str(k): v for k, v in sft_checkpoints(sft_final).items()},
                   sft_info=stage_info(sft_final.parent))
    return row


_SNAPSHOTS: dict[tuple, tuple[float, dict]] = {}


def snapshot_metrics(path: Path, ds, ecfg: EvalConfig) -> tuple[float, dict]:
    """(Q-A-form benchmark accuracy on the first `ecfg.dynamics_items` items, instruction following before SFT on
    the first `ecfg.dynamics_prompts` prompts: HSR, SSR, leakage rate, n) of one checkpoint. Remembered for the
    session: every method and variant starts from the same θ₀."""
    key = (str(path), ecfg, ds["benchmark"]._fingerprint)
    if key not in _SNAPSHOTS:
        model, tok = load_model(path), load_tokenizer(path)
        bench = benchmark_accuracy(model, tok, list(ds["benchmark"])[:ecfg.dynamics_items], "qa")["accuracy"]
        f, _ = instruction_metrics(model, tok, make_suite(ecfg, ds, ecfg.dynamics_prompts), ecfg)
        _SNAPSHOTS[key] = (bench, {k: f[k] for k in ("hsr", "ssr", "leak_rate", "n")})
    return _SNAPSHOTS[key]


def dynamics(row: dict, ds, ecfg: EvalConfig) -> dict:
    """Forget/replay NLL per logged step (from the stage log), and at each snapshot (step 0 = θ₀, the synthetic CPT
    model) the Q-A-form benchmark and instruction following before SFT (`snapshot_metrics`: HSR, SSR and the
    SynthQA-shaped leakage rate — lower is better)."""
    final = resolve_path(row["cpt"])
    log = [r for r in json.loads((final.parent / "log.json").read_text()) if "forget_nll" in r]
    info = stage_info(final.parent)
    points = {0: Path(info["start"]), info["steps"]: final}
    points.update({int(p.name.split("-")[1]): p for p in (final.parent / "steps").glob("step-*")})
    bench, follow = {}, {}
    for s, p in sorted(points.items()):
        bench[str(s)], follow[str(s)] = snapshot_metrics(p, ds, ecfg)
    return {"step": [r["step"] for r in log], "forget_nll": [r["forget_nll"] for r in log],
            "replay_nll": [r["replay_nll"] for r in log], "overshoot": [r["overshoot"] for r in log],
            "gamma_mean": info["gamma_mean"], "benchmark_qa_at_snapshots": bench,
            "following_before_sft_at_snapshots": follow, "n_prompts": follow["0"]["n"],
            "n_items": min(ecfg.dynamics_items, len(ds["benchmark"]))}


def method_config(base: UnlearnConfig, method: str) -> UnlearnConfig:
    """The unlearning config for `method`: `base` itself for its own method (with its hyperparameters), else `base`
    with that method's default hyperparameters; `ga` is the classic baseline, without replay or bias terms."""
    if method == base.method:
        return base
    if method == "ga":
        return dataclasses.replace(base.with_method(method), lambda_replay=0.0, lambda_bias=0.0, bias="none")
    return base.with_method(method)


def unlearning_jobs(profile, bounded_seeds: list[int] | None = None,
                    baseline_seed: int | None = None) -> list[tuple[UnlearnConfig, int]]:
    """Every unlearning run of notebook 04 and of `synthrepro train --stage unlearn`, as (config, seed): `bounded` on
    every seed of `bounded_seeds` (default: the profile's seeds), each other method of `profile.methods` on
    `baseline_seed` (default: the profile's first seed)."""
    bounded_seeds = list(profile.seeds if bounded_seeds is None else bounded_seeds)
    baseline_seed = profile.seeds[0] if baseline_seed is None else baseline_seed
    return [(method_config(profile.unlearn, m), s) for m in profile.methods
            for s in (bounded_seeds if m == "bounded" else [baseline_seed])]


def sweep_variants(base: UnlearnConfig, gammas: list[float], ablations: bool = True) -> dict[str, UnlearnConfig]:
    """The γ sweep (bounded, δ or γ values) and, with `ablations`, the two ablations (no replay; no bias
    mitigation)."""
    bounded = method_config(base, "bounded")
    variants = {f"bounded γ-param={g}": dataclasses.replace(bounded, params=dataclasses.replace(bounded.params, gamma=g))
                for g in gammas}
    if ablations:
        variants["bounded, no replay"] = dataclasses.replace(bounded, lambda_replay=0.0)
        variants["bounded, no bias mitigation"] = dataclasses.replace(bounded, lambda_bias=0.0, bias="none")
    return variants


def run_variants(profile, r02: dict, ds, variants: dict[str, UnlearnConfig], seed: int,
                 ecfg: EvalConfig) -> dict[str, dict]:
    """Unlearn with each variant (no SFT) and summarise: end forget/replay NLL, γ, overshoot, benchmark."""
    return {name: end_summary(dynamics(unlearn_then_sft(profile, r02, ucfg, seed, do_sft=False), ds, ecfg))
            for name, ucfg in variants.items()}


def end_summary(d: dict) -> dict:
    """Where an unlearning run ended, from its `dynamics` record: forget and replay NLL, mean γ, the largest overshoot
    past the bound, the Q-A-form benchmark and the leakage before SFT (the same for a variant and for a method)."""
    return {"forget NLL end": d["forget_nll"][-1], "replay NLL end": d["replay_nll"][-1],
            "gamma (mean)": d["gamma_mean"], "max overshoot": max(d["overshoot"]),
            "benchmark (Q-A form) end": list(d["benchmark_qa_at_snapshots"].values())[-1],
            "leakage before SFT, end": list(d["following_before_sft_at_snapshots"].values())[-1]["leak_rate"]}
