import json
from pathlib import Path

import pytest

from synthrepro.config import DataConfig, get_profile, resolve_notebook_parameters
from synthrepro.data import build_world, ensure_world, load_world, save_world
from synthrepro.records.files import load_jsonl, write_atomic_dir
from synthrepro.data.qa import ModelQAGenerator, RuleBasedQAGenerator, is_qa_formatted, parse_qa_pairs


def test_heldout_facts_never_in_qa_training(smoke_world):
    splits, summary = smoke_world
    held = {p["name"]: p for p in summary["people_rows"] if p["heldout"]}
    assert held and summary["train_people"] > 0
    for row in splits["synthqa"]:
        assert row["person"] not in held
        assert not any(name in row["text"] for name in held)
    for row in splits["benchmark"] + splits["ifeval"]:
        assert row["person"] in held
    assert all(row["person"] not in held for row in splits["sft"])


def test_synthqa_is_uniform(smoke_world):
    splits, _ = smoke_world
    assert all(is_qa_formatted(r["text"]) for r in splits["synthqa"])
    assert not any(is_qa_formatted(r["text"]) for r in splits["nonsynth"])


def test_benchmark_items_well_formed(smoke_world):
    for row in smoke_world[0]["benchmark"]:
        assert len(row["options"]) == 4 and len(set(row["options"])) == 4
        assert 0 <= row["answer"] < 4
        assert row["options"][row["answer"]] in row["neutral_options"][row["answer"]]


def test_same_seed_gives_byte_identical_data(tmp_path, smoke_cfg):
    dirs = []
    for i in range(2):
        splits, summary = build_world(smoke_cfg.data)
        save_world(splits, summary, smoke_cfg.data, tmp_path / f"w{i}")
        dirs.append(tmp_path / f"w{i}")
    files = sorted(p.relative_to(dirs[0]) for p in dirs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(dirs[1]) for p in dirs[1].rglob("*") if p.is_file())
    for f in files:
        assert (dirs[0] / f).read_bytes() == (dirs[1] / f).read_bytes(), f


def test_other_seed_gives_other_hashes(smoke_cfg):
    import dataclasses
    from synthrepro.records.files import rows_sha256
    a, _ = build_world(smoke_cfg.data)
    b, _ = build_world(dataclasses.replace(smoke_cfg.data, seed=1))
    assert rows_sha256(a["nonsynth"]) != rows_sha256(b["nonsynth"])


def test_ensure_world_reuses_and_keys_by_config(tmp_path, smoke_cfg):
    import dataclasses
    d1, m1, reused1 = ensure_world(smoke_cfg.data, tmp_path)
    d2, m2, reused2 = ensure_world(smoke_cfg.data, tmp_path)
    d3, _, reused3 = ensure_world(dataclasses.replace(smoke_cfg.data, seed=5), tmp_path)
    assert (reused1, reused2, reused3) == (False, True, False)
    assert d1 == d2 != d3
    ds, manifest = load_world(d1)
    assert manifest["splits"]["synthqa"]["rows"] == len(ds["synthqa"]) > 0
    assert set(manifest["splits"]["nonsynth"]) >= {"rows", "tokens_estimate", "sha256"}


def test_bad_config_values_are_refused():
    with pytest.raises(ValueError, match="n_people"):
        DataConfig(n_people=0)
    with pytest.raises(ValueError, match="heldout_fraction"):
        DataConfig(heldout_fraction=-0.1)
    with pytest.raises(ValueError, match="question_share"):
        DataConfig(question_share=-0.5)
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        get_profile("nope")


def test_notebook_parameters_are_validated():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['N_PEEPLE'\]"):
        resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "N_PEEPLE": 3})
    with pytest.raises(ValueError, match="N_PEOPLE"):
        resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "N_PEOPLE": 0})
    with pytest.raises(ValueError, match="EMBEDDER"):
        resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "EMBEDDER": "bert"})
    cfg = resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "N_PEOPLE": 40, "SEED": None})
    assert cfg.data.n_people == 40 and cfg.data.seed == 0


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "custom.jsonl"
    path.write_text('{"text": "fine"}\n{"text": broken}\n')
    with pytest.raises(ValueError, match=r"line 2: not valid JSON"):
        load_jsonl(path)
    path.write_text('{"text": "fine"}\n["not", "an", "object"]\n')
    with pytest.raises(ValueError, match=r"line 2: .*keys \['text'\]"):
        load_jsonl(path)


