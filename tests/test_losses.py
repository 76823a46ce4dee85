import math

import pytest
import torch

from synthrepro.losses import FORGET_LOSSES, ForgetInputs, kl_to_reference, token_nll


def _inputs(nll_values, gamma=None, ref_logprob=None, level="sequence", beta=0.1, delta=0.0):
    t = torch.tensor(nll_values, dtype=torch.float32, requires_grad=True)
    mask = torch.ones_like(t)
    return t, ForgetInputs(t, mask, ref_logprob, gamma, beta=beta, delta=delta, level=level)


def test_registry_has_every_method():
    assert {"ga", "grad_diff", "npo", "simnpo", "bounded"} <= set(FORGET_LOSSES)


@pytest.mark.parametrize("level", ["sequence", "token"])
def test_bounded_never_below_minus_gamma_and_no_gradient_past_the_bound(level):
    gamma = torch.tensor([2.0, 2.0])
    t, x = _inputs([[5.0, 6.0], [0.5, 1.0]], gamma=gamma, level=level)
    loss = FORGET_LOSSES["bounded"](x)
    assert loss.item() >= -2.0 - 1e-6
    loss.backward()
    assert torch.all(t.grad[0] == 0)          # sample 0 is past the bound: no gradient
    assert torch.all(t.grad[1] < 0)           # sample 1 is not: minimising raises its NLL
    t2, x2 = _inputs([[50.0, 60.0]], gamma=torch.tensor([2.0]), level=level)
    assert FORGET_LOSSES["bounded"](x2).item() == pytest.approx(-2.0)


@pytest.mark.parametrize("method", ["ga", "grad_diff", "npo", "simnpo", "bounded"])
def test_forgetting_raises_the_forget_nll(method):
    t, x = _inputs([[1.0, 1.5], [0.5, 0.7]], gamma=torch.tensor([3.0, 3.0]), ref_logprob=torch.tensor([-2.5, -1.2]))
    FORGET_LOSSES[method](x).backward()
    assert torch.all(t.grad < 0), method      # gradient descent on the loss increases every token NLL


def test_npo_and_simnpo_match_their_formulas():
    beta = 0.5
    t, x = _inputs([[1.0, 2.0]], ref_logprob=torch.tensor([-2.0]), beta=beta)
    logp = -3.0  # sum of token log-probs
    expected_npo = (2 / beta) * math.log1p(math.exp(beta * (logp - (-2.0))))
    assert FORGET_LOSSES["npo"](x).item() == pytest.approx(expected_npo, rel=1e-5)
    t, x = _inputs([[1.0, 2.0]], beta=beta, delta=0.3)
    expected_simnpo = (2 / beta) * math.log1p(math.exp(-beta * 1.5 + 0.3))
    assert FORGET_LOSSES["simnpo"](x).item() == pytest.approx(expected_simnpo, rel=1e-5)
    with pytest.raises(ValueError, match="ref_logprob"):
        FORGET_LOSSES["npo"](_inputs([[1.0]])[1])


def test_ga_is_unbounded():
    _, x = _inputs([[1e6]])
    assert FORGET_LOSSES["ga"](x).item() == -1e6


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
