"""Training stages — tokenizer, `pretrain`, `cpt` (reference / synthetic / dilution) and `sft` — on the HF `Trainer`.

Each stage is a function that takes configs and returns its final checkpoint directory (`save_pretrained`,
loadable by plain `transformers.AutoModelForCausalLM`). A stage's directory is keyed by a hash of everything
that determines it (data, parent checkpoint, model and training configs): the same inputs reuse the finished
checkpoint, a changed config gets a new directory, and an interrupted stage resumes from its last Trainer
checkpoint when re-run. Because the loop is the HF `Trainer`, the same code runs under `torchrun` /
`accelerate launch` on several processes (DDP; FSDP/DeepSpeed through the shipped accelerate configs).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .config import CPT_ARMS, CPTConfig, ModelConfig, SFTConfig, TrainConfig, check_ratio, config_hash
from .model import build_model, count_parameters, load_model
from .tokenizer import chat_texts, load_tokenizer, separator_id, train_tokenizer

# ---------------------------------------------------------------- data: packing and SFT examples


def tokenize_texts(tokenizer, texts, chunk: int = 10_000) -> list[np.ndarray]:
    """Token ids of each text (no special tokens) as int32 arrays, tokenised `chunk` texts at a time (a corpus of
    millions of documents never sits in memory as Python lists)."""
    texts = list(texts)
    out = []
    for i in range(0, len(texts), chunk):
        out += [np.asarray(ids, dtype=np.int32) for ids in
                tokenizer(texts[i:i + chunk], add_special_tokens=False)["input_ids"]]
    return out


def _doc_stream(docs: list[list[int]], n_tokens: int, rng: random.Random) -> list[list[int]]:
    """Whole documents, reshuffled each epoch, until they hold at least `n_tokens` tokens (+1 separator each)."""
    out, total = [], 0
    if n_tokens <= 0 or not docs:
        return out
    while total < n_tokens:
        order = list(range(len(docs)))
        rng.shuffle(order)
        for i in order:
            out.append(docs[i])
            total += len(docs[i]) + 1
            if total >= n_tokens:
                break
    return out


def pack_blocks(nonsynth: list[list[int]], n_blocks: int, block_size: int, eos_id: int, seed: int,
                synth: list[list[int]] | None = None, synth_ratio: float = 0.0) -> tuple[torch.Tensor, float]:
    """Pack documents (separated by EOS) into `n_blocks` × `block_size` token ids.

    With `synth`, about `synth_ratio` of the tokens are SynthQA documents, shuffled among NonSynth ones.
    Returns (blocks as int32, measured SynthQA token share). Documents may be lists or arrays of ids.
    """
    check_ratio(synth_ratio)
    rng = random.Random(seed)
    total = n_blocks * block_size
    synth_docs = _doc_stream(synth or [], round(total * synth_ratio), rng) if synth_ratio > 0 else []
    synth_tokens = sum(len(d) + 1 for d in synth_docs)
    docs = [(d, False) for d in _doc_stream(nonsynth, total - synth_tokens + block_size, rng)]
    docs += [(d, True) for d in synth_docs]
    rng.shuffle(docs)
    sep = np.array([eos_id], dtype=np.int32)
    ids = np.concatenate([part for d, _ in docs for part in (np.asarray(d, dtype=np.int32), sep)])[:total]
    is_synth = np.repeat([s for _, s in docs], [len(d) + 1 for d, _ in docs])[:total]
    return torch.from_numpy(ids).view(n_blocks, block_size), float(is_synth.sum()) / total


class BlockDataset(torch.utils.data.Dataset):
    """Fixed-length blocks for causal LM training (labels = inputs); stored compactly, served as int64."""

    def __init__(self, blocks: torch.Tensor):
        self.blocks = blocks

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        block = self.blocks[i].long()
        return {"input_ids": block, "labels": block}


def sft_example(tokenizer, prompt: str, response: str, max_len: int) -> dict:
    """Chat-formatted ids with labels −100 on the prompt (loss on the response and the chat template's own turn end
    only — `<|end|>` for the world's tokenizer, `<|im_end|>` for SmolLM2's)."""
    prompt_text, reply = chat_texts(tokenizer, prompt, response)
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    r = tokenizer(reply, add_special_tokens=False)["input_ids"]
    ids = (p + r)[:max_len]
    labels = ([-100] * len(p) + r)[:max_len]
    return {"input_ids": ids, "labels": labels}


class SFTDataset(torch.utils.data.Dataset):
    def __init__(self, tokenizer, prompts: list[str], responses: list[str], max_len: int):
        self.items = [sft_example(tokenizer, p, r, max_len) for p, r in zip(prompts, responses)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def pad_collate(batch: list[dict], pad_id: int = 0) -> dict:
    """Right-pad a batch: pad ids, attention mask 0, labels −100 on padding."""
    n = max(len(b["input_ids"]) for b in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, b in enumerate(batch):
        k = len(b["input_ids"])
        ids[i, :k] = torch.as_tensor(b["input_ids"])
        labels[i, :k] = torch.as_tensor(b["labels"])
        mask[i, :k] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


# ---------------------------------------------------------------- the generic stage runner


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def bf16_supported() -> bool:
    """bf16 autocast only where it is fast: a CUDA GPU with bf16, or a CPU with AVX-512 BF16 / AMX."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _progress_callback(total_steps: int, tokens_per_step: int, label: str):
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """A tqdm bar over optimizer steps showing loss and tokens/s (also added to the logged metrics)."""

        def on_train_begin(self, args, state, control, **kw):
            self.bar = tqdm(total=total_steps, initial=state.global_step, desc=label, unit="step",
                            disable=not state.is_world_process_zero, mininterval=1.0)
            self.t0, self.step0 = time.perf_counter(), state.global_step

        def on_step_end(self, args, state, control, **kw):
            self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kw):
            dt = time.perf_counter() - self.t0
            if logs is not None and "loss" in logs and dt > 0:
                logs["tokens_per_s"] = round((state.global_step - self.step0) * tokens_per_step / dt, 1)
                self.bar.set_postfix(loss=f"{logs['loss']:.3f}", tok_s=f"{logs['tokens_per_s']:.0f}")

        def on_train_end(self, args, state, control, **kw):
            self.bar.close()

    return Progress()


