"""The unlearning step on the HF Trainer: forget + λ_R·replay + λ_B·bias, with a divergence guard.

Each step sees `batch_size` forget samples (one text per row) and `batch_size` replay samples, each framed by the
CPT stage's document separator. Per-sample statistics under the frozen starting model θ₀ (forget NLL for the
bound, sequence log-prob for NPO, replay NLL for NLL matching) are computed once, for the samples a run sees.
"""
from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..config import TrainConfig, UnlearnConfig
from ..data.qa import STRUCTURAL_WORDS
from ..models.tokenizer import separator_id
from ..training.packing import pad_sequences
from ..training.runner import StageTrainer, run_stage
from .losses import BIAS_LOSSES, FORGET_LOSSES, BiasInputs, ForgetInputs, token_nll


class DivergenceError(RuntimeError):
    """Unlearning diverged (non-finite loss, or forget NLL past the configured limit)."""


def framed_rows(tok, texts: list[str], block: int, sep: int) -> list[list[int]]:
    """Each text between two document separators (the CPT stage's), cut to `block` tokens."""
    return [[sep] + ids[: block - 2] + [sep] for ids in tok(list(texts), add_special_tokens=False)["input_ids"]]


@torch.no_grad()
def sequence_stats(model, seqs: list[list[int]], pad: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(mean token NLL, sum log-prob) of each sequence under `model`, with the loss's own tokenisation."""
    model.eval()
    nll, logp = [], []
    for i in range(0, len(seqs), batch_size):
        ids, labels, mask = (x.to(model.device) for x in pad_sequences(seqs[i:i + batch_size], pad))
        t, m = token_nll(model(input_ids=ids, attention_mask=mask).logits, labels)
        nll.append(((t * m).sum(1) / m.sum(1).clamp(min=1)).float().cpu().numpy())
        logp.append((-(t * m).sum(1)).float().cpu().numpy())
    return np.concatenate(nll), np.concatenate(logp)


class UnlearnDataset(torch.utils.data.Dataset):
    """Step i pairs forget sample i (cycled) with replay sample i (cycled); both carry statistics under θ₀, which
    `train_unlearning` computes for the samples that are used (`used`) and sets on the dataset."""

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
    f_ids, f_labels, f_mask = pad_sequences([b["f"] for b in batch], pad)
    r_ids, r_labels, r_mask = pad_sequences([b["r"] for b in batch], pad)
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


class UnlearnTrainer(StageTrainer):
    """A `transformers.Trainer` (the stages' `StageTrainer`) whose loss is forget + λ_R·replay + λ_B·bias (`ucfg`), with the divergence guard and
    the forget/replay NLL, bias loss and overshoot past γ added to the logs. `ref_model` is the frozen θ₀."""

    def __init__(self, *args, ucfg: UnlearnConfig, ref_model=None, template_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.ucfg, self.ref_model, self.template_ids = ucfg, ref_model, torch.tensor(sorted(template_ids))
        self.forget_fn, self.bias_method = FORGET_LOSSES[ucfg.method], BIAS_LOSSES[ucfg.bias]
        self._stash: dict[str, list[float]] = {}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        u = self.ucfg
        if self.ref_model is not None and self.ref_model.device != model.device:
            self.ref_model.to(model.device)  # θ₀ follows the trained model (a GPU under the Trainer)
            self.template_ids = self.template_ids.to(model.device)
        t, m = token_nll(model(input_ids=inputs["f_ids"], attention_mask=inputs["f_mask"]).logits,
                         inputs["f_labels"])
        if self.bias_method.template_only:  # forget only the template's structural tokens
            m = m * torch.isin(inputs["f_labels"][:, 1:], self.template_ids).float()
            t = t * m
        x = ForgetInputs(t, m, inputs["ref_logprob"], inputs["gamma"])
        forget = self.forget_fn(x, u.params)
        r_logits = model(input_ids=inputs["r_ids"], attention_mask=inputs["r_mask"]).logits
        rt, rm = token_nll(r_logits, inputs["r_labels"])
        replay = rt.sum() / rm.sum().clamp(min=1)
        bias = torch.zeros(())
        if self.bias_method.loss is not None and u.lambda_bias > 0:
            ref_logits = None
            if self.bias_method.needs_reference_logits:
                with torch.no_grad():
                    ref_logits = self.ref_model(input_ids=inputs["r_ids"], attention_mask=inputs["r_mask"]).logits
            bias = self.bias_method.loss(BiasInputs(r_logits, rm, rt.sum(1) / rm.sum(1).clamp(min=1),
                                                    inputs["r_ref_nll"], ref_logits))
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


def planned_steps(ucfg: UnlearnConfig, forget: list[list[int]], replay: list[list[int]],
                  budget_tokens: float | None) -> tuple[int, float]:
    """(steps, tokens per step): `budget_tokens` of forget + replay text (the world stage: budget_fraction × CPT
    tokens), else `ucfg.train.max_steps`."""
    per_step = ucfg.train.batch_size * (np.mean([len(s) for s in forget]) + np.mean([len(s) for s in replay]))
    steps = max(1, round(budget_tokens / per_step)) if budget_tokens is not None else ucfg.train.max_steps
    return steps, float(per_step)


def train_unlearning(out: Path, label: str, model_fn, theta0, tok, forget_texts: list[str], replay_texts: list[str],
                     ucfg: UnlearnConfig, seed: int = 0, budget_tokens: float | None = None, reference=None,
                     separator: str = "eos", meta: dict | None = None) -> Path:
    """Unlearn into `out` (a stage directory: reused when finished, resumed when interrupted): the model from
    `model_fn()` is trained, `theta0` (the same weights, frozen) gives the starting statistics, the bound and the KL
    term; `reference` (a model) only for gamma_mode="reference_arm". Returns out/final; `stage.json` records γ and
    the starting NLLs (means over the samples the run sees)."""
    if not forget_texts or not replay_texts:
        raise ValueError(f"unlearning needs forget and replay texts; got {len(forget_texts)} and {len(replay_texts)}")
    block, sep = ucfg.train.block_size, separator_id(tok, separator)
    forget = framed_rows(tok, forget_texts, block, sep)
    replay = framed_rows(tok, replay_texts, block, sep)
    steps, per_step = planned_steps(ucfg, forget, replay, budget_tokens)
    tcfg = TrainConfig(**{**asdict(ucfg.train), "max_steps": steps, "seed": seed,
                          "save_steps": min(ucfg.train.save_steps, steps)})
    p = ucfg.params
    if getattr(p, "gamma_mode", None) == "reference_arm" and reference is None:
        raise ValueError("gamma_mode='reference_arm' needs the reference model (a model trained without the forget set)")
    theta0.eval()
    data = UnlearnDataset(forget, replay, steps * tcfg.batch_size, seed)
    f_idx, r_idx = data.used()

    def stats(model, seqs, idx):  # per-sample (NLL, log-prob) under `model`, for the used samples only
        nll, logp = (np.full(len(seqs), np.nan) for _ in range(2))
        nll[idx], logp[idx] = sequence_stats(model, [seqs[i] for i in idx], tok.pad_token_id)
        return nll, logp
    f_nll0, data.ref_logprob = stats(theta0, forget, f_idx)
    data.replay_ref_nll, _ = stats(theta0, replay, r_idx)
    mode = getattr(p, "gamma_mode", "relative")
    if mode == "absolute":
        data.gamma = np.full(len(forget), p.gamma)
    elif mode == "reference_arm":
        data.gamma, _ = stats(reference, forget, f_idx)
    else:  # relative; methods without a bound record θ₀'s NLL + their (unused) margin of 0
        data.gamma = f_nll0 + getattr(p, "gamma", 0.0)
    info = {"method": ucfg.method, "unlearn_config": asdict(ucfg), "seed": seed,
            "forget_nll_start": float(np.nanmean(f_nll0)), "replay_nll_start": float(np.nanmean(data.replay_ref_nll)),
            "gamma_mean": float(np.nanmean(data.gamma[f_idx])), "forget_samples": len(f_idx), **(meta or {})}
    return run_stage(out, label, model_fn, data, tok, tcfg, collate=lambda b: collate(b, tok.pad_token_id),
                     snapshot_steps=ucfg.snapshot_steps, meta=info, tokens_per_step=round(per_step),
                     trainer_cls=UnlearnTrainer,
                     trainer_kwargs={"ucfg": ucfg, "ref_model": theta0, "template_ids": template_token_ids(tok)})
