"""Build, save and load the world's datasets (Arrow via `datasets`, plus a manifest with sha256 per split).

Splits (people are split into *train* people and *held-out* people):
- `nonsynth`: biographies of every person (the natural pre-training corpus).
- `nonsynth_heldout`: extra biographies never trained on (perplexity / distribution-shift analysis).
- `synthqa`: uniform Q-A pairs about train people only (the forget set in unlearning).
- `synthqa_heldout`: Q-A pairs about held-out people — analysis only, never trained on.
- `sft`: constrained instructions about train people, train phrasings, with reference responses — or, with
  `sft_source="alpacaeval"` (the pretrained track), AlpacaEval's instructions with their reference outputs.
- `sft_heldout` (AlpacaEval or hub SFT data only): instructions with reference outputs kept out of SFT
  (response-NLL analysis).
- `ifeval`: the instruction-following suite ("in_distribution"): held-out people, held-out phrasings, levels 1–5.
- `ifeval_ood` (with `ood_prompts_per_level` > 0): the `ood` suite: held-out people, IFEval's wording of the
  constraints, task templates written apart from the project's (`data.ood`); each row records its template and
  phrasings.
- `benchmark`: 4-option multiple choice about held-out people, in two forms (Q-A shaped and neutral).
- `pretrain_instructions` (with `pretrain_instructions` > 0): instructions like the SFT split's (train phrasings),
  chat-formatted into the pre-training corpus.
- `synthqa_diverse` (with `diverse_qa`): SynthQA's facts in many question-and-answer styles (the format control).
With `synthqa_topic="disjoint"`, SynthQA is about one half of the train people and SFT about the other half.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from pathlib import Path

import datasets
from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from ..config import DataConfig, config_hash, repo_root
from ..models.loading import load_model
from ..models.smollm2 import ensure_checkpoint
from ..models.tokenizer import load_tokenizer
from ..records.files import (check_files, file_records, file_sha256, load_jsonl, locked, rows_sha256, stale,
                             write_atomic_dir)
from .instructions import RESPONSE_SENTENCES, make_instruction, sample_constraints
from .ood import CONSTRAINTS_FILE, TASKS_FILE, ood_rows
from .qa import DiverseQAGenerator, ModelQAGenerator, QAGenerator, RuleBasedQAGenerator
from .shipped import load_alpaca
from .world import ATTRIBUTE_LABELS, ATTRIBUTE_POOLS, ATTRIBUTES, Person, biographies, generate_people

NEUTRAL_SENTENCES = RESPONSE_SENTENCES  # the format-neutral probe: options as biography sentences


def split_people(people: list[Person], heldout_fraction: float, seed: int) -> tuple[list[Person], list[Person]]:
    """(train people, held-out people); held-out people's Q-A pairs are never trained on."""
    rng = random.Random(seed + 1)
    idx = list(range(len(people)))
    rng.shuffle(idx)
    n_held = max(1, round(len(people) * heldout_fraction))
    held = sorted(idx[:n_held])
    train = sorted(idx[n_held:])
    return [people[i] for i in train], [people[i] for i in held]


def _distractors(attr: str, gold: str, rng: random.Random, all_people: list[Person]) -> list[str]:
    if attr == "birth_date":
        pool = sorted({p.birth_date for p in all_people} - {gold})
    else:
        pool = sorted(set(ATTRIBUTE_POOLS[attr]) - {gold})
    return rng.sample(pool, 3)


def topic_people(train: list[Person], topic: str, seed: int) -> tuple[list[Person], list[Person]]:
    """(the people SFT asks about, the people SynthQA is about): both every train person ("overlap"), or two
    disjoint halves of them ("disjoint": SynthQA then teaches no fact that SFT uses; the evaluation asks about
    held-out people in both settings)."""
    if topic == "overlap":
        return train, train
    idx = list(range(len(train)))
    random.Random(seed + 3).shuffle(idx)
    half = len(train) // 2
    return [train[i] for i in sorted(idx[:half])], [train[i] for i in sorted(idx[half:])]


