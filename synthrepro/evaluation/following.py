"""Instruction following on the world's suite: HSR/SSR (FollowBench-like) with verifiable constraints, IFEval-style
loose variants, fact accuracy and leakage of the SynthQA shape; and `instruction_metrics`, which generates replies
to any suite and scores them.

Directions and ranges: HSR, SSR and fact accuracy in [0, 1], higher is better; the leakage rate in [0, 1], lower
is better.
"""
from __future__ import annotations

import json

from ..config import EvalConfig
from ..data.instructions import check_all, facts_correct
from ..data.qa import QA_LINE
from ..models.generation import generate
from ..models.loading import generation_model
from .stats import wilson_interval


def leakage(response: str, facts: dict[str, str]) -> dict[str, bool]:
    """Does a response fall back to the SynthQA shape? (lower rates are better)

    - `qa_marker`: a line starts with `Question:` or `Answer:` (the template itself leaks);
    - `bare_answer`: the whole response is just a gold value (optionally with a final period), i.e. the terse
      SynthQA answer, ignoring whatever the prompt asked for;
    - `any`: either.
    """
    marker = bool(QA_LINE.search(response))
    core = QA_LINE.sub("", response).strip().rstrip(".").strip().lower()
    bare = bool(core) and core in {v.lower() for v in facts.values()}
    return {"qa_marker": marker, "bare_answer": bare, "any": marker or bare}


def loose_variants(response: str) -> list[str]:
    """IFEval's loose variants: the response, without markdown emphasis, without its first/last line, and both."""
    lines = response.split("\n")
    plain = response.replace("*", "")
    cands = [response, plain, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(),
             "\n".join(lines[1:-1]).strip()]
    cands += [c.replace("*", "") for c in cands[2:]]
    return [c for c in cands if c]


def score_instruction_following(rows: list[dict], responses: list[str]) -> dict:
    """HSR (all constraints met), SSR (share of constraints met), per level, strict and loose; fact accuracy;
    leakage. `rows` are instruction-suite rows (with constraints, kwargs_json, facts_json, level)."""
    return summarise_following(per_prompt_following(rows, responses))


def per_prompt_outcomes(per_prompt: list[dict]) -> dict[str, list]:
    """One value per prompt from a suite's `score(...)["per_prompt"]` (each with a `strict` list and a `leak` flag):
    `hard` (1 when every instruction or constraint is followed, strict), `soft` (the share followed; 1.0 for a prompt
    with none), `leak`. The one place these are computed, for the world's suite and IFEval alike."""
    return {"hard": [int(all(p["strict"])) for p in per_prompt],
            "soft": [round(sum(p["strict"]) / len(p["strict"]), 4) if p["strict"] else 1.0 for p in per_prompt],
            "leak": [int(p["leak"]) for p in per_prompt]}


def prompt_outcomes(rows: list[dict], responses: list[str]) -> dict[str, list]:
    """One value per prompt, for paired comparisons: `per_prompt_outcomes` (`hard`, `soft`, and `leak`: 1 when the
    reply is SynthQA-shaped, `leakage`'s "any") and `level`."""
    per = per_prompt_following(rows, responses)
    return {**per_prompt_outcomes([{"strict": p["strict"], "leak": p["leak"]["any"]} for p in per]),
            "level": [p["level"] for p in per]}


def per_prompt_following(rows: list[dict], responses: list[str]) -> list[dict]:
    """Per prompt: its level, each constraint's strict and loose pass, fact correctness and leakage."""
    per = []
    for row, resp in zip(rows, responses):
        kwargs = json.loads(row["kwargs_json"])
        facts = json.loads(row["facts_json"])
        strict = check_all(resp, row["constraints"], kwargs)
        loose = [any(v) for v in zip(*[check_all(c, row["constraints"], kwargs) for c in loose_variants(resp)])] \
            if resp.strip() else strict
        per.append({"level": row["level"], "strict": strict, "loose": loose or strict,
                    "fact": facts_correct(resp, facts), "leak": leakage(resp, facts)})
    return per


def summarise_following(per: list[dict]) -> dict:
    """Aggregate per-prompt results into HSR/SSR (strict and loose; over prompts with ≥ 1 constraint), per level,
    fact accuracy and leakage (over all prompts)."""
    def agg(items):
        n = len(items)
        if n == 0:
            return {}
        c = [p for p in items if p["strict"]]  # HSR/SSR over prompts that carry constraints
        nc = max(len(c), 1)
        hsr = sum(all(p["strict"]) for p in c)
        return {"n": n, "hsr": hsr / nc, "hsr_ci95": wilson_interval(hsr, len(c)),
                "ssr": sum(sum(p["strict"]) / len(p["strict"]) for p in c) / nc,
                "hsr_loose": sum(all(p["loose"]) for p in c) / nc,
                "ssr_loose": sum(sum(p["loose"]) / len(p["loose"]) for p in c) / nc,
                "fact_accuracy": sum(p["fact"] for p in items) / n,
                "leak_rate": sum(p["leak"]["any"] for p in items) / n,
                "leak_qa_marker": sum(p["leak"]["qa_marker"] for p in items) / n,
                "leak_bare_answer": sum(p["leak"]["bare_answer"] for p in items) / n}
    levels = sorted({p["level"] for p in per})
    return {**agg(per), "per_level": {str(lv): agg([p for p in per if p["level"] == lv]) for lv in levels}}


def instruction_metrics(model, tok, suite, ecfg: EvalConfig) -> tuple[dict, list[str]]:
    """Instruction-following metrics of `model` on `suite` (see `suites`) and the generated responses; generation
    in bf16 where `ecfg.generation_bf16` asks for it and the hardware is fast at it (on a copy of the model)."""
    responses = generate(generation_model(model, ecfg.generation_bf16), tok, suite.prompts, ecfg.max_new_tokens,
                         ecfg.batch_size, batch_tokens=ecfg.batch_tokens)
    return suite.score(responses), responses
