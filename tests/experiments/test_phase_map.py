"""The phase map: its pure parts (jobs, paired cells, the claim-4 rule, packing) on constructed outcomes, its checks,
and notebook 06 end to end at the smoke size (papermill; the recorded JSON checked)."""
import json
import math

import papermill as pm
import pytest

from synthrepro.config import CLAIM4_CELL_RULE, PhaseConfig, derive, get_profile, repo_root, resolve_notebook_parameters
from synthrepro.experiments import phase_map as pmap
from synthrepro.reporting import phase_report, plots


def _row(label, seed, ratio, outcomes):
    arm = label.split("@")[0]
    return {"arm": arm, "label": label, "seed": seed, "ratio": ratio, "synthqa_tokens": 1000 * ratio,
            "outcomes": {str(s): {"hard": h, "leak": [0] * len(h), "replies": []} for s, h in outcomes.items()}}


def _rows(drop: int):
    """Reference passes prompts 0..7 of 10 at both steps; the synthetic arm passes `drop` fewer at step 10."""
    rows = []
    for seed in range(3):
        ref = [1] * 8 + [0] * 2
        rows.append(_row("reference", seed, 0.0, {0: ref, 10: ref}))
        worse = [0] * drop + ref[drop:]
        rows.append(_row("synthetic@0.25", seed, 0.25, {0: ref, 10: worse}))
    return rows


def test_phase_jobs_cover_every_seed_dose_and_the_control():
    cfg = get_profile("phase")
    jobs = pmap.phase_jobs(cfg)
    assert len(jobs) == len(cfg.seeds) * (1 + len(cfg.phase.doses) + 1)
    assert {(a, r) for a, _, r in jobs} >= {("reference", 0.0), ("diverse", cfg.cpt.synth_ratio)}
    assert len(cfg.seeds) >= 5 and cfg.data.eval_prompts_per_level * len(cfg.data.eval_levels) >= 600


def test_cells_are_paired_and_the_rule_picks_a_passing_negative_cell():
    table = pmap.cell_table(_rows(drop=4), (0, 10), loss_tokens_per_step=10.0)
    at0, at10 = sorted(table, key=lambda c: c["step"])
    assert at0["delta"] == 0 and at0["verdict"] == "within noise"
    assert at10["delta"] == pytest.approx(-0.4) and at10["verdict"] == "holds"
    assert at10["mde"] == pytest.approx(at10["ci95"][1] - at10["delta"]) and at10["df"] > 0
    assert at10["synthqa_per_sft"] == pytest.approx(250 / 100) and math.isinf(at0["synthqa_per_sft"])
    cell = pmap.choose_claim4_cell(table, 0.25, 10)
    assert (cell["ratio"], cell["step"]) == (0.25, 10) and cell["rule"] == CLAIM4_CELL_RULE


def test_without_a_passing_cell_the_rule_falls_back_to_the_headline_cell():
    table = pmap.cell_table(_rows(drop=0), (0, 10), loss_tokens_per_step=10.0)
    cell = pmap.choose_claim4_cell(table, 0.25, 10)
    assert (cell["ratio"], cell["step"]) == (0.25, 10) and "no cell" in cell["why"]


def test_claim4_compares_each_repair_with_the_synthetic_arm_and_the_reference():
    rows = _rows(drop=4)
    repaired = [_row("unlearned:bounded@0.25", seed, 0.25, {0: [1] * 8 + [0] * 2, 10: [1] * 8 + [0] * 2})
                for seed in range(3)]
    comps = pmap.claim4_comparisons(rows, repaired, {"ratio": 0.25, "step": 10}, first_seed=0)
    names = [(c["comparison"], c["step"]) for c in comps]
    assert names == [("unlearned:bounded@0.25 − synthetic@0.25", 10), ("unlearned:bounded@0.25 − reference", 10),
                     ("unlearned:bounded@0.25 − synthetic@0.25", 0)]
    assert comps[0]["delta_hsr"] == pytest.approx(0.4) and comps[1]["delta_hsr"] == pytest.approx(0.0)


def test_the_headline_world_is_the_phase_maps_world():
    """`make repro` (default) and `make phase-map` (phase) train the same stages on their shared seeds."""
    default, phase = get_profile("default"), get_profile("phase")
    for part in ("data", "model", "pretrain", "cpt", "sft", "eval"):
        assert getattr(default, part) == getattr(phase, part), part
    assert set(default.seeds) <= set(phase.seeds) and len(default.seeds) >= 3


def test_outcomes_pack_to_strings_and_back():
    rows = _rows(drop=2)
    packed = pmap.pack_outcomes(rows)
    assert packed[1]["outcomes"]["10"]["hard"] == "0011111100"
    assert json.loads(json.dumps(pmap.unpack_outcomes(packed))) == rows


