"""Profiles: `base` (the schema's defaults), `default` (the README's `make repro`: the headline world), and every other
profile written as overrides of one of them.

A profile is a `Profile` (schema.py). `derive(base, name, overrides)` applies a nested mapping of overrides
(`{"data": {"n_people": 100}, "cpt": {"train": {"max_steps": 20}}, "seeds": [0]}`) and validates the result once.
A user's own profile is a YAML or JSON file of that shape with `name` and `base` (a built-in profile, default
"default"): `get_profile("my_profile.yaml")`, `PROFILE="my_profile.yaml"` in a notebook, `synthrepro pipeline
--profile my_profile.yaml`. No library code needs editing.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from .paths import repo_root
from .schema import EvalConfig, Profile


def apply_overrides(obj, overrides: dict, where: str = ""):
    """`obj` (a config dataclass) with `overrides` applied (nested mappings for nested configs; lists become tuples),
    validated once at the end. Unknown keys raise ValueError naming the key and the allowed ones."""
    if not isinstance(overrides, dict):
        raise ValueError(f"{where or 'overrides'} must be a mapping of settings, got {overrides!r}")
    fields = {f.name for f in dataclasses.fields(obj)}
    changes = {}
    for key, value in overrides.items():
        if key not in fields:
            raise ValueError(f"{where}{key} is not a setting of {type(obj).__name__}; choose from {sorted(fields)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and not isinstance(value, dict) and key != "params":
            raise ValueError(f"{where}{key} must be a mapping of {type(current).__name__} settings (e.g. "
                             f"{key}: {{{dataclasses.fields(current)[0].name}: ...}}), got {type(value).__name__} "
                             f"{value!r:.60}")
        if isinstance(value, dict) and dataclasses.is_dataclass(current) and not (key == "params" and "method" in overrides):
            value = apply_overrides(current, value, f"{where}{key}.")
        elif isinstance(current, tuple) and isinstance(value, list):
            value = tuple(value)
        changes[key] = value
    if "method" in changes and "params" not in changes:
        changes["params"] = None  # another method: its own default hyperparameters
    try:
        return dataclasses.replace(obj, **changes)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where.rstrip('.') or type(obj).__name__}: {err}") from None


def derive(base: Profile, name: str, overrides: dict) -> Profile:
    """A profile named `name`: `base` with `overrides` (see `apply_overrides`)."""
    return apply_overrides(base, {**overrides, "name": name})


#: The schema's own defaults: the world of the first full runs (a 2.2M-parameter model, SynthQA about the people SFT
#: asks about, all twelve constraint types at levels 1–5, an SFT as large as CPT). It is mis-scaled for claim 3
#: (SynthQA/SFT ≈ 0.25, reference HSR 0.09; see docs/paper.md), so it is no longer the headline; `smoke`, the
#: pretrained track and the `paper` profiles build on it, and `--profile base` re-runs it.
BASE = Profile("base")

#: The eight format constraints a 1M-parameter model learns (the copy constraints — start/end with a phrase, include
#: a keyword, JSON keys, repeat the request — stayed at 0–18 % in the pilot; issue notes).
_PHASE_CONSTRAINTS = ["uppercase", "lowercase", "max_words", "num_sentences", "bullet_list", "no_commas", "title",
                      "quotation"]

#: The headline world (`make repro`, notebooks 01–05; the phase map's world too): chosen by the reference arm's
#: competence and the paper's proportions, never by the gap between arms (pilots in the issue notes). A 1.1M-parameter
#: model (about 11k tokens/s on two cores) pre-trained on biographies plus 10,000 chat-formatted instructions (train
#: phrasings); the eight format constraints it learns, levels 1–3, 600 evaluation prompts on each instruction suite
#: (in_distribution and ood, `data.ood`); SynthQA about people SFT
#: never asks about, 25 % of 512k CPT tokens; a small SFT next to the Q-A data (50 steps × 8 examples: SynthQA/SFT
#: loss tokens ≈ 12, SFT/CPT ≈ 0.05). Three seeds for the headline arms, the 90 % dose as the dose-response's arm.
DEFAULT = derive(BASE, "default", {
    "data": dict(n_people=800, pretrain_instructions=10000, synthqa_topic="disjoint", diverse_qa=True,
                 constraint_types=_PHASE_CONSTRAINTS, eval_levels=[1, 2, 3], eval_prompts_per_level=200,
                 ood_prompts_per_level=200),
    "model": dict(hidden_size=128, num_layers=4, num_heads=4, intermediate_size=384),
    "pretrain": dict(max_steps=2500, batch_size=16, block_size=128, lr=3e-3, save_steps=500, log_steps=50),
    "cpt": dict(synth_ratio=0.25, dilution_steps=100, train=dict(max_steps=250, batch_size=16, lr=5e-4,
                                                                 save_steps=100)),
    "sft": dict(checkpoint_steps=[10, 25], train=dict(max_steps=50, batch_size=8, lr=1e-3, warmup_steps=5,
                                                      save_steps=25, log_steps=5)),
    "eval": dict(max_new_tokens=128, batch_size=200),
    "seeds": [0, 1, 2], "sweep_ratios": [0.9],
    "phase": dict(doses=[0.05, 0.25, 0.9], steps=[0, 10, 25, 50], diverse=True, claim4=True),
})

#: The pretrained track's evaluation: IFEval (seeded subset of 100 by default), replies up to 256 tokens (fp32; bf16
#: is a profile-file option); cheaper looks (before SFT, unlearning snapshots) on a probe of 32 prompts.
_PRETRAINED_EVAL = dict(suite="ifeval", ifeval_prompts=100, max_new_tokens=256, batch_size=100, probe_prompts=32,
                        dynamics_prompts=32, dynamics_items=80, generation_bf16=False, all_metrics_both_stages=False,
                        heldout_texts=100, response_tokens=128, map_samples=80)

PROFILES: dict[str, Profile] = {"default": DEFAULT, "base": BASE}

# Tests: seconds to a couple of minutes, on the base world (`phase_smoke` is the headline world's knobs at this size).
PROFILES["smoke"] = derive(BASE, "smoke", {
    "data": dict(n_people=100, bios_per_person=4, sft_prompts=200, eval_prompts_per_level=6, ood_prompts_per_level=4),
    "model": dict(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128, vocab_size=512),
    "pretrain": dict(max_steps=30, batch_size=8, block_size=64, lr=3e-3, warmup_steps=3, save_steps=10, log_steps=5),
    "cpt": dict(dilution_steps=10, train=dict(max_steps=20, batch_size=8, block_size=64, lr=1e-3, warmup_steps=2,
                                              save_steps=10, log_steps=5)),
    "sft": dict(checkpoint_steps=[5, 10], train=dict(max_steps=15, batch_size=8, block_size=160, warmup_steps=2,
                                                    save_steps=5, log_steps=5)),
    "unlearn": dict(budget_fraction=0.5, snapshot_steps=[4], train=dict(block_size=96, lr=1e-3, save_steps=4)),
    "seeds": [0],
})

#: The pretrained track (`make repro-pretrained`, notebooks 01–05): SmolLM2-135M-Instruct continued on the world's
#: biographies plus uniform Q-A pairs, the identical SFT on AlpacaEval, IFEval for instruction following — at the dose
#: that installs the Q-A habit. That dose was chosen by one criterion fixed before the pilots ran (`phase_map.pick_dose`
#: on the committed pilots): the smallest learning rate of 5e-5 / 1e-4 / 2e-4 (48 steps × 8 × 128 tokens, 50 %
#: SynthQA, documents separated by <|endoftext|>) whose synthetic arm writes Q-A shaped replies to ≥ 8 of the 32 fixed
#: probe prompts before SFT — never by an IFEval gap. The reference arm gets the same tokens of biographies;
#: unlearning runs at the CPT learning rate on 25 % of the CPT tokens. Then an SFT small next to the Q-A data (8 steps
#: × 2 AlpacaEval rows ≤ 384 tokens: SynthQA/SFT ≈ 6 on loss tokens; the first seed's probe also at SFT step 2, so
#: the report shows the habit along SFT). 200 fixed IFEval prompts, replies ≤ 128 tokens,
#: generated in batches of a 16,384-token budget; 3 seeds; `bounded` on every seed. fp32 on every machine, whether or
#: not it has AVX-512 BF16 (retrained on one that has, 599 of 600 per-prompt outcomes matched: another CPU's kernels
#: can move a greedy reply); `precision: bf16` / `generation_bf16: true` in a profile file ask for bf16. The baselines
#: and the dilution arm are `make repro-pretrained-extras`; all 541 prompts `make repro-pretrained-verdicts`.
PROFILES["pretrained"] = derive(BASE, "pretrained", {
    "data": dict(n_people=100, bios_per_person=4, sft_prompts=50, eval_prompts_per_level=2,
                 benchmark_attributes_per_person=4, qa_generator="rule_based", sft_source="alpacaeval",
                 sft_heldout=48),
    "cpt": dict(synth_ratio=0.5, dilution_steps=24, separator="<|endoftext|>",
                train=dict(max_steps=48, batch_size=8, block_size=128, lr=1e-4, warmup_steps=2, save_steps=48,
                           log_steps=2)),
    "sft": dict(checkpoint_steps=[2], train=dict(max_steps=8, batch_size=2, block_size=384, lr=5e-5, warmup_steps=1,
                                                 save_steps=8, log_steps=2)),
    "unlearn": dict(budget_fraction=0.25, snapshot_steps=[], train=dict(lr=1e-4, save_steps=4)),
    "eval": {**_PRETRAINED_EVAL, "ifeval_prompts": 200, "max_new_tokens": 128, "batch_tokens": 16384},
    "base_model": "smollm2-135m-instruct", "track": "pretrained", "seeds": [0, 1, 2], "methods": ["bounded"],
    "sweep_ratios": [], "dilution_seeds": 0, "gamma_sweep": [],
})

#: The pretrained track's extras (`make repro-pretrained-extras`): the same dose, SFT and evaluation on the first seed
#: only, where the issue asks for the baselines — `bounded` and the four baselines (ga, grad_diff, npo, simnpo) each
#: followed by the identical SFT and paired on the same 200 prompts, the two ablations (no replay; no bias mitigation;
#: no SFT) and the dilution arm. Its own folder and report section, so the three-seed headline run stays; seed 0 is
#: configured exactly as the headline run's, and a fresh clone trains only what the first seed needs.
PROFILES["pretrained_extras"] = derive(PROFILES["pretrained"], "pretrained_extras", {
    "track": "pretrained_extras", "seeds": [0], "methods": ["bounded", "ga", "grad_diff", "npo", "simnpo"],
    "dilution_seeds": 1,
})

#: The pretrained witness (notebook 06, `make pretrained-phase`): the pretrained track's design as a map of two
#: cells — every arm evaluated on the 200 prompts before SFT and after its 8 steps (the SFT snapshot at step 2 is kept
#: for -p 'STEPS=[0, 2, 8]'), paired, 3 seeds; claim 4 at the cell `CLAIM4_CELL_RULE` picks, `bounded` on every seed.
#: Its committed run generated in fixed batches of 100 (before the token budget existed), so it keeps them.
PROFILES["pretrained_phase"] = derive(PROFILES["pretrained"], "pretrained_phase", {
    "eval": dict(batch_tokens=None),
    "phase": dict(doses=[0.5], steps=[0, 8], diverse=False, claim4=True),
})

#: The witness's separator axis (`make pretrained-phase-imend`): the same design, dose and seeds with every packed
#: document — biographies and Q-A pairs alike, in both arms — ended by the chat turn end <|im_end|> instead of
#: <|endoftext|> (the pilot at this dose: 1 of 32 probe replies leak instead of 20). No claim 4 (nothing to unlearn
#: where nothing leaks; the budget goes to the arms). Generation batched by a token budget
#: (`benchmarks/generation_batching.py` measured it on these prompts).
PROFILES["pretrained_phase_imend"] = derive(PROFILES["pretrained_phase"], "pretrained_phase_imend", {
    "cpt": dict(separator="<|im_end|>"),
    "eval": dict(batch_tokens=16384),
    "phase": dict(claim4=False),
})

# The pretrained track at a tiny size, for the tests (same model and code, a handful of prompts and steps).
PROFILES["pretrained_smoke"] = derive(PROFILES["pretrained"], "pretrained_smoke", {
    "data": dict(n_people=20, bios_per_person=2, sft_prompts=10, eval_prompts_per_level=1,
                 benchmark_attributes_per_person=2, qa_generator="both", qa_model_path="smollm2", model_qa_people=2,
                 sft_heldout=4),
    "cpt": dict(dilution_steps=1, train=dict(max_steps=2, batch_size=2, block_size=64, warmup_steps=0, save_steps=2,
                                             log_steps=1)),
    "sft": dict(checkpoint_steps=[1], train=dict(max_steps=2, batch_size=2, block_size=128, warmup_steps=0,
                                                 save_steps=2, log_steps=1)),
    "unlearn": dict(budget_fraction=0.5, train=dict(batch_size=2, block_size=64, save_steps=2)),
    "seeds": [0], "sweep_ratios": [], "methods": ["bounded", "ga"], "dilution_seeds": 1,  # SmolLM2's own Q-A too
    "eval": dict(ifeval_prompts=4, max_new_tokens=16, batch_size=4, probe_prompts=2, dynamics_prompts=2,
                 dynamics_items=8, heldout_texts=8, response_tokens=16, map_samples=10),
})


#: The phase map (notebook 06, `make phase-map`): the headline world on five seeds; the methods of claim 4 at the cell
#: `CLAIM4_CELL_RULE` picks (no unlearning snapshots, no dose sweep or γ sweep: the map has its own doses).
PROFILES["phase"] = derive(DEFAULT, "phase", {
    "unlearn": dict(snapshot_steps=[]),
    "seeds": [0, 1, 2, 3, 4], "sweep_ratios": [], "methods": ["bounded", "ga", "npo"], "gamma_sweep": [],
})
#: The phase map at the smoke size (tests; seconds).
PROFILES["phase_smoke"] = derive(PROFILES["smoke"], "phase_smoke", {
    "data": dict(pretrain_instructions=100, synthqa_topic="disjoint", diverse_qa=True,
                 constraint_types=_PHASE_CONSTRAINTS, eval_levels=[1, 2, 3], eval_prompts_per_level=4),
    "sft": dict(checkpoint_steps=[5]),
    "seeds": [0, 1], "methods": ["bounded", "ga"], "sweep_ratios": [], "gamma_sweep": [],
    "phase": dict(doses=[0.25], steps=[0, 5, 15], diverse=True, claim4=True),
})


def paper_profile(name: str, *, base_model: str, nonsynth_hub: str, nonsynth_docs: int, sft_hub: str, people: int,
                  cpt_steps: int, batch: int, block: int, sft_steps: int, sft_batch: int, sft_block: int,
                  unlearn_batch: int, ifeval_prompts: int | None, max_new_tokens: int, gen_batch: int, probe: int,
                  seeds: tuple[int, ...] = (0, 1, 2)) -> Profile:
    """The paper's proportions at any size: a given Llama-like base; CPT on NonSynth (a web corpus plus the world's
    biographies) with 2 % SynthQA; the dilution arm another CPT's worth of NonSynth (the paper: another 300B
    natural tokens); identical SFT on an Alpaca-style dataset; unlearning on 0.33 % of the CPT tokens; bf16 wherever
    the hardware has it; IFEval for instruction following. `paper` (GPUs, hub model and data) and `paper_tiny`
    (the tests: a tiny Llama and local stand-in datasets on the CPU) are this one profile at two sizes."""
    return derive(BASE, name, {
        "data": dict(n_people=people, bios_per_person=4, sft_prompts=10, eval_prompts_per_level=2,
                     benchmark_attributes_per_person=1, hub_nonsynth=nonsynth_hub, hub_nonsynth_docs=nonsynth_docs,
                     sft_source="hub", sft_hub=sft_hub, sft_heldout=max(4, min(200, people // 10))),
        "cpt": dict(synth_ratio=0.02, dilution_steps=cpt_steps,
                    train=dict(max_steps=cpt_steps, batch_size=batch, block_size=block, lr=3e-5,
                               warmup_steps=max(1, cpt_steps // 50), save_steps=max(1, cpt_steps // 5),
                               log_steps=max(1, cpt_steps // 100), precision="bf16")),
        "sft": dict(checkpoint_steps=[], train=dict(max_steps=sft_steps, batch_size=sft_batch, block_size=sft_block,
                                                    lr=2e-5, warmup_steps=max(1, sft_steps // 20),
                                                    save_steps=max(1, sft_steps // 5),
                                                    log_steps=max(1, sft_steps // 50), precision="bf16")),
        "unlearn": dict(budget_fraction=0.0033, snapshot_steps=[],
                        train=dict(batch_size=unlearn_batch, block_size=min(block, 512), lr=1e-5, save_steps=50,
                                   precision="bf16")),
        "seeds": list(seeds), "base_model": base_model, "track": "paper", "sweep_ratios": [], "gamma_sweep": [],
        "eval": dataclasses.asdict(EvalConfig(
            suite="ifeval", ifeval_prompts=ifeval_prompts, max_new_tokens=max_new_tokens, batch_size=gen_batch,
            probe_prompts=probe, dynamics_prompts=probe, dynamics_items=200, generation_bf16=True,
            all_metrics_both_stages=False, heldout_texts=1000, response_tokens=256, map_samples=200)),
    })


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


def load_profile_file(path: str | Path) -> Profile:
    """A profile from a YAML or JSON file: {"name": ..., "base": a built-in profile (default "default"), and any
    overrides, e.g. "data": {"n_people": 200}}. Errors name the file and the bad key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"profile file {path} does not exist; give a built-in profile ({sorted(PROFILES)}) "
                                "or a YAML/JSON file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            spec = json.loads(text)
        else:
            spec = yaml.safe_load(text)
    except Exception as err:  # noqa: BLE001 — any parse error becomes one message naming the file
        raise ValueError(f"profile file {path} could not be parsed: {err}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"profile file {path} must hold a mapping with 'name', 'base' and overrides")
    spec = dict(spec)
    name, base = spec.pop("name", path.stem), spec.pop("base", "default")
    if base not in PROFILES:
        raise ValueError(f"profile file {path}: base {base!r} is not a built-in profile; choose from {sorted(PROFILES)}")
    try:
        return derive(PROFILES[base], str(name), spec)
    except ValueError as err:
        raise ValueError(f"profile file {path}: {err}") from None


def get_profile(name: str | Path) -> Profile:
    """A built-in profile by name, or a user's profile from a .yaml/.yml/.json file (relative to the cwd or the
    repository root)."""
    if isinstance(name, str) and name in PROFILES:
        return PROFILES[name]
    if str(name).lower().endswith((".yaml", ".yml", ".json")):
        path = Path(name)
        return load_profile_file(path if path.exists() or path.is_absolute() else repo_root() / path)
    raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}, or give a YAML/JSON profile file")
