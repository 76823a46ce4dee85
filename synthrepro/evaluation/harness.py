"""lm-evaluation-harness (MMLU, IFEval) on a profile's trained checkpoints — the `paper` profile's external benchmarks.

lm-eval is not a default dependency: it downloads its datasets from the Hugging Face hub at run time, which the
offline tracks never do. Where it is installed (`pip install lm-eval==0.4.13`, online), this runs the paper's
benchmarks on every arm, seed and unlearning method that notebooks 02 and 04 recorded: MMLU on the model before SFT
(the paper's benchmark of the base model after CPT) and IFEval on the model after SFT.

    synthrepro harness --profile paper [--tasks mmlu ifeval] [--limit N]

Writes runs/<profile>/harness.json: {arm: {seed: {task: lm-eval's metrics}}}.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from ..config import resolve_path
from ..records.results import load

INSTALL_HINT = "pip install lm-eval==0.4.13 (online: it downloads MMLU and IFEval from the Hugging Face hub)"
#: Which checkpoint each task scores: the benchmark before SFT, instruction following after it (as notebook 03).
STAGE_OF_TASK = {"mmlu": "cpt", "ifeval": "sft"}


def lm_eval_arguments(checkpoint: str | Path, task: str, batch_size: str | int = "auto", dtype: str = "bfloat16",
                      limit: int | None = None) -> dict:
    """Keyword arguments of `lm_eval.simple_evaluate` for one checkpoint and task (a Hugging Face causal LM;
    IFEval with the checkpoint's chat template, as in training)."""
    args = {"model": "hf", "model_args": f"pretrained={checkpoint},dtype={dtype}", "tasks": [task],
            "batch_size": batch_size, "limit": limit}
    if task == "ifeval":
        args["apply_chat_template"] = True
    return args


def evaluate_checkpoint(checkpoint: str | Path, task: str, **kwargs) -> dict:
    """lm-eval's metrics for one task on one checkpoint; a clear error where lm-eval is not installed."""
    if importlib.util.find_spec("lm_eval") is None:
        raise ModuleNotFoundError(f"lm-evaluation-harness is not installed: {INSTALL_HINT}")
    import lm_eval
    return lm_eval.simple_evaluate(**lm_eval_arguments(checkpoint, task, **kwargs))["results"]


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
