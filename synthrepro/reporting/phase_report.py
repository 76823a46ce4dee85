"""The phase map's section of REPORT.md and its summary sentences, generated from notebook 06's recorded numbers: if
the numbers change, the text changes."""
from __future__ import annotations

from pathlib import Path

from ..config import get_profile

#: The phase-map profile whose recorded map a world-track profile's notebook 05 redraws.
PHASE_OF = {"default": "phase", "smoke": "phase_smoke"}


def recorded_map(profile_name: str) -> Path | None:
    """The phase map's recorded JSON (notebook 06) that belongs with `profile_name`'s world track, if it exists."""
    name = PHASE_OF.get(profile_name)
    path = get_profile(name).figures_dir() / "phase_map.json" if name else None
    return path if path is not None and path.exists() else None


def _fmt(x: float) -> str:
    return f"{x:+.3f}"


def where_effect_lives(table: list[dict]) -> dict[str, list[str]]:
    """The synthetic arm's cells sorted into: the paper's effect (Delta HSR < 0 past 2 SE), the reverse (> 0 past
    2 SE) and no detectable effect; each named "r=…, step …"."""
    out: dict[str, list[str]] = {"effect": [], "reversed": [], "absent": []}
    for c in table:
        if not c["arm"].startswith("synthetic@"):
            continue
        name = f"r={c['ratio']:g}, step {c['step']}"
        key = {"holds": "effect", "does not hold": "reversed"}.get(c["verdict"], "absent")
        out[key].append(name)
    return out


#: Two-sided chance that a cell with no effect passes the 2-SE rule (normal approximation).
FALSE_PASS = 0.0455


def _part(table: list[dict], before: bool) -> str:
    w = where_effect_lives([c for c in table if (c["step"] == 0) == before])
    n = sum(len(v) for v in w.values())
    return (f"the paper's sign past 2 SE in {len(w['effect'])} of {n}"
            + (f" ({'; '.join(w['effect'])})" if w["effect"] else "")
            + f", the reverse in {len(w['reversed'])}" + (f" ({'; '.join(w['reversed'])})" if w["reversed"] else "")
            + f", no detectable difference in {len(w['absent'])}")


def summary_sentence(table: list[dict]) -> str:
    """Where the effect appears, reverses and is absent — before SFT and after it, separately — with the power and
    the number of passes that chance alone would give."""
    after = [c for c in table if c["arm"].startswith("synthetic@") and c["step"] > 0]
    mdes = [c["mde"] for c in after] or [float("nan")]
    return (f"Synthetic-arm cells before SFT (step 0): {_part(table, True)}. After SFT: {_part(table, False)}; with "
            f"{len(after)} cells tested at the 2-SE rule, chance alone gives about {FALSE_PASS * len(after):.1f} "
            f"passes. The smallest effect a cell after SFT could call (MDE, 2 SE) ranges {min(mdes):.3f}–"
            f"{max(mdes):.3f} HSR.")


def leak_sentence(table: list[dict]) -> str:
    """Leakage of each arm before SFT and at the first SFT step evaluated: how fast SFT erases the Q-A habit."""
    parts = []
    for arm in dict.fromkeys(c["arm"] for c in table):
        cells = sorted((c for c in table if c["arm"] == arm), key=lambda c: c["step"])
        if len(cells) > 1:
            parts.append(f"{arm} {cells[0]['leak_arm']:.2f} → {cells[1]['leak_arm']:.2f} after {cells[1]['step']} "
                         f"steps")
    ref = sorted(table, key=lambda c: c["step"])[0]["leak_reference"]
    return f"Leakage (SynthQA-shaped replies) before SFT → at the first SFT step evaluated: {'; '.join(parts)} " \
           f"(reference {ref:.2f} before SFT)."


def _table_md(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(format(r[c[0]], c[2]) if c[2] else str(r[c[0]]) for c in cols) + " |\n"
                   for r in rows)
    return head + body


