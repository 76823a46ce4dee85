"""The pipeline's `unlearn` stage: forget the world's SynthQA in a synthetic CPT checkpoint, with NonSynth replay, on a
budget stated as a fraction of the CPT arm's tokens; keyed, reused and resumed like the training stages."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..config import TrainConfig, UnlearnConfig
from ..data.build import load_world
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer, separator_id
from ..training.runner import checkpoint_id, finished, stage_dir
from .trainer import framed_rows, planned_steps, train_unlearning


def unlearn(start: Path, data_dir: Path, run_dir: Path, ucfg: UnlearnConfig, cpt_tokens: int, seed: int = 0,
            reference: Path | None = None, label: str | None = None, separator: str = "eos") -> Path:
    """Unlearn SynthQA from `start` (the synthetic CPT checkpoint) for `ucfg.budget_fraction` × `cpt_tokens`
    tokens (forget + replay), each sample framed by the CPT stage's document `separator`; `reference` (the reference
    CPT checkpoint) for gamma_mode="reference_arm". Returns the unlearned checkpoint."""
    ds, manifest = load_world(data_dir)
    tok = load_tokenizer(start)
    forget_texts, replay_texts = list(ds["synthqa"]["text"]), list(ds["nonsynth"]["text"])
    budget = ucfg.budget_fraction * cpt_tokens
    sep = separator_id(tok, separator)
    steps, _ = planned_steps(ucfg, framed_rows(tok, forget_texts, ucfg.train.block_size, sep),
                             framed_rows(tok, replay_texts, ucfg.train.block_size, sep), budget)
    tcfg = TrainConfig(**{**asdict(ucfg.train), "max_steps": steps, "seed": seed,
                          "save_steps": min(ucfg.train.save_steps, steps)})
    by_reference = getattr(ucfg.params, "gamma_mode", None) == "reference_arm"
    if by_reference and reference is None:
        raise ValueError("gamma_mode='reference_arm' needs the reference CPT checkpoint (reference=...)")
    key = [checkpoint_id(start), manifest["config_hash"], ucfg, tcfg, cpt_tokens]
    if by_reference:
        key.append(checkpoint_id(reference))
    if separator != "eos":
        key.append(separator)  # the world track's stage keys stay as they were
    out = stage_dir(run_dir, f"unlearn_{ucfg.method}", *key)
    if finished(out):
        return out / "final"
    return train_unlearning(out, label or f"unlearn_{ucfg.method}", lambda: load_model(start, device="cpu"),
                            load_model(start), tok, forget_texts, replay_texts, ucfg, seed, budget,
                            load_model(reference) if by_reference else None, separator,
                            meta={"start": str(start), "cpt_tokens": cpt_tokens,
                                  "budget_fraction": ucfg.budget_fraction})
