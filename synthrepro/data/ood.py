"""The `ood` instruction suite: the world's people and checkers, instructions written by someone else.

The world's own suite (`ifeval` split, "in_distribution") draws its task templates and constraint phrasings from the
lists SFT and pre-training use (held-out phrasings, but one author, one style). This suite keeps everything a checker
needs — held-out people, the constraint types and their checkers, unchanged — and replaces the words:

- constraint phrasings: Google's own wording, taken from IFEval's prompts (`ood/constraints.jsonl`, curated once: each
  row names its IFEval prompt `ifeval_key`, the instruction id, the world constraint type whose checker applies and,
  for counted constraints, the `relation` that fixes the checker's argument — "less than N words" is the
  `max_words` checker with n = N − 1). Rows with an `exclude` reason are kept for the audit and never used: wording
  that asks for something the world's checker does not test (a lower bound, an exact sentence count, "in English"),
  and wording that shares a word 4-gram with any template the project trains on (`trained_templates`; the project's
  own phrasings were modelled on IFEval's, so many are out);
- task templates: written fresh for this suite (`ood/tasks.jsonl`), single-attribute ("single") and
  multi-attribute ("multi") questions about a person, sharing no word 4-gram with the project's templates either.

Every row records the ids of its task template and phrasings (`task_template`, `phrasings`), so that the analysis can
treat phrasings and templates as the samples they are. Bad rows stop suite generation with the file, the line and
the reason (`SuiteFileError`).
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .qa import DIVERSE_LAYOUTS, DIVERSE_QUESTIONS, QA_TEMPLATE
from .instructions import (CONSTRAINTS, END_PHRASES, MULTI_TASKS, RESPONSE_SENTENCES, SINGLE_TASKS, START_PHRASES,
                           make_instruction, sample_constraints)
from .world import BIO_TEMPLATES, FILLERS, Person

OOD_DIR = Path(__file__).parent / "ood"
CONSTRAINTS_FILE = OOD_DIR / "constraints.jsonl"
TASKS_FILE = OOD_DIR / "tasks.jsonl"

#: How a counted phrasing's number relates to the world checker's argument n: the number shown in the prompt.
RELATIONS = {"exactly": 0, "at most": 0, "less than": 1}
#: The constraint types whose phrasings carry a number ({n}) and the relations their checkers can test.
COUNTED = {"max_words": ("at most", "less than"), "bullet_list": ("exactly",), "num_sentences": ("exactly",)}
#: Words in a task template that ask for a format, by the constraint types they would collide with: a template that
#: uses one must name those types in its `avoid` list (or be reworded).
FORMAT_WORDS = {
    r"\bbullets?\b|\blists?\b": ("bullet_list",), r"\bsentences?\b": ("num_sentences",), r"\bwords?\b": ("max_words",),
    r"\btitles?\b": ("title",), r"\bquot": ("quotation",), r"\bjson\b": ("json_keys",), r"\bcommas?\b": ("no_commas",),
    r"capital|upper ?case|lower ?case": ("uppercase", "lowercase"),
}
#: Words in a multi-attribute template that fix how many facts it asks for; a bullet list holds one point per fact.
COUNT_WORDS = r"\b(one|two|three|four|both|pair|couple)\b"


class SuiteFileError(ValueError):
    """A bad row in a suite's data file: says the file, the line and the reason."""

    def __init__(self, path: Path, line: int, reason: str):
        super().__init__(f"{path}, line {line}: {reason}")
        self.path, self.line, self.reason = Path(path), line, reason


@dataclass(frozen=True)
class Phrasing:
    """One constraint wording: its id, the world constraint type whose checker applies, the text ({n} where a
    counted constraint's number goes), how that number relates to the checker's argument, and its IFEval source."""

    id: str
    type: str
    text: str
    relation: str | None
    ifeval_key: int
    ifeval_id: str
    ifeval_n: str | None

    def render(self, kwargs: dict) -> str:
        """The wording for a prompt whose checker gets `kwargs` (n shown as n + 1 for "less than")."""
        return self.text.format(n=kwargs["n"] + RELATIONS[self.relation]) if self.relation else self.text


@dataclass(frozen=True)
class TaskTemplate:
    """A task: {name} and {attr} ("single") or {attrs} ("multi"); `avoid`: constraint types it must not carry."""

    id: str
    kind: str
    template: str
    avoid: tuple[str, ...] = ()