def render_phase_section(rec: dict, figures: dict[str, str]) -> str:
    """REPORT.md's phase-map section from notebook 06's record: the design, the ratio table, the heatmap, the cells,
    the diverse-format control, the claim-4 cell (rule, choice, verdicts) and the commit."""
    table, cfg = rec["table"], rec["design"]
    lines = [
        f"## Phase map: where does pattern overfitting live? (notebook 06, profile `{rec['profile']}`)",
        "",
        f"Recorded by commit `{rec['commit'][:7]}`; {rec['n_seeds']} seeds; {rec['n_prompts']} fixed prompts "
        f"(held-out people and phrasings, levels {cfg['eval_levels']}). This run took {rec['seconds'] / 60:.1f} min "
        f"of wall time ({rec['reused_arms']} of {rec['n_arms']} arms' CPT and SFT reused from an earlier run of the "
        f"same configuration; CPT + SFT training time of the arms: {rec['train_seconds'] / 60:.1f} min). Δ HSR = synthetic − reference of the same seed on the same prompts (paired per prompt, combined "
        "over seeds; SE = the larger of the seed-spread and the pooled paired SE). A cell passes when |Δ| > 2 SE; "
        "its MDE is 2 SE.",
        "",
        f"**Design** (chosen by the reference arm's competence and the paper's proportions, before any gap was "
        f"seen): {cfg['summary']}",
        "",
        f"**Reference arm competence**: HSR after SFT {rec['reference_hsr']:.3f} (levels {cfg['eval_levels']}; the "
        "issue asks ≥ 0.4).",
        "",
        "**Proportions at the headline cell** (SynthQA share "
        f"{cfg['headline_ratio']:g}, SFT step {cfg['headline_step']}):",
        "",
        _table_md(rec["ratios"], [("ratio", "ratio", ""), ("here", "here", ".4g"), ("paper", "paper", "")]),
        f"![phase map]({figures['heatmap']})",
        "",
        f"![delta vs ratio]({figures['delta_vs_ratio']})",
        "",
        f"**Where the effect lives.** {summary_sentence(table)} {leak_sentence(table)}",
        "",
        _table_md([c for c in table if c["step"] > 0 or c["arm"].startswith("synthetic@")],
                  [("arm", "arm", ""), ("step", "SFT step", ""), ("synthqa_per_sft", "SynthQA/SFT", ".3g"),
                   ("reference_mean", "HSR ref", ".3f"), ("arm_mean", "HSR arm", ".3f"), ("delta", "Δ HSR", "+.3f"),
                   ("se", "SE", ".3f"), ("mde", "MDE", ".3f"), ("verdict", "claim 3", ""),
                   ("leak_reference", "leak ref", ".3f"), ("leak_arm", "leak arm", ".3f")]),
        "",
    ]
    if rec.get("diverse"):
        lines += ["**The diverse-format control** (same facts, many question-and-answer styles), paired at the "
                  "headline dose:", "",
                  _table_md(rec["diverse"], [("comparison", "comparison", ""), ("step", "step", ""),
                                             ("delta_hsr", "Δ HSR", "+.3f"), ("se_hsr", "SE", ".3f"),
                                             ("verdict_hsr", "verdict", ""), ("delta_leak", "Δ leak", "+.3f"),
                                             ("se_leak", "SE", ".3f")]), ""]
    c4 = rec.get("claim4")
    if c4:
        lines += [f"**Claim 4 at the chosen cell.** Rule (fixed in `config.CLAIM4_CELL_RULE` before the run): "
                  f"*{c4['cell']['rule']}* Chosen: r = {c4['cell']['ratio']:g}, SFT step {c4['cell']['step']} "
                  f"({c4['cell']['why']}).", "",
                  _table_md(c4["comparisons"], [("comparison", "comparison", ""), ("step", "step", ""),
                                                ("hsr_a", "HSR a", ".3f"), ("hsr_b", "HSR b", ".3f"),
                                                ("delta_hsr", "Δ HSR (b − a)", "+.3f"), ("se_hsr", "SE", ".3f"),
                                                ("verdict_hsr", "b > a (2 SE)", ""), ("leak_a", "leak a", ".3f"),
                                                ("leak_b", "leak b", ".3f"), ("verdict_leak_down", "leak down", "")]),
                  ""]
    lines += [f"Executed notebook: `notebooks/06_phase_map.ipynb`; data: `{rec['json']}`."]
    return "\n".join(lines)
