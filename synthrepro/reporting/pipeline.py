"""Run every pipeline notebook that exists, in order, with papermill (`make repro` calls this through the CLI:
`synthrepro pipeline`), and publish a run's executed notebooks."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import papermill as pm
import yaml

from ..config import ALL_NOTEBOOKS, NOTEBOOK_PARAMETERS, NOTEBOOKS, PHASE_NOTEBOOK, get_profile, repo_root, shown
from ..records.progress import MODE_VARIABLE
from ..records.results import load_timing, record_timing, write_json_atomic
from .report import headline_summary, recorded_eval_config


def run(profile: str, parameters: dict | None = None, only: list[str] | None = None) -> list[Path]:
    """Execute the notebooks under notebooks/ in order; executed copies go to runs/<profile>/notebooks/. Each notebook
    gets the `parameters` it declares (see `config.NOTEBOOK_PARAMETERS`). Without `only`: notebooks 01–05; the phase
    map (06) runs when `only` names it."""
    cfg = get_profile(profile)
    os.environ[MODE_VARIABLE] = "final"  # stored notebooks get one line per progress bar, not every refresh
    src = repo_root() / "notebooks"
    out_dir = cfg.run_dir() / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name in (ALL_NOTEBOOKS if only else NOTEBOOKS):
        path = src / f"{name}.ipynb"
        if not path.exists() or (only and name not in only):
            continue
        t0 = time.perf_counter()
        print(f"== {name} (profile {profile})", flush=True)
        own = {k: v for k, v in (parameters or {}).items() if k in NOTEBOOK_PARAMETERS[name]}  # each its own
        target, running = out_dir / path.name, out_dir / f".{name}.running.ipynb"
        try:
            pm.execute_notebook(str(path), str(running), parameters={"PROFILE": profile, **own},
                                cwd=str(src), progress_bar=False, log_output=True, kernel_name="python3")
        except BaseException:
            failed = out_dir / f"{name}.failed.ipynb"
            if running.exists():
                os.replace(running, failed)
            print(f"== {name} failed after {time.perf_counter() - t0:.0f} s: the executed copy with the error is "
                  f"{shown(failed)}; the last good run stays at {shown(target)}", flush=True)
            raise
        os.replace(running, target)  # only a finished run replaces the last good executed notebook
        seconds = time.perf_counter() - t0
        record_timing(cfg, name, seconds)
        print(f"== {name} done in {seconds:.0f} s -> {shown(target)}", flush=True)
        done.append(target)
        if name == NOTEBOOKS[-1]:
            _stamp_timing(cfg)
    return done


def _stamp_timing(cfg) -> None:
    """Put the notebooks' wall seconds of this run (05 included, which cannot time itself) into the results.json that
    notebook 05 just wrote."""
    summary = cfg.run_dir() / "05_figures.json"
    if not summary.exists():
        return
    path = Path(json.loads(summary.read_text())["paths"]["results_json"])
    path = path if path.is_absolute() else repo_root() / path
    res = json.loads(path.read_text())
    res.setdefault("timing", {})["notebooks_seconds"] = load_timing(cfg.run_dir())
    write_json_atomic(path, res)


def _final_lines(text: str) -> str:
    """What a terminal would show of a stream with carriage-return progress bars: each line's last state."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def publish_dir(profile) -> Path:
    """Where `publish` puts a profile's executed notebooks: `Profile.notebooks_dir()`, or beside the figures of an
    all-541-prompt verdict run (figures/<profile>/ifeval-541/notebooks/) when the recorded run is one."""
    path = profile.run_dir() / "03_overfitting_analysis.json"  # the run's evaluation is recorded by notebook 03
    if not path.exists():
        return profile.notebooks_dir()
    rec = {"03_overfitting_analysis": json.loads(path.read_text())}
    return profile.notebooks_dir(recorded_eval_config(profile, rec))


def publish(profile: str = "default") -> list[Path]:
    """Copy the executed notebooks of `profile` into `publish_dir` so that readers see every table and figure inline:
    progress-bar streams are reduced to their final state and consecutive outputs of one stream are merged into one
    block. The papermill-injected parameters cell is removed from the world track's notebooks/ (they keep their own
    defaults, and nbval re-runs them at the smoke size) and kept elsewhere: it says which parameters the run had."""
    cfg = get_profile(profile)
    src, dest_dir = cfg.run_dir() / "notebooks", publish_dir(cfg)
    keep_parameters = dest_dir != repo_root() / "notebooks"
    done = []
    names = [*(NOTEBOOKS if any((src / f"{n}.ipynb").exists() for n in NOTEBOOKS) else ()),
             *((PHASE_NOTEBOOK,) if (src / f"{PHASE_NOTEBOOK}.ipynb").exists() else ())]
    for name in names or NOTEBOOKS:
        path = src / f"{name}.ipynb"
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: run `synthrepro pipeline --profile {profile}` first (without "
                                    "--publish, which only publishes what a run left)")
        nb = nbformat.read(path, as_version=4)
        if not keep_parameters:
            nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        paths = nb.metadata.get("papermill", {})
        for key in ("input_path", "output_path"):  # no machine's folder names in committed notebooks
            if key in paths:
                paths[key] = os.path.relpath(dest_dir / f"{name}.ipynb", repo_root())
        for cell in nb.cells:
            merged = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    out["text"] = _final_lines(out["text"])
                    if merged and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == out["name"]:
                        merged[-1]["text"] += out["text"]  # one block per stream, as Jupyter shows it
                        continue
                merged.append(out)
            if "outputs" in cell:
                cell["outputs"] = merged
        dest = dest_dir / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
        done.append(dest)
    return done


def parse_params(items: list[str]) -> dict:
    """NAME=VALUE pairs (VALUE parsed as YAML, as papermill's -y does) as a dict; a malformed one says the fix."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isupper():
            raise ValueError(f"--param {item!r}: write NAME=VALUE with an UPPER_CASE notebook parameter, e.g. "
                             "IFEVAL_PROMPTS=all")
        known = {p for params in NOTEBOOK_PARAMETERS.values() for p in params}
        if name not in known:
            raise ValueError(f"--param {name}: no notebook declares it; known: {sorted(known)}")
        try:
            out[name] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ValueError(f"--param {item!r}: the value is not valid YAML ({str(err).splitlines()[0]}); write e.g. "
                             "SEEDS=[0,1] or 'METHODS=[bounded, npo]'") from None
    return out


def run_and_summarise(profile: str, parameters: dict | None = None, only: list[str] | None = None) -> int:
    """`run`, then print where the results are and, when notebook 05 ran, the headline summary."""
    t0, start_wall = time.perf_counter(), time.time()
    done = run(profile, parameters=parameters, only=only)
    cfg = get_profile(profile)
    print(f"ran {len(done)} notebook(s) in {time.perf_counter() - t0:.0f} s; results JSON under "
          f"{shown(cfg.run_dir())}, figures under {shown(cfg.figures_dir())}")
    summary = cfg.run_dir() / "05_figures.json"
    if summary.exists() and summary.stat().st_mtime >= start_wall:
        rec = json.loads(summary.read_text())
        print(headline_summary(rec["results"], rec["paths"]["report"], cfg.figures_dir()))
    return 0