def benchmark_items(held: list[Person], per_person: int, seed: int, all_people: list[Person]) -> list[dict]:
    """4-option multiple-choice items; distractors are other values of the same attribute."""
    rng = random.Random(seed + 2)
    rows = []
    for person in held:
        for attr in rng.sample(list(ATTRIBUTES), per_person):
            gold = getattr(person, attr)
            options = [gold, *_distractors(attr, gold, rng, all_people)]
            rng.shuffle(options)
            question = f"What is the {ATTRIBUTE_LABELS[attr]} of {person.name}?"
            rows.append({
                "person": person.name, "attribute": attr, "question": question,
                "options": options, "answer": options.index(gold),
                "neutral_options": [NEUTRAL_SENTENCES[attr].format(name=person.name, v=o) for o in options],
            })
    return rows


def instruction_rows(people: list[Person], n: int, levels: list[int], split: str, seed: int,
                     question_share: float, allowed: list[str] | None = None) -> list[dict]:
    """`n` constrained instructions, levels cycling through `levels`, phrasings from `split`, constraints drawn from
    `allowed` (None: every type)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        level = levels[i % len(levels)]
        person = people[rng.randrange(len(people))]
        names = sample_constraints(rng, level, allowed) if level else []
        rows.append(make_instruction(person, names, rng, split, question_share).to_row())
    return rows


def make_qa_generator(cfg: DataConfig) -> QAGenerator:
    """The configured QA generator: rule-based, or a transformers causal LM (`qa_model_path`: a local directory, or
    "smollm2" for the shipped SmolLM2-135M-Instruct). With "both", the model-based one (the rule-based one is
    always at hand)."""
    if cfg.qa_generator == "rule_based":
        return RuleBasedQAGenerator()
    path = cfg.qa_model_path
    if path == "smollm2":
        path = ensure_checkpoint()
    tok, model = load_tokenizer(path), load_model(path).eval()
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return ModelQAGenerator(model, tok)


def synthqa_rows(cfg: DataConfig, train: list[Person], documents: dict[str, list[str]]) -> tuple[list[dict], dict]:
    """SynthQA about the train people from the configured generator(s) — with "both", the rule-based pairs for every
    train person plus the model-based pairs for the first `model_qa_people` — and a summary (generator names, rows
    per generator, the model-based generator's parse/keep statistics)."""
    rows, info = [], {"generators": []}
    if cfg.qa_generator in ("rule_based", "both"):
        rows += RuleBasedQAGenerator().generate(train)
        info["generators"].append("rule_based")
    if cfg.qa_generator in ("model_based", "both"):
        generator = make_qa_generator(cfg if cfg.qa_generator == "model_based"
                                      else DataConfig(**{**cfg.__dict__, "qa_generator": "model_based"}))
        people = train[: cfg.model_qa_people] if cfg.model_qa_people else train
        rows += generator.generate(people, documents)
        info["generators"].append(generator.name)
        info["model_based"] = {"people": len(people), **getattr(generator, "stats", {})}
    info["rows"] = {g: sum(r["generator"] == g for r in rows) for g in info["generators"]}
    return rows, info


def hub_rows(spec: str, n: int | None = None) -> list[dict]:
    """The first `n` rows (all with None) of a dataset's train split: a local folder of JSON/JSONL files (absolute, or
    relative to the repository root: what the tests use), else a Hugging Face hub id, "name" or "name:config",
    streamed (needs the network: the `paper` profile)."""
    local = Path(spec) if Path(spec).is_absolute() else repo_root() / spec
    if local.is_dir():
        rows = load_dataset(str(local), split="train")
        return [rows[i] for i in range(min(n, len(rows)) if n else len(rows))]
    name, _, config = spec.partition(":")
    return list(itertools.islice(load_dataset(name, config or None, split="train", streaming=True), n))


def sft_rows(cfg: DataConfig) -> tuple[list[dict], list[dict]]:
    """Instruction-response rows from AlpacaEval (805 instructions with reference outputs, shipped) or an Alpaca-style
    dataset (`sft_hub`: instruction, optional input, output) as (SFT rows, held-out rows), shuffled by the seed;
    each row {"prompt", "response", "source"}."""
    if cfg.sft_source == "alpacaeval":
        rows = [{"prompt": r["instruction"], "response": r["output"], "source": r["dataset"]} for r in load_alpaca()]
    else:
        rows = [{"prompt": r["instruction"] + (f"\n\n{r['input']}" if r.get("input") else ""), "response": r["output"],
                 "source": cfg.sft_hub} for r in hub_rows(cfg.sft_hub)]
    if len(rows) <= cfg.sft_heldout:
        raise ValueError(f"{cfg.sft_source} has {len(rows)} rows, not more than sft_heldout={cfg.sft_heldout}; "
                         "lower sft_heldout")
    random.Random(cfg.seed + 14).shuffle(rows)
    return rows[cfg.sft_heldout:], rows[:cfg.sft_heldout]


def build_world(cfg: DataConfig, custom_nonsynth: str | Path | None = None) -> tuple[dict[str, list[dict]], dict]:
    """All splits as lists of rows, plus a summary (people counts, generator name, build seconds)."""
    t0 = time.perf_counter()
    people = generate_people(cfg.n_people, cfg.seed)
    train, held = split_people(people, cfg.heldout_fraction, cfg.seed)
    nonsynth = biographies(people, cfg.bios_per_person, cfg.seed + 10)
    if custom_nonsynth:
        nonsynth += [{"person": r.get("person", ""), "text": r["text"]} for r in load_jsonl(custom_nonsynth)]
    if cfg.hub_nonsynth:
        nonsynth += [{"person": "", "text": r["text"]} for r in hub_rows(cfg.hub_nonsynth, cfg.hub_nonsynth_docs)]
    documents: dict[str, list[str]] = {}
    for row in nonsynth:
        documents.setdefault(row["person"], []).append(row["text"])
    sft_people, qa_people = topic_people(train, cfg.synthqa_topic, cfg.seed)
    allowed = list(cfg.constraint_types) if cfg.constraint_types else None
    synthqa, qa_info = synthqa_rows(cfg, qa_people, documents)
    levels = list(cfg.eval_levels)
    if cfg.sft_source != "world":
        sft, sft_heldout = sft_rows(cfg)
    else:
        sft, sft_heldout = instruction_rows(sft_people, cfg.sft_prompts, list(cfg.sft_levels), "train",
                                            cfg.seed + 12, cfg.question_share, allowed), None
    splits = {
        "nonsynth": nonsynth,
        "nonsynth_heldout": biographies(people, cfg.heldout_bios_per_person, cfg.seed + 11),
        "synthqa": synthqa,
        "synthqa_heldout": RuleBasedQAGenerator().generate(held),
        "sft": sft,
        "ifeval": instruction_rows(held, cfg.eval_prompts_per_level * len(levels), levels, "eval", cfg.seed + 13,
                                   cfg.question_share, allowed),
        "benchmark": benchmark_items(held, cfg.benchmark_attributes_per_person, cfg.seed, people),
    }
    if sft_heldout is not None:
        splits["sft_heldout"] = sft_heldout
    if cfg.pretrain_instructions:
        splits["pretrain_instructions"] = instruction_rows(sft_people, cfg.pretrain_instructions, list(cfg.sft_levels),
                                                           "train", cfg.seed + 15, cfg.question_share, allowed)
    if cfg.ood_prompts_per_level:
        ood_levels = list(cfg.ood_levels)
        splits["ifeval_ood"] = ood_rows(held, cfg.ood_prompts_per_level * len(ood_levels), ood_levels, cfg.seed + 17,
                                        cfg.question_share, allowed)
    if cfg.diverse_qa:
        splits["synthqa_diverse"] = DiverseQAGenerator(cfg.seed + 16).generate(qa_people)
    summary = {"people": len(people), "train_people": len(train), "heldout_people": len(held),
               "people_rows": [p.to_dict() | {"heldout": p in held} for p in people],
               "qa_generator": "+".join(qa_info["generators"]), "qa": qa_info,
               "build_seconds": round(time.perf_counter() - t0, 2)}
    return splits, summary


def _split_text(row: dict) -> str:
    if "text" in row:
        return row["text"]
    if "prompt" in row:
        return f"{row['prompt']} {row['response']}"
    return f"{row['question']} {' '.join(row['options'])}"


def world_key(cfg: DataConfig, custom_nonsynth: str | Path | None = None) -> str:
    """The hash that names a world's directory and keys every stage trained on it: the config, the content of a
    custom NonSynth file when there is one, and the ood suite's curated files when the world holds that suite."""
    extra = [file_sha256(Path(custom_nonsynth))] if custom_nonsynth else []
    if cfg.ood_prompts_per_level:
        extra += [file_sha256(CONSTRAINTS_FILE), file_sha256(TASKS_FILE)]
    return config_hash(cfg, *extra)


def save_world(splits: dict[str, list[dict]], summary: dict, cfg: DataConfig, out_dir: Path,
               key: str | None = None) -> dict:
    """Save every split with `datasets` (Arrow) plus manifest.json (with the size and sha256 of every data file) and
    manifest.sha256; returns the manifest. `key`: the world's key (default: the config's hash)."""
    manifest = {
        "config": {**cfg.__dict__, "sft_levels": list(cfg.sft_levels)}, "config_hash": key or config_hash(cfg),
        "seed": cfg.seed, "qa_generator": summary["qa_generator"], "qa": summary["qa"],
        "people": {k: summary[k] for k in ("people", "train_people", "heldout_people")},
        "splits": {},
    }
    for name, rows in splits.items():
        chars = sum(len(_split_text(r)) for r in rows)
        manifest["splits"][name] = {"rows": len(rows), "chars": chars, "tokens_estimate": chars // 4,
                                    "sha256": rows_sha256(rows)}

    datasets.disable_progress_bars()

    def write(tmp: Path):
        DatasetDict({k: Dataset.from_list(v) for k, v in splits.items()}).save_to_disk(str(tmp / "datasets"))
        Dataset.from_list(summary["people_rows"]).to_json(str(tmp / "people.jsonl"))
        manifest["files"] = file_records(tmp / "datasets")
        text = json.dumps(manifest, indent=2, sort_keys=True)
        (tmp / "manifest.json").write_text(text)
        (tmp / "manifest.sha256").write_text(hashlib.sha256(text.encode()).hexdigest() + "\n")

    write_atomic_dir(out_dir, write)
    return manifest


_VERIFIED: set[tuple] = set()


def verify_world(out_dir: Path) -> dict:
    """The manifest of the world in `out_dir`, after checking that nothing was changed since it was written: the
    manifest against manifest.sha256, its key against the directory's name, every data file against its recorded size
    and sha256. Anything else raises `StaleArtifactError` naming the path and the fix."""
    out_dir = Path(out_dir)
    path = out_dir / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no world data at {out_dir}; run notebook 01_data_synthesis for this profile first")
    text = path.read_text()
    manifest = json.loads(text)
    key = (str(out_dir), path.stat().st_mtime_ns)
    if key in _VERIFIED:
        return manifest
    sidecar = out_dir / "manifest.sha256"
    if not sidecar.exists() or "files" not in manifest:
        raise stale(out_dir, "it was written by an older version of synthrepro (no file records)")
    if sidecar.read_text().strip() != hashlib.sha256(text.encode()).hexdigest():
        raise stale(out_dir, f"{path} was edited after it was written (its sha256 differs from manifest.sha256)")
    if manifest["config_hash"] != out_dir.name:
        raise stale(out_dir, f"its manifest belongs to world {manifest['config_hash']}, not to this key ({out_dir.name})")
    check_files(out_dir / "datasets", manifest["files"], out_dir)
    _VERIFIED.add(key)
    return manifest


def load_world(out_dir: Path) -> tuple[DatasetDict, dict]:
    """(DatasetDict of all splits, manifest) from a directory written by `save_world`, verified (`verify_world`)."""
    out_dir = Path(out_dir)
    manifest = verify_world(out_dir)
    ds = load_from_disk(str(out_dir / "datasets"))
    for name, split in manifest["splits"].items():
        if name not in ds or ds[name].num_rows != split["rows"]:
            raise stale(out_dir, f"split {name!r} has {ds[name].num_rows if name in ds else 'no'} rows, its manifest "
                                 f"{split['rows']}")
    return ds, manifest


def ensure_world(cfg: DataConfig, run_dir: Path, custom_nonsynth: str | None = None) -> tuple[Path, dict, bool]:
    """Build and save the world unless the same config is already on disk. Returns (dir, manifest, reused).

    The directory is runs/<profile>/data/<hash of config and custom file> (`world_key`), and so is the manifest's
    `config_hash` that keys every stage trained on it: a changed config or custom file never overwrites, mixes with
    or reuses another's data or stages. A reused world is verified first.
    """
    if custom_nonsynth:
        load_jsonl(custom_nonsynth)  # a bad file stops here, before anything is written
    key = world_key(cfg, custom_nonsynth)
    out = Path(run_dir) / "data" / key
    with locked(out, "writing the world"):
        if (out / "manifest.json").exists():
            return out, verify_world(out), True
        splits, summary = build_world(cfg, custom_nonsynth)
        manifest = save_world(splits, summary, cfg, out, key)
    manifest["build_seconds"] = summary["build_seconds"]
    return out, manifest, False
