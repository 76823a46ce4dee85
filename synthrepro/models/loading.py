"""Llama-architecture model presets (transformers `LlamaForCausalLM`), one loader for any causal LM, and where bf16
is fast."""
from __future__ import annotations

import copy
import os
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging

from ..config import ModelConfig


def build_model(cfg: ModelConfig, vocab_size: int, seed: int):
    """A freshly initialised LlamaForCausalLM (tied embeddings), seeded."""
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
                         num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
                         num_key_value_heads=cfg.num_heads, max_position_embeddings=cfg.max_position_embeddings,
                         tie_word_embeddings=True, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    return LlamaForCausalLM(config)


def default_device() -> str:
    """"cuda" where a GPU is visible, else "cpu": where models are loaded for evaluation and unlearning."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_checkpoint(path_or_name: str | Path) -> None:
    """A local checkpoint path must be a folder with config.json (a hub id "org/name" is left to the hub): a clear
    error instead of the hub's complaint about repository ids."""
    s = str(path_or_name)
    local = isinstance(path_or_name, Path) or os.path.isabs(s) or s.startswith((".", "~")) or s.count("/") > 1 \
        or os.path.exists(s)
    if local and not (Path(s).expanduser() / "config.json").is_file():
        what = "a folder without config.json" if Path(s).expanduser().is_dir() else "nothing"
        raise FileNotFoundError(f"no checkpoint at {s} ({what} there); give a folder written by save_pretrained "
                                "(a stage's .../final), or a Hugging Face model id such as HuggingFaceTB/SmolLM2-135M")


def load_model(path_or_name: str | Path, dtype=None, device: str | None = None):
    """Any causal LM: a checkpoint directory written by a stage, or a Hugging Face model path (same function), on
    `device` (default: `default_device()`; training stages load on "cpu" and let the Trainer place the model)."""
    check_checkpoint(path_or_name)
    hf_logging.disable_progress_bar()  # no "Loading weights" bar per model: notebooks load dozens
    kwargs = {"dtype": dtype} if dtype is not None else {}
    model = AutoModelForCausalLM.from_pretrained(str(path_or_name), **kwargs)
    check_weights(model, path_or_name)
    return model.to(device or default_device())


def check_weights(model, where) -> None:
    """Raise ValueError naming the checkpoint when a weight is NaN or infinite, or when every weight matrix is zero:
    such a model generates nothing meaningful (and a NaN one can take a notebook's kernel down)."""
    matrices = 0
    any_nonzero = False
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not torch.isfinite(p).all():
                raise ValueError(f"checkpoint {where}: weight {name} holds NaN or infinite values; it cannot be "
                                 "evaluated or trained from. Retrain it (delete its stage folder and run again) or "
                                 "give another checkpoint")
            if p.dim() == 2:
                matrices += 1
                any_nonzero = any_nonzero or bool(p.any())
    if matrices and not any_nonzero:
        raise ValueError(f"checkpoint {where}: every weight matrix is zero; it cannot be evaluated or trained from. "
                         "Retrain it (delete its stage folder and run again) or give another checkpoint")


def count_parameters(model) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def bf16_supported() -> bool:
    """bf16 only where it is fast: a CUDA GPU with bf16, or a CPU with AVX-512 BF16 / AMX."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


_WARNED: set[str] = set()


def warn_if_slow(precision: str) -> None:
    """Say once per process when bf16 is asked for on hardware without fast bf16: the numbers are the same as on a
    machine that has it (the precision is part of the configuration, never chosen by the CPU's flags), but slower."""
    if precision == "bf16" and not bf16_supported() and "bf16" not in _WARNED:
        _WARNED.add("bf16")
        print("note: this profile computes in bf16, and this CPU has no AVX-512 BF16/AMX: same numbers as on a CPU "
              "that has it, but slower (set precision: fp32 in a profile file for speed, with other numbers)")


def generation_model(model, bf16: bool):
    """For generation: a bfloat16 copy of `model` when `bf16` is asked for (2× faster than float32 on a CPU with
    AVX-512 BF16 / AMX; the same numbers, slower, elsewhere), else `model` itself. The caller's model is never cast
    in place, and the choice never depends on the machine."""
    if bf16:
        warn_if_slow("bf16")
        return copy.deepcopy(model).to(torch.bfloat16)
    return model
