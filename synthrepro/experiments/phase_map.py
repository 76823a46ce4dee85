"""The phase map (notebook 06): where does pattern overfitting live?

Every seed trains the reference arm (dose 0), the synthetic arm at each SynthQA dose and (optionally) the
diverse-format control, each followed by the identical SFT; every arm is evaluated on the same fixed prompts at each
SFT step of `profile.phase.steps`, one outcome per prompt. A cell (dose, step) compares the synthetic arm with the
reference arm of the same seed, paired per prompt (`evaluation.stats.paired_effect`). The claim-4 cell is picked by
`config.CLAIM4_CELL_RULE`, written down before any map is computed; there the unlearning methods run and are
compared the same way.

Directions: HSR (all constraints met) — higher is better, so a negative Delta HSR (synthetic − reference) is the
paper's claim 3; leakage (SynthQA-shaped replies) — lower is better.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from ..config import CLAIM4_CELL_RULE, EvalConfig, repo_root, resolve_path, shown
from ..data.build import load_world
from ..evaluation.stats import paired_effect, verdict
from ..evaluation.suites import leaked_replies, make_suites
from ..models.generation import generate
from ..models.loading import generation_model, load_model
from ..models.tokenizer import load_tokenizer
from ..records.progress import progress
from ..records.results import cached_json
from ..training.packing import sft_example
from ..training.runner import stage_info
from ..training.stages import cpt, sft, sft_checkpoints
from ..unlearning.stage import unlearn
from .arm_evaluation import generation_key
from .costs import PAPER_PROPORTIONS
from .unlearning_runs import unlearning_jobs

__all__ = ["CLAIM4_CELL_RULE", "arm_label", "cell_table", "check_phase", "choose_claim4_cell",
           "claim4_comparisons", "claim4_jobs", "comparisons", "diverse_comparisons", "evaluate_checkpoint",
           "evaluate_suites", "PACKED", "pack_bits", "pack_outcomes", "phase_jobs", "primary_table", "recompute",
           "recorded_suites",
           "run_claim4", "sft_tokens", "suite_groups", "suite_tables", "token_ratios", "train_and_evaluate", "unpack_outcomes"]


def arm_label(arm: str, ratio: float) -> str:
    """`reference`, `synthetic@0.25`, `diverse@0.25`, `dilution@0.25`, `unlearned:bounded@0.25`."""
    return "reference" if arm == "reference" else f"{arm}@{ratio:g}"


def phase_jobs(profile) -> list[tuple[str, int, float]]:
    """Every (arm, seed, SynthQA ratio) of the map: for each seed the reference arm, the synthetic arm at each dose
    and, with `phase.diverse`, the diverse-format control at the profile's SynthQA ratio."""
    pm = profile.phase
    jobs = []
    for seed in profile.seeds:
        jobs.append(("reference", seed, 0.0))
        jobs += [("synthetic", seed, float(r)) for r in pm.doses]
        if pm.diverse:
            jobs.append(("diverse", seed, float(profile.cpt.synth_ratio)))
    return jobs


#: The pretrained witness's dose rule, fixed before its pilots ran: the CPT learning rates tried (48 steps × 8 × 128
#: tokens, 50 % SynthQA, documents separated by <|endoftext|>) and how many of the 32 fixed probe replies must be Q-A
#: shaped before SFT for the habit to count as installed. `pick_dose` applies it to the pilots' records.
DOSE_LADDER = (5e-5, 1e-4, 2e-4)
DOSE_MIN_LEAKS = 8
DOSE_PILOT = {"steps": 48, "batch": 8, "block": 128, "ratio": 0.5, "prompts": 32, "separator": "<|endoftext|>"}


def pick_dose(pilots: list[dict]) -> float | None:
    """The dose rule on pilot records (`benchmarks/pretrained_probe.py` JSON, committed under
    figures/pretrained_phase/pilots/): the smallest learning rate of `DOSE_LADDER` whose synthetic arm, in a pilot with
    the `DOSE_PILOT` settings, leaks in at least `DOSE_MIN_LEAKS` probe replies; None when none does. Pilots with
    other settings (the separator axis) never choose."""
    passing = [p["args"]["lr"] for p in pilots
               if all(p["args"].get(k) == v for k, v in DOSE_PILOT.items()) and p["args"]["lr"] in DOSE_LADDER
               and p["arms"]["synthetic"]["leak_rate"]["correct"] >= DOSE_MIN_LEAKS]
    return min(passing) if passing else None


