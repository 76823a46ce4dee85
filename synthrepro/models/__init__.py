"""Layer 2 — models: building and loading causal LMs, the tokenizer and chat template, generation, the shipped
SmolLM2-135M-Instruct."""
from .generation import generate
from .loading import (bf16_supported, build_model, check_weights, count_parameters, default_device, generation_model,
                      load_model)
from .smollm2 import SHIPPED_MODEL, ensure_checkpoint, resolve_base
from .tokenizer import chat_texts, document_start_id, load_tokenizer, separator_id, stop_ids, train_tokenizer

__all__ = ["SHIPPED_MODEL", "bf16_supported", "build_model", "chat_texts", "check_weights", "count_parameters",
           "default_device", "document_start_id", "ensure_checkpoint", "generate", "generation_model", "load_model",
           "load_tokenizer", "resolve_base", "separator_id", "stop_ids", "train_tokenizer"]
