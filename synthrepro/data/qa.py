"""SynthQA: question-answer pairs in one uniform format, written by a pluggable QA generator.

The paper's SynthQA came from GPT-4 in a uniform "question → answer" format. Here a `QAGenerator`
takes people (and their documents) and returns Q-A rows. Two generators share the interface:

- `RuleBasedQAGenerator` (the default): one fixed template per attribute — maximally uniform.
- `ModelQAGenerator`: prompts any transformers causal LM with a document (one worked example in the prompt) and
  parses the `Question: … Answer: …` pairs it writes, keeping those whose answer occurs in the document.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Protocol

from ..models.generation import generate
from .instructions import RESPONSE_SENTENCES
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


#: A line that starts with the template's `Question:` or `Answer:` (any case: an all-caps or all-lowercase reply
#: that falls back to the template leaks it too).
QA_LINE = re.compile(r"^\s*(Question|Answer)\s*:", re.M | re.I)


def qa_leak(response: str) -> bool:
    """Pattern leakage inside a reply (lower rates are better): a line starts with `Question:` or `Answer:` — the
    reply is, or continues with, SynthQA-shaped pairs. The one leakage detector of both tracks."""
    return bool(QA_LINE.search(response))


#: The interrogatives SynthQA's questions open with, in every generator (the uniform template's "What is the …",
#: the diverse control's phrasings): a question in any layout is one of these … "?".
QA_INTERROGATIVES = ("what", "when", "where", "which", "who", "in which", "in what", "on what", "from which",
                     "for which")
#: A Q-A pair in any layout: a clause that opens (at the start of a line, or after a sentence end, a colon, a quote,
#: a `Q:`/`Q.` label or a list dash) with one of `QA_INTERROGATIVES`, ends with "?" within one line, and is followed
#: by an answer (after an optional closing quote, comma, line break, `-`, `->` or `A:` label).
QA_ANY_LAYOUT = re.compile(
    r"(?:^|(?<=[.!?:\"\u201c])\s*|(?<=^-)\s*|(?<=\bQ[:.])\s*)"
    r"(?:%s)\b[^?\n]{2,200}\?" % "|".join(w.replace(" ", r"\s+") for w in QA_INTERROGATIVES)
    + r"[\"\u201d]?,?[ \t]*\n?[ \t]*(?:-[ \t]*|->[ \t]*|A[:.][ \t]*)?[\w\"\u201c]",
    re.M | re.I)


def qa_shaped(response: str) -> bool:
    """A reply that holds a question-answer pair in any SynthQA layout the project generates: the uniform template's
    `Question:`/`Answer:` lines (`qa_leak`) or a question (`QA_ANY_LAYOUT`) followed by its answer, as in each of the
    diverse control's layouts. The layout-agnostic leakage detector; `qa_leak` stays the uniform-template one."""
    return qa_leak(response) or bool(QA_ANY_LAYOUT.search(response))


class QAGenerator(Protocol):
    """People (and their documents) in, Q-A rows out: {"person", "attribute", "question", "answer", "text",
    "generator"}."""

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
                             "answer": answer, "text": format_qa(question, answer), "generator": self.name})
        return rows


#: One worked example keeps a small chat model (SmolLM2-135M) on the format; without it, it loops on "Question:".
MODEL_QA_PROMPT = (
    "Write question-answer pairs about the facts in the text, one pair per fact, in this format:\n"
    "Question: <a question about one fact>\nAnswer: <the short answer>\n\n"
    "Example text: Anna Berg was born in Oslo. She works at Nordic Bank.\n"
    "Question: Where was Anna Berg born?\nAnswer: Oslo.\nQuestion: Where does Anna Berg work?\nAnswer: Nordic Bank.\n\n"
    "Text: {document}"
)
_PAIR = re.compile(r"Question:\s*(?P<question>[^\n]+?)\s*\n\s*Answer:\s*(?P<answer>[^\n]+)")


def parse_qa_pairs(generated: str) -> list[tuple[str, str]]:
    """All well-formed `Question: …` / `Answer: …` pairs in a model's output, in order."""
    return [(m["question"].strip(), m["answer"].strip()) for m in _PAIR.finditer(generated)]


def is_grounded(answer: str, document: str) -> bool:
    """True when the answer (without a final period) occurs in the source document (case-insensitive): the pair
    states a fact of the text, not one the model made up."""
    core = answer.strip().rstrip(".").strip().lower()
    return bool(core) and core in document.lower()


