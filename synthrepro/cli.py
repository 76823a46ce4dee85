"""The `synthrepro` command: one entry point for what researchers run from a shell.

    synthrepro pipeline --profile default [-p NAME=VALUE …] [--only 03_overfitting_analysis …] [--publish]
    synthrepro train --profile smoke --stage pretrain|cpt|sft|arms|unlearn [--arm …] [--seed N]
    synthrepro unlearn --model DIR --forget forget.jsonl --retain retain.jsonl --output DIR [--method bounded] …
    synthrepro harness --profile paper [--tasks mmlu ifeval] [--limit N]
    synthrepro lm-eval-task --profile default     (the world's benchmark as an lm-eval task)
    synthrepro estimate --profile paper [--mfu 0.4]
    synthrepro profiles

Each subcommand has --help. Errors are one line that says the fix (exit code 2).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from .config import (ALL_NOTEBOOKS, CPT_ARMS, FORGET_METHODS, PROFILES, TrainConfig,
                     UnlearnConfig, get_profile, resolve_path, shown)
from .data.build import ensure_world
from .evaluation.harness import (STAGE_OF_TASK, WORLD_TASK, HarnessOfflineError, evaluate_checkpoint, hub_reachable,
                                 jobs, world_task)
from .experiments.arms import train_arms
from .experiments.costs import GPU, gpu_hours
from .experiments.unlearning_runs import unlearning_jobs, unlearn_then_sft
from .models.smollm2 import resolve_base
from .models.tokenizer import load_tokenizer, separator_id
from .records.files import load_jsonl
from .records.results import load, write_json_atomic
from .reporting.pipeline import parse_params, publish, run_and_summarise
from .training.runner import is_main, stage_info, world_size
from .training.stages import base_model, cpt, ensure_tokenizer, sft
from .unlearning.api import unlearn_model


class UsageError(ValueError):
    """A bad argument: printed as one line with the fix."""


def _profile(name: str):
    try:
        return get_profile(name)
    except (ValueError, FileNotFoundError) as err:
        raise UsageError(f"--profile: {err}") from None


def _profile_arg(name: str) -> str:
    """A built-in profile's name as it is; a profile file as an absolute path, resolved once in the caller's folder
    (the notebooks' kernels run in notebooks/, where a relative path would name another file)."""
    if name in PROFILES:
        return name
    path = Path(name).expanduser()
    if path.is_dir():
        raise UsageError(f"--profile {name}: is a folder; give a built-in profile ({', '.join(PROFILES)}) or a "
                         "YAML/JSON profile file")
    if path.is_file():
        return str(path.resolve())
    return name  # a file that is not here: get_profile says what is wrong


#: Notebook parameters that name a file: a relative path is taken from the caller's folder, not notebooks/.
PATH_PARAMETERS = ("CUSTOM_NONSYNTH_JSONL", "QA_MODEL_PATH")


def cmd_pipeline(a) -> int:
    if a.only is not None and not a.only:
        raise UsageError(f"--only names no notebook; name one or more of {list(ALL_NOTEBOOKS)}, or drop --only")
    if a.only:
        unknown = sorted(set(a.only) - set(ALL_NOTEBOOKS))
        if unknown:
            raise UsageError(f"--only {unknown}: no such notebook; choose from {list(ALL_NOTEBOOKS)}")
    profile = _profile_arg(a.profile)
    _profile(profile)
    if a.publish:
        for path in publish(profile):
            print("published", path)
        return 0
    try:
        params = parse_params(a.param)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if "PROFILE" in params:
        raise UsageError(f"-p PROFILE={params['PROFILE']}: the profile is chosen once, with --profile (it names the "
                         f"run's folder and the executed notebooks); run --profile {params['PROFILE']} instead")
    for name in PATH_PARAMETERS:
        if isinstance(params.get(name), str) and params[name] and not Path(params[name]).is_absolute():
            params[name] = str(Path(params[name]).expanduser().resolve())
    return run_and_summarise(profile, parameters=params, only=a.only)


def cmd_train(a) -> int:
    """Train stages into the profile's run directory, where the notebooks reuse them. Under `torchrun
    --nproc_per_node N` or `accelerate launch` the same stage runs data-parallel."""
    prof = _profile(a.profile)
    if a.seed < 0 or a.seed > 2**31 - 1:
        raise UsageError(f"--seed must be in [0, 2**31 - 1], got {a.seed}")
    if a.stage in ("arms", "unlearn") and a.run_dir:
        raise UsageError(f"--stage {a.stage} trains into the profile's own run directory ({prof.run_dir()}), where "
                         "the notebooks find it; drop --run-dir")
    run_dir = Path(a.run_dir) if a.run_dir else prof.run_dir()
    if is_main():  # data, tokenizer and a given base model are built (or fetched) once, by the main process
        data_dir, _, _ = ensure_world(prof.data, run_dir)
        if prof.base_model is None:
            ensure_tokenizer(data_dir, run_dir, prof.model.vocab_size)
        else:
            resolve_base(prof.base_model)
    if world_size() > 1:
        torch.distributed.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
        torch.distributed.barrier()
    data_dir, _, _ = ensure_world(prof.data, run_dir)
    final, _ = base_model(prof, data_dir, run_dir)
    if a.stage in ("arms", "unlearn"):
        rows = train_arms(prof, data_dir, final, CPT_ARMS, prof.seeds, prof.sweep_ratios)
        if a.stage == "unlearn":
            r02 = {"arms": rows, "data_dir": str(data_dir)}
            rows = [unlearn_then_sft(prof, r02, ucfg, s) for ucfg, s in unlearning_jobs(prof)]
        if is_main():
            print(json.dumps([{"arm": r["arm"], "seed": r["seed"], "sft": str(r.get("sft"))} for r in rows]))
        return 0
    if a.stage in ("cpt", "sft"):
        final = cpt(a.arm, final, data_dir, run_dir, prof.cpt, a.seed)
    if a.stage == "sft":
        final = sft(final, data_dir, run_dir, prof.sft, a.seed)
    if is_main():
        print(json.dumps(stage_info(Path(final).parent)))
    return 0


def _texts(path: str, flag: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{flag} {path}: not a file; give a JSONL file with one {{\"text\": ...}} object per line")
    try:
        return [r["text"] for r in load_jsonl(p)]
    except ValueError as err:
        raise UsageError(f"{flag} {err}") from None


def cmd_unlearn(a) -> int:
    """Unlearn a forget set from your own causal LM (the paper's method or a baseline), with replay data."""
    params = {}
    for item in a.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--param {item!r}: write NAME=VALUE, e.g. --param gamma=2.0")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    try:
        train = TrainConfig(max_steps=a.steps, batch_size=a.batch_size, block_size=a.block_size, lr=a.lr,
                            warmup_steps=0, weight_decay=0.0, save_steps=max(1, a.steps // 4), log_steps=1,
                            seed=a.seed)
        cfg = UnlearnConfig(method=a.method, params=params or None, lambda_replay=a.lambda_replay,
                            lambda_bias=a.lambda_bias, bias=a.bias, snapshot_steps=(), train=train)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if not Path(a.model).is_dir():
        raise UsageError(f"--model {a.model}: not a checkpoint directory (a folder with config.json and weights)")
    if Path(a.output).exists() and not Path(a.output).is_dir():
        raise UsageError(f"--output {a.output}: is a file; give a folder (new or from an earlier run of this "
                         "command) for the unlearned checkpoint")
    if a.separator != "eos":
        try:
            separator_id(load_tokenizer(a.model), a.separator)
        except ValueError as err:
            raise UsageError(f"--separator: {err}") from None
    out = unlearn_model(a.model, None, _texts(a.forget, "--forget"), _texts(a.retain, "--retain"), cfg,
                        a.output, seed=a.seed, separator=a.separator)
    print(json.dumps(stage_info(out.parent), indent=1))
    return 0


def cmd_harness(a) -> int:
    prof = _profile(a.profile)
    unknown = sorted(set(a.tasks) - set(STAGE_OF_TASK))
    if unknown:
        raise UsageError(f"--tasks {' '.join(unknown)}: unknown task; choose from {sorted(STAGE_OF_TASK)}")
    if a.limit is not None and a.limit < 1:
        raise UsageError(f"--limit {a.limit}: give a positive number of examples per task, or drop --limit")
    if not hub_reachable():
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        print("offline (huggingface.co cannot be reached): lm-eval reads datasets from the local cache only "
              "(HF_DATASETS_OFFLINE=1)", flush=True)
    try:
        todo = jobs(prof.name, tuple(a.tasks))
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    out: dict = {}
    for arm, seed, task, ckpt in todo:
        print(f"== {task} on {arm} seed {seed}: {ckpt}", flush=True)
        try:
            res = evaluate_checkpoint(ckpt, task, batch_size=a.batch_size, limit=a.limit)
        except (HarnessOfflineError, ModuleNotFoundError) as err:
            raise UsageError(str(err)) from None
        out.setdefault(arm, {}).setdefault(str(seed), {})[task] = res
        write_json_atomic(prof.run_dir() / "harness.json", out)  # after each: a crash keeps the rest
    print("wrote", prof.run_dir() / "harness.json")
    return 0


def cmd_lm_eval_task(a) -> int:
    """Write the world's benchmark as an lm-eval task, for any checkpoint: lm_eval --include_path DIR --tasks …"""
    prof = _profile(a.profile)
    try:
        data_dir = resolve_path(load(prof, "01_data_synthesis")["data_dir"])
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    out = world_task(data_dir, Path(a.out) if a.out else prof.run_dir() / "lm_eval")
    print(f"wrote {shown(out)}; score a checkpoint with:\n  lm_eval --model hf --model_args pretrained=CHECKPOINT "
          f"--device cpu --include_path {shown(out)} --tasks {WORLD_TASK}")
    return 0


def cmd_estimate(a) -> int:
    prof = _profile(a.profile)
    if not 0 < a.mfu <= 1:
        raise UsageError(f"--mfu must be in (0, 1], got {a.mfu}")
    if a.parameters is not None and a.parameters < 1:
        raise UsageError(f"--parameters {a.parameters}: give the model's parameter count, a positive integer "
                         "(e.g. --parameters 135000000)")
    if prof.base_model is None and a.parameters is None:
        raise UsageError(f"profile {prof.name!r} trains its own model; give --parameters N")
    rows = gpu_hours(prof, a.parameters, GPU(mfu=a.mfu))
    for r in rows:
        print(f"{r['phase']:<80} {r['tokens']:>16,.0f} tokens {r['gpu_hours']:>9.2f} GPU-h")
    print(f"(an estimate at {a.mfu:.0%} MFU on an {GPU().name}, not a measurement)")
    return 0


def cmd_profiles(a) -> int:
    for name, p in PROFILES.items():
        print(f"{name:<18} track={p.track:<11} base={p.base_model or 'trained from scratch'}  seeds={list(p.seeds)}")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="synthrepro", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("pipeline", help="run notebooks 01-05 with papermill (make repro)")
    p.add_argument("--profile", default="default", help="a built-in profile or a YAML/JSON profile file")
    p.add_argument("--only", nargs="*",
                   help=f"notebooks to run (default: 01–05; the phase map only when named): {' '.join(ALL_NOTEBOOKS)}")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a notebook parameter (VALUE in YAML: 0.5, all, [bounded, npo]); each notebook gets the ones "
                        "it declares, e.g. -p IFEVAL_PROMPTS=all -p 'METHODS=[bounded]'")
    p.add_argument("--publish", action="store_true",
                   help="only copy the profile's executed notebooks (with outputs) beside its results: notebooks/ "
                        "for the world track, figures/<profile>/notebooks/ (ifeval-541/notebooks/ for a verdict run)")
    p.set_defaults(fn=cmd_pipeline)
    p = sub.add_parser("train", help="train stages (also under torchrun / accelerate launch)",
                       description=cmd_train.__doc__)
    p.add_argument("--profile", default="smoke")
    p.add_argument("--stage", choices=["pretrain", "cpt", "sft", "arms", "unlearn"], default="pretrain")
    p.add_argument("--arm", choices=CPT_ARMS, default="synthetic")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", default=None, help="artifact directory (default: runs/<profile>)")
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("unlearn", help="unlearn a forget set from your own model", description=cmd_unlearn.__doc__)
    p.add_argument("--model", required=True, help="a causal LM checkpoint directory (config.json, weights, tokenizer)")
    p.add_argument("--forget", required=True, help='JSONL of {"text": ...}: what to forget')
    p.add_argument("--retain", required=True, help='JSONL of {"text": ...}: replay data to keep')
    p.add_argument("--output", required=True, help="output directory (the checkpoint lands in OUTPUT/final)")
    p.add_argument("--method", default="bounded", choices=sorted(FORGET_METHODS))
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a hyperparameter of the method, e.g. --param gamma=2.0 --param gamma_mode=absolute")
    p.add_argument("--bias", default="kl_replay")
    p.add_argument("--lambda-replay", type=float, default=1.0)
    p.add_argument("--lambda-bias", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--block-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--separator", default="eos", help='token framing each text: "eos" or a special token')
    p.set_defaults(fn=cmd_unlearn)
    p = sub.add_parser("harness", help="lm-evaluation-harness MMLU/IFEval on a profile's recorded checkpoints")
    p.add_argument("--profile", default="paper")
    p.add_argument("--tasks", nargs="+", default=["mmlu", "ifeval"])
    p.add_argument("--limit", type=int, default=None, help="examples per task (lm-eval's --limit; for a dry run)")
    p.add_argument("--batch-size", default="auto")
    p.set_defaults(fn=cmd_harness)
    p = sub.add_parser("lm-eval-task", help="write the world's benchmark as an lm-eval task YAML",
                       description=cmd_lm_eval_task.__doc__)
    p.add_argument("--profile", default="default")
    p.add_argument("--out", default=None, help="folder for the task (default: runs/<profile>/lm_eval)")
    p.set_defaults(fn=cmd_lm_eval_task)
    p = sub.add_parser("estimate", help="GPU hours of a profile from its token budgets (an estimate)")
    p.add_argument("--profile", default="paper")
    p.add_argument("--mfu", type=float, default=GPU().mfu, help="model FLOPs utilisation assumed (default 0.4)")
    p.add_argument("--parameters", type=int, default=None, help="model parameters N (default: the profile's base)")
    p.set_defaults(fn=cmd_estimate)
    p = sub.add_parser("profiles", help="list the built-in profiles")
    p.set_defaults(fn=cmd_profiles)
    return ap


def main(argv=None) -> int:
    ap = parser()
    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except UsageError as err:
        ap.exit(2, f"synthrepro {a.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
