"""Every committed verdict of the world headline and the phase maps, from committed JSON alone: the pre-registered
primary endpoint of each track (configs/preregistration.yaml) and, per family of exploratory comparisons, Holm-adjusted
verdicts. `python -m synthrepro.reporting.inference` writes figures/inference/verdicts.json; a test re-derives it.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import yaml

from ..config import repo_root
from ..evaluation.stats import holm, paired_effect, verdict
from ..experiments.phase_map import unpack_outcomes

__all__ = ["PREREGISTRATION", "phase_primary", "primary_record", "summarise", "write"]

PREREGISTRATION = Path("configs") / "preregistration.yaml"
#: The committed records this summary reads (relative to the repository).
SOURCES = {"world": "figures/results.json", "phase": "figures/phase/phase_map.json",
           "phase_2m": "figures/phase/spot_check_2m/phase_map.json",
           "phase_overlap": "figures/phase/spot_check_overlap/phase_map.json",
           "pretrained_phase": "figures/pretrained_phase/phase_map.json",
           "pretrained_phase_imend": "figures/pretrained_phase_imend/phase_map.json"}


def registration_commit(root: Path) -> str:
    """The last commit that changed configs/preregistration.yaml ("uncommitted" outside git or before its commit)."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%H", "--", str(PREREGISTRATION)], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    return out or "uncommitted"


def phase_primary(rec: dict, arm: str, steps: list[int]) -> dict:
    """The phase map's primary endpoint: Delta HSR (arm − reference) with each prompt's outcome averaged over the
    pooled SFT `steps`, per seed, by `paired_effect`."""
    rows = unpack_outcomes(rec["rows"])

    def pooled(label):
        return {r["seed"]: np.mean([r["outcomes"][str(s)]["hard"] for s in steps], axis=0)
                for r in rows if r["label"] == label and all(str(s) in r["outcomes"] for s in steps)}
    e = paired_effect(pooled("reference"), pooled(arm))
    return {k: e[k] for k in ("diff", "se", "df", "ci95", "p", "mde", "n_seeds", "n_prompts", "method")}


def primary_record(profile_name: str, packed_rows: list[dict], root: Path | None = None) -> dict:
    """For notebook 06: the profile's pre-registered primary endpoint (its entry of configs/preregistration.yaml, the
    test, alpha and the commit that fixed the file) and its result on the map's packed rows; {} for a profile with
    no entry (e.g. the smoke-size map)."""
    root = Path(root or repo_root())
    reg = yaml.safe_load((root / PREREGISTRATION).read_text())
    entry = reg["tracks"].get(profile_name)
    if entry is None:
        return {}
    arm = entry["comparison"].split(" - ")[0]
    return {"preregistration": {**entry, "test": reg["test"], "alpha": reg["alpha"],
                                "registration_commit": registration_commit(root)},
            "primary": phase_primary({"rows": packed_rows}, arm, entry["sft_steps"])}


def _family(name: str, items: list[tuple[str, dict, int]]) -> dict:
    """Holm over a family of (label, comparison with `p`, `diff`, `ci95`, expected sign)."""
    adj = holm([c.get("p", float("nan")) for _, c, _ in items])
    out = []
    for (label, c, sign), h in zip(items, adj):
        v = c.get("verdict") or verdict(c, sign)
        holm_v = v if v in ("within noise", "one seed") else (v if h["reject_holm"] else "within noise")
        out.append({"comparison": label, "diff": c["diff"], "ci95": c.get("ci95"), "p": c.get("p"),
                    "p_holm": h["p_holm"], "verdict": v, "verdict_holm": holm_v})
    return {"family": name, "n": len(items), "comparisons": out}


def _phase_families(rec: dict) -> list[dict]:
    """The phase map's families: cells after SFT, cells before SFT, the format control, claim 4."""
    def cell(c):
        return (f"{c['arm']} step {c['step']}", {"diff": c["delta"], "ci95": c["ci95"], "p": c["p"], "df": c["df"],
                                                 "verdict": c["verdict"]}, -1)

    def comp(c, sign):
        return (f"{c['comparison']} step {c['step']}", {"diff": c["delta_hsr"], "ci95": c["ci95_hsr"],
                                                        "p": c["p_hsr"], "df": c["df_hsr"],
                                                        "verdict": c["verdict_hsr"]}, sign)
    fams = [_family("claim 3 after SFT (every arm × step)", [cell(c) for c in rec["table"] if c["step"] > 0]),
            _family("before SFT", [cell(c) for c in rec["table"] if c["step"] == 0])]
    if rec.get("diverse"):
        fams.append(_family("format control", [comp(c, -1) for c in rec["diverse"]]))
    if rec.get("claim4"):
        fams.append(_family("claim 4", [comp(c, +1) for c in rec["claim4"]["comparisons"]]))
    return fams


def summarise(root: Path | None = None) -> dict:
    """Primary endpoints and Holm-adjusted families of every committed world-track record (SOURCES)."""
    root = Path(root or repo_root())
    reg = yaml.safe_load((root / PREREGISTRATION).read_text())
    out = {"preregistration": str(PREREGISTRATION), "registration_commit": registration_commit(root),
           "test": reg["test"], "alpha": reg["alpha"], "tracks": {}}
    world = json.loads((root / SOURCES["world"]).read_text())
    comps = world["comparisons"]
    out["tracks"]["world"] = {
        "source": SOURCES["world"], "run_commits": sorted(set(world["commits"].values())),
        "primary": {**reg["tracks"]["world"], "result": comps["claim3_hsr"]},
        "families": [_family("claims 1–3 and leakage (synthetic − reference)",
                             [(k, comps[k], comps[k]["expected_sign"]) for k in comps
                              if k.startswith(("claim1", "claim2", "claim3", "leakage"))]),
                     _family("claim 4 and dilution", [(k, comps[k], comps[k]["expected_sign"]) for k in comps
                                                       if k.startswith(("claim4", "dilution"))])]}
    for track in ("phase", "phase_2m", "phase_overlap", "pretrained_phase", "pretrained_phase_imend"):
        rec = json.loads((root / SOURCES[track]).read_text())
        entry = {"source": SOURCES[track], "run_commits": [rec["commit"]], "families": _phase_families(rec)}
        if track in reg["tracks"]:
            p = reg["tracks"][track]
            arm = p["comparison"].split(" - ")[0]
            entry["primary"] = {**p, "result": phase_primary(rec, arm, p["sft_steps"])}
        out["tracks"][track] = entry
    return out


def write(root: Path | None = None) -> Path:
    root = Path(root or repo_root())
    path = root / "figures" / "inference" / "verdicts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summarise(root), indent=1, default=float) + "\n")
    return path


if __name__ == "__main__":
    print(write())
