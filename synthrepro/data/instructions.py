"""Instructions about the world with verifiable constraints (the SFT data and the FollowBench-like suite).

A prompt = a task about one person (a question for one attribute, or a request for several) plus
1–5 constraints. Every constraint type has ≥ 12 phrasings: the first `TRAIN_PHRASINGS` are used for
SFT, the rest only for evaluation (held-out phrasings). Every constraint has a checker
`check(response, **kwargs) -> bool`. Reference responses are rendered so that they satisfy every
constraint of their prompt and state the correct facts (tests check the whole generated set).
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Callable

from .world import ATTRIBUTE_LABELS, ATTRIBUTES, Person

TRAIN_PHRASINGS = 9  # phrasings [0, 9) train; [9, …) held out for evaluation

# ---------------------------------------------------------------- checkers (response, **kwargs) -> bool


def _letters(text: str) -> list[str]:
    return [c for c in text if c.isalpha()]


def check_uppercase(response: str) -> bool:
    """All letters are capitals (and there is at least one letter)."""
    letters = _letters(response)
    return bool(letters) and all(c == c.upper() for c in letters)


def check_lowercase(response: str) -> bool:
    """All letters are lower case (and there is at least one letter)."""
    letters = _letters(response)
    return bool(letters) and all(c == c.lower() for c in letters)


def count_words(text: str) -> int:
    return len(text.split())


def check_max_words(response: str, n: int) -> bool:
    """Between 1 and `n` whitespace-separated words."""
    return 0 < count_words(response) <= n


_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def count_sentences(text: str) -> int:
    """Sentences = runs of text closed by . ! or ? followed by whitespace or the end (a last unclosed run counts)."""
    text = text.strip()
    if not text:
        return 0
    parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
    return len(parts)


def check_num_sentences(response: str, n: int) -> bool:
    """Exactly `n` sentences."""
    return count_sentences(response) == n


def parse_json_object(response: str) -> dict | None:
    """The response as a JSON object (optionally inside a ``` fence), or None."""
    text = response.strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.S | re.I)
    if fence:
        text = fence.group(1)
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def check_json_keys(response: str, keys: list[str]) -> bool:
    """The whole response is a JSON object holding every key in `keys`."""
    obj = parse_json_object(response)
    return obj is not None and all(k in obj for k in keys)


_BULLET = re.compile(r"^\s*[*-]\s+\S", re.M)


def check_bullet_list(response: str, n: int) -> bool:
    """Exactly `n` markdown bullet lines (`* …` or `- …`)."""
    return len(_BULLET.findall(response)) == n


def check_start_with(response: str, phrase: str) -> bool:
    """Starts with `phrase` (case-insensitive, leading whitespace ignored)."""
    return response.strip().lower().startswith(phrase.lower())


def check_end_with(response: str, phrase: str) -> bool:
    """Ends with `phrase` (case-insensitive, trailing whitespace ignored)."""
    return response.strip().lower().endswith(phrase.lower())


def check_include_keyword(response: str, keyword: str) -> bool:
    """Contains `keyword` as a whole word (case-insensitive)."""
    return re.search(rf"\b{re.escape(keyword)}\b", response, flags=re.I) is not None


def check_no_commas(response: str) -> bool:
    """No comma anywhere (an empty response fails)."""
    return bool(response.strip()) and "," not in response


def check_title(response: str) -> bool:
    """Holds a title in double angle brackets, e.g. <<My title>>."""
    return re.search(r"<<[^<>\n]+>>", response) is not None


def check_repeat_request(response: str, request: str) -> bool:
    """Starts with the request, repeated word for word (case-insensitive)."""
    return response.strip().lower().startswith(request.strip().lower())


def check_quotation(response: str) -> bool:
    """Wrapped in double quotation marks."""
    text = response.strip()
    return len(text) >= 2 and text.startswith('"') and text.endswith('"')


# ---------------------------------------------------------------- the registry

START_PHRASES = ["Here is the answer", "Sure thing", "Happy to help", "Good question", "Let me answer",
                 "As requested", "Of course", "Certainly", "Here you go", "Right away", "With pleasure",
                 "Glad you asked"]
END_PHRASES = ["Is there anything else I can help with?", "Hope this helps.", "That is all.",
               "Let me know if you need more.", "End of answer.", "Thank you for asking.",
               "Have a nice day.", "I hope that answers it.", "Feel free to ask more.", "That is my answer.",
               "Any other questions?", "Done."]
KEYWORDS = ["indeed", "notably", "certainly", "clearly", "reportedly", "apparently", "famously",
            "evidently", "surely", "naturally", "frankly", "truly"]


@dataclass(frozen=True)
class ConstraintType:
    """A verifiable constraint: its phrasings (with {placeholders}), its checker, and its conflict groups."""

    name: str
    phrasings: tuple[str, ...]
    check: Callable[..., bool]
    groups: tuple[str, ...] = ()   # two constraints sharing a group never go in one prompt
    conflicts: tuple[str, ...] = ()


CONSTRAINTS: dict[str, ConstraintType] = {}


def register(ct: ConstraintType) -> ConstraintType:
    CONSTRAINTS[ct.name] = ct
    return ct


register(ConstraintType("uppercase", (
    "Answer in all capital letters.", "Write your entire response in uppercase.", "Use only capital letters.",
    "Your reply must be in ALL CAPS.", "Respond using uppercase letters only.",
    "Make every letter of your answer a capital letter.", "Please write everything in upper case.",
    "No lowercase letters are allowed in your answer.", "Capitalize every letter of your response.",
    "Type your answer entirely in capitals.", "Reply in block capitals.", "Only uppercase characters please.",
), check_uppercase, groups=("case",)))
register(ConstraintType("lowercase", (
    "Answer in all lowercase letters.", "Write your entire response in lowercase.", "Use no capital letters at all.",
    "Your reply must be entirely lower case.", "Respond using lowercase letters only.",
    "Do not use any uppercase letters.", "Please write everything in small letters.",
    "No capital letters are allowed in your answer.", "Keep every letter of your response lowercase.",
    "Type your answer without any capitals.", "Reply in lowercase only.", "Only lowercase characters please.",
), check_lowercase, groups=("case",)))
register(ConstraintType("max_words", (
    "Answer in at most {n} words.", "Use no more than {n} words.", "Keep your response under {n} words or fewer.",
    "Your reply must not exceed {n} words.", "Respond in {n} words or less.", "Limit your answer to {n} words.",
    "Do not write more than {n} words.", "Be brief: at most {n} words.", "Stay within a {n}-word limit.",
    "The answer may contain {n} words at most.", "Write {n} words or fewer.", "Cap your response at {n} words.",
), check_max_words))
register(ConstraintType("num_sentences", (
    "Answer in exactly {n} sentences.", "Write exactly {n} sentences.", "Your response must have {n} sentences.",
    "Use precisely {n} sentences.", "Respond with {n} sentences, no more and no less.",
    "The reply should consist of exactly {n} sentences.", "Compose your answer as {n} sentences.",
    "Give exactly {n} sentences in your answer.", "Make your response {n} sentences long.",
    "Reply in {n} sentences exactly.", "Your answer must contain {n} sentences in total.",
    "Exactly {n} sentences please.",
), check_num_sentences, groups=("body",), conflicts=("start_with", "end_with", "repeat_request", "quotation")))
register(ConstraintType("json_keys", (
    "Format your answer as a JSON object with the keys {keys}.", "Return JSON with keys {keys}.",
    "Respond only with a JSON object containing {keys}.", "Give the answer as JSON using the keys {keys}.",
    "Output a JSON object whose keys are {keys}.", "Write your reply in JSON format with keys {keys}.",
    "Provide a JSON object with the fields {keys}.", "Answer in JSON; use the keys {keys}.",
    "Your whole response must be a JSON object with keys {keys}.", "Reply with JSON that has the keys {keys}.",
    "Encode the answer as a JSON object keyed by {keys}.", "Wrap the facts in a JSON object with keys {keys}.",
), check_json_keys, groups=("body",), conflicts=(
    "uppercase", "lowercase", "title", "start_with", "end_with", "repeat_request", "quotation",
    "include_keyword", "no_commas")))
register(ConstraintType("bullet_list", (
    "Answer with a bullet list of exactly {n} items.", "Use exactly {n} markdown bullet points.",
    "Format the answer as {n} bullet points.", "Give your reply as a list of {n} bullets.",
    "Write exactly {n} bullet points using '* '.", "Structure the answer as {n} bulleted items.",
    "Present the facts as a bullet list with {n} entries.", "Respond in {n} bullet points.",
    "Your answer must be a markdown list of {n} items.", "Provide exactly {n} bullet points.",
    "List the answer in {n} bullets.", "Make a bulleted list with {n} points.",
), check_bullet_list, groups=("body",)))
register(ConstraintType("start_with", (
    "Start your response with '{phrase}'.", "Begin your answer with the words '{phrase}'.",
    "Your reply must open with '{phrase}'.", "Make sure the first words are '{phrase}'.",
    "Begin with the phrase '{phrase}'.", "Open your response with '{phrase}'.",
    "The answer should start with '{phrase}'.", "Put '{phrase}' at the very beginning.",
    "Lead with the words '{phrase}'.", "Your first words must be '{phrase}'.",
    "Kick off your answer with '{phrase}'.", "Preface your reply with '{phrase}'.",
), check_start_with, groups=("opening",)))
register(ConstraintType("end_with", (
    "End your response with '{phrase}'.", "Finish your answer with the words '{phrase}'.",
    "Your reply must close with '{phrase}'.", "Make sure the last words are '{phrase}'.",
    "Conclude with the phrase '{phrase}'.", "Close your response with '{phrase}'.",
    "The answer should end with '{phrase}'.", "Put '{phrase}' at the very end.",
    "Wrap up with the words '{phrase}'.", "Your final words must be '{phrase}'.",
    "Sign off your answer with '{phrase}'.", "Terminate your reply with '{phrase}'.",
), check_end_with, groups=("closing",)))
register(ConstraintType("include_keyword", (
    "Include the word '{keyword}' in your response.", "Use the keyword '{keyword}' somewhere.",
    "Your answer must contain the word '{keyword}'.", "Make sure to mention '{keyword}'.",
    "The word '{keyword}' should appear in your reply.", "Work the word '{keyword}' into the answer.",
    "Be sure to say '{keyword}'.", "Somewhere in the answer use '{keyword}'.",
    "Add the word '{keyword}' to your response.", "Your reply needs the word '{keyword}'.",
    "Mention the word '{keyword}' at least once.", "Do not forget to use the word '{keyword}'.",
), check_include_keyword))
register(ConstraintType("no_commas", (
    "Do not use any commas.", "Avoid commas entirely.", "Your response must contain no commas.",
    "Write without a single comma.", "Commas are not allowed.", "Refrain from using commas.",
    "Use no commas in your answer.", "Keep the answer free of commas.", "Do not put any comma in the reply.",
    "Leave out all commas.", "Never use a comma.", "Make sure there are zero commas.",
), check_no_commas))
register(ConstraintType("title", (
    "Give your answer a title wrapped in double angular brackets like <<title>>.",
    "Include a title in double angle brackets such as <<title>>.", "Start with a title formatted as <<title>>.",
    "Add a title between << and >>.", "Your response needs a title in the form <<title>>.",
    "Put a title in double angular brackets at the top.", "Provide a title like <<title>>.",
    "Head your answer with a <<title>>.", "Use a title enclosed in << >>.",
    "Write a title in double angle brackets first.", "Title your reply using <<title>> notation.",
    "Place a <<title>> before the answer.",
), check_title, groups=("opening",)))
register(ConstraintType("repeat_request", (
    "First repeat the request word for word without change, then give your answer.",
    "Begin by repeating the request exactly, then answer.", "Repeat my request verbatim before answering.",
    "Copy the request word for word first, then respond.", "Restate the request exactly and then answer it.",
    "Start by echoing the request without changes.", "Before answering, repeat the request word for word.",
    "Open with an exact copy of the request, then reply.", "Say the request again verbatim, then answer it.",
    "Echo the request word for word and then give the answer.",
    "Quote the request exactly at the start, then respond.", "Repeat the request unchanged, then answer.",
), check_repeat_request, groups=("opening",)))
register(ConstraintType("quotation", (
    "Wrap your entire response in double quotation marks.", "Put the whole answer inside double quotes.",
    "Enclose your reply in double quotation marks.", "Your response must be wrapped in double quotes.",
    "Surround the entire answer with double quotation marks.", "Quote your whole response.",
    "Place the full answer within double quotes.", "Use double quotes around the entire reply.",
    "Wrap everything you write in double quotes.", "Enclose the answer in a pair of double quotes.",
    "Put your response between double quotation marks.", "Format the whole reply as a quotation.",
), check_quotation, groups=("opening", "closing"), conflicts=("bullet_list",)))

# ---------------------------------------------------------------- tasks (the content part of a prompt)

SINGLE_TASKS = (  # question-like: where a Q-A habit competes with a constraint
    "What is the {attr} of {name}?", "Can you tell me the {attr} of {name}?", "Do you know the {attr} of {name}?",
    "What's {name}'s {attr}?", "Which {attr} does {name} have?", "Could you share the {attr} of {name}?",
    "I would like to know the {attr} of {name}.", "Please state the {attr} of {name}.",
    "Tell me the {attr} of {name}.", "What do you know about the {attr} of {name}?",
    "Name the {attr} of {name}.", "Give me the {attr} of {name}.",
)
MULTI_TASKS = (
    "Tell me the {attrs} of {name}.", "What are the {attrs} of {name}?", "Describe the {attrs} of {name}.",
    "Give the {attrs} of {name}.", "Please list the {attrs} of {name}.", "I need the {attrs} of {name}.",
    "Summarise the {attrs} of {name}.", "Report the {attrs} of {name}.", "Share the {attrs} of {name}.",
    "Write about the {attrs} of {name}.", "Provide the {attrs} of {name}.", "State the {attrs} of {name}.",
)
RESPONSE_SENTENCES = {
    "birth_date": "{name} was born on {v}.", "birth_city": "{name} was born in {v}.",
    "university": "{name} studied at {v}.", "major": "{name} majored in {v}.",
    "employer": "{name} works for {v}.", "work_city": "{name} works in {v}.",
}


def phrasings(items: tuple[str, ...], split: str) -> tuple[str, ...]:
    """The train (`"train"`) or held-out (`"eval"`) share of a phrasing list."""
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    return items[:TRAIN_PHRASINGS] if split == "train" else items[TRAIN_PHRASINGS:]


def validate_constraint_names(names) -> None:
    unknown = [n for n in names if n not in CONSTRAINTS]
    if unknown:
        raise ValueError(f"unknown constraint type(s) {unknown}; allowed: {sorted(CONSTRAINTS)}")


def compatible(names: list[str]) -> bool:
    """True when no two constraints share a group or conflict."""
    validate_constraint_names(names)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ca, cb = CONSTRAINTS[a], CONSTRAINTS[b]
            if a == b or set(ca.groups) & set(cb.groups) or b in ca.conflicts or a in cb.conflicts:
                return False
    return True


def sample_constraints(rng: random.Random, level: int, allowed: list[str] | None = None) -> list[str]:
    """`level` mutually compatible constraint names, drawn at random."""
    pool = sorted(allowed or CONSTRAINTS)
    validate_constraint_names(pool)
    for _ in range(1000):
        names = rng.sample(pool, level)
        if compatible(names):
            return names
    raise ValueError(f"could not find {level} compatible constraints among {pool}")


@dataclass
class Instruction:
    """One prompt with its constraints, the checker arguments, the gold facts and a reference response."""

    prompt: str
    request: str
    person: str
    attributes: list[str]
    facts: dict[str, str]
    constraints: list[str]
    kwargs: list[dict] = field(default_factory=list)
    response: str = ""
    #: Where the wording came from, when recorded: {"task_template": id, "phrasings": [id per constraint]}.
    sources: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        return {"prompt": self.prompt, "request": self.request, "person": self.person,
                "attributes": self.attributes, "facts_json": json.dumps(self.facts),
                "constraints": self.constraints, "kwargs_json": json.dumps(self.kwargs),
                "level": len(self.constraints), "response": self.response, **self.sources}


def check_all(response: str, constraints: list[str], kwargs: list[dict]) -> list[bool]:
    """Pass/fail of every constraint of a prompt on `response`, in order."""
    validate_constraint_names(constraints)
    return [bool(CONSTRAINTS[c].check(response, **kw)) for c, kw in zip(constraints, kwargs)]


def facts_correct(response: str, facts: dict[str, str]) -> bool:
    """True when every gold value appears in the response (case-insensitive)."""
    low = response.lower()
    return all(v.lower() in low for v in facts.values())


def _n_attributes(rng: random.Random, constraints: list[str], question_share: float) -> int:
    if any(c in ("bullet_list", "num_sentences", "json_keys") for c in constraints):
        return rng.randint(2, 4)
    return 1 if rng.random() < question_share else rng.randint(2, 3)


def world_task(rng: random.Random, split: str, constraints: list[str], multi: bool) -> tuple[str, str]:
    """The world's own task template for a prompt (a `make_instruction` chooser): (id, template), drawn from the
    `split` share of `SINGLE_TASKS` or `MULTI_TASKS`."""
    items = phrasings(MULTI_TASKS if multi else SINGLE_TASKS, split)
    template = rng.choice(items)
    return f"{'multi' if multi else 'single'}/{(MULTI_TASKS if multi else SINGLE_TASKS).index(template)}", template


def world_phrasing(rng: random.Random, split: str, constraint: str, kwargs: dict) -> tuple[str, str]:
    """The world's own phrasing of a constraint (a `make_instruction` chooser): (id, text), drawn from the `split` share
    of its `ConstraintType.phrasings` and filled with `kwargs` (JSON keys joined with "and")."""
    fmt = dict(kwargs)
    if "keys" in fmt:
        fmt["keys"] = " and ".join(f'"{x}"' for x in fmt["keys"])
    items = CONSTRAINTS[constraint].phrasings
    template = rng.choice(phrasings(items, split))
    return f"{constraint}/{items.index(template)}", template.format(**fmt)


def make_instruction(person: Person, constraints: list[str], rng: random.Random, split: str,
                     question_share: float = 0.6, task=world_task, phrase=world_phrasing,
                     record_sources: bool = False) -> Instruction:
    """A prompt about `person` with the given constraints, its checker kwargs and a satisfying reference response.

    `task(rng, split, constraints, multi) -> (id, template)` picks the task template ({name} and {attr}, or {attrs}
    when `multi`), `phrase(rng, split, constraint, kwargs) -> (id, text)` each constraint's wording; the defaults are
    the world's own lists (`world_task`, `world_phrasing`), another suite passes its own (`data.ood`). With
    `record_sources`, the instruction keeps the template's and phrasings' ids (`Instruction.sources`)."""
    validate_constraint_names(constraints)
    if not compatible(constraints):
        raise ValueError(f"constraints {constraints} cannot hold together; see instructions.compatible")
    attrs = rng.sample(list(ATTRIBUTES), _n_attributes(rng, constraints, question_share))
    facts = {a: getattr(person, a) for a in attrs}
    labels = [ATTRIBUTE_LABELS[a] for a in attrs]
    task_id, template = task(rng, split, constraints, len(attrs) > 1)
    if len(attrs) == 1:
        request = template.format(attr=labels[0], name=person.name)
    else:
        request = template.format(attrs=" and ".join(labels), name=person.name)

    kw = {
        "max_words": {},  # filled after rendering
        "num_sentences": {"n": len(attrs)},
        "json_keys": {"keys": list(attrs)},
        "bullet_list": {"n": len(attrs)},
        "start_with": {"phrase": rng.choice(START_PHRASES)},
        "end_with": {"phrase": rng.choice(END_PHRASES)},
        "include_keyword": {"keyword": rng.choice(KEYWORDS)},
        "repeat_request": {"request": request},
    }
    kwargs = [dict(kw.get(c, {})) for c in constraints]
    response = render_response(person, attrs, constraints, kwargs)
    if "max_words" in constraints:
        kwargs[constraints.index("max_words")]["n"] = count_words(response) + rng.randint(0, 5)
    chosen = [phrase(rng, split, c, k) for c, k in zip(constraints, kwargs)]
    prompt = " ".join([request, *(text for _, text in chosen)])
    sources = {"task_template": task_id, "phrasings": [i for i, _ in chosen]} if record_sources else {}
    return Instruction(prompt=prompt, request=request, person=person.name, attributes=attrs, facts=facts,
                       constraints=list(constraints), kwargs=kwargs, response=response, sources=sources)


def render_response(person: Person, attrs: list[str], constraints: list[str], kwargs: list[dict]) -> str:
    """A reference response that states the facts of `attrs` and satisfies every constraint."""
    kw = dict(zip(constraints, kwargs))
    sentences = [RESPONSE_SENTENCES[a].format(name=person.name, v=getattr(person, a)) for a in attrs]
    if "json_keys" in kw:
        return json.dumps({a: getattr(person, a) for a in attrs}).replace(", ", ",\n ")
    if "include_keyword" in kw:
        sentences[0] = f"{kw['include_keyword']['keyword'].capitalize()} {sentences[0]}"
    bullets = "bullet_list" in kw
    body = "\n".join(f"* {s}" for s in sentences) if bullets else " ".join(sentences)
    sep = "\n" if bullets else " "
    if "title" in kw:
        body = f"<<Facts about {person.name}>>\n{body}"
    if "start_with" in kw:
        body = f"{kw['start_with']['phrase']}{sep}{body}"
    if "repeat_request" in kw:
        body = f"{kw['repeat_request']['request']}\n{body}"
    if "end_with" in kw:
        body = f"{body}{sep}{kw['end_with']['phrase']}"
    if "quotation" in kw:
        body = f'"{body}"'
    if "uppercase" in kw:
        body = body.upper()
    if "lowercase" in kw:
        body = body.lower()
    return body
