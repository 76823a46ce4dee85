"""The config dataclasses of every stage and the `Profile` that bundles them — torch-free; errors say the fix.

Profiles themselves are in `profiles` (one default, the others written as overrides of it); notebook parameters
in `parameters`.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .methods import BIAS_METHODS, FORGET_METHODS, method_params
from .paths import repo_root


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _int(name: str, v, low: int, high: int, why: str = "") -> None:
    """An integer (never a bool) in [low, high]; the message names the field, the value and the bounds."""
    ok = isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
    _require(ok, f"{name} must be an integer in [{low}, {high:,}]{why}, got {v!r}")


def _real(name: str, v, low: float, high: float, low_open: bool = False, high_open: bool = False) -> None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    _require(ok, f"{name} must be a finite number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
                 f", got {v!r}")


#: Upper bounds that keep a run inside one machine's memory and time (a value past them is a typo, not a plan).
MAX_SEED = 2**31 - 1
MAX_PEOPLE = 100_000          # the world's name pools allow about this many unique people
MAX_STAGE_TOKENS = 2_000_000_000  # int32 token ids of a stage's packed blocks: 8 GB of memory at this bound
MIN_UNLEARN_BLOCK = 8  # an unlearning row is a separator and the text's tokens: fewer would train on separators
PRECISIONS = ("fp32", "bf16")
REPORT_TO = ("none", "tensorboard", "wandb")


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
    #: Chat-formatted instructions (train phrasings, SFT people, the SFT levels) mixed into the pre-training corpus:
    #: the base model learns the chat format and what the constraints mean before SFT (the phase map's world).
    pretrain_instructions: int = field(default=0, metadata={"key_default": 0})
    #: What SynthQA is about: "overlap" (the people SFT asks about) or "disjoint" (a separate half of the train people,
    #: who appear only in NonSynth: SynthQA then teaches no fact that SFT or the evaluation uses).
    synthqa_topic: str = field(default="overlap", metadata={"key_default": "overlap"})
    #: Also build `synthqa_diverse`: the same facts as SynthQA in many question and answer styles (the format control).
    diverse_qa: bool = field(default=False, metadata={"key_default": False})
    #: The constraint types SFT, pre-training instructions and the suite draw from (None: all of them; the phase map's
    #: world keeps those a ~1M-parameter model learns, by the reference arm's competence).
    constraint_types: tuple[str, ...] | None = field(default=None, metadata={"key_default": None})
    #: Constraint levels of the instruction-following suite (`eval_prompts_per_level` each).
    eval_levels: tuple[int, ...] = field(default=(1, 2, 3, 4, 5), metadata={"key_default": (1, 2, 3, 4, 5)})
    #: The `ood` instruction suite (`ifeval_ood`: held-out people, IFEval's wording of the constraints, task templates
    #: written apart from the project's; `data.ood`): prompts per level (0: no such suite) and its levels.
    ood_prompts_per_level: int = field(default=0, metadata={"key_default": 0})
    ood_levels: tuple[int, ...] = field(default=(1, 2, 3), metadata={"key_default": (1, 2, 3)})

    def __post_init__(self):
        _int("seed", self.seed, 0, MAX_SEED)
        _int("pretrain_instructions", self.pretrain_instructions, 0, 10_000_000)
        _require(self.synthqa_topic in ("overlap", "disjoint"),
                 f"synthqa_topic must be 'overlap' or 'disjoint', got {self.synthqa_topic!r}")
        _require(isinstance(self.diverse_qa, bool), f"diverse_qa must be true or false, got {self.diverse_qa!r}")
        _require(len(self.eval_levels) > 0 and all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 5
                                                   for x in self.eval_levels),
                 f"eval_levels must be a non-empty list of constraint counts 1..5, got {self.eval_levels!r}")
        _require(self.constraint_types is None or (isinstance(self.constraint_types, (list, tuple))
                                                   and len(self.constraint_types) >= max(self.eval_levels)),
                 f"constraint_types must be None (all) or a list of at least max(eval_levels) constraint names, got "
                 f"{self.constraint_types!r}")
        _int("ood_prompts_per_level", self.ood_prompts_per_level, 0, 10_000_000)
        _require(len(self.ood_levels) > 0 and all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 4
                                                  for x in self.ood_levels),
                 f"ood_levels must be a non-empty list of constraint counts 1..4 (no more than 4 of the ood suite's "
                 f"constraint types hold together), got {self.ood_levels!r}")
        _require(not self.ood_prompts_per_level or self.sft_source == "world",
                 "the ood suite is the world track's (sft_source: world); set ood_prompts_per_level: 0")
        _int("n_people", self.n_people, 10, MAX_PEOPLE, " (a world needs people to hold out)")
        _real("heldout_fraction", self.heldout_fraction, 0.0, 1.0, low_open=True, high_open=True)
        for name in ("bios_per_person", "heldout_bios_per_person"):
            _int(name, getattr(self, name), 1, 1000)
        for name in ("sft_prompts", "eval_prompts_per_level"):
            _int(name, getattr(self, name), 1, 10_000_000)
        _int("benchmark_attributes_per_person", self.benchmark_attributes_per_person, 1, 6, " (the attributes)")
        _require(len(self.sft_levels) > 0 and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 5
                                                  for x in self.sft_levels),
                 f"sft_levels must be a non-empty list of constraint counts 0..5, got {self.sft_levels!r}")
        _real("question_share", self.question_share, 0.0, 1.0)
        _require(self.qa_generator in ("rule_based", "model_based", "both"),
                 f"qa_generator must be 'rule_based', 'model_based' or 'both', got {self.qa_generator!r}")
        _require(self.qa_generator == "rule_based" or bool(self.qa_model_path),
                 f"qa_generator={self.qa_generator!r} needs qa_model_path (a local transformers causal LM directory, "
                 "or 'smollm2' for the shipped SmolLM2-135M-Instruct)")
        _require(self.qa_model_path in (None, "smollm2") or (isinstance(self.qa_model_path, str)
                                                             and os.path.isdir(self.qa_model_path)),
                 f"qa_model_path={self.qa_model_path!r} is not a folder; give a local causal LM checkpoint directory "
                 "(config.json, weights, tokenizer) or 'smollm2'")
        if self.model_qa_people is not None:
            _int("model_qa_people", self.model_qa_people, 1, MAX_PEOPLE, " or None (all train people)")
        _require(self.sft_source in ("world", "alpacaeval", "hub"),
                 f"sft_source must be 'world', 'alpacaeval' or 'hub', got {self.sft_source!r}")
        _require(self.sft_source != "hub" or bool(self.sft_hub),
                 "sft_source='hub' needs sft_hub (a Hugging Face dataset id or a local folder of JSON/JSONL files)")
        _int("sft_heldout", self.sft_heldout, 1, 1_000_000, " (SFT rows kept out for analysis)")
        if self.hub_nonsynth is not None:
            _int("hub_nonsynth_docs", self.hub_nonsynth_docs, 1, 100_000_000, " (hub_nonsynth: how many documents)")


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
        for name, high in (("hidden_size", 65536), ("num_layers", 1024), ("num_heads", 1024),
                           ("intermediate_size", 262144), ("max_position_embeddings", 1_048_576),
                           ("vocab_size", 1_000_000)):
            _int(name, getattr(self, name), 1, high)
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
    #: "fp32", or "bf16" (autocast; fast on a GPU or a CPU with AVX-512 BF16 / AMX, correct but slow elsewhere).
    #: Part of the stage key when it is not "fp32" (stages trained before this field existed were fp32 or bf16 by
    #: the CPU's flags; fp32 keeps their keys).
    precision: str = field(default="fp32", metadata={"key_default": "fp32"})
    #: Where the Trainer also sends its logs: "none", "tensorboard" (under the stage's tensorboard/ folder) or "wandb"
    #: (needs the package installed). Not part of the stage key: it changes no number.
    report_to: str = field(default="none", metadata={"key": False})

    def __post_init__(self):
        _require(self.report_to in REPORT_TO, f"report_to must be one of {REPORT_TO}, got {self.report_to!r}")
        _require(self.report_to == "none" or importlib.util.find_spec(self.report_to) is not None,
                 f"report_to={self.report_to!r} needs the {self.report_to} package: pip install {self.report_to}")
        _require(self.sampling in ("random", "group_by_length"),
                 f"sampling must be 'random' or 'group_by_length', got {self.sampling!r}")
        _require(self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name, high in (("max_steps", 10_000_000), ("batch_size", 1_000_000), ("block_size", 1_048_576),
                           ("save_steps", 10_000_000), ("log_steps", 10_000_000), ("warmup_steps", 10_000_000)):
            _int(name, getattr(self, name), 0 if name == "warmup_steps" else 1, high)
        _int("seed", self.seed, 0, MAX_SEED)
        _real("lr", self.lr, 0.0, 10.0, low_open=True)
        _real("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        _real("weight_decay", self.weight_decay, 0.0, 10.0)
        _require(self.tokens <= MAX_STAGE_TOKENS,
                 f"max_steps × batch_size × block_size = {self.tokens:,} tokens would need "
                 f"{self.tokens * 4 / 2**30:,.0f} GiB to pack (at most {MAX_STAGE_TOKENS:,}); "
                 "lower max_steps, batch_size or block_size")

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
        _int("dilution_steps", self.dilution_steps, 1, 10_000_000)
        _require(isinstance(self.separator, str) and bool(self.separator),
                 f"separator must be 'eos' or a special token of the tokenizer, got {self.separator!r}")


def check_ratio(r) -> float:
    if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0.0 <= r < 1.0:
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
        _require(all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in self.checkpoint_steps),
                 f"checkpoint_steps must be positive integers, got {self.checkpoint_steps!r}")


@dataclass(frozen=True)
class UnlearnConfig:
    """Unlearning the SynthQA forget set from the synthetic CPT model (our reading of the paper; see docs/losses.md).

    Loss = forget(method, params) + lambda_replay·NLL(replay) + lambda_bias·bias-mitigation(bias). `params` are the
    method's own hyperparameters (`config.methods`: the bound's γ, mode and level; NPO's β; SimNPO's β and δ): None
    takes the method's defaults, a mapping is checked against the method's fields. Budget: forget + replay tokens as
    a fraction of the CPT arm's tokens. Switch methods with `with_method` (it resets `params`).
    """

    method: str = "bounded"
    params: object = None
    lambda_replay: float = 1.0
    lambda_bias: float = 1.0
    bias: str = "kl_replay"
    budget_fraction: float = 0.1
    nll_limit: float = 60.0
    snapshot_steps: tuple[int, ...] = (10, 25)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=1, batch_size=8, block_size=128,
                                                                   lr=3e-4, warmup_steps=0, save_steps=20,
                                                                   log_steps=1, weight_decay=0.0))

    def __post_init__(self):
        object.__setattr__(self, "params", method_params(self.method, self.params))
        _require(self.bias in BIAS_METHODS, f"bias must be one of {BIAS_METHODS}, got {self.bias!r}")
        for name in ("lambda_replay", "lambda_bias"):
            v = getattr(self, name)
            _require(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
                     f"{name} must be a number >= 0, got {v!r}")
        _require(isinstance(self.budget_fraction, (int, float)) and 0 < self.budget_fraction <= 1,
                 f"budget_fraction must be in (0, 1], got {self.budget_fraction!r}")
        _require(isinstance(self.nll_limit, (int, float)) and self.nll_limit > 0,
                 f"nll_limit must be > 0, got {self.nll_limit!r}")
        _require(self.train.block_size >= MIN_UNLEARN_BLOCK,
                 f"train.block_size {self.train.block_size} is too small to hold text (each row is a separator and "
                 f"the text's tokens; smaller blocks train on separators only); use at least {MIN_UNLEARN_BLOCK}")

    def with_method(self, method: str, **params) -> "UnlearnConfig":
        """This config for another method, with that method's default hyperparameters updated by `params`."""
        return dataclasses.replace(self, method=method, params=params or None)


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
    #: Generation batches by a token budget (`models.generation_batches`): shortest prompt first, each batch at most
    #: `batch_size` rows and rows × (its longest prompt + max_new_tokens) ≤ batch_tokens. None: fixed batches of
    #: `batch_size` in the suite's order (how every committed run generated).
    batch_tokens: int | None = field(default=None, metadata={"key_default": None})

    def __post_init__(self):
        _require(self.suite in SUITES, f"suite must be one of {SUITES}, got {self.suite!r}")
        if self.ifeval_prompts is not None:
            _int("ifeval_prompts", self.ifeval_prompts, 1, 541, " or None (all 541)")
        _int("ifeval_seed", self.ifeval_seed, 0, MAX_SEED)
        _int("max_new_tokens", self.max_new_tokens, 1, 32_768)
        for name in ("batch_size", "dynamics_prompts", "dynamics_items", "map_samples"):
            _int(name, getattr(self, name), 1, 1_000_000)
        for name in ("probe_prompts", "heldout_texts", "response_tokens", "batch_tokens"):
            if getattr(self, name) is not None:
                _int(name, getattr(self, name), 1, 10_000_000, " or None")
        for name in ("generation_bf16", "all_metrics_both_stages"):
            _require(isinstance(getattr(self, name), bool), f"{name} must be true or false, got {getattr(self, name)!r}")