#: Where the pilots' records are committed (`benchmarks/pretrained_probe.py` JSON).
PILOTS_DIR = Path("figures") / "pretrained_phase" / "pilots"


def _lr(x: float) -> str:
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def dose_rule_text() -> str:
    """The dose rule in words, from the constants `pick_dose` applies."""
    p = DOSE_PILOT
    return (f"the smallest CPT learning rate (of {' / '.join(_lr(x) for x in DOSE_LADDER)} at {p['steps']} steps × "
            f"{p['batch']} × {p['block']} tokens, {p['ratio'] * 100:.0f} % SynthQA) whose synthetic arm writes Q-A "
            f"shaped replies to ≥ {DOSE_MIN_LEAKS} of the {p['prompts']} fixed probe prompts before SFT")


def committed_pilots() -> list[dict]:
    """The pilots' records committed under `PILOTS_DIR`, in file order."""
    return [json.loads(p.read_text()) for p in sorted((repo_root() / PILOTS_DIR).glob("*.json"))]


def dose_rule_applies(cpt_cfg) -> bool:
    """Whether a CPT configuration is the one the pilots tried (steps, batch, block, SynthQA share, separator), so that
    the rule speaks to its learning rate."""
    t, p = cpt_cfg.train, DOSE_PILOT
    return ((t.max_steps, t.batch_size, t.block_size, cpt_cfg.synth_ratio, cpt_cfg.separator)
            == (p["steps"], p["batch"], p["block"], p["ratio"], p["separator"]))


def pilot_rows(pilots: list[dict]) -> list[dict]:
    """One row per pilot for a table: learning rate, separator, probe replies with Q-A lines, IFEval strict on the
    probe (seen, never used to choose), CPT tokens/s and wall seconds."""
    rows = []
    for p in sorted(pilots, key=lambda p: (p["args"]["separator"] != DOSE_PILOT["separator"], p["args"]["lr"])):
        a, syn = p["args"], p["arms"]["synthetic"]
        rows.append({"CPT lr": a["lr"], "separator": a["separator"],
                     "leaking probe replies": f"{syn['leak_rate']['correct']}/{syn['leak_rate']['total']}",
                     "prompt-level strict": f"{syn['prompt_strict']['correct']}/{syn['prompt_strict']['total']}",
                     "CPT tokens/s": syn["cpt_tokens_per_s"], "seconds": syn["seconds"]})
    return rows


def evaluate_checkpoint(path: Path, suite, ecfg: EvalConfig, cache_dir: Path) -> dict:
    """One outcome per prompt of `suite` (`suite.outcomes`: hard, soft, leak, level), the first replies and every
    leaked reply (up to `suites.LEAKED_KEPT`, with its prompt and what the checkers said of it), for the checkpoint
    at `path`; kept in `cache_dir` under a key of everything it depends on (a rerun reuses it, a retrained
    checkpoint never does)."""
    return cached_json(Path(cache_dir) / f"{generation_key(path, suite.rows, ecfg)}.json",
                       lambda: _outcomes(path, suite, ecfg))


def evaluate_suites(path: Path, suites: dict, ecfg: EvalConfig, cache_dir: Path) -> dict:
    """`evaluate_checkpoint` on every suite of `suites` (`suites.make_suites`), as one step's outcomes: the first
    suite's keys as they are, every other suite's prefixed with its name ("ood_hard", "ood_leak", …)."""
    first, *others = suites
    out = dict(evaluate_checkpoint(path, suites[first], ecfg, cache_dir))
    for name in others:
        out.update({f"{name}_{k}": v for k, v in evaluate_checkpoint(path, suites[name], ecfg, cache_dir).items()})
    return out


def suite_groups(suites: dict) -> dict[str, list]:
    """{suite name: per-prompt groups} for the suites written from sampled templates and phrasings (`Suite.groups`),
    recorded with a map so that every comparison on them can be recomputed from its JSON."""
    return {name: g for name, s in suites.items() if (g := s.groups()) is not None}