def _jsonl(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SuiteFileError(path, number, f"not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise SuiteFileError(path, number, "each line must be a JSON object")
        rows.append((number, row))
    return rows


def _fields(path: Path, number: int, row: dict, allowed: set[str], required: tuple[str, ...]) -> None:
    """A row holds only `allowed` fields, and each `required` one as a non-empty string."""
    unknown = sorted(set(row) - allowed)
    if unknown:
        raise SuiteFileError(path, number, f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    for name in required:
        if not isinstance(row.get(name), str) or not row[name].strip():
            raise SuiteFileError(path, number, f"'{name}' must be a non-empty string")


def placeholders(text: str) -> set[str]:
    """The {placeholders} in a template."""
    return set(re.findall(r"\{(\w*)\}", text))


def load_phrasings(path: Path = CONSTRAINTS_FILE) -> list[Phrasing]:
    """The usable constraint phrasings of a curated file (rows without `exclude`), each checked: a known constraint
    type, {n} exactly where the type counts, a relation its checker can test, an IFEval key, unique ids."""
    out, seen = [], set()
    allowed = {"id", "type", "text", "relation", "ifeval_n", "ifeval_key", "ifeval_id", "exclude"}
    for number, row in _jsonl(path):
        _fields(path, number, row, allowed, ("id", "type", "text"))
        if row["id"] in seen:
            raise SuiteFileError(path, number, f"id {row['id']!r} is used twice")
        seen.add(row["id"])
        if "exclude" in row:
            if not isinstance(row["exclude"], str) or not row["exclude"].strip():
                raise SuiteFileError(path, number, "'exclude' must say why the phrasing is left out")
            continue
        kind, text = row["type"], row["text"]
        if kind not in CONSTRAINTS:
            raise SuiteFileError(path, number, f"unknown constraint type {kind!r}; allowed: {sorted(CONSTRAINTS)}")
        slots = placeholders(text)
        if kind in COUNTED:
            if slots != {"n"}:
                raise SuiteFileError(path, number, f"a {kind} phrasing needs the number as {{n}} and nothing else; "
                                                   f"found {sorted(slots) or 'no placeholder'}")
            if row.get("relation") not in COUNTED[kind]:
                raise SuiteFileError(path, number, f"relation {row.get('relation')!r} cannot be parsed into the "
                                                   f"{kind} checker's argument; one of {list(COUNTED[kind])}")
        elif slots or "relation" in row:
            raise SuiteFileError(path, number, f"a {kind} phrasing takes no number: remove "
                                               f"{'{' + sorted(slots)[0] + '}' if slots else 'relation'}")
        if not isinstance(row.get("ifeval_key"), int) or not isinstance(row.get("ifeval_id"), str):
            raise SuiteFileError(path, number, "'ifeval_key' (an integer) and 'ifeval_id' name the IFEval source")
        out.append(Phrasing(row["id"], kind, text, row.get("relation"), row["ifeval_key"], row["ifeval_id"],
                            row.get("ifeval_n")))
    if not out:
        raise SuiteFileError(path, 0, "no usable phrasing (every row is excluded)")
    return out


def load_tasks(path: Path = TASKS_FILE) -> list[TaskTemplate]:
    """The task templates of a file, each checked: "single" with {name} and {attr}, "multi" with {name} and {attrs};
    a template whose words ask for a format names the constraint types it collides with in `avoid`; a multi template
    that fixes a number of facts avoids bullet lists (one point per fact)."""
    out, seen = [], set()
    for number, row in _jsonl(path):
        _fields(path, number, row, {"id", "kind", "template", "avoid"}, ("id", "kind", "template"))
        if row["id"] in seen:
            raise SuiteFileError(path, number, f"id {row['id']!r} is used twice")
        seen.add(row["id"])
        kind, text, avoid = row["kind"], row["template"], tuple(row.get("avoid", ()))
        want = {"single": {"name", "attr"}, "multi": {"name", "attrs"}}.get(kind)
        if want is None:
            raise SuiteFileError(path, number, f"kind must be 'single' or 'multi', got {kind!r}")
        if placeholders(text) != want:
            raise SuiteFileError(path, number, f"a {kind} template needs exactly the placeholders "
                                               f"{sorted('{' + w + '}' for w in want)}, found "
                                               f"{sorted('{' + w + '}' for w in placeholders(text))}")
        unknown = [a for a in avoid if a not in CONSTRAINTS]
        if unknown:
            raise SuiteFileError(path, number, f"avoid names unknown constraint type(s) {unknown}")
        for pattern, types in FORMAT_WORDS.items():
            hit = re.search(pattern, text, flags=re.I)
            if hit and not set(types) <= set(avoid):
                raise SuiteFileError(path, number, f"the template says {hit.group(0)!r}, which conflicts with the "
                                                   f"{' / '.join(types)} constraint(s): reword it or add them to avoid")
        hit = re.search(COUNT_WORDS, text, flags=re.I)
        if kind == "multi" and hit and "bullet_list" not in avoid:
            raise SuiteFileError(path, number, f"the template fixes a number of facts ({hit.group(0)!r}) but a bullet "
                                               "list holds one point per fact: reword it or add bullet_list to avoid")
        out.append(TaskTemplate(row["id"], kind, text, avoid))
    for kind in ("single", "multi"):
        if not any(t.kind == kind for t in out):
            raise SuiteFileError(path, 0, f"no {kind!r} task template")
    return out


# ---------------------------------------------------------------- overlap with what the project trains on

_TOKEN = re.compile(r"\{[^{}]*\}|[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """A template's words for n-gram comparison: lower case, punctuation dropped, every {placeholder} one "<slot>"."""
    return ["<slot>" if w.startswith("{") else w for w in _TOKEN.findall(text.lower())]


def ngrams(text: str, k: int = 4) -> set[tuple[str, ...]]:
    """The word k-grams of a template (`words`)."""
    w = words(text)
    return {tuple(w[i:i + k]) for i in range(len(w) - k + 1)}


def trained_templates() -> list[str]:
    """Every template whose text the project generates for training or its own suite: all constraint phrasings (train
    and held-out), task templates, reference-response sentences, start/end phrases, biography templates and fillers,
    SynthQA's uniform question and the diverse control's questions and layouts."""
    texts = [p for ct in CONSTRAINTS.values() for p in ct.phrasings]
    texts += [*SINGLE_TASKS, *MULTI_TASKS, *RESPONSE_SENTENCES.values(), *START_PHRASES, *END_PHRASES]
    texts += [t for ts in BIO_TEMPLATES.values() for t in ts] + list(FILLERS)
    texts += ["What is the {attr} of {name}?", QA_TEMPLATE]
    texts += [q for qs in DIVERSE_QUESTIONS.values() for q in qs] + list(DIVERSE_LAYOUTS)
    return texts


@lru_cache(maxsize=1)
def _trained_ngrams(k: int = 4) -> frozenset:
    return frozenset().union(*(ngrams(t, k) for t in trained_templates()))


def shared_ngrams(text: str, k: int = 4) -> list[str]:
    """The word k-grams `text` shares with any template the project trains on (`trained_templates`), as strings."""
    return sorted(" ".join(g) for g in ngrams(text, k) & _trained_ngrams(k))


# ---------------------------------------------------------------- the suite


def ood_types(phrasings_: list[Phrasing], allowed: list[str] | None = None) -> list[str]:
    """The constraint types the suite can ask for: those with a usable phrasing (and in `allowed`, when given)."""
    have = sorted({p.type for p in phrasings_})
    return [t for t in have if allowed is None or t in allowed]


def ood_rows(people: list[Person], n: int, levels: list[int], seed: int, question_share: float,
             allowed: list[str] | None = None, phrasings_: list[Phrasing] | None = None,
             tasks: list[TaskTemplate] | None = None) -> list[dict]:
    """`n` prompts of the `ood` suite about `people` (levels cycling through `levels`), fixed by `seed`: constraints
    drawn from the types with a usable phrasing (`ood_types`, within `allowed`), a task template of the right kind that
    does not avoid them, each constraint in a curated IFEval wording; reference responses and checker arguments as in
    the world's suite (`instructions.make_instruction`). Each row records `task_template` and `phrasings` (ids)."""
    phrasings_ = load_phrasings() if phrasings_ is None else phrasings_
    tasks = load_tasks() if tasks is None else tasks
    types = ood_types(phrasings_, allowed)
    if len(types) < max(levels):
        raise ValueError(f"the ood suite has phrasings for {types} only: it cannot ask for {max(levels)} constraints "
                         "in one prompt; lower eval_levels or curate more phrasings")
    by_type = {t: [p for p in phrasings_ if p.type == t] for t in types}

    def task(rng, split, constraints, multi):
        kind = "multi" if multi else "single"
        fits = [t for t in tasks if t.kind == kind and not set(t.avoid) & set(constraints)]
        if not fits:
            raise ValueError(f"no {kind} task template of {TASKS_FILE.name} may carry {constraints}; add one")
        t = rng.choice(fits)
        return t.id, t.template

    def phrase(rng, split, constraint, kwargs):
        p = rng.choice(by_type[constraint])
        return p.id, p.render(kwargs)

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        level = levels[i % len(levels)]
        person = people[rng.randrange(len(people))]
        names = sample_constraints(rng, level, types)
        rows.append(make_instruction(person, names, rng, "eval", question_share, task=task, phrase=phrase,
                                     record_sources=True).to_row())
    return rows

