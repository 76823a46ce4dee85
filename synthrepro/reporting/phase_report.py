"""The phase map's section of REPORT.md and its summary sentences, generated from notebook 06's recorded numbers: if
the numbers change, the text changes."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..config import get_profile, repo_root, shown
from ..evaluation.suites import pick_leaked
from ..experiments.phase_map import dose_rule_text, recompute
from ..records.results import write_json_atomic
from .plots import phase_figures
from .report import write_section

#: The phase-map profile whose recorded map a world-track profile's notebook 05 redraws.
PHASE_OF = {"default": "phase", "smoke": "phase_smoke"}
#: The world's phase-map profiles (their notebook 06 is notebooks/06_phase_map.ipynb, their section "phase").
WORLD_MAPS = frozenset(PHASE_OF.values())


def recorded_map(profile_name: str) -> Path | None:
    """The phase map's recorded JSON (notebook 06) that belongs with `profile_name`'s world track, if it exists."""
    name = PHASE_OF.get(profile_name)
    path = get_profile(name).figures_dir() / "phase_map.json" if name else None
    return path if path is not None and path.exists() else None


def published_notebook(profile_name: str) -> str:
    """The executed notebook 06 that the report names: where `--publish` puts the map's (`Profile.notebooks_dir`); the
    world's smoke-size map names the committed notebooks/06_phase_map.ipynb, which nbval re-runs at that size."""
    name = "phase" if profile_name in WORLD_MAPS else profile_name
    try:
        profile = get_profile(name)
    except ValueError:  # a spot check's profile file (configs/<name>.yaml)
        profile = get_profile(str(repo_root() / "configs" / f"{name}.yaml"))
    return shown(profile.notebooks_dir() / "06_phase_map.ipynb")


def section_name(profile_name: str) -> str:
    """The REPORT.md section notebook 06 writes for a profile: "phase" for the world's map (and its smoke size), the
    profile's own name otherwise (`pretrained_phase`: the pretrained witness)."""
    return "phase" if profile_name in WORLD_MAPS else profile_name


#: How the pretrained witness's design was chosen (recorded with its map; the rule's pilots are committed under
#: `phase_map.PILOTS_DIR`).
WITNESS_CHOSEN_BY = (f"one criterion fixed before the pilots ran: {dose_rule_text()}; the SFT's length by SynthQA/SFT "
                     "≥ 5 on loss tokens at its last step; never an IFEval gap")


def design_record(cfg, base_info: dict, head_step: int) -> dict:
    """The design notebook 06 records and REPORT.md states: the headline cell, a one-line summary of the world or
    of the given base model's run, how the prompts were drawn and how the design was chosen."""
    d, c, f = cfg.data, cfg.cpt, cfg.sft.train
    out = {"eval_levels": list(d.eval_levels), "headline_ratio": c.synth_ratio, "headline_step": head_step}
    if cfg.base_model is None:
        return {**out, "summary": (
            f"{base_info.get('parameters', 0):,}-parameter model pre-trained on {base_info.get('tokens') or 0:,} "
            f"tokens (biographies + {d.pretrain_instructions:,} chat-formatted instructions); constraints "
            f"{list(d.constraint_types or ['all'])}; SynthQA topic {d.synthqa_topic}; CPT {c.train.tokens:,} tokens "
            f"per arm; SFT {f.max_steps} steps × {f.batch_size} examples.")}
    e = cfg.eval
    n = "all 541" if e.ifeval_prompts is None else f"a seeded subset of {e.ifeval_prompts}"
    return {**out, "prompts": f"IFEval, {n} prompts, greedy replies ≤ {e.max_new_tokens} tokens",
            "competence": "IFEval prompt-level strict accuracy", "chosen_by": WITNESS_CHOSEN_BY,
            "summary": (f"{base_info.get('source')} ({base_info.get('parameters', 0):,} parameters, not trained here); "
                        f"CPT {c.train.tokens:,} tokens per arm ({c.train.max_steps} steps × {c.train.batch_size} × "
                        f"{c.train.block_size}) at lr {c.train.lr:g} on {d.n_people} people's biographies, the "
                        f"synthetic arm {c.synth_ratio:.0%} {d.qa_generator.replace('_', '-')} "
                        f"`Question: … Answer: …` pairs separated by "
                        f"`{c.separator}`; SFT {f.max_steps} steps × {f.batch_size} {d.sft_source} rows (≤ "
                        f"{f.block_size} tokens) at lr {f.lr:g}; unlearning at lr {cfg.unlearn.train.lr:g} on "
                        f"{cfg.unlearn.budget_fraction:.0%} of the CPT tokens.")}