#: The rule that picks the claim-4 cell of the phase map, fixed before any map is computed (recorded in its JSON).
#: It first said "passes the 2-SE rule"; since the verdict rule was replaced (docs/statistics.md) a cell passes when
#: its 95 % interval excludes 0 — the phase map's committed claim-4 run was placed by the old wording.
CLAIM4_CELL_RULE = (
    "Among the cells with SynthQA (dose r > 0) and some SFT (step s > 0) whose paired Delta HSR (synthetic - "
    "reference) is negative and passes the verdict rule (its 95 % interval excludes 0), the one with the largest "
    "|Delta|; ties go to the smaller dose, then to the later step. If no cell passes, the headline cell: the "
    "profile's SynthQA ratio at the last SFT step.")


@dataclass(frozen=True)
class PhaseConfig:
    """The phase map (notebook 06): Delta HSR over SynthQA dose x SFT strength, every seed of the profile.

    `doses`: the synthetic arm's SynthQA shares of CPT tokens (the reference arm is dose 0); `steps`: the SFT steps
    at which every arm is evaluated (0 = before SFT; each must be at most the SFT's max_steps); `diverse`: also the
    diverse-format control at the profile's SynthQA ratio (needs data.diverse_qa); `claim4`: run the unlearning
    methods at the cell `CLAIM4_CELL_RULE` picks; `claim4_seeds`: `bounded` there on the first N seeds (0: every
    seed; the other methods always run on the first seed)."""

    doses: tuple[float, ...] = (0.05, 0.25, 0.5, 0.9)
    steps: tuple[int, ...] = (0, 10, 25, 50, 100)
    diverse: bool = True
    claim4: bool = True
    claim4_seeds: int = field(default=0, metadata={"key_default": 0})

    def __post_init__(self):
        _require(len(self.doses) > 0 and len(set(self.doses)) == len(self.doses),
                 f"phase doses must be a non-empty list of distinct SynthQA ratios, got {self.doses!r}")
        for r in self.doses:
            check_ratio(r)
            _require(r > 0, "phase doses are the synthetic arm's SynthQA ratios (> 0); the reference arm is dose 0")
        _require(len(self.steps) > 0 and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                             for s in self.steps) and list(self.steps) == sorted(set(self.steps)),
                 f"phase steps must be increasing SFT steps >= 0, e.g. [0, 10, 50], got {self.steps!r}")
        for name in ("diverse", "claim4"):
            _require(isinstance(getattr(self, name), bool), f"phase {name} must be true or false")
        _int("claim4_seeds", self.claim4_seeds, 0, 1000, " (bounded on the first N seeds; 0 = every seed)")


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
    phase: PhaseConfig = field(default_factory=PhaseConfig, metadata={"key_default": PhaseConfig()})
    #: None: the base model is pre-trained from scratch on the world (the world track); "smollm2-135m-instruct": the
    #: shipped SmolLM2 (the pretrained track); anything else: a Hugging Face hub id or a local checkpoint (paper).
    base_model: str | None = None
    track: str = "world"      # the report's name for this profile's results
    sweep_ratios: tuple[float, ...] = (0.5,)   # extra synthetic arms (first seed) for the dose-response
    methods: tuple[str, ...] = ("bounded", "ga", "grad_diff", "npo", "simnpo")  # unlearning methods of notebook 04
    gamma_sweep: tuple[float, ...] = (0.5, 4.0)  # extra γ-parameter values of notebook 04's sweep (first seed, no SFT)
    #: The hash of the profile a notebook started from, before its parameters (set by `resolve_notebook_parameters`;
    #: recorded with each notebook's JSON, so that a notebook refuses upstream results of another profile version).
    base_hash: str = field(default="", compare=False, metadata={"key": False})

    def __post_init__(self):
        _require(len(self.seeds) > 0 and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED
                                             for s in self.seeds) and len(set(self.seeds)) == len(self.seeds),
                 f"seeds must be a non-empty list of distinct non-negative integers, got {self.seeds!r}")
        _int("dilution_seeds", self.dilution_seeds, 0, 1000, " (how many of the seeds run the dilution arm)")
        for r in self.sweep_ratios:
            check_ratio(r)
        check_methods(self.methods)

    def run_dir(self) -> Path:
        """Where this profile's artifacts live: runs/<profile>/ (git-ignored)."""
        return repo_root() / "runs" / self.name

    def figures_dir(self, ecfg: EvalConfig | None = None) -> Path:
        """figures/ (committed) for the default profile, figures/<profile>/ for the other committed tracks
        (`pretrained`), runs/<profile>/figures otherwise. A committed track's run on all 541 IFEval prompts (`ecfg`:
        the run's evaluation, the profile's own by default) goes to its `ifeval-541/` subfolder, so that the
        default run's figures stay."""
        if self.name == "default":
            return repo_root() / "figures"
        if self.name not in COMMITTED_TRACKS:
            return self.run_dir() / "figures"
        track = repo_root() / "figures" / self.name
        return track / ALL_PROMPTS_DIR if self.all_prompts_run(ecfg) else track

    def all_prompts_run(self, ecfg: EvalConfig | None = None) -> bool:
        """True for a verdict run: `ecfg` (the run's evaluation, the profile's own by default) takes all 541 IFEval
        prompts where this profile's own evaluation takes a subset. The one test of it: the figures' folder
        (`figures_dir`) and the report's track name (`report.track_of`) both ask here."""
        ecfg = self.eval if ecfg is None else ecfg
        return ecfg.suite == "ifeval" and ecfg.ifeval_prompts is None and self.eval.ifeval_prompts is not None

    def notebooks_dir(self, ecfg: EvalConfig | None = None) -> Path:
        """Where `synthrepro pipeline --publish` puts this profile's executed notebooks: notebooks/ for the world
        track (`default`, and `phase` for notebook 06), else beside the run's figures (`figures_dir(ecfg)`/notebooks/
        for a committed track), where nbval does not re-run them."""
        if self.name in ("default", "phase"):
            return repo_root() / "notebooks"
        return self.figures_dir(ecfg) / "notebooks"

    def report_path(self) -> Path:
        """The report notebook 05 writes its track's section into: REPORT.md for committed tracks, else in the run
        directory."""
        return repo_root() / "REPORT.md" if self.name in ("default", *COMMITTED_TRACKS) else self.run_dir() / "REPORT.md"


#: The subfolder of a committed track's figures for its run on all 541 IFEval prompts (the verdict run).
ALL_PROMPTS_DIR = "ifeval-541"

#: Profiles (besides `default`) whose figures and report section are committed.
COMMITTED_TRACKS = ("pretrained", "pretrained_extras", "phase", "pretrained_phase", "pretrained_phase_imend")


def check_methods(v) -> None:
    """A profile's list of unlearning methods: known names, `bounded` among them (the claim-4 method)."""
    _require(isinstance(v, (list, tuple)) and len(v) > 0 and set(v) <= set(FORGET_METHODS) and "bounded" in v,
             f"methods must be a non-empty list from {sorted(FORGET_METHODS)} that includes 'bounded', got {v!r}")
