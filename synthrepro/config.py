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

    n_people: int = 800
    heldout_fraction: float = 0.2        # people whose Q-A pairs are never trained on (benchmark, eval suite)
    bios_per_person: int = 8             # NonSynth biographies per person (training corpus)
    heldout_bios_per_person: int = 1     # extra biographies, never trained on (perplexity analysis)
    sft_prompts: int = 3000
    sft_levels: tuple[int, ...] = (0, 1, 2, 3)
    eval_prompts_per_level: int = 60     # instruction-following suite, levels 1–5
    benchmark_attributes_per_person: int = 2
    question_share: float = 0.6          # share of single-attribute (question-like) tasks
    qa_generator: str = "rule_based"     # "rule_based", "model_based" (needs qa_model_path) or "both"
    qa_model_path: str | None = None     # a local causal LM directory, or "smollm2" (the shipped SmolLM2-135M-Instruct)
    model_qa_people: int | None = None   # the model-based generator writes pairs for the first N train people (None: all)
    sft_source: str = "world"            # "world" (constrained instructions about the world), "alpacaeval" or "hub"
    sft_hub: str | None = None           # with sft_source="hub": an Alpaca-style dataset (instruction, input, output)
    sft_heldout: int = 48                # alpacaeval / hub: rows kept out of SFT (response-NLL analysis)
    hub_nonsynth: str | None = None      # extra NonSynth documents (field "text") from a dataset, see data.hub_rows
    hub_nonsynth_docs: int = 0           # how many of them (the first N)
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
        _require(self.qa_generator in ("rule_based", "model_based", "both"),
                 f"qa_generator must be 'rule_based', 'model_based' or 'both', got {self.qa_generator!r}")
        _require(self.qa_generator == "rule_based" or bool(self.qa_model_path),
                 f"qa_generator={self.qa_generator!r} needs qa_model_path (a local transformers causal LM directory, "
                 "or 'smollm2' for the shipped SmolLM2-135M-Instruct)")
        _require(self.model_qa_people is None or (isinstance(self.model_qa_people, int) and self.model_qa_people >= 1),
                 f"model_qa_people must be a positive integer or None (all train people), got {self.model_qa_people!r}")
        _require(self.sft_source in ("world", "alpacaeval", "hub"),
                 f"sft_source must be 'world', 'alpacaeval' or 'hub', got {self.sft_source!r}")
        _require(self.sft_source != "hub" or bool(self.sft_hub),
                 "sft_source='hub' needs sft_hub (a Hugging Face dataset id or a local folder of JSON/JSONL files)")
        _require(isinstance(self.sft_heldout, int) and self.sft_heldout >= 1,
                 f"sft_heldout must be a positive integer (SFT rows kept out for analysis), got {self.sft_heldout!r}")
        _require(self.hub_nonsynth is None or (isinstance(self.hub_nonsynth_docs, int) and self.hub_nonsynth_docs >= 1),
                 f"hub_nonsynth needs hub_nonsynth_docs >= 1 (how many documents to take), got {self.hub_nonsynth_docs!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Size of a from-scratch Llama model (the tokenizer is trained to `vocab_size`)."""

    hidden_size: int = 192
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    max_position_embeddings: int = 512
    vocab_size: int = 2048

    def __post_init__(self):
        if min(self.hidden_size, self.num_layers, self.num_heads, self.intermediate_size) < 1:
            raise ValueError("hidden_size, num_layers, num_heads and intermediate_size must all be positive")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be divisible by num_heads ({self.num_heads})")


CPT_ARMS = ("reference", "synthetic", "dilution")


@dataclass(frozen=True)
class TrainConfig:
    """One training stage. Token budget = max_steps × batch_size × block_size (global, over all processes)."""

    max_steps: int = 500
    batch_size: int = 32
    block_size: int = 128
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    save_steps: int = 100        # Trainer checkpoints (for resuming)
    log_steps: int = 10
    seed: int = 0
    sampling: str = "random"     # or "group_by_length" (batches of similar length: less padding, same examples)

    def __post_init__(self):
        if self.sampling not in ("random", "group_by_length"):
            raise ValueError(f"sampling must be 'random' or 'group_by_length', got {self.sampling!r}")
        for name in ("max_steps", "batch_size", "block_size", "save_steps", "log_steps"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")

    @property
    def tokens(self) -> int:
        return self.max_steps * self.batch_size * self.block_size


@dataclass(frozen=True)
class CPTConfig:
    """Continued pre-training arms: same token budget (`train`) for reference and synthetic; dilution adds more."""

    synth_ratio: float = 0.25           # share of CPT tokens that are SynthQA in the synthetic arm
    dilution_steps: int = 100           # extra NonSynth steps after the synthetic arm (dilution arm)
    separator: str = "eos"              # token between packed documents: the tokenizer's EOS, or a special token
    #                                     (SmolLM2: EOS is the chat turn end <|im_end|>; "<|endoftext|>" is the other)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=200, batch_size=16, lr=5e-4,
                                                                   save_steps=100))

    def __post_init__(self):
        check_ratio(self.synth_ratio)
        if not (isinstance(self.dilution_steps, int) and self.dilution_steps >= 1):
            raise ValueError(f"dilution_steps must be a positive integer, got {self.dilution_steps!r}")


