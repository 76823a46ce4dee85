"""The `unlearn` stage: forget the SynthQA data in the synthetic CPT model, with NonSynth replay and a
bias-mitigation term, on the HF Trainer (same checkpoint, reuse and resume rules as the training stages).

Each step sees `batch_size` forget samples (SynthQA pairs, one per row) and `batch_size` replay samples (NonSynth
biographies). The loss is our reading of the paper (see `losses.py`); a divergence guard stops the stage when the
loss is not finite or the forget-set NLL passes `nll_limit`, keeping the last good Trainer checkpoint.
"""
from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .config import EvalConfig, TrainConfig, UnlearnConfig
from .losses import FORGET_LOSSES, ForgetInputs, kl_to_reference, nll_matching, token_nll
from .model import load_model
from .qa import STRUCTURAL_WORDS
from .tokenizer import load_tokenizer, separator_id
from .train import checkpoint_id, run_stage, stage_dir, stage_info


class DivergenceError(RuntimeError):
    """Unlearning diverged (non-finite loss, or forget NLL past the configured limit)."""


def _rows(tok, texts: list[str], block: int, sep: int) -> list[list[int]]:
    """Each text between two document separators (the CPT stage's), cut to `block` tokens."""
    return [[sep] + ids[: block - 2] + [sep] for ids in tok(list(texts), add_special_tokens=False)["input_ids"]]


