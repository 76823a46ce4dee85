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


def _keyed(o):
    """A dataclass as the dict that keys it: nested dataclasses likewise; a field whose metadata names a
    `key_default` is left out while it has that value (a field added later keeps the keys of artifacts made before
    it existed, as long as it asks for their behaviour); a field with metadata `key: False` (where logs go) never
    counts."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return {f.name: _keyed(getattr(o, f.name)) for f in dataclasses.fields(o) if f.metadata.get("key", True)
                and not ("key_default" in f.metadata and getattr(o, f.name) == f.metadata["key_default"])}
    if isinstance(o, (list, tuple)):
        return [_keyed(x) for x in o]
    if isinstance(o, dict):
        return {k: _keyed(v) for k, v in o.items()}
    return o


def config_hash(*objs) -> str:
    """A short, stable hash of dataclasses / JSON-able objects (keys artifact directories)."""
    blob = json.dumps([_keyed(o) for o in objs], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def shown(path: str | Path) -> str:
    """A path as printed in notebooks and logs: relative to the repository root when inside it (no machine's folder
    names in stored outputs), else as it is."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)
