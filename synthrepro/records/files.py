"""Files on disk: atomic writes, sha256-verified shipped files, JSONL with line-numbered errors."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path


def load_jsonl(path: str | Path, required_keys: tuple[str, ...] = ("text",)) -> list[dict]:
    """Rows of a JSONL file; a malformed line raises ValueError naming the file and line number."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {lineno}: not valid JSON ({err.msg}); "
                                 "each line must be one JSON object like {\"text\": \"...\"}") from None
            if not isinstance(row, dict) or any(k not in row for k in required_keys):
                raise ValueError(f"{path}, line {lineno}: each line must be a JSON object with keys "
                                 f"{list(required_keys)}, got {line.strip()[:80]!r}")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no rows; the file is empty")
    return rows


def write_atomic_dir(target: Path, write) -> Path:
    """Call `write(tmp_dir)`, then move tmp_dir into place: a crash never leaves a half-written `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def rows_sha256(rows: list[dict]) -> str:
    """sha256 of a split's canonical JSONL form (sorted keys): equal data ↔ equal hash."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def installed_package_dir(module: str, install_hint: str) -> Path:
    """The folder of an installed package, found without importing it (some ship data only, or import what is
    not installed); a clear error with `install_hint` when it is absent."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{module} is not installed: {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def verified_file(path: Path, sha256: str, install_hint: str) -> Path:
    """`path` if its content has the expected sha256; otherwise an error that says how to get the right file."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {install_hint}")
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != sha256:
        raise ValueError(f"{path} has sha256 {h.hexdigest()}, expected {sha256}: another version of the package "
                         f"ships other data; {install_hint}")
    return path
