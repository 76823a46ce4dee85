"""The unlearn stage at the smoke size (CPU)."""
import dataclasses
import json

import pytest

from synthrepro import training as train
from synthrepro.config import apply_overrides
from synthrepro.unlearning import DivergenceError, unlearn


@pytest.fixture(scope="module")
def synthetic_cpt(tmp_path_factory, smoke_cfg):
    from synthrepro.data import ensure_world
    run_dir = tmp_path_factory.mktemp("run")
    data_dir, _, _ = ensure_world(smoke_cfg.data, run_dir)
    base = train.pretrain(data_dir, run_dir, smoke_cfg.model, smoke_cfg.pretrain)
    syn = train.cpt("synthetic", base, data_dir, run_dir, smoke_cfg.cpt, seed=0)
    return run_dir, data_dir, syn, train.stage_info(syn.parent)["tokens"]


def _forget_curve(final):
    return [r["forget_nll"] for r in json.loads((final.parent / "log.json").read_text()) if "forget_nll" in r]


def _cfg(smoke_cfg, method, params=None, lr=None, **kw):
    """The smoke profile's unlearning config for `method` with its hyperparameters `params` and other overrides."""
    over = {"method": method, **kw, **({"params": params} if params else {}), **({"train": {"lr": lr}} if lr else {})}
    return apply_overrides(smoke_cfg.unlearn, over)


def test_ga_grows_without_bound_while_bounded_stays_bounded(synthetic_cpt, smoke_cfg):
    run_dir, data_dir, syn, tokens = synthetic_cpt
    common = dict(lr=2e-2, budget_fraction=1.0, lambda_replay=0.0, lambda_bias=0.0, bias="none", nll_limit=1e6)
    ga = _forget_curve(unlearn(syn, data_dir, run_dir, _cfg(smoke_cfg, "ga", **common), tokens))
    bd_final = unlearn(syn, data_dir, run_dir, _cfg(smoke_cfg, "bounded", {"gamma_mode": "relative", "gamma": 0.5},
                                                    **common), tokens)
    bd = _forget_curve(bd_final)
    gamma = train.stage_info(bd_final.parent)["gamma_mean"]
    assert ga[-1] > ga[0] + 5 and all(b >= a - 0.5 for a, b in zip(ga, ga[1:]))  # still climbing
    assert bd[-1] < ga[-1] - 3 and all(x == x and x < 1e3 for x in bd)  # finite, far below GA
    assert max(bd) < gamma + 5  # momentum may carry it past γ, but not without limit


def test_divergence_guard_stops_with_its_message(synthetic_cpt, smoke_cfg):
    run_dir, data_dir, syn, tokens = synthetic_cpt
    cfg = _cfg(smoke_cfg, "ga", lr=5e-2, budget_fraction=1.0, lambda_replay=0.0, bias="none", nll_limit=7.0)
    with pytest.raises(DivergenceError, match=r"divergence guard: the forget-set NLL .* passed nll_limit=7.0"):
        unlearn(syn, data_dir, run_dir, cfg, tokens)


@pytest.mark.parametrize("method,bias", [("grad_diff", "kl_replay"), ("npo", "template_only"),
                                         ("simnpo", "nll_match"), ("bounded", "kl_replay")])
def test_every_method_runs_and_writes_a_checkpoint(synthetic_cpt, smoke_cfg, method, bias):
    run_dir, data_dir, syn, tokens = synthetic_cpt
    final = unlearn(syn, data_dir, run_dir, _cfg(smoke_cfg, method, bias=bias), tokens)
    info = train.stage_info(final.parent)
    assert info["method"] == method and (final / "config.json").exists()
    assert info["tokens"] > 0 and info["budget_fraction"] == smoke_cfg.unlearn.budget_fraction
    assert (final.parent / "steps").exists()  # snapshots for the dynamics


def test_unknown_method_is_refused(smoke_cfg):
    with pytest.raises(ValueError, match="unknown unlearning method 'forgetful'"):
        dataclasses.replace(smoke_cfg.unlearn, method="forgetful")
