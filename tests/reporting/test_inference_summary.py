"""The committed verdict summary (figures/inference/verdicts.json) is re-derived from committed JSON alone."""
import json

import synthrepro  # noqa: F401
from synthrepro.config import repo_root
from synthrepro.reporting import inference


def _strip(d):
    return {k: v for k, v in d.items() if k != "registration_commit"}


def test_every_committed_verdict_is_rederived_from_committed_json():
    root = repo_root()
    committed = json.loads((root / "figures" / "inference" / "verdicts.json").read_text())
    again = json.loads(json.dumps(inference.summarise(root), default=float))
    assert json.dumps(_strip(again), sort_keys=True) == json.dumps(_strip(committed), sort_keys=True)


def test_notebook_06_records_the_registered_endpoint_only_for_a_registered_profile():
    rec = json.loads((repo_root() / "figures" / "phase" / "phase_map.json").read_text())
    got = inference.primary_record("phase", rec["rows"], groups=rec.get("suite_groups"))
    assert got["preregistration"]["comparison"] == "synthetic@0.25 - reference"
    summary = json.loads((repo_root() / "figures" / "inference" / "verdicts.json").read_text())
    assert json.dumps(got["primary"], default=float) == json.dumps(summary["tracks"]["phase"]["primary"]["result"])
    assert inference.primary_record("phase_smoke", rec["rows"]) == {}
    assert got["instrument"]["primary"] == rec["instrument"]["primary"]  # the rule picks what the run recorded


def test_world_verdicts_in_results_json_follow_their_intervals():
    from synthrepro.evaluation.stats import verdict
    res = json.loads((repo_root() / "figures" / "results.json").read_text())
    for key, c in res["comparisons"].items():
        assert res["verdicts"][key] == c["verdict"] == verdict(c, c["expected_sign"]), key
    assert {o["arm"] for o in res["outcomes"]} >= {"reference", "synthetic"}


def test_world_comparisons_are_rederived_from_the_committed_outcomes():
    """Every comparison of figures/results.json — difference, SE, df, interval, p, verdict — from its `outcomes`."""
    from synthrepro.reporting import report
    res = json.loads((repo_root() / "figures" / "results.json").read_text())
    world = res["tracks"]["world"]
    v = report.model_verdicts(report.evals_from_outcomes(res["outcomes"]), world["sizes"],
                              res["default_unlearning_method"], world.get("suite_groups"))
    again = report.comparison_records(v)
    assert json.dumps(again, sort_keys=True) == json.dumps(res["comparisons"], sort_keys=True)
