import math

import pytest
import torch

from synthrepro.config import BoundedParams, NoParams, NPOParams, SimNPOParams
from synthrepro.config import BIAS_METHODS, FORGET_METHODS, UnlearnConfig
from synthrepro.unlearning.losses import (BIAS_LOSSES, FORGET_LOSSES, ForgetInputs, kl_to_reference, register_forget,
                                          token_nll)

PARAMS = {"ga": NoParams(), "grad_diff": NoParams(), "npo": NPOParams(), "simnpo": SimNPOParams(),
          "bounded": BoundedParams(gamma=3.0)}


def _inputs(nll_values, gamma=None, ref_logprob=None):
    t = torch.tensor(nll_values, dtype=torch.float32, requires_grad=True)
    mask = torch.ones_like(t)
    return t, ForgetInputs(t, mask, ref_logprob, gamma)


def test_registry_has_every_method_and_matches_the_config_names():
    assert {"ga", "grad_diff", "npo", "simnpo", "bounded"} <= set(FORGET_LOSSES)
    assert set(FORGET_LOSSES) == set(FORGET_METHODS)  # every config name has a loss and vice versa
    assert set(BIAS_LOSSES) == set(BIAS_METHODS)


def test_each_method_owns_its_hyperparameters():
    assert UnlearnConfig().params == BoundedParams()
    assert UnlearnConfig(method="npo").params == NPOParams()
    assert UnlearnConfig(method="simnpo", params={"delta": 0.5}).params == SimNPOParams(delta=0.5)
    with pytest.raises(ValueError, match="has no hyperparameter"):
        UnlearnConfig(method="npo", params={"gamma": 2.0})
    with pytest.raises(ValueError, match="are not the hyperparameters"):
        UnlearnConfig(method="npo", params=BoundedParams())
    assert UnlearnConfig().with_method("simnpo", beta=0.2).params == SimNPOParams(beta=0.2)
    with pytest.raises(ValueError, match="gamma_mode"):
        BoundedParams(gamma_mode="sideways")
    with pytest.raises(ValueError, match="beta"):
        NPOParams(beta=0.0)


def test_a_new_method_is_one_registered_function():
    @register_forget("test_half_ga")
    def half_ga(x, p):
        return -0.5 * x.seq_nll.mean()
    try:
        cfg = UnlearnConfig(method="test_half_ga")
        assert cfg.params == NoParams()
        _, x = _inputs([[2.0]])
        assert FORGET_LOSSES[cfg.method](x, cfg.params).item() == -1.0
    finally:
        FORGET_LOSSES.pop("test_half_ga")
        FORGET_METHODS.pop("test_half_ga")


@pytest.mark.parametrize("level", ["sequence", "token"])
def test_bounded_never_below_minus_gamma_and_no_gradient_past_the_bound(level):
    gamma = torch.tensor([2.0, 2.0])
    t, x = _inputs([[5.0, 6.0], [0.5, 1.0]], gamma=gamma)
    loss = FORGET_LOSSES["bounded"](x, BoundedParams(level=level))
    assert loss.item() >= -2.0 - 1e-6
    loss.backward()
    assert torch.all(t.grad[0] == 0)          # sample 0 is past the bound: no gradient
    assert torch.all(t.grad[1] < 0)           # sample 1 is not: minimising raises its NLL
    t2, x2 = _inputs([[50.0, 60.0]], gamma=torch.tensor([2.0]))
    assert FORGET_LOSSES["bounded"](x2, BoundedParams(level=level)).item() == pytest.approx(-2.0)


@pytest.mark.parametrize("method", ["ga", "grad_diff", "npo", "simnpo", "bounded"])
def test_forgetting_raises_the_forget_nll(method):
    t, x = _inputs([[1.0, 1.5], [0.5, 0.7]], gamma=torch.tensor([3.0, 3.0]), ref_logprob=torch.tensor([-2.5, -1.2]))
    FORGET_LOSSES[method](x, PARAMS[method]).backward()
    assert torch.all(t.grad < 0), method      # gradient descent on the loss increases every token NLL


def test_npo_and_simnpo_match_their_formulas():
    beta = 0.5
    t, x = _inputs([[1.0, 2.0]], ref_logprob=torch.tensor([-2.0]))
    logp = -3.0  # sum of token log-probs
    expected_npo = (2 / beta) * math.log1p(math.exp(beta * (logp - (-2.0))))
    assert FORGET_LOSSES["npo"](x, NPOParams(beta=beta)).item() == pytest.approx(expected_npo, rel=1e-5)
    t, x = _inputs([[1.0, 2.0]])
    expected_simnpo = (2 / beta) * math.log1p(math.exp(-beta * 1.5 + 0.3))
    assert FORGET_LOSSES["simnpo"](x, SimNPOParams(beta=beta, delta=0.3)).item() == pytest.approx(expected_simnpo,
                                                                                                  rel=1e-5)
    with pytest.raises(ValueError, match="ref_logprob"):
        FORGET_LOSSES["npo"](_inputs([[1.0]])[1], NPOParams())


def test_ga_is_unbounded():
    _, x = _inputs([[1e6]])
    assert FORGET_LOSSES["ga"](x, NoParams()).item() == -1e6


def test_replay_nll_gradient_lowers_replay_nll():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7, requires_grad=True)
    labels = torch.randint(0, 7, (2, 5))
    nll, mask = token_nll(logits, labels)
    replay = nll.sum() / mask.sum()
    replay.backward()
    with torch.no_grad():
        new = token_nll(logits - 0.5 * logits.grad, labels)[0].sum() / mask.sum()
    assert new < replay


def test_kl_to_reference_zero_for_identical_and_positive_otherwise():
    logits = torch.randn(2, 4, 6)
    mask = torch.ones(2, 3)
    assert kl_to_reference(logits, logits, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_to_reference(logits, torch.randn(2, 4, 6), mask).item() > 0
