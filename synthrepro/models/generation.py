"""Greedy, batched chat generation for any causal LM with a chat template."""
from __future__ import annotations

import torch

from .tokenizer import padding_side, stop_ids


@torch.no_grad()
def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 96, batch_size: int = 32,
             chat: bool = True) -> list[str]:
    """Greedy generation, batched with left padding and KV cache; stops at EOS and at the chat turn end
    (`tokenizer.stop_ids`). Works for any chat model with a chat template; the tokenizer is left as it was given."""
    model.eval()
    stop = stop_ids(tokenizer)
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                           tokenize=False) if chat else p for p in prompts]
    out = []
    with padding_side(tokenizer, "left"):
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(model.device)
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                                 pad_token_id=tokenizer.pad_token_id, use_cache=True)
            for row in gen[:, enc["input_ids"].shape[1]:]:
                out.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return out