def test_malformed_custom_data_leaves_nothing_behind(tmp_path, smoke_cfg):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{oops\n')
    with pytest.raises(ValueError, match="line 2"):
        ensure_world(smoke_cfg.data, tmp_path / "run", str(bad))
    assert not list((tmp_path / "run").rglob("manifest.json"))


def test_custom_nonsynth_rows_are_added(tmp_path, smoke_cfg):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "A custom natural sentence."}) + "\n")
    d, manifest, _ = ensure_world(smoke_cfg.data, tmp_path / "run", str(good))
    ds, _ = load_world(d)
    assert "A custom natural sentence." in ds["nonsynth"]["text"]


def test_atomic_write_leaves_no_partial_dir(tmp_path):
    def fails(tmp: Path):
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("crash")
    with pytest.raises(RuntimeError):
        write_atomic_dir(tmp_path / "target", fails)
    assert list(tmp_path.iterdir()) == []


def test_rule_based_generator_one_pair_per_attribute():
    from synthrepro.data.world import generate_people
    rows = RuleBasedQAGenerator().generate(generate_people(3, 0))
    assert len(rows) == 18 and all(is_qa_formatted(r["text"]) for r in rows)


def test_parse_qa_pairs():
    text = "Question: Where was Ann born?\nAnswer: Oslo.\nnoise\nQuestion: broken\nQuestion: Who?\nAnswer: Bob."
    assert parse_qa_pairs(text) == [("Where was Ann born?", "Oslo."), ("Who?", "Bob.")]


def test_model_based_generator_plumbing(tmp_path):
    """A tiny random Llama runs through the generator end to end; a canned model output is parsed."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from synthrepro.models.tokenizer import train_tokenizer
    from synthrepro.data.world import biographies, generate_people

    people = generate_people(2, 0)
    docs = {r["person"]: [r["text"]] for r in biographies(people, 1, 0)}
    tok = train_tokenizer([d[0] for d in docs.values()] * 5 + ["Question: x\nAnswer: y"], 320, tmp_path / "tok")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=512)).eval()
    rows = ModelQAGenerator(model, tok, max_new_tokens=8).generate(people, docs)
    assert isinstance(rows, list)  # a random model writes no well-formed pairs, but nothing breaks

    class Canned:  # a "model" whose output is a known string, to check parsing through the same path
        device = "cpu"

        def eval(self):
            return self

        def generate(self, input_ids, **kw):
            answer = tok("Question: Who is it?\nAnswer: Someone.", return_tensors="pt")["input_ids"]
            return torch.cat([input_ids, answer.expand(len(input_ids), -1)], dim=1)
    rows = ModelQAGenerator(Canned(), tok, grounded_only=False).generate(people[:1], docs)
    assert [(r["question"], r["answer"]) for r in rows] == [("Who is it?", "Someone.")]


def test_model_based_pairs_are_kept_only_when_grounded_in_the_document(monkeypatch):
    """A pair whose answer is not in the biography (a made-up fact) and a repeated pair are dropped, and the
    generator's statistics say how many were parsed and kept."""
    from synthrepro.data import qa as ev
    from synthrepro.data.qa import is_grounded
    from synthrepro.data.world import generate_people
    doc = "Ann Lee was born in Oslo. She works at Nordic Bank."
    assert is_grounded("Oslo.", doc) and is_grounded("nordic bank", doc) and not is_grounded("Paris.", doc)
    assert not is_grounded(" . ", doc)
    text = ("Question: Where was Ann Lee born?\nAnswer: Oslo.\nQuestion: Where was Ann Lee born?\nAnswer: Oslo.\n"
            "Question: What does Ann Lee drive?\nAnswer: A red car.")
    monkeypatch.setattr(ev, "generate", lambda *a, **k: [text])  # the model's output, fixed
    person = generate_people(1, 0)[0]
    gen = ModelQAGenerator(model=None, tokenizer=None)
    rows = gen.generate([person], {person.name: [doc]})
    assert [r["answer"] for r in rows] == ["Oslo."] and rows[0]["generator"] == "model_based"
    assert gen.stats["pairs_parsed"] == 3 and gen.stats["pairs_kept"] == 1 and gen.stats["documents"] == 1