def _outcomes(path: Path, suite, ecfg: EvalConfig) -> dict:
    """`evaluate_checkpoint`'s record, computed: greedy replies (shortest prompts batched together), then scored."""
    model, tok = load_model(path), load_tokenizer(path)
    order = sorted(range(len(suite.prompts)), key=lambda i: len(suite.prompts[i]))  # less padding per batch
    replies = generate(generation_model(model, ecfg.generation_bf16), tok, [suite.prompts[i] for i in order],
                       ecfg.max_new_tokens, ecfg.batch_size, batch_tokens=ecfg.batch_tokens)
    responses = [""] * len(order)
    for i, r in zip(order, replies):
        responses[i] = r
    out = {**suite.outcomes(responses), "replies": responses[:8]}
    out["leaked"] = leaked_replies(suite.prompts, responses, out)
    return out


def sft_tokens(tok, ds, steps: int, batch_size: int, block_size: int | None = None) -> tuple[int, int]:
    """(SFT tokens that carry loss — the replies and their turn ends —, all SFT tokens — chat-formatted prompt and
    reply, no padding) in `steps` steps of `batch_size` examples: mean lengths over the SFT split (its first 2,000
    rows) times the examples seen; each example cut at `block_size` as training cuts it (`sft_example`; None: whole)."""
    rows = ds["sft"]
    n = min(len(rows), 2000)
    examples = [sft_example(tok, rows[i]["prompt"], rows[i]["response"], block_size or 10**9) for i in range(n)]
    loss = sum(sum(1 for x in e["labels"] if x != -100) for e in examples)
    total = sum(len(e["input_ids"]) for e in examples)
    return round(loss / n * steps * batch_size), round(total / n * steps * batch_size)


def train_and_evaluate(profile, data_dir: Path, base: Path) -> list[dict]:
    """CPT, the identical SFT and the evaluation at every step of `profile.phase.steps`, for every job of
    `phase_jobs`; one row per (arm, seed) with the outcomes per step and the token counts."""
    ds, _ = load_world(data_dir)
    if profile.phase.diverse and "synthqa_diverse" not in ds:
        raise ValueError("phase.diverse needs the world's diverse-format SynthQA: set data.diverse_qa: true in the "
                         "profile (or phase.diverse: false)")
    check_phase(profile)
    suites, run_dir = make_suites(profile.eval, ds), profile.run_dir()
    rows = []
    for arm, seed, ratio in progress(phase_jobs(profile), desc="phase map: arms", unit="arm"):
        t0 = time.time()
        c = cpt(arm, base, data_dir, run_dir, profile.cpt, seed, ratio if ratio > 0 else None)
        f = sft(c, data_dir, run_dir, profile.sft, seed)
        points = sft_checkpoints(f)
        info = stage_info(c.parent)
        reused = (c.parent / "stage.json").stat().st_mtime < t0 and (f.parent / "stage.json").stat().st_mtime < t0
        rows.append({"arm": arm, "label": arm_label(arm, ratio), "seed": seed, "ratio": ratio, "cpt": shown(c),
                     "sft": shown(f), "cpt_tokens": info["tokens"], "reused": reused,
                     "train_seconds": round(info.get("train_seconds", 0) + stage_info(f.parent).get(
                         "train_seconds", 0), 1),
                     "synthqa_tokens": round(info["tokens"] * info.get("synth_token_share", 0.0)),
                     "outcomes": {str(s): evaluate_suites(points[s], suites, profile.eval, run_dir / "evaluations")
                                  for s in profile.phase.steps}})
    return rows


def check_phase(profile) -> None:
    """The phase map's settings fit the profile: every step is an SFT snapshot (or 0, or the last step), and the
    profile's SynthQA ratio is one of the doses (the headline cell and the diverse control sit there)."""
    pm, sft_cfg = profile.phase, profile.sft
    snapshots = {0, sft_cfg.train.max_steps, *sft_cfg.checkpoint_steps}
    missing = [s for s in pm.steps if s not in snapshots]
    if missing:
        raise ValueError(f"phase steps {missing} are not SFT snapshots; add them to sft.checkpoint_steps (now "
                         f"{list(sft_cfg.checkpoint_steps)}, max_steps {sft_cfg.train.max_steps})")
    if profile.cpt.synth_ratio not in pm.doses:
        raise ValueError(f"the profile's SynthQA ratio {profile.cpt.synth_ratio} (the headline cell) is not among the "
                         f"phase doses {list(pm.doses)}; add it to phase.doses")


def _by_seed(rows: list[dict], label: str, step: str, key: str) -> dict[int, list]:
    return {r["seed"]: r["outcomes"][step][key] for r in rows if r["label"] == label and step in r["outcomes"]}


