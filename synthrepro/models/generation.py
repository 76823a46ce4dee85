"""Greedy, batched chat generation for any causal LM with a chat template."""
from __future__ import annotations

import torch

from .tokenizer import padding_side, prompt_texts, stop_ids


def generation_batches(lengths: list[int], batch_size: int, max_new_tokens: int,
                       batch_tokens: int | None = None) -> list[list[int]]:
    """The prompts' indices in generation batches. `batch_tokens` None: consecutive batches of `batch_size` in the
    given order. A token budget: shortest prompt first, each batch as many prompts as keep rows × (its longest prompt
    + `max_new_tokens`) — the padded tokens the batch holds at its last step — within `batch_tokens`, at most
    `batch_size`, at least one. Left padding makes every prompt of a batch as long as its longest, so a few long
    prompts in a batch of short ones multiply the work (IFEval: 15 to 386 tokens); the budget keeps batches of
    long prompts small and batches of short ones large."""
    if batch_tokens is None:
        return [list(range(i, min(i + batch_size, len(lengths)))) for i in range(0, len(lengths), batch_size)]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in order:  # ascending length: the newest prompt is the batch's longest
        batch = batches[-1] if batches else None
        if batch is None or len(batch) >= batch_size or (len(batch) + 1) * (lengths[i] + max_new_tokens) > batch_tokens:
            batches.append([i])
        else:
            batch.append(i)
    return batches


def prompt_lengths(tokenizer, texts: list[str]) -> list[int]:
    """Tokens per text as `generate` encodes it (no special tokens added: the chat template holds them)."""
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 96, batch_size: int = 32,
             chat: bool = True, batch_tokens: int | None = None) -> list[str]:
    """Greedy generation, batched with left padding and KV cache (`generation_batches`: fixed batches in the given
    order, or by a token budget); stops at EOS and at the chat turn end (`tokenizer.stop_ids`). Replies come back in
    the prompts' order. Works for any chat model with a chat template; the tokenizer is left as it was given."""
    model.eval()
    stop = stop_ids(tokenizer)
    texts = prompt_texts(tokenizer, prompts, chat)
    lengths = prompt_lengths(tokenizer, texts) if batch_tokens is not None else [0] * len(texts)
    out: list[str] = [""] * len(texts)
    with padding_side(tokenizer, "left"):
        for batch in generation_batches(lengths, batch_size, max_new_tokens, batch_tokens):
            enc = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(model.device)
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                                 pad_token_id=tokenizer.pad_token_id, use_cache=True)
            for i, row in zip(batch, gen[:, enc["input_ids"].shape[1]:]):
                out[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return out