def check_ratio(r) -> float:
    if not isinstance(r, (int, float)) or not 0.0 <= r < 1.0:
        raise ValueError(f"SynthQA ratio must be in [0, 1) (a share of CPT tokens), got {r!r}")
    return float(r)


@dataclass(frozen=True)
class SFTConfig:
    """Identical SFT for every arm; loss on response tokens only; checkpoints at `checkpoint_steps` (a curve)."""

    checkpoint_steps: tuple[int, ...] = (50, 100, 200, 300)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=400, batch_size=16, block_size=192,
                                                                   lr=1e-3, warmup_steps=20, save_steps=100,
                                                                   sampling="group_by_length"))

    def __post_init__(self):
        _require(all(isinstance(s, int) and s > 0 for s in self.checkpoint_steps),
                 f"checkpoint_steps must be positive integers, got {self.checkpoint_steps!r}")


@dataclass(frozen=True)
class UnlearnConfig:
    """Unlearning the SynthQA forget set from the synthetic CPT model (our reading of the paper; see losses.py).

    Loss = forget(method) + lambda_replay·NLL(NonSynth replay) + lambda_bias·bias-mitigation(bias).
    gamma_mode: "absolute" (γ = gamma), "relative" (γ_i = NLL_θ₀(x_i) + gamma, the default: a reference arm that
    never saw the Q-A format gives NLLs so high that they bound nothing), "reference_arm" (γ_i = the reference CPT
    arm's NLL on x_i). Budget: forget + replay tokens as a fraction of the CPT arm's tokens.
    """

    method: str = "bounded"
    level: str = "sequence"
    gamma_mode: str = "relative"
    gamma: float = 2.0
    lambda_replay: float = 1.0
    lambda_bias: float = 1.0
    bias: str = "kl_replay"
    beta: float = 0.1
    budget_fraction: float = 0.1
    nll_limit: float = 60.0
    snapshot_steps: tuple[int, ...] = (10, 25)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=1, batch_size=8, block_size=128,
                                                                   lr=3e-4, warmup_steps=0, save_steps=20,
                                                                   log_steps=1, weight_decay=0.0))

    def __post_init__(self):
        from .losses import BIAS_LOSSES, FORGET_LOSSES
        _require(self.method in FORGET_LOSSES, f"unknown unlearning method {self.method!r}; choose one of "
                 f"{sorted(FORGET_LOSSES)}")
        _require(self.level in ("sequence", "token"), f"level must be 'sequence' or 'token', got {self.level!r}")
        _require(self.gamma_mode in ("absolute", "relative", "reference_arm"),
                 f"gamma_mode must be 'absolute', 'relative' or 'reference_arm', got {self.gamma_mode!r}")
        _require(self.bias in BIAS_LOSSES, f"bias must be one of {BIAS_LOSSES}, got {self.bias!r}")
        _require(self.lambda_replay >= 0 and self.lambda_bias >= 0, "lambda_replay and lambda_bias must be >= 0")
        _require(0 < self.budget_fraction <= 1, f"budget_fraction must be in (0, 1], got {self.budget_fraction!r}")
        _require(self.nll_limit > 0, f"nll_limit must be > 0, got {self.nll_limit!r}")


