"""Forgetting losses: a registry (one function per method; adding a method = adding one entry).

The paper published no equations; these are **our reading** (see shared/DESIGN.md section 2):

- `ga` — gradient ascent, unbounded: L = −NLL_θ(x_f).
- `grad_diff` — GA plus replay NLL (the unlearn stage adds λ_R·NLL_θ(x_r); its λ_R defaults to 1).
- `npo` — Negative Preference Optimization: L = (2/β)·softplus(β·(log π_θ(x_f) − log π_θ₀(x_f))); saturates at 0.
- `simnpo` — SimNPO (reference-free, length-normalised): L = (2/β)·softplus(−β·NLL_θ(x_f) + δ); saturates at 0.
- `bounded` — **the paper's method as we read it**: L = max(−NLL_θ(x_f), −γ) = −min(NLL_θ(x_f), γ); no gradient
  once a sample's NLL passes γ. Sequence-level (mean NLL per sample clipped) or token-level (each token clipped).

Every function takes a `ForgetInputs` and returns a scalar loss to *minimise*.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


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
    beta: float = 0.1
    delta: float = 0.0
    level: str = "sequence"  # bounded: "sequence" or "token"

    @property
    def lengths(self) -> torch.Tensor:
        return self.mask.sum(1).clamp(min=1)

    @property
    def seq_nll(self) -> torch.Tensor:
        """[B] mean token NLL per sample (nats/token)."""
        return (self.token_nll * self.mask).sum(1) / self.lengths


FORGET_LOSSES: dict[str, Callable[[ForgetInputs], torch.Tensor]] = {}


def register(name: str):
    def deco(fn):
        FORGET_LOSSES[name] = fn
        return fn
    return deco


@register("ga")
def gradient_ascent(x: ForgetInputs) -> torch.Tensor:
    """−NLL: unbounded; drives the forget NLL up without limit."""
    return -x.seq_nll.mean()


@register("grad_diff")
def grad_diff(x: ForgetInputs) -> torch.Tensor:
    """The forget term of GradDiff is GA's; the replay term is added by the unlearn stage (λ_R ≥ 1 by default)."""
    return gradient_ascent(x)


@register("npo")
def npo(x: ForgetInputs) -> torch.Tensor:
    """(2/β)·softplus(β·(log π_θ − log π_θ₀)), sequence log-probs; needs `ref_logprob`."""
    if x.ref_logprob is None:
        raise ValueError("npo needs the frozen reference model's log-probabilities (ref_logprob)")
    logp = -(x.token_nll * x.mask).sum(1)
    return (2.0 / x.beta) * F.softplus(x.beta * (logp - x.ref_logprob)).mean()


@register("simnpo")
def simnpo(x: ForgetInputs) -> torch.Tensor:
    """(2/β)·softplus(−β·NLL_mean + δ): reference-free and length-normalised."""
    return (2.0 / x.beta) * F.softplus(-x.beta * x.seq_nll + x.delta).mean()


@register("bounded")
def bounded(x: ForgetInputs) -> torch.Tensor:
    """max(−NLL, −γ): sequence-level clips each sample's mean NLL at γ; token-level clips each token's NLL."""
    if x.gamma is None:
        raise ValueError("bounded needs gamma (the lower bound, nats/token)")
    if x.level == "sequence":
        return -torch.minimum(x.seq_nll, x.gamma).mean()
    if x.level == "token":
        clipped = torch.minimum(x.token_nll, x.gamma[:, None]) * x.mask
        return -(clipped.sum(1) / x.lengths).mean()
    raise ValueError(f"level must be 'sequence' or 'token', got {x.level!r}")


def token_nll(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token NLL [B, T−1] of next-token prediction and its mask (labels ≠ −100)."""
    logits, labels = logits[:, :-1].float(), labels[:, 1:]
    mask = (labels != -100).float()
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.clamp(min=0).reshape(-1), reduction="none")
    return nll.view(labels.shape) * mask, mask


# ---------------------------------------------------------------- bias mitigation (our reading; selectable)


def kl_to_reference(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(p_θ₀ ‖ p_θ) per token on replay data, averaged over counted tokens (the default bias mitigation)."""
    logp = F.log_softmax(logits[:, :-1].float(), -1)
    logq = F.log_softmax(ref_logits[:, :-1].float(), -1)
    kl = (logq.exp() * (logq - logp)).sum(-1)
    return (kl * mask).sum() / mask.sum().clamp(min=1)


def nll_matching(seq_nll: torch.Tensor, ref_seq_nll: torch.Tensor) -> torch.Tensor:
    """Mean squared gap between θ's and the reference model's per-sample NLL on NonSynth (perplexity matching)."""
    return ((seq_nll - ref_seq_nll) ** 2).mean()


BIAS_LOSSES = ("kl_replay", "template_only", "nll_match", "none")
