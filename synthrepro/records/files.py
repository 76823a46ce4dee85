"""Files on disk: atomic writes, locks, sha256 records and checks, verified shipped files, JSONL with line-numbered
errors."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path


class StaleArtifactError(RuntimeError):
    """An artifact on disk whose files or key do not match its record: it is never reused."""


def stale(path: Path, what: str) -> StaleArtifactError:
    """The error for an artifact that cannot be reused: what is wrong, and the fix."""
    return StaleArtifactError(f"{path} cannot be reused: {what}. Delete it (rm -rf '{path}') and run again to "
                              "recompute it; nothing else needs to change")


_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for the process."""
    path = Path(path)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def file_records(folder: Path) -> dict[str, dict]:
    """{relative path: {"size", "sha256"}} of every file under `folder`."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(folder.rglob("*")) if p.is_file()}


def check_files(folder: Path, records: dict[str, dict], owner: Path) -> None:
    """Raise `StaleArtifactError` (naming `owner`, the artifact to delete) unless every recorded file under `folder`
    has its recorded size and sha256."""
    for rel, rec in records.items():
        p = Path(folder) / rel
        if not p.is_file():
            raise stale(owner, f"{p} is missing")
        if p.stat().st_size != rec["size"]:
            raise stale(owner, f"{p} has {p.stat().st_size:,} bytes, its record {rec['size']:,} (truncated or replaced)")
        if file_sha256(p) != rec["sha256"]:
            raise stale(owner, f"{p} does not have the recorded sha256 (modified or replaced)")


@contextlib.contextmanager
def locked(target: Path, what: str):
    """Hold an exclusive lock on `target` (a stage or data directory) for one process at a time; a second process
    says what it waits for, then waits. Only the main process of a multi-process run (RANK 0) locks. Temporary
    folders a killed process left beside `target` (`.<name>.*`) are removed once the lock is held."""
    target = Path(target)
    if int(os.environ.get("RANK", "0")) != 0:
        yield
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another run that is {what} in {target} (lock {lock})", flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            for leftover in target.parent.glob(f".{target.name}.*"):
                if leftover != lock and leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_jsonl(path: str | Path, required_keys: tuple[str, ...] = ("text",)) -> list[dict]:
    """Rows of a JSONL file; anything malformed raises ValueError naming the file and line number and the fix."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a JSONL file (one JSON object like {{\"text\": \"...\"}} per line)")
    if not path.is_file():
        raise ValueError(f"{path} does not exist; give a JSONL file (one JSON object like {{\"text\": \"...\"}} per line)")
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{path}, line {lineno}: not UTF-8 text (a binary file?); save it as UTF-8 JSONL") from None
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
            for k in required_keys:
                if not isinstance(row[k], str) or not row[k].strip():
                    raise ValueError(f"{path}, line {lineno}: \"{k}\" must be a string with some text, "
                                     f"got {row[k]!r}")
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
