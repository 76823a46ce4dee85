"""Forgetting and bias-mitigation losses: two registries, one function per method.

The paper published no equations; these are **our reading** (docs/losses.md):

- `ga` — gradient ascent, unbounded: L = −NLL_θ(x_f).
- `grad_diff` — GA plus replay NLL (the unlearning step adds λ_R·NLL_θ(x_r); its λ_R defaults to 1).
- `npo` — Negative Preference Optimization: L = (2/β)·softplus(β·(log π_θ(x_f) − log π_θ₀(x_f))); saturates at 0.
- `simnpo` — SimNPO (reference-free, length-normalised): L = (2/β)·softplus(−β·NLL_θ(x_f) + δ); saturates at 0.
- `bounded` — **the paper's method as we read it**: L = max(−NLL_θ(x_f), −γ) = −min(NLL_θ(x_f), γ); no gradient
  once a sample's NLL passes γ. Sequence-level (mean NLL per sample clipped) or token-level (each token clipped).

A forgetting function takes `ForgetInputs` and the method's hyperparameters (its dataclass in `config.methods`) and
returns a scalar to *minimise*. A bias-mitigation method returns a scalar from `BiasInputs` (and may restrict the
forget tokens to the Q-A template instead). Register a new method with `register_forget` / `register_bias`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..config.methods import (BIAS_METHODS, FORGET_METHODS, BoundedParams, NoParams, NPOParams, SimNPOParams)


@dataclass
class ForgetInputs:
    """What a forgetting loss may use, for a batch of forget samples.

    token_nll: [B, T] per-token NLL under θ (0 where masked); mask: [B, T] 1 for counted tokens;
    ref_logprob: [B] sum log-prob of each sample under the frozen θ₀ (for NPO); gamma: [B] the bound (nats/token).
    """

    token_nll: torch.Tensor
    mask: torch.Tensor
    ref_logprob: torch.Tensor | None = None
    gamma: torch.Tensor | None = None

    @property
    def lengths(self) -> torch.Tensor:
        return self.mask.sum(1).clamp(min=1)

    @property
    def seq_nll(self) -> torch.Tensor:
        """[B] mean token NLL per sample (nats/token)."""
        return (self.token_nll * self.mask).sum(1) / self.lengths


#: Forgetting method name → loss function(ForgetInputs, params) → scalar to minimise.
FORGET_LOSSES: dict[str, Callable] = {}


def register_forget(name: str, params: type = NoParams):
    """Decorator: register a forgetting loss `fn(x: ForgetInputs, p: params) -> scalar` under `name`, with `params`
    (a frozen dataclass, torch-free) as its hyperparameters; the name becomes valid in `UnlearnConfig.method`."""
    def deco(fn):
        FORGET_LOSSES[name] = fn
        FORGET_METHODS[name] = params
        return fn
    return deco


@register_forget("ga")
def gradient_ascent(x: ForgetInputs, p: NoParams) -> torch.Tensor:
    """−NLL: unbounded; drives the forget NLL up without limit."""
    return -x.seq_nll.mean()


@register_forget("grad_diff")
def grad_diff(x: ForgetInputs, p: NoParams) -> torch.Tensor:
    """The forget term of GradDiff is GA's; the replay term is added by the unlearning step (λ_R ≥ 1 by default)."""
    return gradient_ascent(x, p)


@register_forget("npo", NPOParams)
def npo(x: ForgetInputs, p: NPOParams) -> torch.Tensor:
    """(2/β)·softplus(β·(log π_θ − log π_θ₀)), sequence log-probs; needs `ref_logprob`."""
    if x.ref_logprob is None:
        raise ValueError("npo needs the frozen reference model's log-probabilities (ref_logprob)")
    logp = -(x.token_nll * x.mask).sum(1)
    return (2.0 / p.beta) * F.softplus(p.beta * (logp - x.ref_logprob)).mean()


@register_forget("simnpo", SimNPOParams)
def simnpo(x: ForgetInputs, p: SimNPOParams) -> torch.Tensor:
    """(2/β)·softplus(−β·NLL_mean + δ): reference-free and length-normalised."""
    return (2.0 / p.beta) * F.softplus(-p.beta * x.seq_nll + p.delta).mean()


@register_forget("bounded", BoundedParams)
def bounded(x: ForgetInputs, p: BoundedParams) -> torch.Tensor:
    """max(−NLL, −γ): sequence-level clips each sample's mean NLL at γ; token-level clips each token's NLL."""
    if x.gamma is None:
        raise ValueError("bounded needs gamma (the lower bound per sample, nats/token)")
    if p.level == "sequence":
        return -torch.minimum(x.seq_nll, x.gamma).mean()
    clipped = torch.minimum(x.token_nll, x.gamma[:, None]) * x.mask
    return -(clipped.sum(1) / x.lengths).mean()


def token_nll(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token NLL [B, T−1] of next-token prediction and its mask (labels ≠ −100)."""
    logits, labels = logits[:, :-1].float(), labels[:, 1:]
    mask = (labels != -100).float()
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.clamp(min=0).reshape(-1), reduction="none")
    return nll.view(labels.shape) * mask, mask


# ---------------------------------------------------------------- bias mitigation (our reading; selectable)


@dataclass
class BiasInputs:
    """What a bias-mitigation loss may use, on the replay (NonSynth) batch: θ's logits, the counted-token mask,
    per-sample NLL under θ and under θ₀, and θ₀'s logits (only for methods registered with `needs_reference_logits`)."""

    logits: torch.Tensor
    mask: torch.Tensor
    seq_nll: torch.Tensor
    ref_seq_nll: torch.Tensor
    ref_logits: torch.Tensor | None = None


@dataclass(frozen=True)
class BiasMethod:
    """A registered bias-mitigation method: its loss (None: no extra term), whether it needs θ₀'s logits on the
    replay batch, and whether it restricts forgetting to the Q-A template's tokens."""

    loss: Callable[[BiasInputs], torch.Tensor] | None = None
    needs_reference_logits: bool = False
    template_only: bool = False


BIAS_LOSSES: dict[str, BiasMethod] = {}


def register_bias(name: str, needs_reference_logits: bool = False, template_only: bool = False):
    """Decorator: register a bias-mitigation loss `fn(b: BiasInputs) -> scalar` (or None) under `name`."""
    def deco(fn):
        BIAS_LOSSES[name] = BiasMethod(fn, needs_reference_logits, template_only)
        if name not in BIAS_METHODS:
            BIAS_METHODS.append(name)
        return fn
    return deco


@register_bias("kl_replay", needs_reference_logits=True)
def kl_replay(b: BiasInputs) -> torch.Tensor:
    """KL(p_θ₀ ‖ p_θ) per token on replay data, averaged over counted tokens (the default)."""
    return kl_to_reference(b.logits, b.ref_logits, b.mask)


@register_bias("nll_match")
def nll_match(b: BiasInputs) -> torch.Tensor:
    """Mean squared gap between θ's and θ₀'s per-sample NLL on NonSynth (perplexity matching)."""
    return ((b.seq_nll - b.ref_seq_nll) ** 2).mean()


register_bias("template_only", template_only=True)(None)  # forget only the Q-A template's tokens; no extra term
register_bias("none")(None)


def kl_to_reference(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(p_θ₀ ‖ p_θ) per token, averaged over counted tokens (`mask` [B, T−1])."""
    logp = F.log_softmax(logits[:, :-1].float(), -1)
    logq = F.log_softmax(ref_logits[:, :-1].float(), -1)
    kl = (logq.exp() * (logq - logp)).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp(min=1)