def test_check_phase_names_the_fix():
    cfg = get_profile("phase")
    with pytest.raises(ValueError, match="sft.checkpoint_steps"):
        pmap.check_phase(derive(cfg, "x", {"phase": {"steps": [0, 7]}}))
    with pytest.raises(ValueError, match="phase.doses"):
        pmap.check_phase(derive(cfg, "x", {"phase": {"doses": [0.5]}}))
    with pytest.raises(ValueError, match="reference arm is dose 0"):
        PhaseConfig(doses=(0.0, 0.5))
    with pytest.raises(ValueError, match="DOSES"):
        resolve_notebook_parameters("06_phase_map", {"PROFILE": "phase", "DOSES": [1.5]})
    with pytest.raises(ValueError, match="SYNTHQA_TOPIC"):
        resolve_notebook_parameters("06_phase_map", {"PROFILE": "phase", "SYNTHQA_TOPIC": "same"})


def test_06_phase_map_notebook(tmp_path):
    nb = repo_root() / "notebooks" / "06_phase_map.ipynb"
    pm.execute_notebook(str(nb), str(tmp_path / "06.ipynb"), parameters={"PROFILE": "phase_smoke"},
                        cwd=str(nb.parent), progress_bar=False, kernel_name="python3")
    cfg = get_profile("phase_smoke")
    res = json.loads((cfg.run_dir() / "06_phase_map.json").read_text())
    assert res["claim4_rule"] == CLAIM4_CELL_RULE
    labels = {c["arm"] for c in res["table"]}
    assert labels == {"synthetic@0.25", "diverse@0.25"}
    for c in res["table"]:
        assert c["n_seeds"] == len(cfg.seeds) and (c["df"] == 0 or c["mde"] == pytest.approx(c["ci95"][1] - c["delta"]))
    assert {c["step"] for c in res["table"]} == set(cfg.phase.steps)
    assert res["claim4"]["cell"]["rule"] == CLAIM4_CELL_RULE
    assert any(c["b"].startswith("unlearned:bounded") for c in res["claim4"]["comparisons"])
    data = json.loads((repo_root() / res["json"]).read_text())
    assert all(len(o["hard"]) == res["n_prompts"] for r in data["rows"] for o in r["outcomes"].values())
    # notebook 05 of the smoke world track finds this map and redraws its five figures from the JSON alone
    assert phase_report.recorded_map("smoke") == repo_root() / res["json"]
    drawn = plots.phase_figures(data["table"], tmp_path / "redrawn")
    assert sorted(drawn) == ["delta_vs_ratio", "heatmap", "hsr_curves", "leak_curves", "leak_heatmap"]
    assert all(p.exists() for p in drawn.values())
    assert "## Phase map" in (cfg.report_path()).read_text()
    # the ood suite beside the in-distribution one: its cells, grouped SEs, claim 4 on it, all from the JSON again
    n_ood = len(data["suite_groups"]["ood"])
    assert {c["step"] for c in res["table_ood"]} == set(cfg.phase.steps) and res["table_ood"][0]["n_prompts"] == n_ood
    assert all("cluster-robust" in c["method"] for c in res["table_ood"])
    assert res["claim4"]["comparisons_ood"] and res["instrument"]["primary"] == "in_distribution"  # no registered entry
    again = [{k: v for k, v in c.items() if k != "verdict_before"} for c in pmap.recompute(data)["table_ood"]]
    assert json.dumps(again, default=float, sort_keys=True) == json.dumps(data["table_ood"], default=float, sort_keys=True)
    assert "ood suite" in (cfg.report_path()).read_text()


def test_ifeval_outcomes_are_shaped_like_the_world_suites():
    """On the pretrained witness the map pairs IFEval outcomes: hard = every instruction followed (strict), soft = the
    share followed, leak = a Question:/Answer: line, level = the first instruction's group."""
    from synthrepro.evaluation.suites import IFEvalSuite
    rows = [{"key": 1, "prompt": "a", "instruction_id_list": ["punctuation:no_comma", "change_case:english_capital"],
             "kwargs": [{}, {}]},
            {"key": 2, "prompt": "b", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}]
    out = IFEvalSuite(rows).outcomes(["NO COMMAS AND CAPITALS.", "Question: yes, a comma?\nAnswer: yes."])
    assert out == {"hard": [1, 0], "soft": [1.0, 0.0], "leak": [0, 1], "level": ["punctuation", "punctuation"],
                   "leak_any": [0, 1]}


