"""The generic stage runner on the HF `Trainer`: one directory per stage, keyed by a hash of everything that
determines it.

- Reuse is verified: a finished stage's `stage.json` (written last) records its key and the size and sha256 of every
  file of `final/`; a stage whose files or key do not match is refused with the path and the fix, never reused.
- Resume is exact: an interrupted stage resumes from its last complete Trainer checkpoint (incomplete ones are
  removed), with the same data order (a seeded length-grouped sampler; the Trainer restores the RNG states), and its
  record covers the whole stage (loss sum and wall seconds are carried in each checkpoint).
- One process at a time trains a stage: a second run waits for the first's lock, then reuses what it finished.

Because the loop is the HF `Trainer`, the same code runs under `torchrun` / `accelerate launch` (DDP; FSDP/DeepSpeed
through the shipped accelerate configs).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments, default_data_collator
from transformers.trainer_pt_utils import get_length_grouped_indices
from transformers.utils import logging as hf_logging

from ..config import TrainConfig, config_hash, kernel_key, kernel_record
from ..models.loading import count_parameters, warn_if_slow
from ..models.tokenizer import stop_ids
from ..records.files import StaleArtifactError, check_files, file_records, file_sha256, locked, stale
from ..records.progress import progress

#: Written into each Trainer checkpoint, last: what the stage record needs to cover the whole stage after a resume.
PROGRESS_FILE = "synthrepro_progress.json"
#: Part of the key of every stage that samples batches by length: the seeded sampler (exact resume) orders them
#: differently from the Trainer's unseeded one that made the stages before it.
SAMPLER_VERSION = "seeded-length-grouped-1"


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _progress_callback(total_steps: int, tokens_per_step: int, label: str):
    class Progress(TrainerCallback):
        """A tqdm bar over optimizer steps showing loss and tokens/s (also added to the logged metrics)."""

        def on_train_begin(self, args, state, control, **kw):
            self.bar = progress(total=total_steps, initial=state.global_step, desc=label, unit="step",
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
                staging = target.with_name(target.name + ".tmp")
                shutil.rmtree(staging, ignore_errors=True)
                model.save_pretrained(str(staging))
                tokenizer.save_pretrained(str(staging))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)  # a kill while saving never leaves half a snapshot

    return Snapshots()


class SeededLengthGroupedSampler(torch.utils.data.Sampler):
    """Batches of similar length (the Trainer's `group_by_length` grouping), in an order that depends only on the
    seed and the epoch: an interrupted run resumes with the very batches it would have seen."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self):
        return len(self.lengths)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))