def _pad(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad, dtype=torch.long)
    labels = torch.full((len(seqs), n), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        labels[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, labels, mask


@torch.no_grad()
def sequence_stats(model, seqs: list[list[int]], pad: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(mean token NLL, sum log-prob) of each sequence under `model`, with the loss's own tokenisation."""
    model.eval()
    nll, logp = [], []
    for i in range(0, len(seqs), batch_size):
        ids, labels, mask = (x.to(model.device) for x in _pad(seqs[i:i + batch_size], pad))
        t, m = token_nll(model(input_ids=ids, attention_mask=mask).logits, labels)
        nll.append(((t * m).sum(1) / m.sum(1).clamp(min=1)).float().cpu().numpy())
        logp.append((-(t * m).sum(1)).float().cpu().numpy())
    return np.concatenate(nll), np.concatenate(logp)


class UnlearnDataset(torch.utils.data.Dataset):
    """Step i pairs forget sample i (cycled) with replay sample i (cycled); both carry statistics under θ₀, which
    `unlearn` computes for the samples that are used (`used`) and sets on the dataset."""

    def __init__(self, forget: list[list[int]], replay: list[list[int]], n_items: int, seed: int):
        rng = random.Random(seed)
        self.f_order = [i % len(forget) for i in rng.sample(range(max(n_items, len(forget))), n_items)]
        self.r_order = [rng.randrange(len(replay)) for _ in range(n_items)]
        self.forget, self.replay = forget, replay
        self.gamma = self.ref_logprob = self.replay_ref_nll = None  # per sample (NaN where unused)

    def used(self) -> tuple[list[int], list[int]]:
        """(forget indices, replay indices) that the run will see."""
        return sorted(set(self.f_order)), sorted(set(self.r_order))

    def __len__(self):
        return len(self.f_order)

    def __getitem__(self, i):
        f, r = self.f_order[i], self.r_order[i]
        return {"f": self.forget[f], "gamma": float(self.gamma[f]), "ref_logprob": float(self.ref_logprob[f]),
                "r": self.replay[r], "r_ref_nll": float(self.replay_ref_nll[r])}


def collate(batch: list[dict], pad: int) -> dict:
    f_ids, f_labels, f_mask = _pad([b["f"] for b in batch], pad)
    r_ids, r_labels, r_mask = _pad([b["r"] for b in batch], pad)
    return {"f_ids": f_ids, "f_labels": f_labels, "f_mask": f_mask, "r_ids": r_ids, "r_labels": r_labels,
            "r_mask": r_mask, "gamma": torch.tensor([b["gamma"] for b in batch]),
            "ref_logprob": torch.tensor([b["ref_logprob"] for b in batch]),
            "r_ref_nll": torch.tensor([b["r_ref_nll"] for b in batch])}


def template_token_ids(tok) -> set[int]:
    """Token ids of the Q-A template's structural words (for bias='template_only')."""
    ids: set[int] = set()
    for w in STRUCTURAL_WORDS:
        for variant in (w, " " + w, "\n" + w):
            ids.update(tok(variant, add_special_tokens=False)["input_ids"])
    return ids - {tok.convert_tokens_to_ids(" ")}


def make_trainer_class():
    from transformers import Trainer

    class UnlearnTrainer(Trainer):
        """Trainer whose loss is forget + λ_R·replay + λ_B·bias, with the divergence guard and extra logs."""

        def __init__(self, *args, ucfg: UnlearnConfig, ref_model=None, template_ids=(), **kwargs):
            super().__init__(*args, **kwargs)
            self.ucfg, self.ref_model, self.template_ids = ucfg, ref_model, torch.tensor(sorted(template_ids))
            self._stash: dict[str, list[float]] = {}

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            u = self.ucfg
            if self.ref_model is not None and self.ref_model.device != model.device:
                self.ref_model.to(model.device)  # θ₀ follows the trained model (a GPU under the Trainer)
                self.template_ids = self.template_ids.to(model.device)
            t, m = token_nll(model(input_ids=inputs["f_ids"], attention_mask=inputs["f_mask"]).logits,
                             inputs["f_labels"])
            if u.bias == "template_only":  # forget only the template's structural tokens
                m = m * torch.isin(inputs["f_labels"][:, 1:], self.template_ids).float()
                t = t * m
            x = ForgetInputs(t, m, inputs["ref_logprob"], inputs["gamma"], u.beta, u.gamma if u.method == "simnpo"
                             else 0.0, u.level)
            forget = FORGET_LOSSES[u.method](x)
            r_logits = model(input_ids=inputs["r_ids"], attention_mask=inputs["r_mask"]).logits
            rt, rm = token_nll(r_logits, inputs["r_labels"])
            replay = rt.sum() / rm.sum().clamp(min=1)
            bias = torch.zeros(())
            if u.bias == "kl_replay" and u.lambda_bias > 0:
                with torch.no_grad():
                    ref_logits = self.ref_model(input_ids=inputs["r_ids"], attention_mask=inputs["r_mask"]).logits
                bias = kl_to_reference(r_logits, ref_logits, rm)
            elif u.bias == "nll_match" and u.lambda_bias > 0:
                bias = nll_matching(rt.sum(1) / rm.sum(1).clamp(min=1), inputs["r_ref_nll"])
            loss = forget + u.lambda_replay * replay + u.lambda_bias * bias
            f_nll = x.seq_nll.detach()
            step = self.state.global_step
            if not torch.isfinite(loss):
                raise DivergenceError(self._guard_message(f"the loss is not finite ({loss.item()}) at step {step}"))
            if f_nll.mean().item() > u.nll_limit:
                raise DivergenceError(self._guard_message(
                    f"the forget-set NLL {f_nll.mean().item():.2f} passed nll_limit={u.nll_limit} at step {step}"))
            for k, v in (("forget_nll", f_nll.mean()), ("replay_nll", replay.detach()), ("bias_loss", bias.detach()),
                         ("overshoot", (f_nll - inputs["gamma"]).max())):
                self._stash.setdefault(k, []).append(float(v))
            return loss

        def _guard_message(self, what: str) -> str:
            ckpts = sorted(Path(self.args.output_dir).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
            last = ckpts[-1] if ckpts else "none yet (the starting checkpoint is unchanged)"
            return (f"unlearning stopped by the divergence guard: {what}. Last good checkpoint: {last}. "
                    f"Use the 'bounded' method, lower the learning rate, or raise nll_limit.")

        def log(self, logs, *args, **kwargs):
            if self._stash and "loss" in logs:
                logs.update({k: round(float(np.mean(v)), 4) for k, v in self._stash.items()})
                logs["overshoot"] = round(float(np.max(self._stash["overshoot"])), 4)
                self._stash = {}
            super().log(logs, *args, **kwargs)

    return UnlearnTrainer


def unlearn(start: Path, data_dir: Path, run_dir: Path, ucfg: UnlearnConfig, cpt_tokens: int, seed: int = 0,
            reference: Path | None = None, label: str | None = None, separator: str = "eos") -> Path:
    """Unlearn SynthQA from `start` (the synthetic CPT checkpoint) for `ucfg.budget_fraction` × `cpt_tokens`
    tokens (forget + replay), each sample framed by the CPT stage's document `separator`. Returns the unlearned
    checkpoint; `stage.json` records γ and the starting NLLs (means over the samples the run sees), costs and the
    dynamics."""
    from .data import load_world
    ds, manifest = load_world(data_dir)
    tok = load_tokenizer(start)
    block, sep = ucfg.train.block_size, separator_id(tok, separator)
    forget = _rows(tok, ds["synthqa"]["text"], block, sep)
    replay = _rows(tok, ds["nonsynth"]["text"], block, sep)
    per_step = ucfg.train.batch_size * (np.mean([len(s) for s in forget]) + np.mean([len(s) for s in replay]))
    steps = max(1, round(ucfg.budget_fraction * cpt_tokens / per_step))
    tcfg = TrainConfig(**{**asdict(ucfg.train), "max_steps": steps, "seed": seed,
                          "save_steps": min(ucfg.train.save_steps, steps)})
    if ucfg.gamma_mode == "reference_arm" and reference is None:
        raise ValueError("gamma_mode='reference_arm' needs the reference CPT checkpoint (reference=...)")
    key = [checkpoint_id(start), manifest["config_hash"], ucfg, tcfg, cpt_tokens]
    if ucfg.gamma_mode == "reference_arm":
        key.append(checkpoint_id(reference))
    if separator != "eos":
        key.append(separator)  # the world track's stage keys stay as they were
    out = stage_dir(run_dir, f"unlearn_{ucfg.method}", *key)
    if stage_info(out):
        return out / "final"
    theta0 = load_model(start)
    data = UnlearnDataset(forget, replay, steps * tcfg.batch_size, seed)
    f_idx, r_idx = data.used()

    def stats(model, seqs, idx):  # per-sample (NLL, log-prob) under `model`, for the used samples only
        nll, logp = (np.full(len(seqs), np.nan) for _ in range(2))
        nll[idx], logp[idx] = sequence_stats(model, [seqs[i] for i in idx], tok.pad_token_id)
        return nll, logp
    f_nll0, data.ref_logprob = stats(theta0, forget, f_idx)
    data.replay_ref_nll, _ = stats(theta0, replay, r_idx)
    if ucfg.gamma_mode == "absolute":
        data.gamma = np.full(len(forget), ucfg.gamma)
    elif ucfg.gamma_mode == "relative":
        data.gamma = f_nll0 + ucfg.gamma
    else:
        data.gamma, _ = stats(load_model(reference), forget, f_idx)
    meta = {"method": ucfg.method, "unlearn_config": asdict(ucfg), "start": str(start), "seed": seed,
            "forget_nll_start": float(np.nanmean(f_nll0)), "replay_nll_start": float(np.nanmean(data.replay_ref_nll)),
            "gamma_mean": float(np.nanmean(data.gamma[f_idx])), "forget_samples": len(f_idx),
            "cpt_tokens": cpt_tokens, "budget_fraction": ucfg.budget_fraction}
    return run_stage(out, label or f"unlearn_{ucfg.method}", lambda: load_model(start, device="cpu"), data, tok, tcfg,
                     collate=lambda b: collate(b, tok.pad_token_id), snapshot_steps=ucfg.snapshot_steps,
                     meta=meta, tokens_per_step=round(per_step), trainer_cls=make_trainer_class(),
                     trainer_kwargs={"ucfg": ucfg, "ref_model": theta0.eval(), "template_ids": template_token_ids(tok)})


# ---------------------------------------------------------------- notebook 04's driver


def unlearn_then_sft(profile, r02: dict, ucfg: UnlearnConfig, seed: int, do_sft: bool = True) -> dict:
    """Unlearn the synthetic arm of `seed` (from notebook 02's record), then the identical SFT (unless `do_sft`
    is False). Returns a row shaped like notebook 02's `arms` rows (`arm` = 'unlearned:<method>')."""
    from .results import resolve_path
    from .train import sft, sft_checkpoints
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
    from . import evaluate as ev
    from .overfitting import instruction_metrics
    from .suites import make_suite
    key = (str(path), ecfg, ds["benchmark"]._fingerprint)
    if key not in _SNAPSHOTS:
        model, tok = load_model(path), load_tokenizer(path)
        bench = ev.benchmark_accuracy(model, tok, list(ds["benchmark"])[:ecfg.dynamics_items], "qa")["accuracy"]
        f, _ = instruction_metrics(model, tok, make_suite(ecfg, ds, ecfg.dynamics_prompts), ecfg)
        _SNAPSHOTS[key] = (bench, {k: f[k] for k in ("hsr", "ssr", "leak_rate", "n")})
    return _SNAPSHOTS[key]


def dynamics(row: dict, ds, ecfg: EvalConfig) -> dict:
    """Forget/replay NLL per logged step (from the stage log), and at each snapshot (step 0 = θ₀, the synthetic CPT
    model) the Q-A-form benchmark and instruction following before SFT (`snapshot_metrics`: HSR, SSR and the
    SynthQA-shaped leakage rate — lower is better)."""
    import json as _json

    from .results import resolve_path
    final = resolve_path(row["cpt"])
    log = [r for r in _json.loads((final.parent / "log.json").read_text()) if "forget_nll" in r]
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
    """The unlearning config for `method`; `ga` is the classic baseline, without replay or bias terms."""
    import dataclasses
    if method == "ga":
        return dataclasses.replace(base, method=method, lambda_replay=0.0, lambda_bias=0.0, bias="none")
    return dataclasses.replace(base, method=method)


def sweep_variants(base: UnlearnConfig, gammas: list[float]) -> dict[str, UnlearnConfig]:
    """The γ sweep (bounded, δ or γ values) and the two ablations (no replay; no bias mitigation)."""
    import dataclasses
    variants = {f"bounded γ-param={g}": dataclasses.replace(base, method="bounded", gamma=g) for g in gammas}
    variants["bounded, no replay"] = dataclasses.replace(base, method="bounded", lambda_replay=0.0)
    variants["bounded, no bias mitigation"] = dataclasses.replace(base, method="bounded", lambda_bias=0.0, bias="none")
    return variants


def run_variants(profile, r02: dict, ds, variants: dict[str, UnlearnConfig], seed: int,
                 ecfg: EvalConfig) -> dict[str, dict]:
    """Unlearn with each variant (no SFT) and summarise: end forget/replay NLL, γ, overshoot, benchmark."""
    out = {}
    for name, ucfg in variants.items():
        d = dynamics(unlearn_then_sft(profile, r02, ucfg, seed, do_sft=False), ds, ecfg)
        out[name] = {"forget NLL end": d["forget_nll"][-1], "replay NLL end": d["replay_nll"][-1],
                     "gamma (mean)": d["gamma_mean"], "max overshoot": max(d["overshoot"]),
                     "benchmark (Q-A form) end": list(d["benchmark_qa_at_snapshots"].values())[-1],
                     "leakage before SFT, end": list(d["following_before_sft_at_snapshots"].values())[-1]["leak_rate"]}
    return out