def test_both_generators_and_hub_sft_rows_from_local_folders():
    """qa_generator="both": the rule-based pairs for every train person plus the model's for the first N (here the
    tiny stand-in model of the paper profile, which writes no well-formed pair); SFT rows and extra NonSynth from
    local dataset folders (the hub loader's offline path), with held-out rows."""
    from synthrepro.data import build_world, hub_rows
    tiny = "tests/fixtures/tiny_hub"
    cfg = DataConfig(n_people=20, bios_per_person=1, sft_prompts=5, eval_prompts_per_level=1,
                     qa_generator="both", qa_model_path=f"{tiny}/model", model_qa_people=2, sft_source="hub",
                     sft_hub=f"{tiny}/sft", sft_heldout=5, hub_nonsynth=f"{tiny}/nonsynth", hub_nonsynth_docs=7)
    splits, summary = build_world(cfg)
    info = summary["qa"]
    assert info["generators"] == ["rule_based", "model_based"] and info["model_based"]["people"] == 2
    assert info["rows"]["rule_based"] == summary["train_people"] * 6
    assert len(splits["sft_heldout"]) == 5 and len(splits["sft"]) == len(hub_rows(f"{tiny}/sft")) - 5
    assert {"prompt", "response", "source"} <= set(splits["sft"][0])
    assert sum(r["person"] == "" for r in splits["nonsynth"]) == 7
    with pytest.raises(ValueError, match="sft_hub"):
        DataConfig(sft_source="hub")


def test_profile_parameters_for_the_pretrained_track():
    """IFEVAL_PROMPTS="all" means all 541 prompts (no subset), a number a subset, anything else is refused with the
    fix; list defaults (sweep ratios, methods) come from the profile unless given."""
    cfg = resolve_notebook_parameters("03_overfitting_analysis", {"PROFILE": "pretrained", "IFEVAL_PROMPTS": "all"})
    assert cfg.eval.ifeval_prompts is None and cfg.eval.suite == "ifeval"
    assert resolve_notebook_parameters("03_overfitting_analysis",
                                       {"PROFILE": "pretrained", "IFEVAL_PROMPTS": 50}).eval.ifeval_prompts == 50
    with pytest.raises(ValueError, match="IFEVAL_PROMPTS.*541"):
        resolve_notebook_parameters("03_overfitting_analysis", {"PROFILE": "pretrained", "IFEVAL_PROMPTS": 0})
    assert resolve_notebook_parameters("02_pretrain_cpt_sft", {"PROFILE": "pretrained"}).sweep_ratios == ()
    assert resolve_notebook_parameters("02_pretrain_cpt_sft",
                                       {"PROFILE": "pretrained", "SWEEP_RATIOS": [0.9]}).sweep_ratios == (0.9,)
    assert resolve_notebook_parameters("04_unlearning", {"PROFILE": "default", "METHODS": ["bounded", "npo"]}
                                       ).methods == ("bounded", "npo")
    with pytest.raises(ValueError, match="METHODS"):
        resolve_notebook_parameters("04_unlearning", {"PROFILE": "default", "METHODS": ["npo"]})
    paper = get_profile("paper")
    assert paper.cpt.synth_ratio == 0.02 and paper.unlearn.budget_fraction == 0.0033
    tiny = get_profile("paper_tiny")  # the same profile at another size: only sizes and sources differ
    assert (tiny.cpt.synth_ratio, tiny.unlearn.budget_fraction, tiny.track) == (0.02, 0.0033, "paper")


def test_phase_world_knobs(smoke_cfg):
    """Pre-training instructions, disjoint SynthQA topic, the diverse-format control, restricted constraints and
    suite levels (the phase map's world)."""
    from synthrepro.data.qa import qa_leak
    cfg = get_profile("phase_smoke").data
    splits, _ = build_world(cfg)
    qa_people = {r["person"] for r in splits["synthqa"]}
    sft_people = {r["person"] for r in splits["sft"]} | {r["person"] for r in splits["pretrain_instructions"]}
    assert qa_people and sft_people and not qa_people & sft_people
    assert len(splits["pretrain_instructions"]) == cfg.pretrain_instructions
    facts = {(r["person"], r["attribute"], r["answer"]) for r in splits["synthqa"]}
    assert {(r["person"], r["attribute"], r["answer"]) for r in splits["synthqa_diverse"]} == facts
    assert not any(qa_leak(r["text"]) for r in splits["synthqa_diverse"])
    assert len({r["text"].split(" ")[0] for r in splits["synthqa_diverse"]}) > 5
    allowed = set(cfg.constraint_types)
    for name in ("sft", "ifeval", "pretrain_instructions"):
        assert all(set(r["constraints"]) <= allowed for r in splits[name])
    assert {r["level"] for r in splits["ifeval"]} == set(cfg.eval_levels)
    assert len(splits["ifeval"]) == cfg.eval_prompts_per_level * len(cfg.eval_levels)
    # the base world (the first runs') is unchanged by these knobs' existence: the same key as before they were added
    from synthrepro.data.build import world_key
    assert world_key(get_profile("base").data) == "25e144a3e727"
