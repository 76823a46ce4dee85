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
from ..experiments.phase_map import recorded_suites, unpack_outcomes

__all__ = ["PREREGISTRATION", "instrument", "phase_endpoint", "phase_primary", "primary_record", "registered_instrument",
           "summarise", "write"]

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


def instrument(reg: dict, entry: dict, reference_hsr: dict[str, float]) -> dict:
    """Which suite is a track's primary instrument, by the pre-registered rule (`instrument_rule` of the file; an
    entry naming its own instrument keeps it): the rule's instrument when the reference arm's HSR on it
    (`reference_hsr`: suite → HSR pooled over the endpoint's steps and seeds) lies within `competence`, else the
    fallback; {"primary", "secondaries", "why", "reference_hsr"}. A record without the rule's instrument (runs before
    the ood suite existed) gets the fallback, said so."""
    rule = reg.get("instrument_rule") or {}
    want = entry.get("instrument", "by instrument_rule")
    if want != "by instrument_rule":
        primary, why = want, "named by the entry"
    elif rule.get("instrument") not in reference_hsr:
        primary, why = rule.get("fallback_instrument"), f"the run has no {rule.get('instrument')} suite"
    else:
        lo, hi = rule["competence"]
        h = reference_hsr[rule["instrument"]]
        ok = lo <= h <= hi
        primary = rule["instrument"] if ok else rule["fallback_instrument"]
        why = (f"reference HSR on {rule['instrument']} {h:.3f} {'within' if ok else 'outside'} the registered "
               f"competence [{lo:g}, {hi:g}]")
    return {"primary": primary, "secondaries": [k for k in reference_hsr if k != primary], "why": why,
            "reference_hsr": reference_hsr}


def registered_instrument(track: str, reference_hsr: dict[str, float], root: Path | None = None) -> dict:
    """`instrument` for a track's entry of configs/preregistration.yaml, read from the file."""
    reg = yaml.safe_load((Path(root or repo_root()) / PREREGISTRATION).read_text())
    return instrument(reg, reg["tracks"].get(track, {}), reference_hsr)


def _suite_of(name: str) -> str | None:
    """The prefix of a suite's outcomes in a phase map's rows (None: the first suite, "in_distribution")."""
    return None if name in ("in_distribution", "ifeval") else name


def phase_primary(rec: dict, arm: str, steps: list[int], suite: str | None = None) -> dict:
    """The phase map's primary endpoint: Delta HSR (arm − reference) with each prompt's outcome averaged over the
    pooled SFT `steps`, per seed, by `paired_effect` (on `suite`'s outcomes, its prompts grouped as recorded)."""
    rows = unpack_outcomes(rec["rows"])
    key = f"{suite}_hard" if suite else "hard"

    def pooled(label):
        return {r["seed"]: np.mean([r["outcomes"][str(s)][key] for s in steps], axis=0)
                for r in rows if r["label"] == label and all(str(s) in r["outcomes"] for s in steps)}
    e = paired_effect(pooled("reference"), pooled(arm), groups=(rec.get("suite_groups") or {}).get(suite))
    return {k: e[k] for k in ("diff", "se", "df", "ci95", "p", "mde", "n_seeds", "n_prompts", "method", "a_mean",
                              "b_mean")}


def phase_endpoint(reg: dict, entry: dict, rec: dict) -> dict:
    """A phase map's pre-registered endpoint on every suite it measured, the primary picked by `instrument`:
    {"instrument", "primary", "secondary": {suite: result}}."""
    arm = entry["comparison"].split(" - ")[0]
    results_ = {name: phase_primary(rec, arm, entry["sft_steps"], _suite_of(name)) for name in recorded_suites(rec["rows"])}
    which = instrument(reg, entry, {k: v["a_mean"] for k, v in results_.items()})
    return {"instrument": which, "primary": results_[which["primary"]],
            "secondary": {k: v for k, v in results_.items() if k != which["primary"]}}


def primary_record(profile_name: str, packed_rows: list[dict], root: Path | None = None,
                   groups: dict | None = None) -> dict:
    """For notebook 06: the profile's pre-registered primary endpoint (its entry of configs/preregistration.yaml, the
    test, alpha and the commit that fixed the file), the instrument the rule picks and the endpoint on every suite;
    {} for a profile with no entry (e.g. the smoke-size map)."""
    root = Path(root or repo_root())
    reg = yaml.safe_load((root / PREREGISTRATION).read_text())
    entry = reg["tracks"].get(profile_name)
    if entry is None:
        return {}
    return {"preregistration": {**entry, "test": reg["test"], "alpha": reg["alpha"],
                                "instrument_rule": reg.get("instrument_rule"),
                                "registration_commit": registration_commit(root)},
            **phase_endpoint(reg, entry, {"rows": packed_rows, "suite_groups": groups or {}})}


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
    fams = []
    for sfx, on in (("", ""), ("_ood", ", ood suite")):
        if not rec.get(f"table{sfx}"):
            continue
        table = rec[f"table{sfx}"]
        fams += [_family(f"claim 3 after SFT (every arm × step){on}", [cell(c) for c in table if c["step"] > 0]),
                 _family(f"before SFT{on}", [cell(c) for c in table if c["step"] == 0])]
        if rec.get(f"diverse{sfx}"):
            fams.append(_family(f"format control{on}", [comp(c, -1) for c in rec[f"diverse{sfx}"]]))
        if rec.get("claim4") and rec["claim4"].get(f"comparisons{sfx}"):
            fams.append(_family(f"claim 4{on}", [comp(c, +1) for c in rec["claim4"][f"comparisons{sfx}"]]))
    return fams


def summarise(root: Path | None = None) -> dict:
    """Primary endpoints and Holm-adjusted families of every committed world-track record (SOURCES)."""
    root = Path(root or repo_root())
    reg = yaml.safe_load((root / PREREGISTRATION).read_text())
    out = {"preregistration": str(PREREGISTRATION), "registration_commit": registration_commit(root),
           "test": reg["test"], "alpha": reg["alpha"], "tracks": {}}
    world = json.loads((root / SOURCES["world"]).read_text())
    comps = world["comparisons"]
    entry = reg["tracks"]["world"]
    by_suite = {"in_distribution": comps["claim3_hsr"], **({"ood": comps["claim3_hsr_ood"]}
                                                           if "claim3_hsr_ood" in comps else {})}
    which = instrument(reg, entry, {k: v["a_mean"] for k, v in by_suite.items()})
    out["tracks"]["world"] = {
        "source": SOURCES["world"], "run_commits": sorted(set(world["commits"].values())),
        "primary": {**entry, "instrument": which, "result": by_suite[which["primary"]],
                    "secondary": {k: v for k, v in by_suite.items() if k != which["primary"]}},
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
            end = phase_endpoint(reg, p, rec)
            entry["primary"] = {**p, "instrument": end["instrument"], "result": end["primary"],
                                "secondary": end["secondary"]}
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