SUITES = ("world", "ifeval")


@dataclass(frozen=True)
class EvalConfig:
    """How models are evaluated (notebooks 03–04).

    suite: "world" (the generated suite: HSR = all constraints met, SSR = share met) or "ifeval" (Google's IFEval:
    HSR ↔ prompt-level strict accuracy, SSR ↔ instruction-level strict accuracy). `ifeval_prompts`: a fixed subset
    seeded by `ifeval_seed`, or None for all 541. `probe_prompts`: the first N prompts of the suite, used where a
    cheaper look is enough (before SFT, SFT snapshots, next-token KL; None = the whole suite); `dynamics_prompts` and
    `dynamics_items`: prompts and benchmark items at unlearning snapshots. `generation_bf16`: generate in bfloat16
    where the hardware is fast at it (likelihoods stay float32). `all_metrics_both_stages`: score every metric before
    and after SFT (False: the benchmark and held-out NonSynth NLL before SFT only, the response NLLs after SFT only). `heldout_texts` / `response_tokens`: caps on the per-sample NLL sets (None = all).
    """

    suite: str = "world"
    ifeval_prompts: int | None = 100
    ifeval_seed: int = 0
    max_new_tokens: int = 80
    batch_size: int = 50
    probe_prompts: int | None = None
    dynamics_prompts: int = 60
    dynamics_items: int = 200
    generation_bf16: bool = False
    all_metrics_both_stages: bool = True
    heldout_texts: int | None = None
    response_tokens: int | None = None
    map_samples: int = 200

    def __post_init__(self):
        _require(self.suite in SUITES, f"suite must be one of {SUITES}, got {self.suite!r}")
        _require(self.ifeval_prompts is None or (isinstance(self.ifeval_prompts, int) and 1 <= self.ifeval_prompts <= 541),
                 f"ifeval_prompts must be an integer in [1, 541] or None (all 541), got {self.ifeval_prompts!r}")
        for name in ("max_new_tokens", "batch_size", "dynamics_prompts", "dynamics_items", "map_samples"):
            v = getattr(self, name)
            _require(isinstance(v, int) and v >= 1, f"{name} must be a positive integer, got {v!r}")
        for name in ("probe_prompts", "heldout_texts", "response_tokens"):
            v = getattr(self, name)
            _require(v is None or (isinstance(v, int) and v >= 1), f"{name} must be a positive integer or None, got {v!r}")


