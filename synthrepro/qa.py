"""SynthQA: question-answer pairs in one uniform format, written by a pluggable QA generator.

The paper's SynthQA came from GPT-4 in a uniform "question → answer" format. Here a `QAGenerator`
takes people (and their documents) and returns Q-A rows. Two generators share the interface:

- `RuleBasedQAGenerator` (the default): one fixed template per attribute — maximally uniform.
- `ModelQAGenerator`: prompts any transformers causal LM with a document and parses the
  `Question: … Answer: …` pairs it writes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .world import ATTRIBUTE_LABELS, ATTRIBUTES, Person

QA_TEMPLATE = "Question: {question}\nAnswer: {answer}"
QA_PATTERN = re.compile(r"^Question: (?P<question>[^\n]+)\nAnswer: (?P<answer>[^\n]+)$")
#: Tokens that make up the Q-A template itself (marked in the token-frequency plots).
STRUCTURAL_WORDS = ("Question:", "Answer:", "What", "is", "the", "of")


def format_qa(question: str, answer: str) -> str:
    """The one SynthQA surface form: `Question: …` newline `Answer: …`."""
    return QA_TEMPLATE.format(question=question, answer=answer)


def is_qa_formatted(text: str) -> bool:
    """True when `text` is exactly one pair in the SynthQA template."""
    return bool(QA_PATTERN.match(text.strip()))


class QAGenerator(Protocol):
    """People (and their documents) in, Q-A rows out: {"person", "attribute", "question", "answer", "text"}."""

    name: str

    def generate(self, people: list[Person], documents: dict[str, list[str]]) -> list[dict]: ...


@dataclass
class RuleBasedQAGenerator:
    """One uniform question per attribute: `What is the <attribute> of <name>?` → `<value>.`"""

    attributes: tuple[str, ...] = ATTRIBUTES
    name: str = "rule_based"

    def generate(self, people: list[Person], documents: dict[str, list[str]] | None = None) -> list[dict]:
        rows = []
        for person in people:
            for attr in self.attributes:
                question = f"What is the {ATTRIBUTE_LABELS[attr]} of {person.name}?"
                answer = f"{getattr(person, attr)}."
                rows.append({"person": person.name, "attribute": attr, "question": question,
                             "answer": answer, "text": format_qa(question, answer)})
        return rows


MODEL_QA_PROMPT = (
    "Read the text and write question-answer pairs about it, one per fact, each as\n"
    "Question: <question>\nAnswer: <answer>\n\nText: {document}\n\n"
)
_PAIR = re.compile(r"Question:\s*(?P<question>[^\n]+?)\s*\n\s*Answer:\s*(?P<answer>[^\n]+)")


def parse_qa_pairs(generated: str) -> list[tuple[str, str]]:
    """All well-formed `Question: …` / `Answer: …` pairs in a model's output, in order."""
    return [(m["question"].strip(), m["answer"].strip()) for m in _PAIR.finditer(generated)]


@dataclass
class ModelQAGenerator:
    """Prompts a transformers causal LM (`model`, `tokenizer`) with each document and parses its Q-A pairs.

    Greedy decoding; `documents_per_person` documents per person are used. Pairs the model writes in a
    malformed shape are dropped (count them with `parse_qa_pairs` on the raw output to see how many).
    """

    model: object
    tokenizer: object
    max_new_tokens: int = 96
    documents_per_person: int = 1
    prompt_template: str = MODEL_QA_PROMPT
    name: str = "model_based"

    def generate(self, people: list[Person], documents: dict[str, list[str]]) -> list[dict]:
        import torch

        rows = []
        for person in people:
            for doc in documents.get(person.name, [])[: self.documents_per_person]:
                prompt = self.prompt_template.format(document=doc)
                enc = self.tokenizer(prompt, return_tensors="pt")
                with torch.no_grad():
                    out = self.model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                              pad_token_id=self.tokenizer.pad_token_id)
                text = self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
                for question, answer in parse_qa_pairs(text):
                    rows.append({"person": person.name, "attribute": "", "question": question,
                                 "answer": answer, "text": format_qa(question, answer)})
        return rows
