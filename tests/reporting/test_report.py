"""Notebook 05's library: results table and report verdicts follow from the recorded numbers (fixture)."""
import copy
import dataclasses
import json
from pathlib import Path

import pytest

from synthrepro.config import get_profile
from synthrepro.reporting import report

FIXTURE = Path(__file__).parents[1] / "fixtures" / "recorded_smoke"


@pytest.fixture()
def rec():
    return report.load_recorded(FIXTURE)


def _two_seeds(rec):
    """The fixture (one seed) with every model recorded again as seed 1: verdicts need two seeds."""
    for name in ("03_overfitting_analysis", "04_unlearning"):
        rec[name]["evals"] += [{**copy.deepcopy(e), "seed": 1} for e in rec[name]["evals"]]
    return rec


def _set_hsr(rec, arm, value):
    for e in rec["03_overfitting_analysis"]["evals"] + rec["04_unlearning"]["evals"]:
        if e["arm"] == arm:
            e["sft"]["following"]["hsr"] = value


def test_results_json_has_every_arm_with_mean_std_and_seeds(rec):
    res = report.results_json(rec, "smoke")
    arms = res["tracks"]["world"]["arms"]
    assert {"reference", "synthetic", "dilution", "unlearned", "unlearned:ga", "unlearned:npo"} <= set(arms)
    for row in arms.values():
        assert row["seeds"]
        for key in ("benchmark_accuracy", "hsr", "ssr", "leak_rate"):
            assert set(row[key]) == {"mean", "std", "n"} and 0.0 <= row[key]["mean"] <= 1.0
    assert res["profile"] == "smoke" and set(res["commits"]) == set(report.NOTEBOOKS)
    assert all(v in ("holds", "does not hold", "within noise", "one seed", "not recorded")
               for v in res["verdicts"].values())
    json.dumps(res)  # serialisable as it is
    assert "| unlearned |" in report.results_markdown(res)


def test_claim_3_verdict_follows_the_numbers(rec):
    assert report.verdicts(rec)["claim3_hsr"]["verdict"] == "one seed"  # the fixture's one seed: no verdict
    rec = _two_seeds(rec)
    fails = copy.deepcopy(rec)
    _set_hsr(fails, "reference", 0.1)
    _set_hsr(fails, "synthetic", 0.9)   # synthetic follows instructions *better*: the paper's claim 3 fails
    assert report.verdicts(fails)["claim3_hsr"]["verdict"] == "does not hold"
    holds = copy.deepcopy(rec)
    _set_hsr(holds, "reference", 0.9)
    _set_hsr(holds, "synthetic", 0.1)
    assert report.verdicts(holds)["claim3_hsr"]["verdict"] == "holds"
    text = report.render_report(fails, report.results_json(fails, "smoke"), {})
    row = next(line for line in text.splitlines() if line.startswith("| 3 ") and "| HSR |" in line)
    assert row.rstrip(" |").endswith("does not hold")


def test_claim_4_needs_hsr_back_to_reference(rec):
    worse = copy.deepcopy(_two_seeds(rec))
    _set_hsr(worse, "reference", 0.9)
    _set_hsr(worse, "synthetic", 0.1)
    _set_hsr(worse, "unlearned:bounded", 0.1)   # unlearning repaired nothing
    v = report.verdicts(worse)
    assert v["claim4_hsr_vs_reference"]["verdict"] == "does not hold"
    assert v["claim4_summary"]["claim4"] == "does not hold"
    better = copy.deepcopy(worse)
    _set_hsr(better, "unlearned:bounded", 0.9)
    assert report.verdicts(better)["claim4_summary"]["claim4"] == "holds"


def test_missing_notebook_result_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 01_data_synthesis first"):
        report.load_recorded(tmp_path)


def test_unlearning_summary_per_method(rec):
    ul = report.unlearning_summary(rec["04_unlearning"])
    assert set(ul) == set(rec["04_unlearning"]["dynamics"])
    for u in ul.values():
        assert u["tokens_per_step"] > 0 and u["max_overshoot"] == u["max_overshoot"]
        assert u["leak_start"] is None or 0.0 <= u["leak_start"] <= 1.0


def test_report_sections_keep_the_other_tracks(tmp_path):
    """Each track writes its own section of the report; text without markers is the world track's."""
    path = tmp_path / "REPORT.md"
    path.write_text("# Report\nworld numbers\n")
    report.write_section(path, "pretrained", "# Pretrained\nreal-model numbers")
    report.write_section(path, "world", "# Report\nnew world numbers")
    text = path.read_text()
    assert text.index("new world numbers") < text.index("real-model numbers")
    assert "world numbers\n" not in text.replace("new world numbers", "")
    report.write_section(path, "pretrained", "# Pretrained\nsecond run")
    assert "real-model numbers" not in path.read_text() and "new world numbers" in path.read_text()