@dataclass(frozen=True)
class Profile:
    name: str
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=1200, batch_size=16, lr=2e-3,
                                                                      save_steps=200, log_steps=20))
    cpt: CPTConfig = field(default_factory=CPTConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    unlearn: UnlearnConfig = field(default_factory=UnlearnConfig)
    seeds: tuple[int, ...] = (0, 1, 2)
    dilution_seeds: int = 1   # the dilution arm runs for the first N seeds only (CPU budget; headline arms: all)
    eval: EvalConfig = field(default_factory=EvalConfig)
    #: None: the base model is pre-trained from scratch on the world (the world track); "smollm2-135m-instruct": the
    #: shipped SmolLM2 (the pretrained track); anything else: a Hugging Face hub id or a local checkpoint (paper).
    base_model: str | None = None
    track: str = "world"      # the report's name for this profile's results
    sweep_ratios: tuple[float, ...] = (0.5,)   # extra synthetic arms (first seed) for the dose-response
    methods: tuple[str, ...] = ("bounded", "ga", "grad_diff", "npo", "simnpo")  # unlearning methods of notebook 04
    gamma_sweep: tuple[float, ...] = (0.5, 4.0)  # extra γ-parameter values of notebook 04's sweep (first seed, no SFT)

    def __post_init__(self):
        _require(len(self.seeds) > 0 and all(isinstance(s, int) and s >= 0 for s in self.seeds)
                 and len(set(self.seeds)) == len(self.seeds),
                 f"seeds must be a non-empty list of distinct non-negative integers, got {self.seeds!r}")
        _require(isinstance(self.dilution_seeds, int) and self.dilution_seeds >= 1,
                 f"dilution_seeds must be a positive integer (how many of the seeds run the dilution arm), "
                 f"got {self.dilution_seeds!r}")
        for r in self.sweep_ratios:
            check_ratio(r)
        _check_methods(self.methods)

    def run_dir(self) -> Path:
        """Where this profile's artifacts live: runs/<profile>/ (git-ignored)."""
        return repo_root() / "runs" / self.name

    def figures_dir(self) -> Path:
        """figures/ (committed) for the default profile, figures/<profile>/ for the other committed tracks
        (`pretrained`), runs/<profile>/figures otherwise."""
        if self.name == "default":
            return repo_root() / "figures"
        return repo_root() / "figures" / self.name if self.name in COMMITTED_TRACKS else self.run_dir() / "figures"

    def report_path(self) -> Path:
        """The report notebook 05 writes its track's section into: REPORT.md for committed tracks, else in the run
        directory."""
        return repo_root() / "REPORT.md" if self.name in ("default", *COMMITTED_TRACKS) else self.run_dir() / "REPORT.md"


#: Profiles (besides `default`) whose figures and report section are committed.
COMMITTED_TRACKS = ("pretrained",)


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
        "QA_MODEL_PATH": "data.qa_model_path", "MODEL_QA_PEOPLE": "data.model_qa_people",
        "CUSTOM_NONSYNTH_JSONL": None, "EMBEDDER": None, "MAP_SAMPLES": None,
    },
    "02_pretrain_cpt_sft": {
        "PROFILE": None, "SEEDS": "root.seeds", "ARMS": None, "SYNTH_RATIO": "cpt.synth_ratio",
        "SWEEP_RATIOS": "root.sweep_ratios", "PRETRAIN_STEPS": "pretrain.max_steps", "CPT_STEPS": "cpt.train.max_steps",
        "DILUTION_STEPS": "cpt.dilution_steps", "SFT_STEPS": "sft.train.max_steps",
        "DILUTION_SEEDS": "root.dilution_seeds", "SEPARATOR": "cpt.separator",
    },
    "03_overfitting_analysis": {"PROFILE": None, "MAX_NEW_TOKENS": "eval.max_new_tokens", "CURVE_SEEDS": None,
                                "MAP_SAMPLES": "eval.map_samples", "IFEVAL_PROMPTS": "eval.ifeval_prompts"},
    "04_unlearning": {
        "PROFILE": None, "METHODS": "root.methods", "BOUNDED_SEEDS": None, "GAMMA": "unlearn.gamma",
        "GAMMA_MODE": "unlearn.gamma_mode", "GAMMA_SWEEP": "root.gamma_sweep", "LEVEL": "unlearn.level",
        "BIAS": "unlearn.bias", "LAMBDA_REPLAY": "unlearn.lambda_replay", "LAMBDA_BIAS": "unlearn.lambda_bias",
        "BUDGET_FRACTION": "unlearn.budget_fraction", "UNLEARN_LR": "unlearn.train.lr",
    },
    "05_figures": {"PROFILE": None, "RESULTS_DIR": None, "FIGURES_DIR": None, "REPORT_PATH": None},
}
_CHOICES = {"EMBEDDER": ("minilm", "tfidf")}


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


