"""Evaluation: the benchmark (MMLU-like multiple choice, scored by likelihood), instruction following
(FollowBench-like HSR/SSR with verifiable constraints), and pattern leakage of the SynthQA format.

Directions and ranges: every accuracy, HSR, SSR and fact accuracy is in [0, 1], higher is better;
the leakage rate is in [0, 1], lower is better.
"""
from __future__ import annotations

import json
import math
import re

import torch

from .instructions import check_all, facts_correct
from .tokenizer import END


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion (robust near 0 and 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@torch.no_grad()
def continuation_logprobs(model, tokenizer, contexts: list[str], continuations: list[str],
                          batch_size: int = 32) -> list[tuple[float, int]]:
    """(sum of log p(continuation tokens | context), number of continuation tokens) for each pair."""
    model.eval()
    out = []
    pad = tokenizer.pad_token_id
    for i in range(0, len(contexts), batch_size):
        ctx_ids = tokenizer(contexts[i:i + batch_size], add_special_tokens=False)["input_ids"]
        cont_ids = tokenizer(continuations[i:i + batch_size], add_special_tokens=False)["input_ids"]
        seqs = [[tokenizer.eos_token_id] + c + d for c, d in zip(ctx_ids, cont_ids)]  # EOS as a document start
        n = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), n), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, s in enumerate(seqs):
            ids[j, :len(s)] = torch.tensor(s)
            mask[j, :len(s)] = 1
        logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
        for j, (c, d) in enumerate(zip(ctx_ids, cont_ids)):
            start = 1 + len(c)
            targets = torch.tensor(d)
            lp = logp[j, start - 1:start - 1 + len(d)].gather(1, targets[:, None]).sum().item()
            out.append((lp, len(d)))
    return out


def benchmark_accuracy(model, tokenizer, items: list[dict], form: str = "qa") -> dict:
    """Multiple-choice accuracy (higher is better) with a 95 % CI, raw and length-normalised.

    form="qa": context `Question: <q>\\nAnswer:`, options ` <value>.` (the SynthQA surface form — part of a gain
    here can be mere format); form="neutral": each option is a whole biography sentence, no Q-A format.
    """
    if form not in ("qa", "neutral"):
        raise ValueError(f"form must be 'qa' or 'neutral', got {form!r}")
    contexts, conts = [], []
    for it in items:
        for k, opt in enumerate(it["options"]):
            if form == "qa":
                contexts.append(f"Question: {it['question']}\nAnswer:")
                conts.append(f" {opt}.")
            else:
                contexts.append("")
                conts.append(it["neutral_options"][k])
    scores = continuation_logprobs(model, tokenizer, contexts, conts)
    correct_raw = correct_norm = 0
    for i, it in enumerate(items):
        s = scores[4 * i:4 * i + 4]
        correct_raw += int(max(range(4), key=lambda k: s[k][0]) == it["answer"])
        correct_norm += int(max(range(4), key=lambda k: s[k][0] / s[k][1]) == it["answer"])
    n = len(items)
    return {"form": form, "n": n, "accuracy": correct_raw / n, "ci95": wilson_interval(correct_raw, n),
            "accuracy_norm": correct_norm / n, "ci95_norm": wilson_interval(correct_norm, n), "chance": 0.25}


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 96, batch_size: int = 32,
             chat: bool = True) -> list[str]:
    """Greedy generation, batched with left padding and KV cache; stops at `<|end|>` or EOS."""
    model.eval()
    tokenizer.padding_side = "left"
    stop = [tokenizer.convert_tokens_to_ids(END), tokenizer.eos_token_id]
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                           tokenize=False) if chat else p for p in prompts]
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                             pad_token_id=tokenizer.pad_token_id, use_cache=True)
        for row in gen[:, enc["input_ids"].shape[1]:]:
            out.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return out


_QA_MARKER = re.compile(r"^\s*(Question|Answer)\s*:", re.M | re.I)


def leakage(response: str, facts: dict[str, str]) -> dict[str, bool]:
    """Does a response fall back to the SynthQA shape? (lower rates are better)

    - `qa_marker`: a line starts with `Question:` or `Answer:` (the template itself leaks);
    - `bare_answer`: the whole response is just a gold value (optionally with a final period), i.e. the terse
      SynthQA answer, ignoring whatever the prompt asked for;
    - `any`: either.
    """
    marker = bool(_QA_MARKER.search(response))
    core = _QA_MARKER.sub("", response).strip().rstrip(".").strip().lower()
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
    per = []
    for row, resp in zip(rows, responses):
        kwargs = json.loads(row["kwargs_json"])
        facts = json.loads(row["facts_json"])
        strict = check_all(resp, row["constraints"], kwargs)
        loose = [any(v) for v in zip(*[check_all(c, row["constraints"], kwargs) for c in loose_variants(resp)])] \
            if resp.strip() else strict
        per.append({"level": row["level"], "strict": strict, "loose": loose or strict,
                    "fact": facts_correct(resp, facts), "leak": leakage(resp, facts)})
    return summarise_following(per)


def summarise_following(per: list[dict]) -> dict:
    """Aggregate per-prompt results into HSR/SSR (strict and loose), per level, fact accuracy and leakage."""
    def agg(items):
        n = len(items)
        if n == 0:
            return {}
        hsr = sum(all(p["strict"]) for p in items)
        return {"n": n, "hsr": hsr / n, "hsr_ci95": wilson_interval(hsr, n),
                "ssr": sum(sum(p["strict"]) / len(p["strict"]) for p in items) / n,
                "hsr_loose": sum(all(p["loose"]) for p in items) / n,
                "ssr_loose": sum(sum(p["loose"]) / len(p["loose"]) for p in items) / n,
                "fact_accuracy": sum(p["fact"] for p in items) / n,
                "leak_rate": sum(p["leak"]["any"] for p in items) / n,
                "leak_qa_marker": sum(p["leak"]["qa_marker"] for p in items) / n,
                "leak_bare_answer": sum(p["leak"]["bare_answer"] for p in items) / n}
    levels = sorted({p["level"] for p in per})
    return {**agg(per), "per_level": {str(lv): agg([p for p in per if p["level"] == lv]) for lv in levels}}