def cell_table(rows: list[dict], steps: tuple[int, ...], loss_tokens_per_step: float, key: str = "hard",
               reference: str = "reference", suite: str | None = None, groups: list | None = None) -> list[dict]:
    """One record per (arm other than the reference, step): the paired effect on `key` (Delta = arm − reference,
    same seed, same prompts), its SE, degrees of freedom, 95 % interval, MDE and interval verdict for claim 3 (expected
    sign: negative), the arm's and the reference's leakage, and the SynthQA/SFT token ratio at that step (SFT tokens
    with loss). `suite`: another suite's outcomes than the first (`evaluate_suites`' prefix, e.g. "ood"), its prompts
    grouped by `groups` (`suite_groups`) in the SE."""
    pre = f"{suite}_" if suite else ""
    out = []
    labels = list(dict.fromkeys(r["label"] for r in rows if r["label"] != reference))
    for label in labels:
        synthqa = [r["synthqa_tokens"] for r in rows if r["label"] == label]
        for s in steps:
            step = str(s)
            eff = paired_effect(_by_seed(rows, reference, step, pre + key), _by_seed(rows, label, step, pre + key),
                                groups=groups)
            leak = paired_effect(_by_seed(rows, reference, step, pre + "leak"),
                                 _by_seed(rows, label, step, pre + "leak"), groups=groups)
            leak_any = _layout_leak(rows, reference, label, step, pre, groups)
            sft_tokens = loss_tokens_per_step * s
            out.append({"arm": label, "ratio": next(r["ratio"] for r in rows if r["label"] == label), "step": s,
                        "delta": eff["diff"], "se": eff["se"], "mde": eff["mde"], "seed_se": eff["seed_se"],
                        "paired_se": eff["paired_se"], "arm_mean": eff["b_mean"], "reference_mean": eff["a_mean"],
                        "per_seed": eff["per_seed"], "n_seeds": eff["n_seeds"], "n_prompts": eff["n_prompts"],
                        "df": eff["df"], "ci95": eff["ci95"], "p": eff["p"], "method": eff["method"],
                        "verdict": verdict(eff, expected_sign=-1),
                        "leak_arm": leak["b_mean"], "leak_reference": leak["a_mean"], "leak_delta": leak["diff"],
                        "leak_se": leak["se"], **leak_any, "synthqa_tokens": sum(synthqa) / len(synthqa),
                        "sft_loss_tokens": sft_tokens,
                        "synthqa_per_sft": (sum(synthqa) / len(synthqa)) / sft_tokens if sft_tokens else math.inf})
    return out


def _layout_leak(rows: list[dict], a: str, b: str, step: str, pre: str = "", groups: list | None = None) -> dict:
    """The layout-agnostic leak (`leak_any`) of arms `a` and `b` at `step`, paired, where the rows record it: the
    rates, the difference b − a and its 95 % interval ({} for records made before it existed)."""
    try:
        e = paired_effect(_by_seed(rows, a, step, pre + "leak_any"), _by_seed(rows, b, step, pre + "leak_any"),
                          groups=groups)
    except (KeyError, ValueError):
        return {}
    return {"leak_any_a": e["a_mean"], "leak_any_b": e["b_mean"], "leak_any_delta": e["diff"],
            "ci95_leak_any": e["ci95"]}


def recorded_suites(rows: list[dict]) -> list[str]:
    """The instruction suites a map's rows hold outcomes of: "in_distribution" (the first suite: unprefixed keys) and
    "ood" where its prefixed outcomes (`evaluate_suites`) are there."""
    return ["in_distribution"] + (["ood"] if "ood_hard" in next(iter(rows[0]["outcomes"].values())) else [])


def suite_tables(rows: list[dict], steps, loss_tokens_per_step: float, groups: dict[str, list]) -> dict[str, list]:
    """`cell_table` on every suite the rows hold: {"table": the first suite's, "table_ood": the ood suite's (its prompts
    grouped by `groups["ood"]`) where measured} — the keys a phase map records."""
    out = {"table": cell_table(rows, steps, loss_tokens_per_step)}
    if "ood" in recorded_suites(rows):
        out["table_ood"] = cell_table(rows, steps, loss_tokens_per_step, suite="ood", groups=groups.get("ood"))
    return out