def test_track_of_a_recording(rec):
    assert report.track_of(rec) == "world"
    other = copy.deepcopy(rec)
    other["01_data_synthesis"]["profile"] = "pretrained"
    assert report.track_of(other) == "pretrained"


def test_the_report_states_the_runs_proportions_beside_the_papers(rec):
    rows = {r["ratio"]: r for r in report.costs.proportions(
        rec["02_pretrain_cpt_sft"]["arms"], rec["02_pretrain_cpt_sft"]["base_info"].get("tokens"),
        rec["04_unlearning"]["costs"])}
    syn = next(a for a in rec["02_pretrain_cpt_sft"]["arms"] if a["arm"] == "synthetic")
    cpt, share, sft = syn["cpt_info"]["tokens"], syn["cpt_info"]["synth_token_share"], syn["sft_info"]["tokens"]
    assert rows["SynthQA / SFT (all SFT tokens: a lower bound)"]["here"] == pytest.approx(cpt * share / sft)
    assert rows["SFT / CPT"]["here"] == pytest.approx(sft / cpt)
    assert rows["unlearning (bounded) / CPT"]["here"] == pytest.approx(0.49268, rel=1e-3)
    assert all(r["paper"] for r in rows.values())
    text = report.render_report(rec, report.results_json(rec, "smoke"), {})
    assert "| proportion | here | paper |" in text and "SFT / CPT" in text


def test_the_pretrained_report_states_how_its_dose_was_chosen():
    """The pretrained track's section carries the dose rule, the committed pilots and whether the run used the rule's
    choice; profiles whose CPT the pilots never tried get no such section."""
    text = report.dose_section(get_profile("pretrained"))
    assert "≥ 8 of the 32 fixed probe prompts" in text and "never an IFEval gap" in text
    assert "The rule picks lr 0.0001; this run's CPT ran at lr 0.0001, the rule's choice." in text
    assert text.count("<\\|endoftext\\|>") == 3 and "<\\|im_end\\|>" in text  # the ladder's pilots, the separator's
    assert report.dose_section(get_profile("default")) is None and report.dose_section(None) is None
    other = get_profile("pretrained").cpt
    other = dataclasses.replace(get_profile("pretrained"), cpt=dataclasses.replace(other, synth_ratio=0.25))
    assert report.dose_section(other) is None


def test_the_ifeval_table_shows_leakage_along_sft_where_a_seed_was_evaluated_at_snapshots():
    cell = {"accuracy": 0.1, "correct": 1, "total": 10, "ci95": [0.0, 0.4]}
    rows = {"synthetic": {"seeds": [0, 1], **{k: cell for k in report.IFEVAL_KEYS}, "leak_before_sft": 0.5,
                          "leak_along_sft": {"seed": 0, "0": 0.5, "2": 0.3, "8": 0.15}},
            "base model": {"seeds": [], **{k: cell for k in report.IFEVAL_KEYS}}}
    table = report.ifeval_table({"tracks": {"pretrained": {"ifeval": rows}}})
    assert table[0]["leak along SFT"] == "0.50 (step 0) → 0.30 (step 2) → 0.15 (step 8), seed 0"
    assert table[1]["leak along SFT"] == "–" and table[1]["leak before SFT"] == "–"
    del rows["synthetic"]["leak_along_sft"]
    assert "leak along SFT" not in report.ifeval_table({"tracks": {"pretrained": {"ifeval": rows}}})[0]


def test_every_method_is_compared_with_the_synthetic_arm_beside_the_ablations(rec):
    """The report's method section: each unlearning method against the synthetic arm, paired, with its verdict (the
    bounded row is claim 4's comparison); the γ sweep and the ablations where they ended, the default method first;
    one seed's mean shown alone (no ± 0.000)."""
    rec = _two_seeds(rec)
    rows = report.method_comparison_rows(rec)
    assert [r["method"] for r in rows] == ["bounded", "ga", "grad_diff", "npo", "simnpo"]
    c4 = report.verdicts(rec)["claim4_hsr_up_vs_synthetic"]
    assert f"{c4['diff']:+.3f} ± {c4['se']:.3f} (MDE {c4['mde']:.3f}), {c4['verdict']}" in rows[0]["HSR"]
    assert all(r["leakage after SFT"].endswith(("holds", "within noise", "does not hold")) for r in rows)
    variants = report.variant_rows(rec)
    assert [v["run"] for v in variants] == ["bounded", *rec["04_unlearning"]["ablation"]]
    assert {"forget NLL end", "replay NLL end", "leakage before SFT, end"} <= set(variants[0])
    text = report.render_report(rec, report.results_json(rec, "smoke"), {})
    assert "## Every unlearning method against the synthetic arm" in text and "## The γ sweep and the ablations" in text
    assert report._fmt({"mean": 0.5, "std": 0.0, "n": 1}) == "0.500"
    assert report._fmt({"mean": 0.5, "std": 0.1, "n": 2}) == "0.500 ± 0.100"