def _check_methods(v) -> None:
    from .losses import FORGET_LOSSES
    _require(isinstance(v, (list, tuple)) and len(v) > 0 and set(v) <= set(FORGET_LOSSES) and "bounded" in v,
             f"must be a non-empty list from {sorted(FORGET_LOSSES)} that includes 'bounded'")


def _check_floats(v) -> None:
    _require(isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) for x in v), "must be a list of numbers")


def _check_ifeval_prompts(v) -> None:
    _require(v == "all" or (isinstance(v, int) and 1 <= v <= 541),
             "must be a number of IFEval prompts in [1, 541], or \"all\" for all 541")


#: Parameter values that stand for something else in the config ("all" IFEval prompts = no subset).
_CONVERTERS = {"IFEVAL_PROMPTS": lambda v: None if v == "all" else v}

_VALIDATORS = {"IFEVAL_PROMPTS": _check_ifeval_prompts, "METHODS": _check_methods, "GAMMA_SWEEP": _check_floats, "BOUNDED_SEEDS": _check_seed_list,
               "ARMS": _check_arms, "SWEEP_RATIOS": _check_ratios, "MAX_NEW_TOKENS": _check_min_int(1),
               "MAP_SAMPLES": _check_min_int(10), "CURVE_SEEDS": _check_seed_list}


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
    for name, check in _VALIDATORS.items():
        if params.get(name) is not None:
            try:
                check(params[name])
            except ValueError as err:
                raise ValueError(f"{name}={params[name]!r} is not allowed: {err}") from None
    for name, path in allowed.items():
        if path is None or params.get(name) is None:
            continue
        try:
            profile = _override(profile, path.split("."), _CONVERTERS.get(name, lambda v: v)(params[name]))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{name}={params[name]!r} is not allowed: {err}") from None
    return profile


def _override(obj, path: list[str], value):
    """dataclasses.replace along a dotted path ("cpt.train.max_steps"); "root.x" sets a field of `obj` itself."""
    if path[0] == "root":
        path = path[1:]
    if isinstance(getattr(obj, path[0]), tuple) and isinstance(value, list):
        value = tuple(value)
    if len(path) == 1:
        return dataclasses.replace(obj, **{path[0]: value})
    return dataclasses.replace(obj, **{path[0]: _override(getattr(obj, path[0]), path[1:], value)})


# ---------------------------------------------------------------- profiles