def test_leaked_replies_keep_the_prompt_and_the_checkers_verdict_and_read_from_the_first_question():
    """One helper keeps leaked replies for every evaluation (notebooks 03, 04, 06, the 541-prompt benchmark); the
    tables show one per group first and the reply from just before its first `Question:` line."""
    from synthrepro.evaluation.following import per_prompt_outcomes
    from synthrepro.evaluation.suites import leak_excerpt, leaked_replies, pick_leaked
    per = [{"strict": [True, False], "leak": False}, {"strict": [True, True], "leak": True}, {"strict": [], "leak": True}]
    outcomes = per_prompt_outcomes(per)
    assert outcomes == {"hard": [0, 1, 1], "soft": [0.5, 1.0, 1.0], "leak": [0, 1, 1]}
    kept = leaked_replies(["p0", "p1", "p2"], ["r0", "r1", "r2"], outcomes, kept=1)
    assert kept == [{"prompt_index": 1, "prompt": "p1", "reply": "r1", "hard": 1, "soft": 1.0}]
    assert leak_excerpt("x" * 100 + "Question: a?", width=20) == "…" + "x" * 20
    assert leak_excerpt("Answer: y", width=5) == "Answe"
    groups = [({"arm": "a"}, kept * 2), ({"arm": "b"}, kept)]
    assert [e["arm"] for e in pick_leaked(groups, n=3)] == ["a", "b", "a"]
    from synthrepro.experiments.unlearning_runs import sweep_variants
    from synthrepro.config import get_profile
    ucfg = get_profile("smoke").unlearn
    assert list(sweep_variants(ucfg, [0.5], ablations=False)) == ["bounded γ-param=0.5"]
    assert len(sweep_variants(ucfg, [0.5])) == 3


def test_leaked_replies_are_kept_with_the_checkers_verdict_and_reported():
    rows = [_row("synthetic@0.5", s, 0.5, {0: [1, 0], 8: [1, 1]}) for s in (0, 1)]
    for r in rows:
        r["outcomes"]["0"]["leaked"] = [{"prompt_index": 1, "prompt": "Write | a poem",
                                         "reply": "Question: x\nAnswer: y", "hard": 1, "soft": 1.0}] * 3
    got = phase_report.leaked_examples(rows, 0, n=3)
    assert [(e["seed"], e["step"]) for e in got] == [(0, 0), (1, 0), (0, 0)]  # one per arm and seed first
    assert phase_report.leaked_examples(rows, 8) == []
    packed = pmap.pack_outcomes(rows)
    assert packed[0]["outcomes"]["0"]["leaked"][0]["hard"] == 1 and "leaked" not in packed[0]["outcomes"]["8"]
    rec = json.loads((repo_root() / "figures" / "phase" / "phase_map.json").read_text())
    rec = {**rec, "leaked": got, "rows": []}
    text = phase_report.render_phase_section(rec, {k: f"{k}.png" for k in ("heatmap", "delta_vs_ratio")})
    assert "Write \\| a poem" in text and "Question: x Answer: y" in text


def test_the_pretrained_witness_profile_fits_its_design():
    """The witness: SmolLM2, one dose, a short SFT whose last step keeps SynthQA ≥ 5× the SFT's loss tokens, 200
    fixed IFEval prompts, 3 seeds; its design record says how it was chosen; figures and notebook are committed."""
    cfg = get_profile("pretrained_phase")
    pmap.check_phase(cfg)
    assert cfg.base_model and cfg.eval.suite == "ifeval" and cfg.eval.ifeval_prompts >= 200 and len(cfg.seeds) >= 3
    assert 0 in cfg.phase.steps and max(cfg.phase.steps) == cfg.sft.train.max_steps
    synthqa = cfg.cpt.train.tokens * cfg.cpt.synth_ratio
    assert synthqa >= 5 * cfg.sft.train.max_steps * cfg.sft.train.batch_size * 300  # ≤ 300 loss tokens per row
    design = phase_report.design_record(cfg, {"source": cfg.base_model, "parameters": 1}, max(cfg.phase.steps))
    assert design["chosen_by"] == phase_report.WITNESS_CHOSEN_BY and "200 prompts" in design["prompts"]
    assert phase_report.section_name(cfg.name) == "pretrained_phase" and phase_report.section_name("phase") == "phase"
    assert cfg.figures_dir() == repo_root() / "figures" / "pretrained_phase"
    assert cfg.notebooks_dir() == cfg.figures_dir() / "notebooks"
    assert get_profile("default").notebooks_dir() == get_profile("phase").notebooks_dir() == repo_root() / "notebooks"


