"""synthrepro — a reproduction of "Unveiling the Flaws" (arXiv 2406.12397): synthetic Q-A data in continued
pre-training, pattern overfitting, and bounded unlearning.

The public API (everything else is reachable through the subpackages, listed in the README's module map):

    from synthrepro import UnlearnConfig, unlearn_model
    final = unlearn_model("path/to/model", None, forget_texts, retain_texts, UnlearnConfig(), "out/")

Names are loaded on first use, so that `import synthrepro.config` stays light (no torch). Importing the package pins
the CPU kernels' instruction set first (`synthrepro.config.kernels`; docs/reproducibility.md).
"""
from __future__ import annotations

import importlib
import os
import sys

from .config.kernels import KernelSettingError, pin_kernels

# Before anything imports torch: pin the kernels' instruction set (config/kernels.py; SYNTHREPRO_PIN_KERNELS=0 turns
# it off). A bad pinning variable stops a `synthrepro` command with one line, and raises for a library user.
try:
    pin_kernels()
except KernelSettingError as _err:
    if os.path.basename(sys.argv[0] if sys.argv else "") in ("synthrepro", "__main__.py"):
        print(f"synthrepro: error: {_err}", file=sys.stderr)
        raise SystemExit(2) from None
    raise

#: name → the submodule that defines it.
_EXPORTS = {
    "UnlearnConfig": "config", "TrainConfig": "config", "EvalConfig": "config", "Profile": "config",
    "BoundedParams": "config", "NPOParams": "config", "SimNPOParams": "config", "NoParams": "config",
    "FORGET_METHODS": "config", "BIAS_METHODS": "config", "get_profile": "config", "derive": "config",
    "load_profile_file": "config",
    "unlearn_model": "unlearning", "FORGET_LOSSES": "unlearning", "BIAS_LOSSES": "unlearning",
    "ForgetInputs": "unlearning", "BiasInputs": "unlearning", "register_forget": "unlearning",
    "register_bias": "unlearning", "UnlearnTrainer": "unlearning", "DivergenceError": "unlearning",
    "generate": "models", "load_model": "models", "load_tokenizer": "models",
    "evaluate_ifeval": "evaluation", "make_suite": "evaluation",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'synthrepro' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
