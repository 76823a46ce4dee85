"""A byte-level BPE tokenizer trained on the world's text (`tokenizers`), saved as a transformers fast tokenizer.

Special tokens: `<|endoftext|>` (BOS/EOS/PAD, separates packed documents), `<|user|>`, `<|assistant|>`,
`<|end|>` (closes a chat turn). The chat template formats SFT prompts and responses.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

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


#: For a base model whose tokenizer has ChatML tokens but no chat template (SFT then teaches this one).
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def load_tokenizer(path: str | Path):
    """A saved tokenizer, with left padding (for batched generation), a pad token, and a chat template: its own, else
    ChatML where it has the tokens, else ours (a base model's tokenizer may have none; SFT teaches it)."""
    tok = AutoTokenizer.from_pretrained(str(path))
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        vocab = tok.get_vocab()
        tok.chat_template = CHATML_TEMPLATE if "<|im_start|>" in vocab and "<|im_end|>" in vocab else CHAT_TEMPLATE
    return tok


def stop_ids(tokenizer) -> list[int]:
    """Token ids that end a chat reply: EOS, and the chat turn ends `<|end|>` (ours) and `<|im_end|>` (ChatML)
    where the tokenizer has them."""
    vocab = tokenizer.get_vocab()
    return list(dict.fromkeys([tokenizer.eos_token_id] + [vocab[t] for t in (END, "<|im_end|>") if t in vocab]))


def separator_id(tokenizer, separator: str = "eos") -> int:
    """The id of the token between packed documents: the tokenizer's EOS ("eos") or one of its special tokens."""
    if separator == "eos":
        return tokenizer.eos_token_id
    if separator not in tokenizer.get_vocab():
        raise ValueError(f"separator {separator!r} is not a token of this tokenizer; use 'eos' or one of its special "
                         f"tokens {tokenizer.all_special_tokens}")
    return tokenizer.convert_tokens_to_ids(separator)


def document_start_id(tokenizer) -> int:
    """The token that opens a document when text is scored on its own: `<|endoftext|>` where the tokenizer has it
    (our world tokenizer's EOS; SmolLM2's pre-training document separator), else EOS."""
    return separator_id(tokenizer, EOT if EOT in tokenizer.get_vocab() else "eos")


def prompt_texts(tokenizer, prompts: list[str], chat: bool = True) -> list[str]:
    """The texts `generate` feeds the model: each prompt as one user turn with the generation prompt (`chat`), or
    as it is."""
    return [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
            if chat else p for p in prompts]


def chat_texts(tokenizer, prompt: str, response: str) -> tuple[str, str]:
    """(the chat-formatted prompt up to the assistant's turn, the reply as the template writes it: the response and
    the template's own turn end — `<|end|>` for the world's tokenizer, `<|im_end|>` for SmolLM2's)."""
    user = [{"role": "user", "content": prompt}]
    prompt_text = tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(user + [{"role": "assistant", "content": response}], tokenize=False)
    if not full.startswith(prompt_text):
        raise ValueError("the tokenizer's chat template does not extend the generation prompt with the reply; "
                         "SFT masking and response scoring need a template where it does")
    return prompt_text, full[len(prompt_text):].rstrip()


@contextmanager
def padding_side(tokenizer, side: str):
    """Pad on `side` ("left" for generation and last-token reads, "right" for pooling) inside the block, then restore
    the tokenizer's own setting: callers' tokenizers are never left changed."""
    before, tokenizer.padding_side = tokenizer.padding_side, side
    try:
        yield tokenizer
    finally:
        tokenizer.padding_side = before