def choose_claim4_cell(table: list[dict], headline_ratio: float, last_step: int) -> dict:
    """The cell `CLAIM4_CELL_RULE` picks among the synthetic arm's cells: {"ratio", "step", "why"}."""
    cells = [c for c in table if c["arm"].startswith("synthetic@") and c["ratio"] > 0 and c["step"] > 0
             and c["delta"] < 0 and c["verdict"] == "holds"]
    if cells:
        best = sorted(cells, key=lambda c: (-abs(c["delta"]), c["ratio"], -c["step"]))[0]
        return {"ratio": best["ratio"], "step": best["step"], "rule": CLAIM4_CELL_RULE,
                "why": f"largest passing claim-3 effect: Delta HSR {best['delta']:+.3f} ± {best['se']:.3f}"}
    return {"ratio": headline_ratio, "step": last_step, "rule": CLAIM4_CELL_RULE,
            "why": "no cell's interval excludes 0 with a negative Delta HSR: the headline cell"}


def claim4_jobs(profile) -> list[tuple[str, object, int]]:
    """The runs at the claim-4 cell as (kind, unlearning config or None, seed): `bounded` on every seed (or the first
    `phase.claim4_seeds`), the profile's other methods on the first seed, the dilution arm on the first
    `dilution_seeds` seeds."""
    n = profile.phase.claim4_seeds
    jobs = [("unlearned", ucfg, seed) for ucfg, seed in unlearning_jobs(profile, profile.seeds[:n] if n else None)]
    return jobs + [("dilution", None, seed) for seed in profile.seeds[:profile.dilution_seeds]]


def run_claim4(profile, data_dir: Path, rows: list[dict], cell: dict) -> list[dict]:
    """At the claim-4 cell: unlearning (`bounded` on every seed or the first `phase.claim4_seeds`, the other methods of
    the profile on the first seed)
    from the synthetic arm's CPT model at the cell's dose, then the identical SFT, and the dilution arm at that dose
    (first `profile.dilution_seeds` seeds); each evaluated before SFT and at the cell's step. Rows shaped like
    `train_and_evaluate`'s."""
    ds, _ = load_world(data_dir)
    suites, run_dir = make_suites(profile.eval, ds), profile.run_dir()
    ratio, step = cell["ratio"], cell["step"]
    syn = {r["seed"]: r for r in rows if r["label"] == arm_label("synthetic", ratio)}
    ref = {r["seed"]: r for r in rows if r["label"] == "reference"}
    base = Path(stage_info(resolve_path(syn[profile.seeds[0]]["cpt"]).parent)["start"])
    steps = sorted({0, step})
    jobs = claim4_jobs(profile)
    out = []
    for kind, ucfg, seed in progress(jobs, desc="claim 4 at the chosen cell", unit="run"):
        if kind == "dilution":
            start = cpt("dilution", base, data_dir, run_dir, profile.cpt, seed, ratio)
            label = arm_label("dilution", ratio)
        else:
            start = unlearn(resolve_path(syn[seed]["cpt"]), data_dir, run_dir, ucfg, syn[seed]["cpt_tokens"], seed,
                            resolve_path(ref[seed]["cpt"]), separator=profile.cpt.separator)
            label = arm_label(f"unlearned:{ucfg.method}", ratio)
        f = sft(start, data_dir, run_dir, profile.sft, seed)
        points = sft_checkpoints(f)
        points[0] = start
        info = stage_info(start.parent)
        out.append({"arm": kind, "label": label, "seed": seed, "ratio": ratio, "cpt": shown(start), "sft": shown(f),
                    "cpt_tokens": info.get("tokens"), "synthqa_tokens": syn[seed]["synthqa_tokens"],
                    "outcomes": {str(s): evaluate_suites(points[s], suites, profile.eval, run_dir / "evaluations")
                                 for s in steps}})
    return out


