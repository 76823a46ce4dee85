"""Profiles (smoke / default) and the config dataclasses of every stage; errors say the fix.

A profile bundles one config per stage. Notebook parameters override single fields
(`N_PEOPLE` → `data.n_people`, …): see `NOTEBOOK_PARAMETERS` and `resolve_notebook_parameters`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class DataConfig:
    """The generated world and every dataset built from it."""

    n_people: int = 1500
    heldout_fraction: float = 0.2        # people whose Q-A pairs are never trained on (benchmark, eval suite)
    bios_per_person: int = 10            # NonSynth biographies per person (training corpus)
    heldout_bios_per_person: int = 1     # extra biographies, never trained on (perplexity analysis)
    sft_prompts: int = 3000
    sft_levels: tuple[int, ...] = (0, 1, 2, 3)
    eval_prompts_per_level: int = 60     # instruction-following suite, levels 1–5
    benchmark_attributes_per_person: int = 2
    question_share: float = 0.6          # share of single-attribute (question-like) tasks
    qa_generator: str = "rule_based"     # or "model_based" (needs qa_model_path)
    qa_model_path: str | None = None
    seed: int = 0

    def __post_init__(self):
        _require(isinstance(self.n_people, int) and self.n_people >= 10,
                 f"n_people must be an integer >= 10 (a world needs people to hold out), got {self.n_people!r}")
        _require(0.0 < self.heldout_fraction < 1.0,
                 f"heldout_fraction must be strictly between 0 and 1, got {self.heldout_fraction!r}")
        for name in ("bios_per_person", "heldout_bios_per_person", "sft_prompts", "eval_prompts_per_level",
                     "benchmark_attributes_per_person"):
            value = getattr(self, name)
            _require(isinstance(value, int) and value >= 1, f"{name} must be a positive integer, got {value!r}")
        _require(self.benchmark_attributes_per_person <= 6,
                 f"benchmark_attributes_per_person is at most 6 (the attributes), got {self.benchmark_attributes_per_person}")
        _require(all(isinstance(x, int) and 0 <= x <= 5 for x in self.sft_levels) and len(self.sft_levels) > 0,
                 f"sft_levels must be a non-empty list of constraint counts 0..5, got {self.sft_levels!r}")
        _require(0.0 <= self.question_share <= 1.0, f"question_share must be in [0, 1], got {self.question_share!r}")
        _require(self.qa_generator in ("rule_based", "model_based"),
                 f"qa_generator must be 'rule_based' or 'model_based', got {self.qa_generator!r}")
        _require(self.qa_generator != "model_based" or bool(self.qa_model_path),
                 "qa_generator='model_based' needs qa_model_path (a local transformers causal LM directory)")


@dataclass(frozen=True)
class Profile:
    name: str
    data: DataConfig = field(default_factory=DataConfig)

    def run_dir(self) -> Path:
        """Where this profile's artifacts live: runs/<profile>/ (git-ignored)."""
        return repo_root() / "runs" / self.name

    def figures_dir(self) -> Path:
        """figures/ (committed) for the default profile; runs/<profile>/figures otherwise."""
        return repo_root() / "figures" if self.name == "default" else self.run_dir() / "figures"


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", DataConfig(n_people=100, bios_per_person=4, sft_prompts=200,
                                         eval_prompts_per_level=6, benchmark_attributes_per_person=2)),
    "default": Profile("default", DataConfig()),
}


def repo_root() -> Path:
    """The project root: $SYNTHREPRO_ROOT, else the checkout that holds this package, else the cwd."""
    if os.environ.get("SYNTHREPRO_ROOT"):
        return Path(os.environ["SYNTHREPRO_ROOT"]).resolve()
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]


def config_hash(*objs) -> str:
    """A short, stable hash of dataclasses / JSON-able objects (keys artifact directories)."""
    def norm(o):
        return dataclasses.asdict(o) if dataclasses.is_dataclass(o) else o
    blob = json.dumps([norm(o) for o in objs], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# ---------------------------------------------------------------- notebook parameters

#: Per notebook: parameter name → "section.field" it overrides (None: handled by the notebook itself).
NOTEBOOK_PARAMETERS: dict[str, dict[str, str | None]] = {
    "01_data_synthesis": {
        "PROFILE": None, "SEED": "data.seed", "N_PEOPLE": "data.n_people",
        "HELDOUT_FRACTION": "data.heldout_fraction", "BIOS_PER_PERSON": "data.bios_per_person",
        "SFT_PROMPTS": "data.sft_prompts", "EVAL_PROMPTS_PER_LEVEL": "data.eval_prompts_per_level",
        "QUESTION_SHARE": "data.question_share", "QA_GENERATOR": "data.qa_generator",
        "QA_MODEL_PATH": "data.qa_model_path", "CUSTOM_NONSYNTH_JSONL": None, "EMBEDDER": None,
        "MAP_SAMPLES": None,
    },
}
_CHOICES = {"EMBEDDER": ("minilm", "tfidf")}


def resolve_notebook_parameters(notebook: str, params: dict) -> Profile:
    """Check a notebook's UPPER_CASE parameters and return its profile with the overrides applied.

    `None` means "the profile's value". Raises ValueError naming the parameter, its value and what is allowed.
    """
    allowed = NOTEBOOK_PARAMETERS[notebook]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for notebook {notebook}; allowed: {sorted(allowed)}")
    profile = get_profile(params.get("PROFILE", "default"))
    for name, choices in _CHOICES.items():
        if name in params and params[name] is not None and params[name] not in choices:
            raise ValueError(f"{name}={params[name]!r} is not allowed; choose one of {choices}")
    sections: dict[str, dict] = {}
    for name, path in allowed.items():
        if path is None or params.get(name) is None:
            continue
        section, fld = path.split(".")
        sections.setdefault(section, {})[fld] = params[name]
    for section, changes in sections.items():
        try:
            new = dataclasses.replace(getattr(profile, section), **changes)
        except (ValueError, TypeError) as err:
            names = [n for n, p in allowed.items() if p and p.split(".")[0] == section and params.get(n) is not None]
            raise ValueError(f"bad value among parameters {names}: {err}") from None
        profile = dataclasses.replace(profile, **{section: new})
    return profile
