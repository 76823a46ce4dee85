"""The config dataclasses of every stage and the `Profile` that bundles them — torch-free; errors say the fix.

Profiles themselves are in `profiles` (one default, the others written as overrides of it); notebook parameters
in `parameters`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from .methods import BIAS_METHODS, FORGET_METHODS, method_params
from .paths import repo_root


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
        check_methods(self.methods)

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


def check_methods(v) -> None:
    """A profile's list of unlearning methods: known names, `bounded` among them (the claim-4 method)."""
    _require(isinstance(v, (list, tuple)) and len(v) > 0 and set(v) <= set(FORGET_METHODS) and "bounded" in v,
             f"methods must be a non-empty list from {sorted(FORGET_METHODS)} that includes 'bounded', got {v!r}")