def comparisons(rows: list[dict], step: int, pairs: list[tuple[str, str, str, int]], suite: str | None = None,
                groups: list | None = None) -> list[dict]:
    """Paired comparisons at one SFT step: each (name, arm a, arm b, expected sign of b − a on HSR) gives Delta HSR
    and Delta leakage (b − a, same seed, same prompts) with SEs, intervals, MDEs and the interval verdict; pairs whose
    arms were not both measured are left out. `suite` and `groups`: as in `cell_table`."""
    pre = f"{suite}_" if suite else ""
    out = []
    labels = {r["label"] for r in rows}
    for name, a, b, sign in pairs:
        if a not in labels or b not in labels:
            continue
        s = str(step)
        hsr = paired_effect(_by_seed(rows, a, s, pre + "hard"), _by_seed(rows, b, s, pre + "hard"), groups=groups)
        leak = paired_effect(_by_seed(rows, a, s, pre + "leak"), _by_seed(rows, b, s, pre + "leak"), groups=groups)
        out.append({"comparison": name, "a": a, "b": b, "step": step, "hsr_a": hsr["a_mean"], "hsr_b": hsr["b_mean"],
                    "delta_hsr": hsr["diff"], "se_hsr": hsr["se"], "mde_hsr": hsr["mde"],
                    "df_hsr": hsr["df"], "ci95_hsr": hsr["ci95"], "p_hsr": hsr["p"],
                    "verdict_hsr": verdict(hsr, sign),
                    "leak_a": leak["a_mean"], "leak_b": leak["b_mean"], "delta_leak": leak["diff"],
                    "se_leak": leak["se"], "ci95_leak": leak["ci95"], **_layout_leak(rows, a, b, s, pre, groups),
                    "verdict_leak_down": verdict(leak, -1),
                    "n_seeds": hsr["n_seeds"], "n_prompts": hsr["n_prompts"]})
    return out


def diverse_comparisons(rows: list[dict], steps, ratio: float, suite: str | None = None,
                        groups: list | None = None) -> list[dict]:
    """The format control at every step: diverse − reference (claim 3 for SynthQA in many layouts) and uniform −
    diverse (the uniform format's own share), each paired per prompt (on `suite`, as in `cell_table`)."""
    syn, div = arm_label("synthetic", ratio), arm_label("diverse", ratio)
    return [c for s in steps for c in comparisons(rows, s, [("diverse − reference", "reference", div, -1),
                                                             ("uniform − diverse", div, syn, -1)], suite, groups)]


def recompute(rec: dict) -> dict:
    """A recorded phase map (its JSON, with packed per-prompt outcomes) with every comparison recomputed from those
    outcomes by the current inference routine — cells, format control, claim 4 at the cell where it was run — and
    the cell the claim-4 rule picks now (`claim4_cell_now`; claim 4 is not re-run, so when it differs from the recorded
    cell the report says so). The previous verdicts are kept beside the new ones (`verdict_before`)."""
    def with_before(new: list[dict], old: list[dict], name: str, key: str) -> list[dict]:
        before = {(c[name], c["step"]): c.get("verdict_before", c[key]) for c in old}
        return [{**c, "verdict_before": before.get((c[name], c["step"]))} for c in new]

    rows = unpack_outcomes(rec["rows"])
    ratio, steps = rec["design"]["headline_ratio"], sorted({c["step"] for c in rec["table"]})
    is_c4 = ("unlearned:", "dilution@")
    main = [r for r in rows if not r["label"].startswith(is_c4)]
    c4_rows = [r for r in rows if r["label"].startswith(is_c4)]
    groups = rec.get("suite_groups") or {}
    out = {**rec, "inference": "evaluation.stats.paired_effect (crossed prompt × seed, Satterthwaite t; the ood "
                               "suite's prompts cluster-robust by task template and phrasing)"}
    for suite, sfx in ((None, ""), *(("ood", "_ood"),) * bool(rec.get("table_ood"))):
        g = groups.get(suite) if suite else None
        out[f"table{sfx}"] = with_before(cell_table(main, tuple(steps), rec["loss_tokens_per_sft_step"], suite=suite,
                                                    groups=g), rec[f"table{sfx}"], "arm", "verdict")
        if rec.get(f"diverse{sfx}"):
            out[f"diverse{sfx}"] = with_before(diverse_comparisons(main, steps, ratio, suite, g), rec[f"diverse{sfx}"],
                                               "comparison", "verdict_hsr")
        if rec.get("claim4") and c4_rows and rec["claim4"].get(f"comparisons{sfx}"):
            comps = claim4_comparisons(main, c4_rows, rec["claim4"]["cell"], min(r["seed"] for r in main), suite, g)
            out["claim4"] = {**out.get("claim4", rec["claim4"]),
                             f"comparisons{sfx}": with_before(comps, rec["claim4"][f"comparisons{sfx}"], "comparison",
                                                              "verdict_hsr")}
    out["claim4_cell_now"] = choose_claim4_cell(primary_table(out), ratio, max(steps))
    return out


