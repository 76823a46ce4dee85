"""Training data: documents packed into fixed-length blocks (pre-training, CPT), chat-formatted SFT examples with
the prompt masked, and the one padding routine."""
from __future__ import annotations

import random

import numpy as np
import torch

from ..config import check_ratio
from ..models.tokenizer import chat_texts


def tokenize_texts(tokenizer, texts, chunk: int = 10_000) -> list[np.ndarray]:
    """Token ids of each text (no special tokens) as int32 arrays, tokenised `chunk` texts at a time (a corpus of
    millions of documents never sits in memory as Python lists)."""
    texts = list(texts)
    out = []
    for i in range(0, len(texts), chunk):
        out += [np.asarray(ids, dtype=np.int32) for ids in
                tokenizer(texts[i:i + chunk], add_special_tokens=False)["input_ids"]]
    return out


def _doc_stream(docs: list[list[int]], n_tokens: int, rng: random.Random) -> list[list[int]]:
    """Whole documents, reshuffled each epoch, until they hold at least `n_tokens` tokens (+1 separator each)."""
    out, total = [], 0
    if n_tokens <= 0 or not docs:
        return out
    while total < n_tokens:
        order = list(range(len(docs)))
        rng.shuffle(order)
        for i in order:
            out.append(docs[i])
            total += len(docs[i]) + 1
            if total >= n_tokens:
                break
    return out


#: Peak bytes per packed token while `pack_blocks` runs: the int32 ids twice (the parts and their concatenation),
#: the SynthQA mask, and the per-document Python objects (documents of about 50-100 tokens).
PACK_BYTES_PER_TOKEN = 16


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (MemAvailable of /proc/meminfo), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_packing_fits(tokens: int) -> None:
    """Raise ValueError, before any work, when packing `tokens` would not fit in this machine's available memory
    (with a fifth to spare): say how much it needs and what to lower."""
    need, have = tokens * PACK_BYTES_PER_TOKEN, available_memory()
    if have is not None and need > 0.8 * have:
        raise ValueError(f"a stage of max_steps × batch_size × block_size = {tokens:,} tokens needs about "
                         f"{need / 2**30:,.1f} GiB to pack, and this machine has {have / 2**30:,.1f} GiB available: "
                         "lower max_steps (PRETRAIN_STEPS / CPT_STEPS), batch_size or block_size")


def pack_blocks(nonsynth: list[list[int]], n_blocks: int, block_size: int, eos_id: int, seed: int,
                synth: list[list[int]] | None = None, synth_ratio: float = 0.0) -> tuple[torch.Tensor, float]:
    """Pack documents (separated by EOS) into `n_blocks` × `block_size` token ids.

    With `synth`, about `synth_ratio` of the tokens are SynthQA documents, shuffled among NonSynth ones.
    Returns (blocks as int32, measured SynthQA token share). Documents may be lists or arrays of ids.
    """
    check_ratio(synth_ratio)
    rng = random.Random(seed)
    total = n_blocks * block_size
    check_packing_fits(total)
    synth_docs = _doc_stream(synth or [], round(total * synth_ratio), rng) if synth_ratio > 0 else []
    synth_tokens = sum(len(d) + 1 for d in synth_docs)
    docs = [(d, False) for d in _doc_stream(nonsynth, total - synth_tokens + block_size, rng)]
    docs += [(d, True) for d in synth_docs]
    rng.shuffle(docs)
    sep = np.array([eos_id], dtype=np.int32)
    ids = np.concatenate([part for d, _ in docs for part in (np.asarray(d, dtype=np.int32), sep)])[:total]
    is_synth = np.repeat([s for _, s in docs], [len(d) + 1 for d, _ in docs])[:total]
    return torch.from_numpy(ids).view(n_blocks, block_size), float(is_synth.sum()) / total


class BlockDataset(torch.utils.data.Dataset):
    """Fixed-length blocks for causal LM training (labels = inputs); stored compactly, served as int64."""

    def __init__(self, blocks: torch.Tensor):
        self.blocks = blocks

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        block = self.blocks[i].long()
        return {"input_ids": block, "labels": block}


def sft_example(tokenizer, prompt: str, response: str, max_len: int) -> dict:
    """Chat-formatted ids with labels −100 on the prompt (loss on the response and the chat template's own turn end
    only — `<|end|>` for the world's tokenizer, `<|im_end|>` for SmolLM2's)."""
    prompt_text, reply = chat_texts(tokenizer, prompt, response)
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    r = tokenizer(reply, add_special_tokens=False)["input_ids"]
    ids = (p + r)[:max_len]
    labels = ([-100] * len(p) + r)[:max_len]
    return {"input_ids": ids, "labels": labels}


class SFTDataset(torch.utils.data.Dataset):
    def __init__(self, tokenizer, prompts: list[str], responses: list[str], max_len: int):
        self.items = [sft_example(tokenizer, p, r, max_len) for p, r in zip(prompts, responses)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def pad_sequences(seqs, pad_id: int, labels=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad token sequences into (ids, labels, attention mask) [B, T]: ids `pad_id` and mask 0 on padding,
    labels −100 on padding and equal to the ids elsewhere unless `labels` (one list per sequence) are given. The one
    padding routine of training, unlearning and scoring."""
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    out_labels = torch.full((len(seqs), n), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        k = len(s)
        ids[i, :k] = torch.as_tensor(s)
        out_labels[i, :k] = torch.as_tensor(labels[i] if labels is not None else s)
        mask[i, :k] = 1
    return ids, out_labels, mask


def pad_collate(batch: list[dict], pad_id: int = 0) -> dict:
    """Right-pad a batch of SFT examples: pad ids, attention mask 0, labels −100 on padding."""
    ids, labels, mask = pad_sequences([b["input_ids"] for b in batch], pad_id, [b["labels"] for b in batch])
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
