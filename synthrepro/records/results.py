"""Recorded results: every notebook ends by writing its numbers as JSON at runs/<profile>/<notebook>.json."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..config import Profile, get_profile, kernel_record, repo_root
from .files import StaleArtifactError


def _default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o.relative_to(repo_root())) if o.is_absolute() and repo_root() in o.parents else str(o)
    raise TypeError(f"cannot record {type(o).__name__} as JSON")


def write_json_atomic(path: Path, obj) -> Path:
    """Write JSON to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, default=_default)
    os.replace(tmp, path)
    return path


def cached_json(path: Path | None, compute):
    """`compute()`'s JSON-able result, kept at `path`: read back when `path` exists (the caller's key, in its name,
    holds everything the result depends on), else computed, written atomically and read back, so that the types
    are the same whether computed now or reused. With `path` None, computed and nothing kept."""
    if path is None:
        return compute()
    path = Path(path)
    if not path.exists():
        write_json_atomic(path, compute())
    return json.loads(path.read_text())


def git_commit() -> str:
    """The checkout's HEAD commit (with '+dirty' when tracked files other than the generated outputs — figures/ and
    REPORT.md — have uncommitted changes), or 'unknown'."""
    try:
        root = repo_root()
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!figures", ":!REPORT.md"],
                               cwd=root, capture_output=True, text=True).stdout.strip()  # regenerated outputs aside
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _profile(profile: Profile | str) -> Profile:
    return profile if isinstance(profile, Profile) else get_profile(profile)


def begin(profile: Profile | str, notebook: str) -> None:
    """Mark a notebook's run as started: its previous recorded JSON is moved aside (to <notebook>.previous.json), so
    that a run killed half-way never leaves an older run's results for the next notebook to read."""
    path = _profile(profile).run_dir() / f"{notebook}.json"
    if path.exists():
        os.replace(path, path.with_name(f"{notebook}.previous.json"))


def record(profile: Profile | str, notebook: str, results: dict) -> Path:
    """Save a notebook's results (plus profile name, commit and the kernels: pinned or not, the CPU's flags) at
    runs/<profile>/<notebook>.json."""
    prof = _profile(profile)
    payload = {"notebook": notebook, "profile": prof.name, "track": prof.track, "profile_hash": prof.base_hash,
               "commit": git_commit(), "kernels": kernel_record(numpy_too=True), **results}
    return write_json_atomic(prof.run_dir() / f"{notebook}.json", payload)


def load(profile: Profile | str, notebook: str) -> dict:
    """The recorded results of a notebook; a clear error says which notebook to run first."""
    prof = _profile(profile)
    path = prof.run_dir() / f"{notebook}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run notebook {notebook} with PROFILE={prof.name!r} first")
    rec = json.loads(path.read_text())
    if prof.base_hash and rec.get("profile_hash") and rec["profile_hash"] != prof.base_hash:
        raise StaleArtifactError(f"{path} was recorded with another version of profile {prof.name!r} (its file or "
                                 f"its defaults changed since): re-run notebook {notebook} with PROFILE="
                                 f"{prof.name!r} first")
    first = prof.run_dir() / "01_data_synthesis.json"
    if notebook != "01_data_synthesis" and rec.get("data_dir") and first.exists():
        check_one_world({"01_data_synthesis": json.loads(first.read_text()), notebook: rec})
    return rec


def check_one_world(records: dict[str, dict]) -> None:
    """Raise `StaleArtifactError` when recorded notebooks name different worlds (`data_dir`): e.g. notebook 01 re-run
    with N_PEOPLE=60 after notebook 02 trained its models on the 1000-person world. The message names the notebooks
    and the fix."""
    worlds = {nb: rec["data_dir"] for nb, rec in records.items() if isinstance(rec, dict) and rec.get("data_dir")}
    if len(set(worlds.values())) > 1:
        listed = "; ".join(f"{nb}: {Path(str(d)).name}" for nb, d in sorted(worlds.items()))
        first, *later = sorted(worlds)
        raise StaleArtifactError(f"the recorded notebooks name different worlds ({listed}): the models were trained "
                                 f"on another world than {first} recorded. Re-run the notebooks from {later[0]} on "
                                 f"(or re-run {first} with the parameters of the models' world)")


def record_timing(profile: Profile | str, notebook: str, seconds: float) -> Path:
    """Add a notebook's wall seconds to runs/<profile>/timing.json (the pipeline calls this after each notebook)."""
    path = _profile(profile).run_dir() / "timing.json"
    timing = json.loads(path.read_text()) if path.exists() else {}
    timing[notebook] = round(seconds, 1)
    return write_json_atomic(path, timing)


def load_timing(results_dir: Path) -> dict:
    """{notebook: wall seconds} of the last pipeline run in `results_dir` ({} when there was none)."""
    path = Path(results_dir) / "timing.json"
    return json.loads(path.read_text()) if path.exists() else {}