#: The pretrained track's evaluation: IFEval (seeded subset of 100 by default), replies up to 256 tokens generated in
#: bf16 where the CPU is fast at it; cheaper looks (before SFT, unlearning snapshots) on a probe of 32 prompts.
_PRETRAINED_EVAL = EvalConfig(suite="ifeval", ifeval_prompts=100, max_new_tokens=256, batch_size=100, probe_prompts=32,
                              dynamics_prompts=32, dynamics_items=80, generation_bf16=True,
                              all_metrics_both_stages=False,
                              heldout_texts=100, response_tokens=128, map_samples=80)

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        "smoke",
        DataConfig(n_people=100, bios_per_person=4, sft_prompts=200, eval_prompts_per_level=6,
                   benchmark_attributes_per_person=2),
        ModelConfig(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128, vocab_size=512),
        TrainConfig(max_steps=30, batch_size=8, block_size=64, lr=3e-3, warmup_steps=3, save_steps=10, log_steps=5),
        CPTConfig(synth_ratio=0.25, dilution_steps=10,
                  train=TrainConfig(max_steps=20, batch_size=8, block_size=64, lr=1e-3, warmup_steps=2,
                                    save_steps=10, log_steps=5)),
        SFTConfig(checkpoint_steps=(5, 10),
                  train=TrainConfig(max_steps=15, batch_size=8, block_size=160, lr=1e-3, warmup_steps=2,
                                    save_steps=5, log_steps=5, sampling="group_by_length")),
        UnlearnConfig(budget_fraction=0.5, snapshot_steps=(4,),
                      train=TrainConfig(max_steps=1, batch_size=8, block_size=96, lr=1e-3, warmup_steps=0,
                                        save_steps=4, log_steps=1, weight_decay=0.0)),
        seeds=(0,),
    ),
    "default": Profile("default", DataConfig()),
    # The pretrained track: SmolLM2-135M-Instruct continued on the world's biographies (+ uniform Q-A pairs from the
    # rule-based generator and from SmolLM2 itself), identical SFT on AlpacaEval, IFEval for instruction following.
    # One learning rate (5e-5) for CPT, SFT and unlearning; Q-A pairs separated by <|endoftext|>, the document
    # separator of SmolLM2's own pre-training (the chat turn end <|im_end|> is the alternative: SEPARATOR).
    "pretrained": Profile(
        "pretrained",
        DataConfig(n_people=200, bios_per_person=4, sft_prompts=50, eval_prompts_per_level=2,
                   benchmark_attributes_per_person=4, qa_generator="both", qa_model_path="smollm2",
                   model_qa_people=48, sft_source="alpacaeval", sft_heldout=48),
        cpt=CPTConfig(synth_ratio=0.5, dilution_steps=12, separator="<|endoftext|>",
                      train=TrainConfig(max_steps=24, batch_size=8, block_size=128, lr=5e-5, warmup_steps=2,
                                        save_steps=12, log_steps=2)),
        sft=SFTConfig(checkpoint_steps=(),
                      train=TrainConfig(max_steps=12, batch_size=4, block_size=384, lr=5e-5, warmup_steps=1,
                                        save_steps=6, log_steps=2, sampling="group_by_length")),
        unlearn=UnlearnConfig(budget_fraction=0.25, snapshot_steps=(),
                              train=TrainConfig(max_steps=1, batch_size=8, block_size=128, lr=5e-5, warmup_steps=0,
                                                save_steps=4, log_steps=1, weight_decay=0.0)),
        seeds=(0, 1, 2), eval=_PRETRAINED_EVAL, base_model="smollm2-135m-instruct", track="pretrained",
        sweep_ratios=(0.9,), gamma_sweep=(),
    ),
    # The pretrained track at a tiny size, for the tests (same model and code, a handful of prompts and steps).
    "pretrained_smoke": Profile(
        "pretrained_smoke",
        DataConfig(n_people=20, bios_per_person=2, sft_prompts=10, eval_prompts_per_level=1,
                   benchmark_attributes_per_person=2, qa_generator="both", qa_model_path="smollm2", model_qa_people=2,
                   sft_source="alpacaeval", sft_heldout=4),
        cpt=CPTConfig(synth_ratio=0.5, dilution_steps=1, separator="<|endoftext|>",
                      train=TrainConfig(max_steps=2, batch_size=2, block_size=64, lr=5e-5, warmup_steps=0,
                                        save_steps=2, log_steps=1)),
        sft=SFTConfig(checkpoint_steps=(),
                      train=TrainConfig(max_steps=2, batch_size=2, block_size=128, lr=5e-5, warmup_steps=0,
                                        save_steps=2, log_steps=1, sampling="group_by_length")),
        unlearn=UnlearnConfig(budget_fraction=0.5, snapshot_steps=(),
                              train=TrainConfig(max_steps=1, batch_size=2, block_size=64, lr=5e-5, warmup_steps=0,
                                                save_steps=2, log_steps=1, weight_decay=0.0)),
        seeds=(0,), base_model="smollm2-135m-instruct", track="pretrained", sweep_ratios=(), methods=("bounded", "ga"),
        gamma_sweep=(),
        eval=dataclasses.replace(_PRETRAINED_EVAL, ifeval_prompts=4, max_new_tokens=16, batch_size=4, probe_prompts=2,
                                 dynamics_prompts=2, dynamics_items=8, heldout_texts=8, response_tokens=16,
                                 map_samples=10),
    ),
}


