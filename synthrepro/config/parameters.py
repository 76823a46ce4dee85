"""Notebook parameters: which UPPER_CASE parameter of which notebook overrides which config field, and their checks.

`NOTEBOOKS` is the one list of pipeline notebooks, in order (`synthrepro pipeline` runs them); `PHASE_NOTEBOOK` (the phase
map) runs on its own profile (`make phase-map`); `ALL_NOTEBOOKS` is both.
"""
from __future__ import annotations

import dataclasses

from .paths import config_hash
from .profiles import apply_overrides, get_profile
from .schema import CPT_ARMS, Profile, _require, check_methods, check_ratio

#: The pipeline's notebooks, in the order they run.
NOTEBOOKS = ("01_data_synthesis", "02_pretrain_cpt_sft", "03_overfitting_analysis", "04_unlearning", "05_figures")
PHASE_NOTEBOOK = "06_phase_map"
ALL_NOTEBOOKS = (*NOTEBOOKS, PHASE_NOTEBOOK)

#: Per notebook: parameter name → "section.field" it overrides (a tuple: each of them; None: handled by the notebook
#: itself).
NOTEBOOK_PARAMETERS: dict[str, dict[str, str | tuple[str, ...] | None]] = {
    "01_data_synthesis": {
        "PROFILE": None, "SEED": "data.seed", "N_PEOPLE": "data.n_people",
        "HELDOUT_FRACTION": "data.heldout_fraction", "BIOS_PER_PERSON": "data.bios_per_person",
        "SFT_PROMPTS": "data.sft_prompts", "EVAL_PROMPTS_PER_LEVEL": "data.eval_prompts_per_level",
        "QUESTION_SHARE": "data.question_share", "QA_GENERATOR": "data.qa_generator",
        "QA_MODEL_PATH": "data.qa_model_path", "MODEL_QA_PEOPLE": "data.model_qa_people",
        "CUSTOM_NONSYNTH_JSONL": None, "EMBEDDER": None, "MAP_SAMPLES": None,
    },
    "02_pretrain_cpt_sft": {
        "PROFILE": None, "SEEDS": "root.seeds", "ARMS": None, "SYNTH_RATIO": "cpt.synth_ratio",
        "SWEEP_RATIOS": "root.sweep_ratios", "PRETRAIN_STEPS": "pretrain.max_steps", "CPT_STEPS": "cpt.train.max_steps",
        "DILUTION_STEPS": "cpt.dilution_steps", "SFT_STEPS": "sft.train.max_steps",
        "DILUTION_SEEDS": "root.dilution_seeds", "SEPARATOR": "cpt.separator",
        "REPORT_TO": ("pretrain.report_to", "cpt.train.report_to", "sft.train.report_to"),
    },
    "03_overfitting_analysis": {"PROFILE": None, "MAX_NEW_TOKENS": "eval.max_new_tokens", "CURVE_SEEDS": None,
                                "MAP_SAMPLES": "eval.map_samples", "IFEVAL_PROMPTS": "eval.ifeval_prompts"},
    "04_unlearning": {
        "PROFILE": None, "METHODS": "root.methods", "BOUNDED_SEEDS": None, "GAMMA": "unlearn.params.gamma",
        "GAMMA_MODE": "unlearn.params.gamma_mode", "GAMMA_SWEEP": "root.gamma_sweep", "LEVEL": "unlearn.params.level",
        "BIAS": "unlearn.bias", "LAMBDA_REPLAY": "unlearn.lambda_replay", "LAMBDA_BIAS": "unlearn.lambda_bias",
        "BUDGET_FRACTION": "unlearn.budget_fraction", "UNLEARN_LR": "unlearn.train.lr",
        "REPORT_TO": ("unlearn.train.report_to", "sft.train.report_to"), "ABLATIONS": None,
    },
    "05_figures": {"PROFILE": None, "RESULTS_DIR": None, "FIGURES_DIR": None, "REPORT_PATH": None},
    "06_phase_map": {"PROFILE": None, "SEEDS": "root.seeds", "DOSES": "phase.doses", "STEPS": "phase.steps",
                     "DIVERSE": "phase.diverse", "CLAIM4": "phase.claim4", "SYNTHQA_TOPIC": "data.synthqa_topic",
                     "FIGURES_DIR": None},
}
_CHOICES = {"EMBEDDER": ("minilm", "tfidf"), "SYNTHQA_TOPIC": ("overlap", "disjoint"), "DIVERSE": (True, False),
            "CLAIM4": (True, False), "ABLATIONS": (True, False)}