def _snapshot_callback(steps: tuple[int, ...], out: Path, tokenizer):
    from transformers import TrainerCallback

    class Snapshots(TrainerCallback):
        """save_pretrained copies at chosen steps (for curves over training)."""

        def on_step_end(self, args, state, control, model=None, **kw):
            if state.global_step in steps and state.is_world_process_zero:
                target = out / "steps" / f"step-{state.global_step}"
                model.save_pretrained(str(target))
                tokenizer.save_pretrained(str(target))

    return Snapshots()


def stage_dir(run_dir: Path, stage: str, *key) -> Path:
    """runs/<profile>/stages/<stage>-<hash of everything that determines it>."""
    return Path(run_dir) / "stages" / f"{stage}-{config_hash(*key)}"


def checkpoint_id(path: Path) -> str:
    """A location-independent name for a checkpoint (its stage directory and leaf), for hashing."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def stage_info(out: Path) -> dict:
    """The finished stage's record (stage.json), or {} when it has not finished."""
    path = Path(out) / "stage.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _quiet_transformers():
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # no per-shard bars; our own bar shows steps and tokens/s
    hf_logging.set_verbosity_error()


def run_stage(out: Path, name: str, model_fn, dataset, tokenizer, tcfg: TrainConfig, collate=None,
              snapshot_steps: tuple[int, ...] = (), meta: dict | None = None,
              tokens_per_step: int | None = None, trainer_cls=None, trainer_kwargs: dict | None = None) -> Path:
    """Train with the HF Trainer into `out`; reuse a finished stage, resume an interrupted one. Returns out/final.

    `tokens_per_step` (for tokens/s and the token count): batch × block for packed data (the default); the
    mean unpadded example length × batch for SFT.
    """
    from transformers import PrinterCallback, Trainer, TrainingArguments, default_data_collator

    out = Path(out)
    if stage_info(out):
        return out / "final"
    _quiet_transformers()
    ws = _world_size()
    if tcfg.batch_size % ws:
        raise ValueError(f"batch_size {tcfg.batch_size} must be divisible by the {ws} processes")
    model = model_fn()
    args = TrainingArguments(
        output_dir=str(out / "trainer"), max_steps=tcfg.max_steps, per_device_train_batch_size=tcfg.batch_size // ws,
        learning_rate=tcfg.lr, lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": tcfg.min_lr_ratio}, warmup_steps=tcfg.warmup_steps,
        weight_decay=tcfg.weight_decay, logging_steps=tcfg.log_steps, save_strategy="steps",
        save_steps=tcfg.save_steps, save_total_limit=2, report_to="none", seed=tcfg.seed, data_seed=tcfg.seed,
        disable_tqdm=True, dataloader_num_workers=0, ddp_find_unused_parameters=False, bf16=bf16_supported(), use_cpu=not torch.cuda.is_available(),
        ddp_backend="gloo" if (ws > 1 and not torch.cuda.is_available()) else None, remove_unused_columns=False,
        train_sampling_strategy=tcfg.sampling,
    )
    tokens_per_step = tokens_per_step or tcfg.batch_size * tcfg.block_size
    tokens = tokens_per_step * tcfg.max_steps
    callbacks = [_progress_callback(tcfg.max_steps, tokens_per_step, name)]
    if snapshot_steps:
        callbacks.append(_snapshot_callback(snapshot_steps, out, tokenizer))
    trainer = (trainer_cls or Trainer)(model=model, args=args, train_dataset=dataset,
                                       data_collator=collate or default_data_collator, callbacks=callbacks,
                                       **(trainer_kwargs or {}))
    trainer.remove_callback(PrinterCallback)  # our tqdm bar shows the logs
    resume = any((out / "trainer").glob("checkpoint-*"))
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    seconds = time.perf_counter() - t0
    trainer.save_model(str(out / "final"))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out / "final"))
        log = [r for r in trainer.state.log_history if "loss" in r]
        (out / "log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
        from .plots import loss_curve
        loss_curve({name: log}, out, "loss_curve")
        info = {
            "stage": name, "final": str(out / "final"), "steps": tcfg.max_steps, "tokens": tokens,
            "train_seconds_this_run": round(seconds, 1), "resumed": resume, "processes": ws,
            "tokens_per_s": round(tokens / seconds, 1) if not resume else None,
            "final_loss": log[-1]["loss"] if log else None, "train_loss": result.training_loss,
            "parameters": count_parameters(model), "train_config": asdict(tcfg), **(meta or {}),
        }
        tmp = out / "stage.json.tmp"
        tmp.write_text(json.dumps(info, indent=2))
        os.replace(tmp, out / "stage.json")  # the 'finished' marker is written last, atomically
        shutil.rmtree(out / "trainer", ignore_errors=True)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()  # every process sees the finished stage before the next one loads it
    return out / "final"


# ---------------------------------------------------------------- the stages


def ensure_tokenizer(data_dir: Path, run_dir: Path, vocab_size: int):
    """Train (or reuse) the BPE tokenizer on NonSynth + SynthQA + SFT text. Returns (tokenizer, its directory)."""
    from .data import load_world
    ds, manifest = load_world(data_dir)
    out = Path(run_dir) / "tokenizer" / config_hash(manifest["config_hash"], vocab_size)
    if not (out / "tokenizer.json").exists():
        texts = list(ds["nonsynth"]["text"]) + list(ds["synthqa"]["text"]) + list(ds["sft"]["prompt"]) + list(
            ds["sft"]["response"])
        tmp = out.with_name(out.name + ".tmp")
        train_tokenizer(texts, vocab_size, tmp)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    return load_tokenizer(out), out


def pretrain(data_dir: Path, run_dir: Path, model_cfg: ModelConfig, tcfg: TrainConfig) -> Path:
    """The base model, from scratch, on NonSynth packed into fixed-length blocks. Returns its checkpoint."""
    from .data import load_world
    ds, manifest = load_world(data_dir)
    tok, tok_dir = ensure_tokenizer(data_dir, run_dir, model_cfg.vocab_size)
    out = stage_dir(run_dir, "pretrain", manifest["config_hash"], model_cfg, tcfg)
    if stage_info(out):
        return out / "final"
    blocks, _ = pack_blocks(tokenize_texts(tok, ds["nonsynth"]["text"]), tcfg.max_steps * tcfg.batch_size,
                            tcfg.block_size, tok.eos_token_id, tcfg.seed)
    return run_stage(out, "pretrain", lambda: build_model(model_cfg, len(tok), tcfg.seed), BlockDataset(blocks),
                     tok, tcfg, meta={"data": manifest["config_hash"]})


def base_model(profile, data_dir: Path, run_dir: Path | None = None) -> tuple[Path, dict]:
    """The profile's base checkpoint and its record: pre-trained from scratch on the world (`base_model` None; the
    stage's stage.json) or a given model (`pretrained.resolve_base`: the shipped SmolLM2, a local directory or a hub
    id; parameters and source). Both are plain `save_pretrained` checkpoints with their tokenizer."""
    if profile.base_model is None:
        final = pretrain(data_dir, run_dir or profile.run_dir(), profile.model, profile.pretrain)
        return final, stage_info(final.parent)
    from .pretrained import resolve_base
    final = resolve_base(profile.base_model)
    return final, {"stage": "given", "source": profile.base_model, "final": str(final),
                   "parameters": count_parameters(load_model(final, device="cpu")), "tokens": None, "final_loss": None,
                   "tokens_per_s": None}


def describe_base(info: dict) -> str:
    """One line about the base model: what it is, its size and (when trained here) tokens, loss and speed."""
    if info.get("stage") == "given":
        return f"base: {info['source']} ({info['parameters']:,} parameters, not trained here) at {info['final']}"
    return (f"base: {info['final']}\n{info['parameters']:,} parameters, {info['tokens']:,} tokens, final loss "
            f"{info['final_loss']:.3f}, {info['tokens_per_s'] or float('nan'):,.0f} tokens/s")


def cpt(arm: str, base: Path, data_dir: Path, run_dir: Path, cfg: CPTConfig, seed: int = 0,
        synth_ratio: float | None = None) -> Path:
    """One CPT arm from the `base` checkpoint; `reference` (NonSynth), `synthetic` (NonSynth + SynthQA at
    `synth_ratio` of tokens) or `dilution` (the synthetic arm, then `dilution_steps` more NonSynth). Same token
    budget for reference and synthetic. Returns the arm's checkpoint."""
    from .data import load_world
    if arm not in CPT_ARMS:
        raise ValueError(f"unknown CPT arm {arm!r}; choose one of {CPT_ARMS}")
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
        start, r_arm = base, (r if arm == "synthetic" else 0.0)
    sep_key = [] if cfg.separator == "eos" else [cfg.separator]  # the world track's stage keys stay as they were
    out = stage_dir(run_dir, f"cpt_{arm}", checkpoint_id(start), manifest["config_hash"], tcfg, r_arm, *sep_key)
    if stage_info(out):
        return out / "final"
    sep_id = separator_id(tok, cfg.separator)
    nonsynth = tokenize_texts(tok, ds["nonsynth"]["text"])
    synth = tokenize_texts(tok, ds["synthqa"]["text"]) if r_arm > 0 else None
    blocks, share = pack_blocks(nonsynth, tcfg.max_steps * tcfg.batch_size, tcfg.block_size, sep_id,
                                seed + 1000, synth, r_arm)
    return run_stage(out, f"cpt_{arm}", lambda: load_model(start, device="cpu"), BlockDataset(blocks), tok, tcfg,
                     meta={"arm": arm, "synth_ratio": r_arm, "synth_token_share": round(share, 4),
                           "start": str(start), "seed": seed})


def sft(start: Path, data_dir: Path, run_dir: Path, cfg: SFTConfig, seed: int = 0, label: str = "sft") -> Path:
    """Identical SFT for any checkpoint: chat-formatted SFT split, loss on responses only, snapshots at
    `cfg.checkpoint_steps` (under <stage>/steps/step-N). Returns the final checkpoint."""
    from .data import load_world
    ds, manifest = load_world(data_dir)
    tok = load_tokenizer(start)
    tcfg = TrainConfig(**{**asdict(cfg.train), "seed": seed})
    out = stage_dir(run_dir, "sft", checkpoint_id(start), manifest["config_hash"], cfg, tcfg)
    if stage_info(out):
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


# ---------------------------------------------------------------- command line (used by torchrun / accelerate launch)


def main(argv=None) -> int:
    """`python -m synthrepro.train --profile smoke --stage pretrain|cpt|sft [--arm …] [--run-dir …]`.

    `--stage pretrain` trains the world's base model, or fetches the profile's given base model; `--stage arms` runs
    CPT and SFT for every arm and seed of the profile (notebook 02's stages), `--stage unlearn` also every
    unlearning method then SFT (notebook 04's), into runs/<profile>/ where the notebooks reuse them.

    Under `torchrun --nproc_per_node N` or `accelerate launch`, the same stage runs data-parallel.
    Prints the finished stage's record (JSON) on the main process.
    """
    import argparse

    from .config import get_profile
    from .data import ensure_world

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--stage", choices=["pretrain", "cpt", "sft", "arms", "unlearn"], default="pretrain")
    ap.add_argument("--arm", choices=CPT_ARMS, default="synthetic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run-dir", default=None, help="artifact directory (default: runs/<profile>)")
    a = ap.parse_args(argv)
    prof = get_profile(a.profile)
    if a.stage in ("arms", "unlearn") and a.run_dir:
        ap.error(f"--stage {a.stage} trains into the profile's own run directory ({prof.run_dir()}), where the "
                 "notebooks find it; drop --run-dir")
    run_dir = Path(a.run_dir) if a.run_dir else prof.run_dir()
    if _is_main():  # data, tokenizer and a given base model are built (or fetched) once, by the main process
        data_dir, _, _ = ensure_world(prof.data, run_dir)
        if prof.base_model is None:
            ensure_tokenizer(data_dir, run_dir, prof.model.vocab_size)
        else:
            from .pretrained import resolve_base
            resolve_base(prof.base_model)
    if _world_size() > 1:
        torch.distributed.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
        torch.distributed.barrier()
    data_dir, _, _ = ensure_world(prof.data, run_dir)
    final, _ = base_model(prof, data_dir, run_dir)
    if a.stage in ("arms", "unlearn"):
        rows = train_arms(prof, data_dir, final, CPT_ARMS, prof.seeds, prof.sweep_ratios)
        if a.stage == "unlearn":
            from .unlearn import method_config, unlearn_then_sft
            r02 = {"arms": rows, "data_dir": str(data_dir)}
            rows = [unlearn_then_sft(prof, r02, method_config(prof.unlearn, m), s) for m in prof.methods
                    for s in (prof.seeds if m == "bounded" else prof.seeds[:1])]
        if _is_main():
            print(json.dumps([{"arm": r["arm"], "seed": r["seed"], "sft": str(r.get("sft"))} for r in rows]))
        return 0
    if a.stage in ("cpt", "sft"):
        final = cpt(a.arm, final, data_dir, run_dir, prof.cpt, a.seed)
    if a.stage == "sft":
        final = sft(final, data_dir, run_dir, prof.sft, a.seed)
    if _is_main():
        print(json.dumps(stage_info(Path(final).parent)))
    return 0




def arm_name(arm: str, ratio: float, default_ratio: float) -> str:
    """`synthetic` at the profile's ratio, `synthetic@0.5` at another ratio; other arms unchanged."""
    return arm if arm != "synthetic" or ratio == default_ratio else f"synthetic@{ratio:g}"


def train_arms(profile, data_dir: Path, base: Path, arms: tuple[str, ...], seeds: tuple[int, ...],
               sweep_ratios: tuple[float, ...] = ()) -> list[dict]:
    """CPT then identical SFT for every arm × seed (the dilution arm for the first `profile.dilution_seeds` seeds;
    synthetic arms at `sweep_ratios` for the first seed only).

    Returns one row per (arm, seed): checkpoints, SFT curve checkpoints and the stages' records.
    """
    run_dir = profile.run_dir()
    jobs = [(arm, seed, profile.cpt.synth_ratio) for i, seed in enumerate(seeds) for arm in arms
            if arm != "dilution" or i < profile.dilution_seeds]
    jobs += [("synthetic", seeds[0], r) for r in sweep_ratios if r != profile.cpt.synth_ratio]
    rows = []
    for arm, seed, ratio in jobs:
        cpt_final = cpt(arm, base, data_dir, run_dir, profile.cpt, seed, ratio)
        sft_final = sft(cpt_final, data_dir, run_dir, profile.sft, seed)
        rows.append({"arm": arm_name(arm, ratio, profile.cpt.synth_ratio), "seed": seed,
                     "synth_ratio": ratio if arm != "reference" else 0.0, "cpt": cpt_final, "sft": sft_final,
                     "sft_curve": {str(k): v for k, v in sft_checkpoints(sft_final).items()},
                     "cpt_info": stage_info(cpt_final.parent), "sft_info": stage_info(sft_final.parent)})
    return rows


def stage_log(final: Path) -> list[dict]:
    """The training log (loss per logged step, tokens/s) of a finished stage."""
    return json.loads((Path(final).parent / "log.json").read_text())


if __name__ == "__main__":
    raise SystemExit(main())