def test_the_witness_dose_is_what_the_rule_picks_from_the_committed_pilots():
    """The pilots' records (figures/pretrained_phase/pilots/) and the rule written before they ran choose the
    witness's CPT learning rate; the separator pilot never chooses; the rule's threshold is the one the design states."""
    pilots = pmap.committed_pilots()
    assert len(pilots) == 4 and pmap.PILOTS_DIR.as_posix() == "figures/pretrained_phase/pilots"
    cfg = get_profile("pretrained_phase")
    assert pmap.pick_dose(pilots) == cfg.cpt.train.lr
    assert cfg.cpt.separator == pmap.DOSE_PILOT["separator"] and cfg.cpt.train.max_steps == pmap.DOSE_PILOT["steps"]
    assert cfg.cpt.synth_ratio == pmap.DOSE_PILOT["ratio"] and cfg.cpt.train.batch_size == pmap.DOSE_PILOT["batch"]
    assert f"≥ {pmap.DOSE_MIN_LEAKS} of the {pmap.DOSE_PILOT['prompts']}" in phase_report.WITNESS_CHOSEN_BY
    assert pmap.pick_dose([p for p in pilots if p["args"]["separator"] != "<|endoftext|>"]) is None
    rows = pmap.pilot_rows(pilots)
    assert [r["CPT lr"] for r in rows] == [5e-5, 1e-4, 2e-4, 1e-4] and rows[-1]["separator"] == "<|im_end|>"


def test_the_separator_arm_changes_only_the_separator_and_the_batching():
    """pretrained_phase_imend is the witness with <|im_end|> between documents: same world, dose, SFT, prompts and
    seeds; generation by a token budget (identical replies on these prompts, benchmarks/generation_batching.py); no
    claim 4."""
    import dataclasses
    witness, imend = get_profile("pretrained_phase"), get_profile("pretrained_phase_imend")
    assert imend.cpt.separator == "<|im_end|>" and witness.cpt.separator == "<|endoftext|>"
    assert imend.eval.batch_tokens and witness.eval.batch_tokens is None and not imend.phase.claim4
    same = dataclasses.replace(imend, name=witness.name, cpt=witness.cpt, eval=witness.eval, phase=witness.phase)
    assert same == witness


def test_sft_tokens_count_what_training_sees():
    """Each SFT example is cut at the block size, as `sft_example` cuts it for training."""
    from synthrepro.models.tokenizer import load_tokenizer
    tok = load_tokenizer(repo_root() / "tests" / "fixtures" / "tiny_hub" / "model")
    ds = {"sft": [{"prompt": "word " * 20, "response": "reply " * 200}] * 3}
    loss, total = pmap.sft_tokens(tok, ds, 2, 4)
    cut_loss, cut_total = pmap.sft_tokens(tok, ds, 2, 4, block_size=64)
    assert cut_total == 2 * 4 * 64 and cut_loss < cut_total < total and loss < total


def test_claim4_jobs_follow_the_profile():
    """`bounded` on every seed (or the first `phase.claim4_seeds`), other methods on the first seed, dilution on the
    first `dilution_seeds` (0: none)."""
    cfg = get_profile("phase")
    kinds = [(k, u.method if u else None, s) for k, u, s in pmap.claim4_jobs(cfg)]
    assert [s for k, m, s in kinds if m == "bounded"] == list(cfg.seeds)
    assert {s for k, m, s in kinds if m in ("ga", "npo")} == {cfg.seeds[0]} and ("dilution", None, 0) in kinds
    few = derive(cfg, "few", {"phase": dict(claim4_seeds=2), "dilution_seeds": 0})
    assert [s for k, u, s in pmap.claim4_jobs(few) if u and u.method == "bounded"] == list(cfg.seeds[:2])
    assert not [k for k, _, _ in pmap.claim4_jobs(few) if k == "dilution"]
    with pytest.raises(ValueError, match="claim4_seeds"):
        PhaseConfig(claim4_seeds=-1)
    assert [s for k, u, s in pmap.claim4_jobs(get_profile("pretrained_phase")) if u.method == "bounded"] == [0, 1, 2]


def test_the_report_names_where_notebook_06_is_published():
    for name in ("phase", "pretrained_phase"):
        assert repo_root() / phase_report.published_notebook(name) == get_profile(name).notebooks_dir() / \
            "06_phase_map.ipynb"
    assert phase_report.published_notebook("phase_smoke") == "notebooks/06_phase_map.ipynb"


def test_the_witness_is_the_pretrained_track_with_fixed_batches_and_a_map():
    """`make pretrained-phase` and `make repro-pretrained` train the same stages (SFT snapshot at step 2 included), so
    either reuses the other's; the witness only generates in fixed batches (as its committed run did) and has a map."""
    import dataclasses
    track, witness = get_profile("pretrained"), get_profile("pretrained_phase")
    assert track.sft.checkpoint_steps == witness.sft.checkpoint_steps == (2,)
    assert witness.eval.batch_tokens is None and track.eval.batch_tokens == 16384
    assert dataclasses.replace(witness, name=track.name, eval=track.eval, phase=track.phase) == track