def _check_arms(arms) -> None:
    _require(isinstance(arms, (list, tuple)) and len(arms) > 0 and set(arms) <= set(CPT_ARMS),
             f"must be a non-empty list drawn from {list(CPT_ARMS)}")


def _check_ratios(ratios) -> None:
    _require(isinstance(ratios, (list, tuple)), "must be a list of SynthQA ratios, e.g. [0.1, 0.5]")
    for r in ratios:
        check_ratio(r)


def _check_min_int(low: int):
    def check(v) -> None:
        _require(isinstance(v, int) and v >= low, f"must be an integer >= {low}")
    return check


def _check_seed_list(v) -> None:
    _require(isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(s, int) for s in v),
             "must be a non-empty list of integer seeds, e.g. [0]")


def _check_floats(v) -> None:
    _require(isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) for x in v), "must be a list of numbers")


def _check_ifeval_prompts(v) -> None:
    _require(v == "all" or (isinstance(v, int) and 1 <= v <= 541),
             "must be a number of IFEval prompts in [1, 541], or \"all\" for all 541")


#: Parameter values that stand for something else in the config ("all" IFEval prompts = no subset).
_CONVERTERS = {"IFEVAL_PROMPTS": lambda v: None if v == "all" else v}

_VALIDATORS = {"DOSES": _check_ratios, "STEPS": _check_seed_list, "SEEDS": _check_seed_list,
               "IFEVAL_PROMPTS": _check_ifeval_prompts, "METHODS": check_methods, "GAMMA_SWEEP": _check_floats, "BOUNDED_SEEDS": _check_seed_list,
               "ARMS": _check_arms, "SWEEP_RATIOS": _check_ratios, "MAX_NEW_TOKENS": _check_min_int(1),
               "MAP_SAMPLES": _check_min_int(10), "CURVE_SEEDS": _check_seed_list}


def resolve_notebook_parameters(notebook: str, params: dict) -> Profile:
    """Check a notebook's UPPER_CASE parameters and return its profile with every override applied at once (so that
    cross-field checks see the whole config). `None` means "the profile's value". Raises ValueError naming the
    parameter, its value and what is allowed."""
    if notebook not in NOTEBOOK_PARAMETERS:
        raise ValueError(f"unknown notebook {notebook!r}; choose one of {list(ALL_NOTEBOOKS)}")
    allowed = NOTEBOOK_PARAMETERS[notebook]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for notebook {notebook}; allowed: {sorted(allowed)}")
    profile = get_profile(params.get("PROFILE") or "default")
    for name, choices in _CHOICES.items():
        if name in params and params[name] is not None and params[name] not in choices:
            raise ValueError(f"{name}={params[name]!r} is not allowed; choose one of {choices}")
    for name, check in _VALIDATORS.items():
        if params.get(name) is not None:
            try:
                check(params[name])
            except ValueError as err:
                raise ValueError(f"{name}={params[name]!r} is not allowed: {err}") from None
    overrides: dict = {}
    given = []
    for name, paths in allowed.items():
        if paths is None or params.get(name) is None:
            continue
        for path in (paths,) if isinstance(paths, str) else paths:
            node = overrides
            *parents, leaf = [k for k in path.split(".") if k != "root"]
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = _CONVERTERS.get(name, lambda v: v)(params[name])
        given.append(f"{name}={params[name]!r}")
    try:
        return dataclasses.replace(apply_overrides(profile, overrides), base_hash=config_hash(profile))
    except ValueError as err:
        raise ValueError(f"notebook parameters {', '.join(given)} are not allowed together: {err}") from None