def leaked_examples(rows: list[dict], step: int, n: int = 4, width: int = 300) -> list[dict]:
    """Up to `n` leaked replies at SFT `step` (one per arm and seed first), each with its arm, seed, step, prompt, the
    reply from just before its first `Question:` line, cut at `width` characters, and what the checkers said
    (`hard`: every instruction followed; `soft`: the share followed) — a leak the checkers pass is a finding."""
    return pick_leaked([({"arm": r["label"], "seed": r["seed"], "step": step},
                         r["outcomes"].get(str(step), {}).get("leaked", [])) for r in rows], n, width)


def _fmt(x: float) -> str:
    return f"{x:+.3f}"


def where_effect_lives(table: list[dict]) -> dict[str, list[str]]:
    """The synthetic arm's cells sorted into: the paper's effect (Delta HSR < 0, interval excluding 0), the reverse
    (> 0, interval excluding 0) and no detectable effect; each named "r=…, step …"."""
    out: dict[str, list[str]] = {"effect": [], "reversed": [], "absent": []}
    for c in table:
        if not c["arm"].startswith("synthetic@"):
            continue
        name = f"r={c['ratio']:g}, step {c['step']}"
        key = {"holds": "effect", "does not hold": "reversed"}.get(c["verdict"], "absent")
        out[key].append(name)
    return out


#: Two-sided chance that a cell with no effect passes the interval rule (its level: evaluation.stats.ALPHA).
FALSE_PASS = 0.05


def _part(table: list[dict], before: bool) -> str:
    w = where_effect_lives([c for c in table if (c["step"] == 0) == before])
    n = sum(len(v) for v in w.values())
    return (f"the paper's sign, interval excluding 0, in {len(w['effect'])} of {n}"
            + (f" ({'; '.join(w['effect'])})" if w["effect"] else "")
            + f", the reverse in {len(w['reversed'])}" + (f" ({'; '.join(w['reversed'])})" if w["reversed"] else "")
            + f", no detectable difference in {len(w['absent'])}")