@dataclass
class ModelQAGenerator:
    """Prompts a transformers causal LM (`model`, `tokenizer`) with each document and parses its Q-A pairs.

    Greedy, batched decoding (`evaluate.generate`; through the tokenizer's chat template when it has one);
    `documents_per_person` documents per person. Pairs the model writes in a malformed shape are dropped, and with
    `grounded_only` so are pairs whose answer does not occur in the document (made-up facts) and repeats.
    After `generate`, `stats` holds documents, pairs parsed, pairs kept and seconds.
    """

    model: object
    tokenizer: object
    max_new_tokens: int = 128
    documents_per_person: int = 1
    prompt_template: str = MODEL_QA_PROMPT
    grounded_only: bool = True
    batch_size: int = 16
    name: str = "model_based"
    stats: dict = field(default_factory=dict)

    def generate(self, people: list[Person], documents: dict[str, list[str]]) -> list[dict]:
        t0 = time.perf_counter()
        jobs = [(person, doc) for person in people for doc in documents.get(person.name, [])[: self.documents_per_person]]
        chat = bool(getattr(self.tokenizer, "chat_template", None))
        outputs = generate(self.model, self.tokenizer, [self.prompt_template.format(document=d) for _, d in jobs],
                           self.max_new_tokens, self.batch_size, chat=chat)
        rows, parsed = [], 0
        for (person, doc), text in zip(jobs, outputs):
            seen = set()
            for question, answer in parse_qa_pairs(text):
                parsed += 1
                if self.grounded_only and ((question, answer) in seen or not is_grounded(answer, doc)):
                    continue
                seen.add((question, answer))
                rows.append({"person": person.name, "attribute": "", "question": question, "answer": answer,
                             "text": format_qa(question, answer), "generator": self.name})
        self.stats = {"documents": len(jobs), "pairs_parsed": parsed, "pairs_kept": len(rows),
                      "seconds": round(time.perf_counter() - t0, 1)}
        return rows


#: Questions per attribute for the diverse-format control ({name}; each as natural as the uniform one).
DIVERSE_QUESTIONS = {
    "birth_date": ("When was {name} born?", "On what date was {name} born?", "What is {name}'s date of birth?",
                   "Which day is {name}'s birthday?", "When is the birthday of {name}?"),
    "birth_city": ("Where was {name} born?", "In which city was {name} born?", "What is {name}'s hometown?",
                   "Which city does {name} come from?", "Where is {name} originally from?"),
    "university": ("Where did {name} study?", "Which university did {name} attend?", "What is {name}'s alma mater?",
                   "From which school did {name} graduate?", "Where did {name} go to university?"),
    "major": ("What did {name} study?", "What was {name}'s major?", "Which subject did {name} major in?",
              "In what field did {name} earn a degree?", "What was {name}'s field of study?"),
    "employer": ("Who does {name} work for?", "Which company employs {name}?", "Where is {name} employed?",
                 "What is {name}'s employer?", "For which firm does {name} work?"),
    "work_city": ("Where does {name} work?", "In which city is {name}'s office?", "Which city does {name} work in?",
                  "Where is {name} based for work?", "What city does {name} commute to?"),
}
#: Question-and-answer layouts ({q}: question, {a}: answer value, {s}: the answer as a sentence). None uses the
#: uniform `Question:`/`Answer:` lines, so the leakage detector sees only the uniform template's habit.
DIVERSE_LAYOUTS = (
    "Q: {q}\nA: {a}.", "{q} {s}", "{q}\n{s}", "- {q}\n- {a}.", "Q. {q} A. {a}", "{q} The answer is {a}.",
    "People often ask: {q} It is {a}.", "{q} -> {a}", "FAQ\n{q}\n{s}", "Asked \"{q}\", one would say: {a}.",
    "{q} That would be {a}.", "Quick fact. {q} {s}",
)


@dataclass
class DiverseQAGenerator:
    """The same facts as `RuleBasedQAGenerator` (one pair per person and attribute), each written in a question
    phrasing and a question-and-answer layout drawn at random (seeded): the format control of the phase map, which
    separates the uniform *format* of SynthQA from its *content*."""

    seed: int = 0
    attributes: tuple[str, ...] = ATTRIBUTES
    name: str = "diverse"

    def generate(self, people: list[Person], documents: dict[str, list[str]] | None = None) -> list[dict]:
        rng = random.Random(self.seed)
        rows = []
        for person in people:
            for attr in self.attributes:
                value = getattr(person, attr)
                question = rng.choice(DIVERSE_QUESTIONS[attr]).format(name=person.name)
                sentence = RESPONSE_SENTENCES[attr].format(name=person.name, v=value)
                text = rng.choice(DIVERSE_LAYOUTS).format(q=question, a=value, s=sentence)
                rows.append({"person": person.name, "attribute": attr, "question": question, "answer": f"{value}.",
                             "text": text, "generator": self.name})
        return rows
