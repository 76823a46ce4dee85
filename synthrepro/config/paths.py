"""Where things live (the repository root, recorded paths) and the hash that keys artifact directories."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path


def repo_root() -> Path:
    """The project root: $SYNTHREPRO_ROOT, else the checkout that holds this package, else the cwd."""
    if os.environ.get("SYNTHREPRO_ROOT"):
        return Path(os.environ["SYNTHREPRO_ROOT"]).resolve()
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def resolve_path(recorded: str | Path) -> Path:
    """A path as recorded in results JSON (relative to the repository root) as an absolute Path."""
    p = Path(recorded)
    return p if p.is_absolute() else repo_root() / p


def config_hash(*objs) -> str:
    """A short, stable hash of dataclasses / JSON-able objects (keys artifact directories)."""
    def norm(o):
        return dataclasses.asdict(o) if dataclasses.is_dataclass(o) else o
    blob = json.dumps([norm(o) for o in objs], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