def summary_sentence(table: list[dict]) -> str:
    """Where the effect appears, reverses and is absent — before SFT and after it, separately — with the power and
    the number of passes that chance alone would give."""
    after = [c for c in table if c["arm"].startswith("synthetic@") and c["step"] > 0]
    mdes = [c["mde"] for c in after] or [float("nan")]
    return (f"Synthetic-arm cells before SFT (step 0): {_part(table, True)}. After SFT: {_part(table, False)}; with "
            f"{len(after)} cells tested at the 95 % interval rule, chance alone gives about "
            f"{FALSE_PASS * len(after):.1f} passes. The smallest effect a cell after SFT could call (MDE, t·SE) ranges "
            f"{min(mdes):.3f}–"
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


#: How the report names each suite's cells (a phase map's `table` and `table_ood`).
SUITE_TITLES = {"table": "in-distribution suite (the project's held-out phrasings and task templates)",
                "table_ood": "ood suite (IFEval's wording of the constraints, task templates written apart)"}


def _primary_lines(rec: dict) -> list[str]:
    """The pre-registered primary endpoint's result, where notebook 06 recorded one (`inference.primary_record`): on
    the instrument the registered rule picked, with the other suite's beside it as secondary."""
    reg, res = rec.get("preregistration"), rec.get("primary")
    if not reg or not res:
        return []

    def result(r):
        lo, hi = r["ci95"]
        return (f"{r['diff']:+.3f}, 95 % CI [{lo:+.3f}, {hi:+.3f}] ({r['df']:.1f} df, {r['n_seeds']} seeds × "
                f"{r['n_prompts']} prompts)")
    inst = rec.get("instrument") or {}
    on = f" on the {inst['primary']} suite ({inst['why']})" if inst.get("primary") else ""
    second = "".join(f" Secondary, the same endpoint on the {k} suite: {result(r)}."
                     for k, r in (rec.get("secondary") or {}).items())
    return [f"**Primary endpoint** (`configs/preregistration.yaml` at `{reg['registration_commit'][:7]}`, "
            f"{reg['registered']}): {reg['metric']}{on}, {reg['comparison']}, SFT steps {reg['sft_steps']} pooled: "
            f"{result(res)}.{second} Every other comparison here is exploratory.", ""]


def _cells_md(table: list[dict]) -> str:
    return _table_md([{**c, "ci": _ci(c.get("ci95"))} for c in table
                      if c["step"] > 0 or c["arm"].startswith("synthetic@")],
                     [("arm", "arm", ""), ("step", "SFT step", ""), ("synthqa_per_sft", "SynthQA/SFT", ".3g"),
                      ("reference_mean", "HSR ref", ".3f"), ("arm_mean", "HSR arm", ".3f"), ("delta", "Δ HSR", "+.3f"),
                      ("se", "SE", ".3f"), ("ci", "95 % CI", ""), ("df", "df", ".1f"), ("mde", "MDE", ".3f"),
                      ("verdict", "claim 3", ""), *_before_col(table),
                      ("leak_reference", "leak ref", ".3f"), ("leak_arm", "leak arm", ".3f"), *_any_cols(table)])


def _comparisons_md(items: list[dict]) -> str:
    return _table_md([{**c, "ci": _ci(c.get("ci95_hsr"))} for c in items],
                     [("comparison", "comparison", ""), ("step", "step", ""),
                      ("delta_hsr", "Δ HSR", "+.3f"), ("se_hsr", "SE", ".3f"), ("ci", "95 % CI", ""),
                      ("verdict_hsr", "verdict", ""), *_before_col(items),
                      ("delta_leak", "Δ leak", "+.3f"), ("se_leak", "SE", ".3f"), *_any_cols(items)])


def _claim4_md(items: list[dict]) -> str:
    return _table_md([{**c, "ci": _ci(c.get("ci95_hsr"))} for c in items],
                     [("comparison", "comparison", ""), ("step", "step", ""), ("hsr_a", "HSR a", ".3f"),
                      ("hsr_b", "HSR b", ".3f"), ("delta_hsr", "Δ HSR (b − a)", "+.3f"), ("se_hsr", "SE", ".3f"),
                      ("ci", "95 % CI", ""), ("verdict_hsr", "b > a (95 % CI)", ""), *_before_col(items),
                      ("leak_a", "leak a", ".3f"), ("leak_b", "leak b", ".3f"), ("verdict_leak_down", "leak down", "")])


def _before_col(items: list[dict]) -> list[tuple[str, str, str]]:
    """The verdict of the replaced 2-SE rule, for a record recomputed by `phase_map.recompute`."""
    return [("verdict_before", "2-SE rule (replaced)", "")] if all("verdict_before" in c for c in items) else []


def _any_cols(items: list[dict]) -> list[tuple[str, str, str]]:
    """Columns of the layout-agnostic leak (`leak_any`), for records that hold it."""
    if not all("leak_any_b" in c for c in items):
        return []
    return [("leak_any_a", "leak any layout a", ".3f"), ("leak_any_b", "leak any layout b", ".3f")]


def _ci(ci) -> str:
    """A 95 % interval for a table cell ("" when not recorded; "one seed" without one)."""
    if not ci:
        return ""
    return "one seed" if ci[0] != ci[0] else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _cell_now(rec: dict) -> list[str]:
    """A sentence when the claim-4 rule, applied with today's verdict rule, picks another cell than the one claim 4
    was run at (the recorded run is not redone: `phase_map.recompute`)."""
    now, c4 = rec.get("claim4_cell_now"), rec.get("claim4")
    if not now or not c4 or (now["ratio"], now["step"]) == (c4["cell"]["ratio"], c4["cell"]["step"]):
        return []
    return [f"*Recomputed with the current verdict rule (docs/statistics.md), the rule would pick r = "
            f"{now['ratio']:g}, SFT step {now['step']} ({now['why']}); claim 4 was run at the cell above, picked by "
            f"the "
            f"replaced 2-SE rule, and is reported there. Its verdicts below are recomputed; it has not been re-run at "
            f"the new cell.*", ""]


def republish(json_path: Path, report_path: Path) -> dict:
    """Recompute a committed phase map's comparisons from its per-prompt outcomes with the current inference routine
    (`phase_map.recompute`), rewrite its JSON, redraw its figures beside it and rewrite its REPORT.md section; no
    model is loaded. Returns the recomputed record."""
    json_path, report_path = Path(json_path), Path(report_path)
    rec = recompute(json.loads(json_path.read_text()))
    write_json_atomic(json_path, rec)
    figures = phase_figures(rec["table"], json_path.parent)
    if rec.get("table_ood"):
        figures.update({f"{k}_ood": v for k, v in phase_figures(rec["table_ood"], json_path.parent / "ood", "ood").items()})
    rel = {k: os.path.relpath(p, report_path.parent) for k, p in figures.items()}
    body = {k: v for k, v in rec.items() if k != "rows"}
    section = render_phase_section(body, rel)
    name = section_name(rec["profile"])
    if report_path.parent == json_path.parent:  # a spot check's own report: the one section it holds
        name = (re.findall(r"<!-- track:(\S+) -->", report_path.read_text()) or [name])[0]
    write_section(report_path, name, section)
    return rec


def _cell(text: str, width: int = 160) -> str:
    """Text fit for one markdown table cell: one line, pipes escaped, cut at `width` characters."""
    one = " ".join(text.split()).replace("|", "\\|")
    return one if len(one) <= width else one[:width - 1] + "…"


def _table_md(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join("–" if r[c[0]] is None else format(r[c[0]], c[2]) if c[2] else str(r[c[0]])
                                     for c in cols) + " |\n" for r in rows)
    return head + body


def render_phase_section(rec: dict, figures: dict[str, str]) -> str:
    """REPORT.md's phase-map section from notebook 06's record: the design, the ratio table, the heatmap, the cells,
    the diverse-format control, the claim-4 cell (rule, choice, verdicts) and the commit."""
    table, cfg = rec["table"], rec["design"]
    prompts = cfg.get("prompts") or f"held-out people and phrasings, levels {cfg['eval_levels']}"
    competence = cfg.get("competence") or f"levels {cfg['eval_levels']}; the issue asks ≥ 0.4"
    chosen_by = cfg.get("chosen_by") or "the reference arm's competence and the paper's proportions"
    lines = [
        f"## Phase map: where does pattern overfitting live? (notebook 06, profile `{rec['profile']}`)",
        "",
        f"Recorded by commit `{rec['commit'][:7]}`; {rec['n_seeds']} seeds; {rec['n_prompts']} fixed prompts "
        f"({prompts}). This run took {rec['seconds'] / 60:.1f} min "
        f"of wall time ({rec['reused_arms']} of {rec['n_arms']} arms' CPT and SFT reused from an earlier run of the "
        f"same configuration; CPT + SFT training time of the arms: {rec['train_seconds'] / 60:.1f} min). Δ HSR = synthetic − reference of the same seed on the same prompts (paired per prompt, combined "
        "over seeds; the SE counts prompts and seeds as samples: crossed random effects, Satterthwaite's degrees of "
        "freedom; docs/statistics.md). A cell passes when its 95 % interval excludes 0; its MDE is t·SE.",
        "",
        f"**Design** (chosen by {chosen_by}, before any gap was seen): {cfg['summary']}",
        "",
        f"**Reference arm competence**: HSR after SFT {rec['reference_hsr']:.3f} ({competence}).",
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
        *_primary_lines(rec),
        *([f"**{SUITE_TITLES['table']}**", ""] if rec.get("table_ood") else []),
        _cells_md(table),
        "",
    ]
    if rec.get("table_ood"):
        t = rec["table_ood"]
        ref = next((c["reference_mean"] for c in t if c["step"] == cfg["headline_step"]), float("nan"))
        lines += [f"**{SUITE_TITLES['table_ood']}** — the same arms, steps and seeds on prompts whose words the SFT "
                  f"never saw (`data.ood`; the SE also counts task templates and phrasings as samples: "
                  f"cluster-robust). Reference arm competence there: HSR {ref:.3f} at step {cfg['headline_step']}.",
                  "", *([f"![phase map, ood suite]({figures['heatmap_ood']})", ""] if "heatmap_ood" in figures else []),
                  f"**Where the effect lives on the ood suite.** {summary_sentence(t)} {leak_sentence(t)}", "",
                  _cells_md(t), ""]
    for sfx, on in (("", ""), ("_ood", ", on the ood suite")):
        if rec.get(f"diverse{sfx}"):
            lines += [f"**The diverse-format control{on}** (same facts, many question-and-answer styles), paired at "
                      "the headline dose:", "", _comparisons_md(rec[f"diverse{sfx}"]), ""]
    if rec.get("leaked"):
        lines += ["**Leaked replies and what the checkers said** (a reply with a `Question:`/`Answer:` line; `hard` = "
                  "every instruction followed, `soft` = the share followed):", "",
                  _table_md([{**e, "prompt": _cell(e["prompt"]), "reply": _cell(e["reply"])} for e in rec["leaked"]],
                            [("arm", "arm", ""), ("seed", "seed", ""), ("step", "SFT step", ""),
                             ("prompt", "prompt", ""), ("reply", "reply", ""), ("hard", "hard", ""),
                             ("soft", "soft", ".2f")]), ""]
    c4 = rec.get("claim4")
    if c4:
        lines += [f"**Claim 4 at the chosen cell.** Rule (fixed in `config.CLAIM4_CELL_RULE` before the run): "
                  f"*{c4['cell']['rule']}* Chosen: r = {c4['cell']['ratio']:g}, SFT step {c4['cell']['step']} "
                  f"({c4['cell']['why']}).", "", *_cell_now(rec),
                  *([f"On the {SUITE_TITLES['table']}:", ""] if c4.get("comparisons_ood") else []),
                  _claim4_md(c4["comparisons"]), ""]
        if c4.get("comparisons_ood"):
            lines += [f"On the {SUITE_TITLES['table_ood']}:", "", _claim4_md(c4["comparisons_ood"]), ""]
    lines += [f"Executed notebook: `{published_notebook(rec['profile'])}`; data: `{rec['json']}`."]
    return "\n".join(lines)
