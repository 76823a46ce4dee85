"""Unlearning methods' names and hyperparameters — torch-free, so that configs validate without loading a model.

Each forgetting method owns a frozen dataclass of its hyperparameters (the bound's γ and its mode, NPO's β, SimNPO's
β and δ); `FORGET_METHODS` maps a method's name to that class. Bias-mitigation methods are named in `BIAS_METHODS`.
The loss functions live in `synthrepro.unlearning.losses`, registered under the same names by
`unlearning.losses.register_forget` / `register_bias`, which also enter a new name here: adding a method is one
registered function (and, when it has hyperparameters, its dataclass). See docs/contributing.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _number(name: str, value, low: float | None = None, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    bound = "" if low is None else f" {'>' if low_open else '>='} {low}"
    _require(ok, f"{name} must be a finite number{bound}, got {value!r}")


@dataclass(frozen=True)
class NoParams:
    """A method without hyperparameters of its own (`ga`, `grad_diff`)."""


@dataclass(frozen=True)
class BoundedParams:
    """The lower-bounded forgetting loss max(−NLL, −γ) (our reading of the paper).

    gamma_mode: "relative" (γ_i = NLL_θ₀(x_i) + gamma: a reference arm that never saw the Q-A format gives NLLs so
    high that they bound nothing), "absolute" (γ = gamma) or "reference_arm" (γ_i = the reference CPT arm's NLL on
    x_i; gamma unused). level: "sequence" clips each sample's mean NLL, "token" each token's NLL.
    """

    gamma: float = 2.0
    gamma_mode: str = "relative"
    level: str = "sequence"

    def __post_init__(self):
        _number("gamma", self.gamma)
        _require(self.gamma_mode in ("relative", "absolute", "reference_arm"),
                 f"gamma_mode must be 'relative', 'absolute' or 'reference_arm', got {self.gamma_mode!r}")
        _require(self.gamma > 0, f"gamma must be > 0 nats/token (relative: the margin over each sample's starting "
                                 f"NLL; absolute: the bound), got {self.gamma!r}")
        _require(self.level in ("sequence", "token"), f"level must be 'sequence' or 'token', got {self.level!r}")


@dataclass(frozen=True)
class NPOParams:
    """Negative Preference Optimization: (2/β)·softplus(β·(log π_θ − log π_θ₀))."""

    beta: float = 0.1

    def __post_init__(self):
        _number("beta", self.beta, 0.0, low_open=True)


@dataclass(frozen=True)
class SimNPOParams:
    """SimNPO: (2/β)·softplus(−β·NLL_mean + δ) — reference-free, length-normalised; δ is the margin."""

    beta: float = 0.1
    delta: float = 2.0

    def __post_init__(self):
        _number("beta", self.beta, 0.0, low_open=True)
        _number("delta", self.delta)


#: Forgetting method name → its hyperparameter class.
FORGET_METHODS: dict[str, type] = {"ga": NoParams, "grad_diff": NoParams, "npo": NPOParams, "simnpo": SimNPOParams,
                                   "bounded": BoundedParams}

#: Bias-mitigation methods: "kl_replay" KL(p_θ₀ ‖ p_θ) on replay data (the default), "template_only" forgetting only
#: the Q-A template's tokens, "nll_match" matching per-sample NonSynth NLL to θ₀'s, "none".
BIAS_METHODS: list[str] = ["kl_replay", "template_only", "nll_match", "none"]


def method_params(method: str, params=None):
    """`params` (None, a mapping, or the method's own dataclass) as the method's hyperparameter dataclass; errors name
    the method's fields."""
    _require(method in FORGET_METHODS, f"unknown unlearning method {method!r}; choose one of {sorted(FORGET_METHODS)}")
    cls = FORGET_METHODS[method]
    if params is None:
        return cls()
    if isinstance(params, cls):
        return params
    if hasattr(params, "__dataclass_fields__"):
        raise ValueError(f"{type(params).__name__} are not the hyperparameters of {method!r} ({cls.__name__}); "
                         f"pass params=None to take {method!r}'s defaults")
    _require(isinstance(params, dict), f"params of {method!r} must be a mapping, got {params!r}")
    allowed = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(params) - set(allowed))
    _require(not unknown, f"{method!r} has no hyperparameter(s) {unknown}; it takes {allowed or 'none'}")
    return cls(**params)
