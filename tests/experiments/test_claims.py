"""Claims' comparisons are paired per prompt where the results record per-prompt outcomes, unpaired otherwise."""
import numpy as np
import pytest

from synthrepro.experiments import claims


def _result(arm, seed, passes, leaks):
    per = [{"strict": [bool(x)], "loose": [bool(x)], "leak": bool(lk)} for x, lk in zip(passes, leaks)]
    following = {"hsr": float(np.mean(passes)), "ssr": float(np.mean(passes)), "hsr_loose": float(np.mean(passes)),
                 "leak_rate": float(np.mean(leaks)), "per_prompt": per}
    return {"arm": arm, "seed": seed, "sft": {"following": following}, "cpt": {"following": following}}


def test_hsr_comparison_is_paired_per_prompt_when_outcomes_are_recorded():
    rng = np.random.default_rng(1)
    results = []
    for seed in range(3):
        base = (rng.random(300) < 0.5).astype(int)
        worse = np.where(rng.random(300) < 0.06, 0, base)
        results += [_result("reference", seed, base, [0] * 300), _result("synthetic", seed, worse, [0] * 300)]
    paired = claims.comparison(results, "HSR (SFT)", "reference", "synthetic", {"ifeval": 300}, -1)
    assert paired["paired"] and paired["n_items"] == 300 and paired["diff"] < 0
    for r in results:
        del r["sft"]["following"]["per_prompt"]
    unpaired = claims.comparison(results, "HSR (SFT)", "reference", "synthetic", {"ifeval": 300}, -1)
    assert not unpaired["paired"] and unpaired["diff"] == pytest.approx(paired["diff"])
    assert paired["se"] < unpaired["se"] and paired["mde"] == pytest.approx(paired["t_crit"] * paired["se"])
    assert "paired per item" in claims._how(paired) and "over seeds" in claims._how(unpaired)
