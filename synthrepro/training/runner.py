"""The generic stage runner on the HF `Trainer`: one directory per stage, keyed by a hash of everything that
determines it; a finished stage is reused, an interrupted one resumes from its last Trainer checkpoint. Because the
loop is the HF `Trainer`, the same code runs under `torchrun` / `accelerate launch` (DDP; FSDP/DeepSpeed through
the shipped accelerate configs)."""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments, default_data_collator
from transformers.utils import logging as hf_logging

from ..config import TrainConfig, config_hash
from ..models.loading import bf16_supported, count_parameters


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _progress_callback(total_steps: int, tokens_per_step: int, label: str):
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
    hf_logging.disable_progress_bar()  # no per-shard bars; our own bar shows steps and tokens/s
    hf_logging.set_verbosity_error()


def run_stage(out: Path, name: str, model_fn, dataset, tokenizer, tcfg: TrainConfig, collate=None,
              snapshot_steps: tuple[int, ...] = (), meta: dict | None = None,
              tokens_per_step: int | None = None, trainer_cls=None, trainer_kwargs: dict | None = None) -> Path:
    """Train with the HF Trainer into `out`; reuse a finished stage, resume an interrupted one. Returns out/final.

    `tokens_per_step` (for tokens/s and the token count): batch × block for packed data (the default); the
    mean unpadded example length × batch for SFT.
    """
    out = Path(out)
    if stage_info(out):
        return out / "final"
    _quiet_transformers()
    ws = world_size()
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


def stage_log(final: Path) -> list[dict]:
    """The training log (loss per logged step, tokens/s) of a finished stage."""
    return json.loads((Path(final).parent / "log.json").read_text())