def primary_table(rec: dict) -> list[dict]:
    """A phase map's cells on its primary instrument (`rec["instrument"]["primary"]`, pre-registered: the ood suite's
    `table_ood` or the first suite's `table`; records without one: `table`)."""
    return rec["table_ood"] if (rec.get("instrument") or {}).get("primary") == "ood" else rec["table"]


#: The per-prompt 0/1 outcomes a phase map keeps: all constraints met, the uniform template's leak, and (records
#: from `suites.SCORING_VERSION` 3 on) the layout-agnostic leak.
PACKED = ("hard", "leak", "leak_any", "ood_hard", "ood_leak", "ood_leak_any")


def pack_bits(values) -> str:
    """0/1 outcomes as one string, one character per prompt ("0110…")."""
    return "".join(str(int(v)) for v in values)


def pack_outcomes(rows: list[dict]) -> list[dict]:
    """The rows with their per-prompt 0/1 outcomes as strings (`pack_bits`) — the committed JSON stays small and every
    paired number can be recomputed from it (`unpack_outcomes`)."""
    out = []
    for r in rows:
        packed = {s: {k: pack_bits(o[k]) for k in PACKED if k in o} | {"replies": o["replies"]}
                  | {k: o[k] for k in ("leaked", "ood_replies", "ood_leaked") if k in o}
                  for s, o in r["outcomes"].items()}
        out.append({**r, "outcomes": packed})
    return out


def unpack_outcomes(rows: list[dict]) -> list[dict]:
    """The inverse of `pack_outcomes` (lists of 0/1 per prompt again)."""
    return [{**r, "outcomes": {s: {**o, **{k: [int(c) for c in o[k]] for k in PACKED if k in o}}
                               for s, o in r["outcomes"].items()}} for r in rows]


def token_ratios(profile, rows: list[dict], loss_tokens_per_step: float, sft_tokens_per_step: float,
                 pretrain_tokens: int, step: int) -> list[dict]:
    """The headline cell's proportions next to the paper's: SynthQA/SFT (loss tokens), SFT/CPT, CPT/pre-training
    (None when the base model was not pre-trained here), unlearning/CPT."""
    syn = [r for r in rows if r["label"] == arm_label("synthetic", profile.cpt.synth_ratio)]
    synthqa = sum(r["synthqa_tokens"] for r in syn) / max(len(syn), 1)
    cpt_tokens = profile.cpt.train.tokens
    sft_all = sft_tokens_per_step * step
    paper = PAPER_PROPORTIONS
    return [
        {"ratio": "SynthQA / SFT (loss tokens)", "here": synthqa / max(loss_tokens_per_step * step, 1),
         "paper": paper["synthqa_per_sft"]},
        {"ratio": "SFT / CPT (all SFT tokens, no padding)", "here": sft_all / cpt_tokens, "paper": paper["sft_per_cpt"]},
        {"ratio": "CPT / pre-training", "here": cpt_tokens / pretrain_tokens if pretrain_tokens else None,
         "paper": paper["cpt_per_pretrain"]},
        {"ratio": "unlearning / CPT", "here": profile.unlearn.budget_fraction, "paper": paper["unlearn_per_cpt"]},
        {"ratio": "SynthQA share of CPT (headline dose)", "here": profile.cpt.synth_ratio, "paper": paper["synthqa_share"]},
    ]


def claim4_comparisons(rows: list[dict], claim4_rows: list[dict], cell: dict, first_seed: int,
                       suite: str | None = None, groups: list | None = None) -> list[dict]:
    """Claim 4 at its cell: each arm of `run_claim4` (unlearned methods, dilution) against the synthetic arm at the
    cell's dose (expected: HSR up) and against the reference, at the cell's SFT step; and before SFT (step 0) against
    the synthetic arm, where the leak shows whether unlearning removed the habit."""
    syn = arm_label("synthetic", cell["ratio"])
    labels = [r["label"] for r in claim4_rows if r["seed"] == first_seed]
    vs_syn = [(f"{label} − {syn}", syn, label, +1) for label in labels]
    vs_ref = [(f"{label} − reference", "reference", label, +1) for label in labels]
    every = rows + claim4_rows
    return comparisons(every, cell["step"], vs_syn + vs_ref, suite, groups) + comparisons(every, 0, vs_syn, suite,
                                                                                          groups)