class StageTrainer(Trainer):
    """The Trainer of every stage: a seeded length-grouped sampler, and the running loss sum and wall seconds carried
    in each checkpoint (`PROGRESS_FILE`), so that a resumed stage records the same loss and throughput as an
    uninterrupted one."""

    def __init__(self, *args, stage_seed: int = 0, progress: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage_seed = stage_seed
        self.loss_sum = float((progress or {}).get("loss_sum", 0.0))
        self.seconds_before = float((progress or {}).get("seconds", 0.0))
        self.t_start = time.perf_counter()

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy == "group_by_length":
            lengths = [len(dataset[i]["input_ids"]) for i in range(len(dataset))]
            return SeededLengthGroupedSampler(lengths, self.args.train_batch_size, self.stage_seed)
        return super()._get_train_sampler(train_dataset)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.loss_sum += float(loss)
        return loss

    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self.t_start

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.is_world_process_zero():
            folder = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
            _write_json_atomic(folder / PROGRESS_FILE, {"step": self.state.global_step, "loss_sum": self.loss_sum,
                                                        "seconds": self.seconds()})


def _write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


def stage_dir(run_dir: Path, stage: str, *key) -> Path:
    """runs/<profile>/stages/<stage>-<hash of everything that determines it>. The kernels are part of it: a run with
    pinning off (`config.kernels`) keys its stages by its CPU's capability too, so it never shares a directory with
    the pinned computation (whose keys are those of every committed run)."""
    kernels = kernel_key()
    extra = [] if kernels.startswith("pinned-") else [kernels]
    return Path(run_dir) / "stages" / f"{stage}-{config_hash(*key, *extra)}"


def checkpoint_id(path: Path) -> str:
    """A location-independent name for a checkpoint, for hashing: its stage directory and leaf for a checkpoint a
    stage wrote (the directory name is already the hash of everything that made it); for a given checkpoint (a base
    model, a shipped conversion) also the sha256 of its weights, so that other weights at the same path never share a
    key."""
    path = Path(path)
    name = f"{path.parent.name}/{path.name}"
    if (path.parent / "stage.json").exists() or path.parent.name == "steps":
        return name
    return f"{name}@{weights_sha256(path)[:12]}"


def checkpoint_fingerprint(path: Path) -> str:
    """What a checkpoint's outputs depend on, for the key of a cached evaluation: `checkpoint_id` and, for a
    checkpoint a stage wrote (its final/ or a steps/N snapshot), the sha256 of that stage's record, which lists every
    weight file's sha256 — so a stage retrained with other weights (another machine, another library) never shares
    a key with the old one."""
    path = Path(path)
    stage = _stage_of(path)
    record = stage / "stage.json"
    if not record.exists():
        return checkpoint_id(path)
    verify_checkpoint(path)
    return f"{stage.name}/{path.parent.name}/{path.name}#{hashlib.sha256(record.read_bytes()).hexdigest()[:16]}"


def _stage_of(checkpoint: Path) -> Path:
    """The stage directory of a checkpoint a stage wrote: the parent of final/, the grandparent of steps/step-N."""
    return checkpoint.parent.parent if checkpoint.parent.name == "steps" else checkpoint.parent


def verify_checkpoint(path: Path) -> None:
    """Raise `StaleArtifactError` (naming the stage and the fix) unless a checkpoint a stage wrote — its final/ or a
    steps/step-N snapshot — has exactly the files its stage record lists (size and sha256): weights changed in place
    are never evaluated under the old weights' cached results. A checkpoint no stage wrote is left alone (its key
    holds its weights' sha256: `checkpoint_id`)."""
    path = Path(path)
    stage = _stage_of(path)
    info = stage_info(stage)
    if not info:
        return
    if path.parent.name == "steps":
        records = (info.get("snapshots") or {}).get(path.name)
        if records is None:
            raise stale(stage, f"its record lists no files for the snapshot {path.name} (written by an older "
                               "synthrepro, or not by this stage)")
        check_files(path, records, stage)
    else:
        check_files(path, info["files"], stage)


def weights_sha256(folder: Path) -> str:
    """One sha256 over a checkpoint folder's weight files (safetensors / bin), in name order."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in (".safetensors", ".bin"))
    if not files:
        raise FileNotFoundError(f"no weights (*.safetensors, *.bin) in {folder}; give a checkpoint directory written "
                                "by save_pretrained")
    return hashlib.sha256("".join(f"{p.name}:{file_sha256(p)}" for p in files).encode()).hexdigest()


def stage_info(out: Path) -> dict:
    """The finished stage's record (stage.json), or {} when it has not finished. Reads only: `finished` verifies."""
    path = Path(out) / "stage.json"
    return json.loads(path.read_text()) if path.exists() else {}


def finished(out: Path) -> bool:
    """True when the stage in `out` finished and its files are exactly what its record says (its key is the
    directory's, every file of final/ has the recorded size and sha256); False when it has not finished; raises
    `StaleArtifactError` (naming the path and the fix) for anything else."""
    out = Path(out)
    info = stage_info(out)
    if not info:
        return False
    if info.get("key") != out.name or "files" not in info:
        raise stale(out, f"its record belongs to {info.get('key', 'an older version of synthrepro')!r}, not to "
                         f"this key ({out.name})")
    made_with, this_run = (info.get("kernels") or {}).get("key"), kernel_key()
    if made_with != this_run:
        raise stale(out, f"it was computed with kernels {made_with or 'that its record does not name (before pinning)'}"
                         f", this run uses {this_run} (config.kernels; other kernels give other numbers)")
    check_files(out / "final", info["files"], out)
    return True


def _quiet_transformers():
    hf_logging.disable_progress_bar()  # no per-shard bars; our own bar shows steps and tokens/s
    hf_logging.set_verbosity_error()


def _last_complete_checkpoint(trainer_dir: Path) -> Path | None:
    """The newest Trainer checkpoint that was written to the end (it holds PROGRESS_FILE); incomplete ones (a kill
    while saving) are removed."""
    ckpts = sorted(trainer_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    complete = [p for p in ckpts if (p / PROGRESS_FILE).exists()]
    if is_main():
        for p in ckpts:
            if p not in complete:
                shutil.rmtree(p, ignore_errors=True)
    return complete[-1] if complete else None


def run_stage(out: Path, name: str, model_fn, dataset, tokenizer, tcfg: TrainConfig, collate=None,
              snapshot_steps: tuple[int, ...] = (), meta: dict | None = None,
              tokens_per_step: int | None = None, trainer_cls=None, trainer_kwargs: dict | None = None) -> Path:
    """Train with the HF Trainer into `out`; reuse a finished (verified) stage, resume an interrupted one. Returns
    out/final. `trainer_cls` must subclass `StageTrainer`.

    `tokens_per_step` (for tokens/s and the token count): batch × block for packed data (the default); the
    mean unpadded example length × batch for SFT.
    """
    out = Path(out)
    with locked(out, f"training stage {name}"):
        if finished(out):
            return out / "final"
        return _train(out, name, model_fn, dataset, tokenizer, tcfg, collate, snapshot_steps, meta, tokens_per_step,
                      trainer_cls or StageTrainer, trainer_kwargs or {})


def _train(out, name, model_fn, dataset, tokenizer, tcfg, collate, snapshot_steps, meta, tokens_per_step,
           trainer_cls, trainer_kwargs) -> Path:
    _quiet_transformers()
    kernel_record()  # raises before training when torch ran before the kernels were pinned
    warn_if_slow(tcfg.precision)
    ws = world_size()
    if tcfg.batch_size % ws:
        raise ValueError(f"batch_size {tcfg.batch_size} must be divisible by the {ws} processes")
    model = model_fn()
    args = TrainingArguments(
        output_dir=str(out / "trainer"), max_steps=tcfg.max_steps, per_device_train_batch_size=tcfg.batch_size // ws,
        learning_rate=tcfg.lr, lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": tcfg.min_lr_ratio}, warmup_steps=tcfg.warmup_steps,
        weight_decay=tcfg.weight_decay, logging_steps=tcfg.log_steps, save_strategy="steps",
        save_steps=tcfg.save_steps, save_total_limit=2, report_to=tcfg.report_to, seed=tcfg.seed, data_seed=tcfg.seed,
        disable_tqdm=True, dataloader_num_workers=0, ddp_find_unused_parameters=False,
        bf16=tcfg.precision == "bf16", use_cpu=not torch.cuda.is_available(),
        ddp_backend="gloo" if (ws > 1 and not torch.cuda.is_available()) else None, remove_unused_columns=False,
        train_sampling_strategy=tcfg.sampling,
    )
    if tcfg.report_to == "tensorboard":  # beside the stage, not in its Trainer folder (removed when it finishes)
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "tensorboard")
    tokens_per_step = tokens_per_step or tcfg.batch_size * tcfg.block_size
    tokens = tokens_per_step * tcfg.max_steps
    resume_from = _last_complete_checkpoint(out / "trainer")
    progress = json.loads((resume_from / PROGRESS_FILE).read_text()) if resume_from else None
    callbacks = [_progress_callback(tcfg.max_steps, tokens_per_step, name)]
    if snapshot_steps:
        callbacks.append(_snapshot_callback(snapshot_steps, out, tokenizer))
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, data_collator=collate or default_data_collator,
                          callbacks=callbacks, stage_seed=tcfg.seed, progress=progress, **trainer_kwargs)
    trainer.remove_callback(PrinterCallback)  # our tqdm bar shows the logs
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    seconds = trainer.seconds()
    staging = out / "final.tmp"
    if trainer.is_world_process_zero():  # only the writer touches staging: another rank's rmtree could race its save
        shutil.rmtree(staging, ignore_errors=True)
    gen = getattr(trainer.model, "generation_config", None)
    if gen is not None:  # any generator (pipeline, lm-eval) stops where a reply ends: EOS and the chat turn end
        gen.eos_token_id, gen.pad_token_id = stop_ids(tokenizer), tokenizer.pad_token_id
    trainer.save_model(str(staging))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(staging))
        shutil.rmtree(out / "final", ignore_errors=True)
        os.replace(staging, out / "final")  # readers never see half a checkpoint
        log = [r for r in trainer.state.log_history if "loss" in r]
        (out / "log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
        info = {
            "stage": name, "key": out.name, "final": str(out / "final"), "steps": tcfg.max_steps, "tokens": tokens,
            "train_seconds": round(seconds, 1), "train_seconds_this_run": round(seconds, 1),
            "resumed": resume_from is not None, "processes": ws,
            "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
            "final_loss": log[-1]["loss"] if log else None, "train_loss": trainer.loss_sum / tcfg.max_steps,
            "parameters": count_parameters(model), "train_config": asdict(tcfg), "kernels": kernel_record(),
            **(meta or {}),
            "files": file_records(out / "final"),
            "snapshots": {p.name: file_records(p) for p in sorted((out / "steps").glob("step-*")) if p.is_dir()},
        }
        _write_json_atomic(out / "stage.json", info)  # the 'finished' marker is written last
        shutil.rmtree(out / "trainer", ignore_errors=True)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()  # every process sees the finished stage before the next one loads it
    return out / "final"


def stage_log(final: Path) -> list[dict]:
    """The training log (loss per logged step, tokens/s) of a finished stage."""
    return json.loads((Path(final).parent / "log.json").read_text())
