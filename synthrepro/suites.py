"""Instruction-following suites: the world's generated suite and Google's IFEval, behind one interface.

Both turn generated replies into the same `following` record, so notebooks 03–05 treat them alike:

| key | world suite | IFEval |
|---|---|---|
| `hsr` | hard satisfaction rate: all constraints met | prompt-level strict accuracy: all instructions followed |
| `ssr` | soft satisfaction rate: mean share of constraints met | instruction-level strict accuracy |
| `hsr_loose`, `ssr_loose` | on IFEval-style relaxed variants of the reply | IFEval's loose accuracies |
| `leak_rate` | SynthQA-shaped replies (`Question:`/`Answer:` lines, or a bare fact) | replies with a `Question:`/`Answer:` line |
| `per_level` | per constraint count 1–5 | per instruction group (`keywords`, `length_constraints`, …) |

All rates are in [0, 1]; higher is better except the leakage rate (lower is better).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import evaluate as ev
from .config import EvalConfig


@dataclass
class Suite:
    """Prompt rows (each with a "prompt") and how replies to them are scored (`score`, in the subclasses)."""

    rows: list[dict]

    @property
    def prompts(self) -> list[str]:
        return [r["prompt"] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class WorldSuite(Suite):
    """The generated suite (held-out people and phrasings, 1–5 verifiable constraints per prompt)."""

    name: str = "world"

    def score(self, responses: list[str]) -> dict:
        return ev.score_instruction_following(self.rows, responses)


@dataclass
class IFEvalSuite(Suite):
    """IFEval prompts (a seeded subset or all 541) scored by Google's reference checkers (`ifeval.score`)."""

    name: str = "ifeval"

    def score(self, responses: list[str]) -> dict:
        from . import ifeval
        s = ifeval.score(self.rows, responses)
        per_group: dict[str, dict] = {}
        for row, p in zip(self.rows, s["per_prompt"]):
            groups: dict[str, list[bool]] = {}
            for iid, ok in zip(row["instruction_id_list"], p["strict"]):
                groups.setdefault(iid.split(":")[0], []).append(ok)
            for g, oks in groups.items():
                d = per_group.setdefault(g, {"n": 0, "all": 0, "followed": 0, "instructions": 0})
                d["n"] += 1
                d["all"] += all(oks)
                d["followed"] += sum(oks)
                d["instructions"] += len(oks)
        leak = s["leak_rate"]["accuracy"]
        return {"n": len(self.rows), "hsr": s["prompt_strict"]["accuracy"], "hsr_ci95": s["prompt_strict"]["ci95"],
                "ssr": s["instruction_strict"]["accuracy"], "hsr_loose": s["prompt_loose"]["accuracy"],
                "ssr_loose": s["instruction_loose"]["accuracy"], "leak_rate": leak, "leak_qa_marker": leak,
                "per_level": {g: {"n": d["n"], "hsr": d["all"] / d["n"], "ssr": d["followed"] / d["instructions"]}
                              for g, d in sorted(per_group.items())},
                "ifeval": {k: s[k] for k in ("prompt_strict", "prompt_loose", "instruction_strict",
                                             "instruction_loose", "leak_rate")},
                "per_prompt": s["per_prompt"]}


def make_suite(ecfg: EvalConfig, ds=None, n: int | None = None):
    """The profile's instruction-following suite: the world's (`ds["ifeval"]`; its first `n` prompts) or IFEval's
    seeded subset (of `n` prompts, else `ecfg.ifeval_prompts`; all 541 when that is None)."""
    if ecfg.suite == "world":
        return WorldSuite(list(ds["ifeval"])[:n])
    from . import ifeval
    return IFEvalSuite(ifeval.load_prompts(n or ecfg.ifeval_prompts, ecfg.ifeval_seed))


def probe(ecfg: EvalConfig, ds=None):
    """The cheaper look (before SFT, SFT snapshots, next-token KL): `ecfg.probe_prompts` prompts — the world suite's
    first ones, or an IFEval subset of its own, the same whatever `ifeval_prompts` is (the whole suite when None)."""
    return make_suite(ecfg, ds, ecfg.probe_prompts)


def reference_pairs(ds, ecfg: EvalConfig) -> tuple[list[str], list[str]]:
    """(prompts, reference responses) scored for the response-NLL distributions: AlpacaEval's held-out rows where
    the world has them (pretrained track), else the world suite's own reference responses."""
    rows = ds["sft_heldout"] if "sft_heldout" in ds else ds["ifeval"]
    return list(rows["prompt"]), list(rows["response"])


def composition(ds, ecfg: EvalConfig) -> dict[str, dict]:
    """What the instruction data holds, as {column: {row: count}} for a table: prompts per constraint count in the
    world suite and SFT data, or IFEval prompts per instruction group (the evaluated subset) and SFT rows."""
    from collections import Counter
    if ecfg.suite == "world":
        return {"constraint types per prompt (level)": dict(sorted(Counter(ds["ifeval"]["level"]).items())),
                "SFT prompts per level": dict(sorted(Counter(ds["sft"]["level"]).items()))}
    suite = make_suite(ecfg, ds)
    groups = Counter(iid.split(":")[0] for r in suite.rows for iid in r["instruction_id_list"])
    return {f"instructions per group in the {len(suite)} IFEval prompts": dict(sorted(groups.items())),
            "SFT rows by source": dict(sorted(Counter(ds["sft"]["source"]).items()))}


#: How each suite's `following` keys read in tables and figures.
LABELS = {
    "world": {"hsr": "HSR", "ssr": "SSR", "suite": "the held-out instruction suite"},
    "ifeval": {"hsr": "IFEval prompt-level strict accuracy", "ssr": "IFEval instruction-level strict accuracy",
               "suite": "IFEval"},
}
