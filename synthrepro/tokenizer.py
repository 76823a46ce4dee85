"""A byte-level BPE tokenizer trained on the world's text (`tokenizers`), saved as a transformers fast tokenizer.

Special tokens: `<|endoftext|>` (BOS/EOS/PAD, separates packed documents), `<|user|>`, `<|assistant|>`,
`<|end|>` (closes a chat turn). The chat template formats SFT prompts and responses.
"""
from __future__ import annotations

from pathlib import Path

EOT, USER, ASSISTANT, END = "<|endoftext|>", "<|user|>", "<|assistant|>", "<|end|>"
SPECIAL_TOKENS = [EOT, USER, ASSISTANT, END]
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'user' %}" + USER + "\n{{ m['content'] }}" + END + "\n"
    "{% elif m['role'] == 'assistant' %}" + ASSISTANT + "\n{{ m['content'] }}" + END + "\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}" + ASSISTANT + "\n{% endif %}"
)


def train_tokenizer(texts, vocab_size: int, out_dir: str | Path):
    """Train byte-level BPE on `texts` and save it (with the chat template) to `out_dir`; returns the tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 300:
        raise ValueError(f"vocab_size must be >= 300 (256 bytes + special tokens + merges), got {vocab_size}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOT, eos_token=EOT, pad_token=EOT,
                                   additional_special_tokens=[USER, ASSISTANT, END])
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"  # batched generation
    fast.save_pretrained(str(out_dir))
    return fast


def load_tokenizer(path: str | Path):
    """A saved tokenizer, with left padding (for batched generation)."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(path))
    tok.padding_side = "left"
    return tok
