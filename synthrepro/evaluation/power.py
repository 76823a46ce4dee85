"""How well a verdict rule does on data shaped like the project's: simulated per-prompt binary outcomes of two arms
that answer the same prompts over several seeds (and base models), with prompt effects, arm × prompt effects and seed
spread; the rate at which a rule calls a difference under the null, and its power at a given effect.

`paired_effect`'s interval rule (evaluation.stats) is what the project uses; `legacy_two_se` is the rule it replaced
(the larger of the seed-spread SE and the pooled per-seed paired SE, |diff| > 2 SE), kept only so that a test can show
why it was replaced. docs/statistics.md reports both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stats import paired_effect, verdict

__all__ = ["Structure", "STRUCTURES", "legacy_two_se", "rejection_rate", "simulate"]


@dataclass(frozen=True)
class Structure:
    """Logit-scale SDs of the simulated outcomes: `prompt` (difficulty, shared by both arms), `arm_prompt` (how a
    prompt favours one arm; the same for every seed — the source of variation a per-seed SE misses), `seed` (an arm's
    level per seed), `cell` (a prompt's luck per seed and arm); `base` (an arm's level per base model); `level`: the
    mean logit (0: a rate near 0.5)."""

    prompt: float = 1.5
    arm_prompt: float = 0.4
    seed: float = 0.1
    cell: float = 0.5
    base: float = 0.0
    level: float = 0.0
    #: Logit SDs of how a task template and a constraint phrasing favour one arm (the same for every prompt written
    #: from them and every seed), with how many templates and phrasings there are and phrasings per prompt.
    template: float = 0.0
    phrasing: float = 0.0
    n_templates: int = 24
    n_phrasings: int = 34
    phrasings_per_prompt: int = 2


#: Variance structures like the project's, estimated from the phase map's committed outcomes (docs/statistics.md):
#: after SFT the paired difference's prompt component is small against its prompt × seed term (σ²_p ≈ 0.002–0.07,
#: σ²_e ≈ 0.15–0.20, seed ≈ 0.0005–0.002); before SFT the prompt component is large (σ²_p ≈ 0.18); and a seed-heavy
#: case where few seeds matter most.
STRUCTURES = {
    "after SFT": Structure(prompt=1.5, arm_prompt=0.4, seed=0.08, cell=0.6),
    "before SFT": Structure(prompt=1.5, arm_prompt=1.5, seed=0.08, cell=0.4),
    "seed-heavy": Structure(prompt=1.5, arm_prompt=0.2, seed=0.25, cell=0.5),
    #: The ood suite: prompts written from 24 task templates and 34 phrasings, each favouring an arm a little.
    "phrasings": Structure(prompt=1.5, arm_prompt=0.4, seed=0.08, cell=0.6, template=0.3, phrasing=0.4),
}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def simulate(rng: np.random.Generator, structure: Structure, n_seeds: int, n_prompts: int, effect: float = 0.0,
             n_bases: int = 1, with_groups: bool = False):
    """One simulated experiment: ({unit: outcomes of arm a}, {unit: outcomes of arm b}); units are seeds, or
    (base model, seed) with `n_bases` > 1 (`n_seeds` per base). The arms are exchangeable (each draws its own
    arm × prompt, arm × template, arm × phrasing, base and seed effects), so with `effect` 0 the true mean difference
    is exactly 0; `effect` is added to arm b's success probability (clipped to [0, 1]). With `with_groups`, also each
    prompt's groups ("task_template:…", "phrasing:…"), as `paired_effect` takes them."""
    s = structure
    theta = rng.normal(s.level, s.prompt, n_prompts)
    arm_prompt = {arm: rng.normal(0, s.arm_prompt, n_prompts) for arm in "ab"}
    groups = None
    if s.template or s.phrasing or with_groups:
        template_of = rng.integers(0, s.n_templates, n_prompts)
        phrasings_of = np.array([rng.choice(s.n_phrasings, s.phrasings_per_prompt, replace=False)
                                 for _ in range(n_prompts)])
        for arm in "ab":
            t_eff, p_eff = rng.normal(0, s.template, s.n_templates), rng.normal(0, s.phrasing, s.n_phrasings)
            arm_prompt[arm] = arm_prompt[arm] + t_eff[template_of] + p_eff[phrasings_of].sum(axis=1)
        groups = [[f"task_template:{t}", *(f"phrasing:{j}" for j in js)] for t, js in zip(template_of, phrasings_of)]
    out = {"a": {}, "b": {}}
    for base in range(n_bases):
        arm_base = {arm: rng.normal(0, s.base) if s.base else 0.0 for arm in "ab"}
        for seed in range(n_seeds):
            key = (base, seed) if n_bases > 1 else seed
            for arm in "ab":
                logit = (theta + arm_prompt[arm] + arm_base[arm] + rng.normal(0, s.seed)
                         + rng.normal(0, s.cell, n_prompts))
                p = _sigmoid(logit) + (effect if arm == "b" else 0.0)
                out[arm][key] = (rng.random(n_prompts) < np.clip(p, 0, 1)).astype(np.int8)
    return (out["a"], out["b"], groups) if with_groups else (out["a"], out["b"])


def legacy_two_se(a: dict, b: dict) -> str:
    """The rule the project used before (kept to show why it was replaced): SE = max(seed-spread SE, pooled per-seed
    paired SE), "holds"/"does not hold" when |diff| > 2 SE (here for an expected negative difference)."""
    e = paired_effect(a, b)
    return verdict({"diff": e["diff"], "se": max(e["seed_se"], e["paired_se"])}, -1)


def rejection_rate(rule, structure: Structure, n_seeds: int, n_prompts: int, effect: float = 0.0,
                   n_sims: int = 1000, seed: int = 0, n_bases: int = 1) -> dict:
    """Share of `n_sims` simulated experiments in which `rule` ("interval": `paired_effect` + `verdict`; "grouped":
    the same with the prompts' template and phrasing groups; or a function of (a, b) returning a verdict) calls a
    difference of either sign; with it the mean MDE of `paired_effect`."""
    rng = np.random.default_rng(seed)
    called, mdes = 0, []
    for _ in range(n_sims):
        a, b, groups = simulate(rng, structure, n_seeds, n_prompts, effect, n_bases, with_groups=True) \
            if rule == "grouped" else (*simulate(rng, structure, n_seeds, n_prompts, effect, n_bases), None)
        if rule in ("interval", "grouped"):
            e = paired_effect(a, b, groups=groups)
            mdes.append(e["mde"])
            v = verdict(e, -1)
        else:
            v = rule(a, b)
        called += v in ("holds", "does not hold")
    return {"rate": called / n_sims, "n_sims": n_sims, "mde": float(np.mean(mdes)) if mdes else None,
            "n_seeds": n_seeds, "n_prompts": n_prompts, "n_bases": n_bases, "effect": effect}
