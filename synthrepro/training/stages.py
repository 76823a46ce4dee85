"""Training stages — tokenizer, `pretrain`, `cpt` (reference / synthetic / dilution) and `sft` — on the HF `Trainer`.

Each stage is a function that takes configs and returns its final checkpoint directory (`save_pretrained`,
loadable by plain `transformers.AutoModelForCausalLM`), through `runner.run_stage` (reuse, resume, keys).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import asdict
from pathlib import Path

from ..config import CPT_ARMS, CPTConfig, ModelConfig, SFTConfig, TrainConfig, check_ratio, config_hash, shown
from ..data.build import load_world
from ..models.loading import build_model, count_parameters, load_model
from ..models.smollm2 import resolve_base
from ..models.tokenizer import chat_texts, load_tokenizer, separator_id, train_tokenizer
from .packing import BlockDataset, SFTDataset, pack_blocks, pad_collate, tokenize_texts
from .runner import SAMPLER_VERSION, checkpoint_id, finished, locked, run_stage, stage_dir, stage_info


def ensure_tokenizer(data_dir: Path, run_dir: Path, vocab_size: int):
    """Train (or reuse) the BPE tokenizer on NonSynth + SynthQA + SFT text. Returns (tokenizer, its directory)."""
    ds, manifest = load_world(data_dir)
    out = Path(run_dir) / "tokenizer" / config_hash(manifest["config_hash"], vocab_size)
    with locked(out, "training the tokenizer"):
        if not (out / "tokenizer.json").exists():
            texts = list(ds["nonsynth"]["text"]) + list(ds["synthqa"]["text"]) + list(ds["sft"]["prompt"]) + list(
                ds["sft"]["response"])
            texts += [t for name in ("synthqa_diverse",) if name in ds for t in ds[name]["text"]]
            tmp = out.with_name(out.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            train_tokenizer(texts, vocab_size, tmp)
            shutil.rmtree(out, ignore_errors=True)
            os.replace(tmp, out)
    return load_tokenizer(out), out


def pretrain(data_dir: Path, run_dir: Path, model_cfg: ModelConfig, tcfg: TrainConfig) -> Path:
    """The base model, from scratch, on NonSynth packed into fixed-length blocks. Returns its checkpoint."""
    ds, manifest = load_world(data_dir)
    tok, tok_dir = ensure_tokenizer(data_dir, run_dir, model_cfg.vocab_size)
    out = stage_dir(run_dir, "pretrain", manifest["config_hash"], model_cfg, tcfg)
    if finished(out):
        return out / "final"
    docs = tokenize_texts(tok, ds["nonsynth"]["text"])
    if "pretrain_instructions" in ds:
        docs += tokenize_texts(tok, chat_documents(tok, ds["pretrain_instructions"]))
    blocks, _ = pack_blocks(docs, tcfg.max_steps * tcfg.batch_size, tcfg.block_size, tok.eos_token_id, tcfg.seed)
    return run_stage(out, "pretrain", lambda: build_model(model_cfg, len(tok), tcfg.seed), BlockDataset(blocks),
                     tok, tcfg, meta={"data": manifest["config_hash"]})


def chat_documents(tok, rows) -> list[str]:
    """Instruction rows ({"prompt", "response"}) as chat-formatted documents (the template's prompt and reply)."""
    return ["".join(chat_texts(tok, p, r)) for p, r in zip(rows["prompt"], rows["response"])]


def base_model(profile, data_dir: Path, run_dir: Path | None = None) -> tuple[Path, dict]:
    """The profile's base checkpoint and its record: pre-trained from scratch on the world (`base_model` None; the
    stage's stage.json) or a given model (`pretrained.resolve_base`: the shipped SmolLM2, a local directory or a hub
    id; parameters and source). Both are plain `save_pretrained` checkpoints with their tokenizer."""
    if profile.base_model is None:
        final = pretrain(data_dir, run_dir or profile.run_dir(), profile.model, profile.pretrain)
        return final, stage_info(final.parent)
    final = resolve_base(profile.base_model)
    return final, {"stage": "given", "source": profile.base_model, "final": str(final),
                   "parameters": count_parameters(load_model(final, device="cpu")), "tokens": None, "final_loss": None,
                   "tokens_per_s": None}


def describe_base(info: dict) -> str:
    """One line about the base model: what it is, its size and (when trained here) tokens, loss and speed."""
    if info.get("stage") == "given":
        return f"base: {info['source']} ({info['parameters']:,} parameters, not trained here) at {shown(info['final'])}"
    return (f"base: {shown(info['final'])}\n{info['parameters']:,} parameters, {info['tokens']:,} tokens, final loss "
            f"{info['final_loss']:.3f}, {info['tokens_per_s'] or float('nan'):,.0f} tokens/s")


def cpt(arm: str, base: Path, data_dir: Path, run_dir: Path, cfg: CPTConfig, seed: int = 0,
        synth_ratio: float | None = None) -> Path:
    """One CPT arm from the `base` checkpoint; `reference` (NonSynth), `synthetic` (NonSynth + SynthQA at
    `synth_ratio` of tokens), `diverse` (the same, with SynthQA's facts in many styles: the format control) or
    `dilution` (the synthetic arm, then `dilution_steps` more NonSynth). Same token
    budget for reference and synthetic. Returns the arm's checkpoint."""
    if arm not in (*CPT_ARMS, "diverse"):
        raise ValueError(f"unknown CPT arm {arm!r}; choose one of {(*CPT_ARMS, 'diverse')}")
    r = check_ratio(cfg.synth_ratio if synth_ratio is None else synth_ratio)
    ds, manifest = load_world(data_dir)
    tok = load_tokenizer(base)
    tcfg = TrainConfig(**{**asdict(cfg.train), "seed": seed})
    if arm == "dilution":
        start = cpt("synthetic", base, data_dir, run_dir, cfg, seed, r)
        tcfg = TrainConfig(**{**asdict(tcfg), "max_steps": cfg.dilution_steps,
                              "save_steps": min(tcfg.save_steps, cfg.dilution_steps)})
        r_arm = 0.0
    else:
        start, r_arm = base, (r if arm in ("synthetic", "diverse") else 0.0)
    sep_key = [] if cfg.separator == "eos" else [cfg.separator]  # the world track's stage keys stay as they were
    out = stage_dir(run_dir, f"cpt_{arm}", checkpoint_id(start), manifest["config_hash"], tcfg, r_arm, *sep_key)
    if finished(out):
        return out / "final"
    sep_id = separator_id(tok, cfg.separator)
    nonsynth = tokenize_texts(tok, ds["nonsynth"]["text"])
    source = "synthqa_diverse" if arm == "diverse" else "synthqa"
    if source not in ds:
        raise ValueError(f"the diverse arm needs the world's synthqa_diverse split: set diverse_qa: true in the "
                         f"profile's data config (world {manifest['config_hash']} has none)")
    synth = tokenize_texts(tok, ds[source]["text"]) if r_arm > 0 else None
    blocks, share = pack_blocks(nonsynth, tcfg.max_steps * tcfg.batch_size, tcfg.block_size, sep_id,
                                seed + 1000, synth, r_arm)
    return run_stage(out, f"cpt_{arm}", lambda: load_model(start, device="cpu"), BlockDataset(blocks), tok, tcfg,
                     meta={"arm": arm, "synth_ratio": r_arm, "synth_token_share": round(share, 4),
                           "start": str(start), "seed": seed})


def sft(start: Path, data_dir: Path, run_dir: Path, cfg: SFTConfig, seed: int = 0, label: str = "sft") -> Path:
    """Identical SFT for any checkpoint: chat-formatted SFT split, loss on responses only, snapshots at
    `cfg.checkpoint_steps` (under <stage>/steps/step-N). Returns the final checkpoint."""
    ds, manifest = load_world(data_dir)
    tok = load_tokenizer(start)
    tcfg = TrainConfig(**{**asdict(cfg.train), "seed": seed})
    sampler = [SAMPLER_VERSION] if tcfg.sampling == "group_by_length" else []  # older stages sampled unseeded
    out = stage_dir(run_dir, "sft", checkpoint_id(start), manifest["config_hash"], cfg, tcfg, *sampler)
    if finished(out):
        return out / "final"
    data = SFTDataset(tok, ds["sft"]["prompt"], ds["sft"]["response"], tcfg.block_size)
    steps = tuple(s for s in cfg.checkpoint_steps if 0 < s < tcfg.max_steps)
    mean_len = sum(len(x["input_ids"]) for x in data.items) / len(data)
    return run_stage(out, label, lambda: load_model(start, device="cpu"), data, tok, tcfg,
                     collate=lambda b: pad_collate(b, tok.pad_token_id), snapshot_steps=steps,
                     meta={"start": str(start), "seed": seed}, tokens_per_step=round(mean_len * tcfg.batch_size))


def sft_checkpoints(final: Path) -> dict[int, Path]:
    """{step: checkpoint} along an SFT run, the last step included (step 0 is the starting model)."""
    out = Path(final).parent
    info = stage_info(out)
    points = {int(p.name.split("-")[1]): p for p in (out / "steps").glob("step-*")}
    points[info.get("steps", 0)] = Path(final)
    if info.get("start"):
        points[0] = Path(info["start"])
    return dict(sorted(points.items()))
