"""Scoring by likelihood: the benchmark (MMLU-like multiple choice), per-sample NLL and response NLL, next-token
distributions and hidden states — and comparisons between two models' distributions.

Directions: accuracy in [0, 1], higher is better; NLL in nats/token, lower = the model expects the text more.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import ks_2samp

from ..models.tokenizer import chat_texts, document_start_id, padding_side, prompt_texts
from ..training.packing import pad_sequences
from .stats import wilson_interval


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
        ids, _, mask = pad_sequences(seqs, pad)
        logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits
        for j, (c, d) in enumerate(zip(ctx_ids, cont_ids)):
            first = len(c)  # the position that predicts the first continuation token (after the document start)
            logp = torch.log_softmax(logits[j, first:first + len(d)].float(), dim=-1)  # only the scored positions
            lp = logp.gather(1, torch.tensor(d, device=logp.device)[:, None]).sum().item()
            out.append((lp, len(d)))
    return out


def benchmark_accuracy(model, tokenizer, items: list[dict], form: str = "qa") -> dict:
    """Multiple-choice accuracy (higher is better) with a 95 % CI: `accuracy` by the summed log-likelihood of each
    option (lm-eval's `acc`), `accuracy_per_token` by its mean per token, `accuracy_per_byte` by its sum divided by
    the option's length in UTF-8 bytes (lm-eval's `acc_norm`).

    form="qa": context `Question: <q>\\nAnswer:`, options ` <value>.` (the SynthQA surface form — part of a gain
    here can be mere format); form="neutral": each option is a whole biography sentence, no Q-A format.
    `per_item`: "1"/"0" per item (raw accuracy), for comparisons paired per item.
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
    n_bytes = [len(c.encode("utf-8")) for c in conts]
    correct = {"raw": 0, "token": 0, "byte": 0}
    per_item = []
    for i, it in enumerate(items):
        s, b = scores[4 * i:4 * i + 4], n_bytes[4 * i:4 * i + 4]
        per_item.append(int(max(range(4), key=lambda k: s[k][0]) == it["answer"]))
        correct["raw"] += per_item[-1]
        correct["token"] += int(max(range(4), key=lambda k: s[k][0] / s[k][1]) == it["answer"])
        correct["byte"] += int(max(range(4), key=lambda k: s[k][0] / b[k]) == it["answer"])
    n = len(items)
    return {"form": form, "n": n, "accuracy": correct["raw"] / n, "ci95": wilson_interval(correct["raw"], n),
            "accuracy_per_token": correct["token"] / n, "ci95_per_token": wilson_interval(correct["token"], n),
            "accuracy_per_byte": correct["byte"] / n, "ci95_per_byte": wilson_interval(correct["byte"], n),
            "chance": 0.25, "per_item": "".join(map(str, per_item))}


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
    ks = ks_2samp(a, b)
    return {"mean_a": float(np.mean(a)), "mean_b": float(np.mean(b)), "std_a": float(np.std(a)),
            "std_b": float(np.std(b)), "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue)}


@torch.no_grad()
def next_token_distributions(model, tokenizer, prompts: list[str], batch_size: int = 32) -> torch.Tensor:
    """log-probabilities of the first response token after each chat prompt, shape [n_prompts, vocab]."""
    model.eval()
    texts = prompt_texts(tokenizer, prompts)
    out = []
    with padding_side(tokenizer, "left"):
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(model.device)
            logits = model(**enc).logits[:, -1].float()
            out.append(torch.log_softmax(logits, dim=-1).cpu())
    return torch.cat(out)


def mean_kl(logp: torch.Tensor, logq: torch.Tensor) -> float:
    """Mean over rows of KL(p ‖ q) in nats (0 = identical next-token distributions; higher = more shift)."""
    return float((logp.exp() * (logp - logq)).sum(-1).mean())


@torch.no_grad()
def mean_pooled_hidden(model, tokenizer, texts: list[str], batch_size: int = 32):
    """Mean-pooled last-layer hidden states of each text, as a numpy array [n, hidden]."""
    model.eval()
    out = []
    with padding_side(tokenizer, "right"):
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[i:i + batch_size]), return_tensors="pt", padding=True,
                            add_special_tokens=False).to(model.device)
            hidden = model(**enc, output_hidden_states=True).hidden_states[-1].float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1)).cpu().numpy())
    return np.concatenate(out)
