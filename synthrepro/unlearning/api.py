"""The paper's method on any Hugging Face causal LM: `unlearn_model`."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import torch

from ..config import UnlearnConfig, config_hash
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from ..records.files import stale
from ..training.runner import checkpoint_id, finished, stage_info
from .trainer import train_unlearning


def _texts(texts, name: str) -> list[str]:
    """`texts` as a list of strings; a single string (which would be trained on character by character) or anything
    that is not text raises ValueError naming the argument."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(f"{name} is one string ({len(texts)} characters); give a list of texts, e.g. [{texts[:30]!r}]")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"{name}[{bad[0]}] is a {type(texts[bad[0]]).__name__}, not a text; give a list of strings")
    return texts


def tensors_sha256(tensors) -> str:
    """sha256 over named tensors — a model's `state_dict()`, or what `safetensors.torch.load_file` returns — (names,
    dtypes, shapes and bytes), in name order: equal weights ↔ equal hash, whatever file format holds them."""
    h = hashlib.sha256()
    for name, tensor in sorted(tensors.items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def unlearn_model(model_or_path, tokenizer, forget_texts: list[str], retain_texts: list[str],
                  config: UnlearnConfig | None = None, output_dir: str | Path = "unlearned", *, seed: int = 0,
                  budget_tokens: float | None = None, reference_model=None, separator: str = "eos") -> Path:
    """Unlearn `forget_texts` from any causal LM that transformers loads, with `retain_texts` as replay data and the
    configured bias mitigation; returns the directory of the unlearned checkpoint (`output_dir`/final, loadable with
    `AutoModelForCausalLM.from_pretrained`).

    model_or_path: a model object (left unchanged: a copy is trained) or a checkpoint directory / hub id.
    tokenizer: a tokenizer, or None to load the checkpoint's. config: `UnlearnConfig` (method and its `params`,
    λ_R, λ_B, bias, optimiser settings in `config.train`; None: the bounded loss with its defaults).
    Steps: `budget_tokens` of forget + replay text when given, else `config.train.max_steps`.
    reference_model: a model (or path) trained without the forget set, for `gamma_mode="reference_arm"`.
    separator: the token that frames each text ("eos", or a special token such as "<|endoftext|>").
    A finished `output_dir` is reused and an interrupted one resumed; a changed config needs a new `output_dir`.
    """
    config = config or UnlearnConfig()
    forget_texts, retain_texts = _texts(forget_texts, "forget_texts"), _texts(retain_texts, "retain_texts")
    if isinstance(model_or_path, (str, Path)):
        model_id = checkpoint_id(Path(model_or_path)) if Path(model_or_path).is_dir() else str(model_or_path)
    else:
        model_id = f"a model object@{tensors_sha256(model_or_path.state_dict())[:12]}"  # by its weights, not its kind
    inputs = config_hash(model_id, forget_texts, retain_texts, seed, budget_tokens, separator)
    done = stage_info(output_dir)
    if done and (done.get("inputs") != inputs or
                 done.get("unlearn_config") != json.loads(json.dumps(dataclasses.asdict(config)))):
        raise stale(Path(output_dir), "it holds an unlearning run with another model, texts or config; give a new "
                                      "output_dir, or")
    if done and finished(output_dir):
        return Path(output_dir) / "final"
    if isinstance(model_or_path, (str, Path)):
        tok = tokenizer or load_tokenizer(model_or_path)
        theta0 = load_model(model_or_path)

        def model_fn():
            return load_model(model_or_path, device="cpu")
    else:
        if tokenizer is None:
            raise ValueError("with a model object, pass its tokenizer (or give a checkpoint path instead)")
        tok, theta0 = tokenizer, copy.deepcopy(model_or_path)

        def model_fn():
            return copy.deepcopy(model_or_path)
    if tok.pad_token_id is None:
        tok = copy.copy(tok)
        tok.pad_token = tok.eos_token
    if isinstance(reference_model, (str, Path)):
        reference_model = load_model(reference_model)
    return train_unlearning(Path(output_dir), f"unlearn_{config.method}", model_fn, theta0, tok, forget_texts,
                            retain_texts, config, seed, budget_tokens, reference_model, separator,
                            meta={"inputs": inputs, "model": model_id})
