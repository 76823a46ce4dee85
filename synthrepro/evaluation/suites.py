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

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..config import EvalConfig
from ..data.qa import qa_shaped
from ..data.shipped import load_ifeval_prompts
from ..models.loading import load_model
from ..models.tokenizer import load_tokenizer
from .ifeval import score as ifeval_score
from .following import (instruction_metrics, per_prompt_following, per_prompt_outcomes, prompt_outcomes,
                        summarise_following)


#: Bump when how a suite scores replies changes, so that no cache keeps an older score (2: IFEval's language checker
#: seeded, `ifeval.LANGDETECT_SEED`; 3: outcomes carry `leak_any`, the layout-agnostic detector). Part of every cached
#: evaluation's key.
SCORING_VERSION = 3


@dataclass
class Suite:
    """Prompt rows (each with a "prompt") and how replies to them are scored (`score`, in the subclasses)."""

    rows: list[dict]

    @property
    def prompts(self) -> list[str]:
        return [r["prompt"] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def layout_leaks(responses: list[str]) -> dict[str, list[int]]:
        """`leak_any` per prompt: 1 when the reply holds a Q-A pair in any SynthQA layout (`data.qa.qa_shaped`),
        beside each suite's `leak` (the uniform template's lines)."""
        return {"leak_any": [int(qa_shaped(r)) for r in responses]}


    def groups(self) -> list[list[str]] | None:
        """Per prompt, the samples it was written from ("task_template:…", one "phrasing:…" per constraint) where the
        rows record them (the `ood` suite), for `stats.paired_effect(groups=…)`; None otherwise."""
        if not self.rows or "task_template" not in self.rows[0]:
            return None
        return [[f"task_template:{r['task_template']}", *(f"phrasing:{p}" for p in r["phrasings"])]
                for r in self.rows]


@dataclass
class WorldSuite(Suite):
    """A generated suite about the world's held-out people (1–5 verifiable constraints per prompt): the
    in-distribution one (the project's held-out phrasings) or the `ood` one (IFEval's wording, fresh task
    templates; `data.ood`)."""

    name: str = "world"

    def score(self, responses: list[str]) -> dict:
        per = per_prompt_following(self.rows, responses)
        return {**summarise_following(per),
                "per_prompt": [{"strict": p["strict"], "loose": p["loose"], "leak": p["leak"]["any"]} for p in per]}

    def outcomes(self, responses: list[str]) -> dict[str, list]:
        """One value per prompt, for paired comparisons (`following.prompt_outcomes`): hard, soft, leak, level, and
        `leak_any` (`layout_leaks`)."""
        return {**prompt_outcomes(self.rows, responses), **self.layout_leaks(responses)}


@dataclass
class IFEvalSuite(Suite):
    """IFEval prompts (a seeded subset or all 541) scored by Google's reference checkers (`ifeval.score`)."""

    name: str = "ifeval"

    def score(self, responses: list[str]) -> dict:
        s = ifeval_score(self.rows, responses)
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

    def outcomes(self, responses: list[str]) -> dict[str, list]:
        """One value per prompt, shaped like the world suite's: `hard` (prompt-level strict: every instruction
        followed), `soft` (the share of instructions followed, strict), `leak` (a `Question:`/`Answer:` line) and
        `level` (the first instruction's group, e.g. "keywords"), and `leak_any` (`layout_leaks`)."""
        per = ifeval_score(self.rows, responses, modes=("strict",))["per_prompt"]
        return {**per_prompt_outcomes(per), "level": [r["instruction_id_list"][0].split(":")[0] for r in self.rows],
                **self.layout_leaks(responses)}


#: How many leaked replies an evaluation keeps for the record, with their prompts and what the checkers said.
LEAKED_KEPT = 12


def leaked_replies(prompts: list[str], replies: list[str], outcomes: dict[str, list],
                   kept: int = LEAKED_KEPT) -> list[dict]:
    """The first `kept` replies that leaked the SynthQA shape (`outcomes["leak"]`), each with its prompt's index, the
    prompt and what the checkers said of it (`hard`: every instruction followed; `soft`: the share followed) — a
    leak that the checkers pass is a finding."""
    return [{"prompt_index": i, "prompt": prompts[i], "reply": replies[i], "hard": outcomes["hard"][i],
             "soft": outcomes["soft"][i]} for i in range(len(replies)) if outcomes["leak"][i]][:kept]


def leak_excerpt(reply: str, width: int = 300) -> str:
    """The part of a leaked reply worth reading: from 40 characters before its first `Question:` (a leading "…"
    marks the cut), `width` characters long."""
    at = max(0, reply.find("Question:") - 40)
    return ("…" if at else "") + reply[at:at + width]


def pick_leaked(groups: list[tuple[dict, list[dict]]], n: int = 4, width: int = 300) -> list[dict]:
    """Up to `n` leaked replies for a table, one per group first (a group: labels such as arm, seed and step, and
    its `leaked_replies`), each as the labels, the prompt cut at `width` characters, `leak_excerpt` of the reply and
    the checkers' `hard` and `soft`."""
    ranked = []
    for labels, leaked in groups:
        for j, e in enumerate(leaked):
            ranked.append((j > 0, {**labels, "prompt": e["prompt"][:width], "reply": leak_excerpt(e["reply"], width),
                                   "hard": e["hard"], "soft": e["soft"]}))
    return [e for _, e in sorted(ranked, key=lambda t: t[0])][:n]


def make_suite(ecfg: EvalConfig, ds=None, n: int | None = None):
    """The profile's instruction-following suite: the world's (`ds["ifeval"]`; its first `n` prompts) or IFEval's
    seeded subset (of `n` prompts, else `ecfg.ifeval_prompts`; all 541 when that is None)."""
    if ecfg.suite == "world":
        return WorldSuite(list(ds["ifeval"])[:n])
    return IFEvalSuite(load_ifeval_prompts(n or ecfg.ifeval_prompts, ecfg.ifeval_seed))


#: The world track's instruction suites: name → the world split that holds its prompts. The first is the suite
#: `make_suite` returns (notebooks' `following` records); the others are evaluated beside it where the world has them.
WORLD_SUITES = {"in_distribution": "ifeval", "ood": "ifeval_ood"}


def make_suites(ecfg: EvalConfig, ds=None, n: int | None = None) -> dict[str, Suite]:
    """Every instruction suite the profile evaluates, by name: IFEval alone ({"ifeval": …}), or the world's suites
    that its world holds (`WORLD_SUITES`: "in_distribution" always, "ood" with `data.ood_prompts_per_level`), each
    its first `n` prompts when given."""
    if ecfg.suite != "world":
        return {"ifeval": make_suite(ecfg, ds, n)}
    return {name: WorldSuite(list(ds[split])[:n], name=name) for name, split in WORLD_SUITES.items() if split in ds}


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


def evaluate_ifeval(model_dir: Path, n_prompts: int | None = 100, seed: int = 0, max_new_tokens: int = 256,
                    batch_size: int = 16, bf16: bool = False) -> dict:
    """IFEval on one checkpoint outside the notebooks (probes, tests): greedy chat replies to a seeded subset of
    `n_prompts` (all 541 with None) scored by Google's checkers — `ifeval.score`'s record plus the replies, the wall
    time and new tokens per second."""
    ecfg = EvalConfig(suite="ifeval", ifeval_prompts=n_prompts, ifeval_seed=seed, max_new_tokens=max_new_tokens,
                      batch_size=batch_size, generation_bf16=bf16)
    tok = load_tokenizer(model_dir)
    t0 = time.perf_counter()
    follow, replies = instruction_metrics(load_model(model_dir), tok, make_suite(ecfg), ecfg)
    seconds = time.perf_counter() - t0
    new_tokens = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies)
    return {**follow["ifeval"], "per_prompt": follow["per_prompt"], "replies": replies, "n_prompts": len(replies),
            "seed": seed, "max_new_tokens": max_new_tokens, "generation_seconds": round(seconds, 1),
            "new_tokens_per_s": round(new_tokens / seconds, 1)}