def paper_profile(name: str, *, base_model: str, nonsynth_hub: str, nonsynth_docs: int, sft_hub: str, people: int,
                  cpt_steps: int, batch: int, block: int, sft_steps: int, sft_batch: int, sft_block: int,
                  unlearn_batch: int, ifeval_prompts: int | None, max_new_tokens: int, gen_batch: int, probe: int,
                  seeds: tuple[int, ...] = (0, 1, 2)) -> Profile:
    """The paper's proportions at any size: a given Llama-like base; CPT on NonSynth (a web corpus plus the world's
    biographies) with 2 % SynthQA; the dilution arm another CPT's worth of NonSynth (the paper: another 300B
    natural tokens); identical SFT on an Alpaca-style dataset; unlearning on 0.33 % of the CPT tokens; bf16 wherever
    the hardware has it; IFEval for instruction following. `paper` (GPUs, hub model and data) and `paper_tiny`
    (the tests: a tiny Llama and local stand-in datasets on the CPU) are this one profile at two sizes."""
    return Profile(
        name,
        DataConfig(n_people=people, bios_per_person=4, sft_prompts=10, eval_prompts_per_level=2,
                   benchmark_attributes_per_person=1, hub_nonsynth=nonsynth_hub, hub_nonsynth_docs=nonsynth_docs,
                   sft_source="hub", sft_hub=sft_hub, sft_heldout=max(4, min(200, people // 10))),
        cpt=CPTConfig(synth_ratio=0.02, dilution_steps=cpt_steps,
                      train=TrainConfig(max_steps=cpt_steps, batch_size=batch, block_size=block, lr=3e-5,
                                        warmup_steps=max(1, cpt_steps // 50), save_steps=max(1, cpt_steps // 5),
                                        log_steps=max(1, cpt_steps // 100))),
        sft=SFTConfig(checkpoint_steps=(),
                      train=TrainConfig(max_steps=sft_steps, batch_size=sft_batch, block_size=sft_block, lr=2e-5,
                                        warmup_steps=max(1, sft_steps // 20), save_steps=max(1, sft_steps // 5),
                                        log_steps=max(1, sft_steps // 50), sampling="group_by_length")),
        unlearn=UnlearnConfig(budget_fraction=0.0033, snapshot_steps=(),
                              train=TrainConfig(max_steps=1, batch_size=unlearn_batch, block_size=min(block, 512),
                                                lr=1e-5, warmup_steps=0, save_steps=50, log_steps=1,
                                                weight_decay=0.0)),
        seeds=seeds, base_model=base_model, track="paper", sweep_ratios=(), gamma_sweep=(),
        eval=EvalConfig(suite="ifeval", ifeval_prompts=ifeval_prompts, max_new_tokens=max_new_tokens,
                        batch_size=gen_batch, probe_prompts=probe, dynamics_prompts=probe, dynamics_items=200,
                        generation_bf16=True, all_metrics_both_stages=False, heldout_texts=1000,
                        response_tokens=256, map_samples=200))


PROFILES["paper"] = paper_profile(
    "paper", base_model="HuggingFaceTB/SmolLM2-1.7B", nonsynth_hub="HuggingFaceFW/fineweb-edu:sample-10BT",
    nonsynth_docs=500_000, sft_hub="yahma/alpaca-cleaned", people=85_000, cpt_steps=960, batch=256, block=2048,
    sft_steps=400, sft_batch=128, sft_block=1024, unlearn_batch=64, ifeval_prompts=None, max_new_tokens=1024,
    gen_batch=64, probe=100)
PROFILES["paper_tiny"] = paper_profile(
    "paper_tiny", base_model="tests/fixtures/tiny_hub/model", nonsynth_hub="tests/fixtures/tiny_hub/nonsynth",
    nonsynth_docs=40, sft_hub="tests/fixtures/tiny_hub/sft", people=40, cpt_steps=2, batch=4, block=64, sft_steps=2,
    sft_batch=2, sft_block=128, unlearn_batch=2, ifeval_prompts=4, max_new_tokens=8, gen_batch=4, probe=2,
    seeds=(0,))
