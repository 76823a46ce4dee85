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
from .tokenizer import chat_texts, document_start_id, stop_ids


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
                          batch_size: int = 32, max_continuation_tokens: int | None = None) -> list[tuple[float, int]]:
    """(sum of log p(continuation tokens | context), number of continuation tokens) for each pair; with
    `max_continuation_tokens`, only the first that many tokens of each continuation are scored."""
    model.eval()
    out = []
    pad, start = tokenizer.pad_token_id, document_start_id(tokenizer)
    for i in range(0, len(contexts), batch_size):
        ctx_ids = tokenizer(contexts[i:i + batch_size], add_special_tokens=False)["input_ids"]
        cont_ids = tokenizer(continuations[i:i + batch_size], add_special_tokens=False)["input_ids"]
        cont_ids = [d[:max_continuation_tokens] for d in cont_ids] if max_continuation_tokens else cont_ids
        seqs = [[start] + c + d for c, d in zip(ctx_ids, cont_ids)]  # a document start, as in (continued) pre-training
        n = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), n), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, s in enumerate(seqs):
            ids[j, :len(s)] = torch.tensor(s)
            mask[j, :len(s)] = 1
        logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits
        for j, (c, d) in enumerate(zip(ctx_ids, cont_ids)):
            first = len(c)  # the position that predicts the first continuation token (after the document start)
            logp = torch.log_softmax(logits[j, first:first + len(d)].float(), dim=-1)  # only the scored positions
            lp = logp.gather(1, torch.tensor(d, device=logp.device)[:, None]).sum().item()
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
    """Greedy generation, batched with left padding and KV cache; stops at EOS and at the chat turn end
    (`tokenizer.stop_ids`). Works for any chat model with a chat template."""
    model.eval()
    tokenizer.padding_side = "left"
    stop = stop_ids(tokenizer)
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                           tokenize=False) if chat else p for p in prompts]
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                             pad_token_id=tokenizer.pad_token_id, use_cache=True)
        for row in gen[:, enc["input_ids"].shape[1]:]:
            out.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return out


def generation_model(model, bf16: bool):
    """`model` cast to bfloat16 for generation when `bf16` is asked for and the hardware is fast at it (a CUDA GPU
    with bf16, or a CPU with AVX-512 BF16 / AMX: 2× faster than float32 on such a 2-core CPU); else unchanged."""
    from .train import bf16_supported
    return model.to(torch.bfloat16) if bf16 and bf16_supported() else model


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


# ---------------------------------------------------------------- output-distribution shift


def per_sample_nll(model, tokenizer, texts: list[str], batch_size: int = 32) -> list[float]:
    """Mean token NLL (nats) of each text under the model (perplexity = exp of it); lower = more expected."""
    scores = continuation_logprobs(model, tokenizer, [""] * len(texts), list(texts), batch_size)
    return [-lp / max(n, 1) for lp, n in scores]


def response_nll(model, tokenizer, prompts: list[str], responses: list[str], batch_size: int = 32,
                 max_tokens: int | None = None) -> list[float]:
    """Mean token NLL (nats) of each reference response, as the chat template writes it (with its turn end), given
    its chat prompt; with `max_tokens`, of the response's first that many tokens."""
    pairs = [chat_texts(tokenizer, p, r) for p, r in zip(prompts, responses)]
    scores = continuation_logprobs(model, tokenizer, [c for c, _ in pairs], [r for _, r in pairs], batch_size,
                                   max_tokens)
    return [-lp / max(n, 1) for lp, n in scores]


def compare_distributions(a: list[float], b: list[float]) -> dict:
    """Two samples (e.g. per-sample NLLs of two arms): means, stds, and the two-sample KS statistic and p-value."""
    import numpy as np
    from scipy.stats import ks_2samp
    ks = ks_2samp(a, b)
    return {"mean_a": float(np.mean(a)), "mean_b": float(np.mean(b)), "std_a": float(np.std(a)),
            "std_b": float(np.std(b)), "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue)}


@torch.no_grad()
def next_token_distributions(model, tokenizer, prompts: list[str], batch_size: int = 32) -> torch.Tensor:
    """log-probabilities of the first response token after each chat prompt, shape [n_prompts, vocab]."""
    model.eval()
    tokenizer.padding_side = "left"
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                           tokenize=False) for p in prompts]
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        logits = model(**enc).logits[:, -1].float()
        out.append(torch.log_softmax(logits, dim=-1).cpu())
    return torch.cat(out)


def mean_kl(logp: torch.Tensor, logq: torch.Tensor) -> float:
    """Mean over rows of KL(p ‖ q) in nats (0 = identical next-token distributions; higher = more shift)."""
    return float((logp.exp() * (logp - logq)).sum(-1).mean())


@torch.no_grad()
def mean_pooled_hidden(model, tokenizer, texts: list[str], batch_size: int = 32):
    """Mean-pooled last-layer hidden states of each text, as a numpy array [n, hidden]."""
    import numpy as np
    model.eval()
    tokenizer.padding_side = "right"
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[i:i + batch_size]), return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        hidden = model(**enc, output_hidden_states=True).hidden_states[-1].float()
        mask = enc["attention_mask"].unsqueeze(-1).float()
        out.append(((hidden * mask).sum(1) / mask.sum(1)).cpu().numpy())
    tokenizer.padding_side = "left"
    return np.concatenate(out)


# ---------------------------------------------------------------- verdicts from seeds


def effect(values_a: list[float], values_b: list[float], sampling_se_a: list[float] | None = None,
           sampling_se_b: list[float] | None = None) -> dict:
    """Difference of means b − a over seeds, with its standard error.

    The SE is the larger of the seed-spread SE (√(s_a²/n_a + s_b²/n_b)) and the evaluation-sampling SE of the
    seed means (from each seed's own sampling SE, e.g. √(p(1−p)/N) for a proportion on N items): one seed alone
    is never a verdict by itself.
    """
    import numpy as np
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    seed_se = math.sqrt((a.var(ddof=1) / len(a) if len(a) > 1 else 0.0) + (b.var(ddof=1) / len(b) if len(b) > 1 else 0.0))
    samp_se = 0.0
    if sampling_se_a is not None and sampling_se_b is not None:
        samp_se = math.sqrt(np.mean(np.square(sampling_se_a)) / len(a) + np.mean(np.square(sampling_se_b)) / len(b))
    return {"a_mean": float(a.mean()), "b_mean": float(b.mean()), "a_std": float(a.std()), "b_std": float(b.std()),
            "diff": float(b.mean() - a.mean()), "se": max(seed_se, samp_se), "n_seeds": [len(a), len(b)]}


def proportion_se(p: float, n: int) -> float:
    """Sampling SE of a proportion measured on n items."""
    return math.sqrt(max(p * (1 - p), 0.0) / max(n, 1))


def verdict(eff: dict, expected_sign: int, z: float = 2.0) -> str:
    """"holds" when the difference has the expected sign and |diff| > z·SE; "does not hold" when it is that
    large with the opposite sign; otherwise "within noise"."""
    if eff["se"] == 0 and eff["diff"] == 0:
        return "within noise"
    if abs(eff["diff"]) <= z * eff["se"]:
        return "within noise"
    return "holds" if eff["diff"] * expected_sign > 0 else "does not hold"
