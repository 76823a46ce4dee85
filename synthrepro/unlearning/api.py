"""The paper's method on any Hugging Face causal LM: `unlearn_model`."""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

from ..config import UnlearnConfig, config_hash
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from ..records.files import stale
from ..training.runner import checkpoint_id, finished, stage_info
from .trainer import train_unlearning


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
    forget_texts, retain_texts = list(forget_texts), list(retain_texts)
    model_id = checkpoint_id(Path(model_or_path)) if isinstance(model_or_path, (str, Path)) and Path(
        model_or_path).is_dir() else str(model_or_path if isinstance(model_or_path, (str, Path)) else "a model object")
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
