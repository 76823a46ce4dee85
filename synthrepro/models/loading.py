"""Llama-architecture model presets (transformers `LlamaForCausalLM`), one loader for any causal LM, and where bf16
is fast."""
from __future__ import annotations

import copy
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

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


def load_model(path_or_name: str | Path, dtype=None, device: str | None = None):
    """Any causal LM: a checkpoint directory written by a stage, or a Hugging Face model path (same function), on
    `device` (default: `default_device()`; training stages load on "cpu" and let the Trainer place the model)."""
    kwargs = {"dtype": dtype} if dtype is not None else {}
    return AutoModelForCausalLM.from_pretrained(str(path_or_name), **kwargs).to(device or default_device())


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


def generation_model(model, bf16: bool):
    """For generation: a bfloat16 copy of `model` when `bf16` is asked for and the hardware is fast at it (a CUDA GPU
    with bf16, or a CPU with AVX-512 BF16 / AMX: 2× faster than float32 on such a 2-core CPU); else `model` itself.
    The caller's model is never cast in place."""
    if bf16 and bf16_supported():
        return copy.deepcopy(model).to(torch.bfloat16)
    return model
