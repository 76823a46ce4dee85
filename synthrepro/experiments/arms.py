"""The CPT arms: reference, synthetic (and the SynthQA-ratio sweep) and dilution, each followed by the identical SFT,
for every seed; and the command-line driver of the training stages."""
from __future__ import annotations

from pathlib import Path

from ..config import CPT_ARMS
from ..training.runner import stage_info
from ..training.stages import cpt, sft, sft_checkpoints


def arm_name(arm: str, ratio: float, default_ratio: float) -> str:
    """`synthetic` at the profile's ratio, `synthetic@0.5` at another ratio; other arms unchanged."""
    return arm if arm != "synthetic" or ratio == default_ratio else f"synthetic@{ratio:g}"


def arm_jobs(profile, arms: tuple[str, ...] = CPT_ARMS, seeds: tuple[int, ...] | None = None,
             sweep_ratios: tuple[float, ...] | None = None) -> list[tuple[str, int, float]]:
    """Every CPT arm notebook 02 trains, as (arm, seed, SynthQA ratio): each arm on every seed (the dilution arm on the
    first `profile.dilution_seeds` seeds), and the synthetic arm at each sweep ratio on the first seed."""
    seeds = tuple(profile.seeds if seeds is None else seeds)
    sweep_ratios = tuple(profile.sweep_ratios if sweep_ratios is None else sweep_ratios)
    jobs = [(arm, seed, profile.cpt.synth_ratio) for i, seed in enumerate(seeds) for arm in arms
            if arm != "dilution" or i < profile.dilution_seeds]
    return jobs + [("synthetic", seeds[0], r) for r in sweep_ratios if r != profile.cpt.synth_ratio]


def train_arms(profile, data_dir: Path, base: Path, arms: tuple[str, ...], seeds: tuple[int, ...],
               sweep_ratios: tuple[float, ...] = ()) -> list[dict]:
    """CPT then identical SFT for every arm × seed (the dilution arm for the first `profile.dilution_seeds` seeds;
    synthetic arms at `sweep_ratios` for the first seed only).

    Returns one row per (arm, seed): checkpoints, SFT curve checkpoints and the stages' records.
    """
    run_dir = profile.run_dir()
    rows = []
    for arm, seed, ratio in arm_jobs(profile, arms, seeds, sweep_ratios):
        cpt_final = cpt(arm, base, data_dir, run_dir, profile.cpt, seed, ratio)
        sft_final = sft(cpt_final, data_dir, run_dir, profile.sft, seed)
        rows.append({"arm": arm_name(arm, ratio, profile.cpt.synth_ratio), "seed": seed,
                     "synth_ratio": ratio if arm != "reference" else 0.0, "cpt": cpt_final, "sft": sft_final,
                     "sft_curve": {str(k): v for k, v in sft_checkpoints(sft_final).items()},
                     "cpt_info": stage_info(cpt_final.parent), "sft_info": stage_info(sft_final.parent)})
    return rows
