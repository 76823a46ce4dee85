"""What a profile costs in GPU hours, from its token budgets and a throughput (an estimate, not a measurement).

Training costs ≈ 6 · N · tokens FLOPs (forward + backward of a dense decoder with N parameters; attention adds a
few per cent at 2k context and is ignored). GPU time = FLOPs / (peak bf16 FLOP/s × model-FLOPs utilisation).
Generation (IFEval replies) is memory-bound, so it is costed in new tokens per second instead.

The same arithmetic checked against a measurement here: SmolLM2-135M continued on this project's 2-core CPU at
181–254 tokens/s (bf16 autocast) is 6 × 134.5 M × 254 ≈ 0.2 TFLOP/s achieved. No GPU was measured for these numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arms import arm_jobs
from .unlearning_runs import unlearning_jobs

#: The paper's proportions, beside ours in every report (its SFT size is not published: the range is a guess from
#: typical instruction-tuning sets, said as such).
PAPER_PROPORTIONS = {
    "synthqa_per_sft": "≈ 6–200 (6B SynthQA; SFT not published, plausibly 0.03–1B)",
    "sft_per_cpt": "≈ 0.0001–0.003",
    "cpt_per_pretrain": "300B / 2T (Llama-2) ≈ 0.15",
    "unlearn_per_cpt": "0.0033",
    "synthqa_share": "0.02",
}


def proportions(r02_arms: list[dict], pretrain_tokens: int | None, cost_rows: list[dict],
                method: str = "unlearned:bounded") -> list[dict]:
    """The recorded run's token proportions next to the paper's: SynthQA / SFT (every SFT token, no padding — the
    loss tokens, the replies alone, are fewer, so this ratio is a lower bound), SFT / CPT, CPT / pre-training,
    unlearning / CPT and the SynthQA share; from notebook 02's arms and notebook 04's cost table."""
    syn = next(a for a in r02_arms if a["arm"] == "synthetic")
    cpt, share, sft = syn["cpt_info"]["tokens"], syn["cpt_info"]["synth_token_share"], syn["sft_info"]["tokens"]
    unlearn = next((c["tokens"] for c in cost_rows if c["what"] == method), None)
    rows = [("SynthQA / SFT (all SFT tokens: a lower bound)", cpt * share / sft, "synthqa_per_sft"),
            ("SFT / CPT", sft / cpt, "sft_per_cpt"),
            ("CPT / pre-training", cpt / pretrain_tokens if pretrain_tokens else None, "cpt_per_pretrain"),
            (f"unlearning ({method.split(':')[-1]}) / CPT", unlearn / cpt if unlearn else None, "unlearn_per_cpt"),
            ("SynthQA share of CPT", share, "synthqa_share")]
    return [{"ratio": name, "here": here, "paper": PAPER_PROPORTIONS[key]} for name, here, key in rows]


#: Parameter counts of base models the profiles name (N in 6·N·tokens).
PARAMETERS = {"HuggingFaceTB/SmolLM2-1.7B": 1_711_376_384, "smollm2-135m-instruct": 134_515_008}


@dataclass(frozen=True)
class GPU:
    """A GPU's dense bf16 peak (FLOP/s), the utilisation training reaches on it, and batched greedy generation speed
    for a ~2B model (new tokens/s over a batch). Defaults: an H100 SXM at 40 % MFU; generation with HF `generate`."""

    name: str = "H100 SXM"
    peak_bf16_flops: float = 989e12
    mfu: float = 0.40
    generation_tokens_per_s: float = 2000.0


def gpu_hours(profile, parameters: int | None = None, gpu: GPU = GPU(), sft_tokens_per_example: int = 300,
              reply_tokens: int | None = None) -> list[dict]:
    """Per phase of `profile` (every arm, seed and unlearning method its notebooks run): tokens and GPU hours.

    `sft_tokens_per_example`: mean unpadded SFT example length; `reply_tokens`: mean IFEval reply length (default:
    half the profile's max_new_tokens)."""
    n = parameters or PARAMETERS[profile.base_model]
    cpt = profile.cpt.train.tokens
    sft = profile.sft.train.max_steps * profile.sft.train.batch_size * sft_tokens_per_example
    unlearn = profile.unlearn.budget_fraction * cpt
    n_arms = len(arm_jobs(profile))  # the very jobs notebooks 02 and 04 run
    n_unlearned = len(unlearning_jobs(profile))
    n_eval = n_arms + n_unlearned + 1  # every SFT model and the base
    prompts = profile.eval.ifeval_prompts or 541
    reply = reply_tokens or profile.eval.max_new_tokens // 2
    rows = [("CPT (reference and synthetic arms, every seed; sweep arms)", (n_arms - profile.dilution_seeds) * cpt),
            ("dilution (another CPT's worth of NonSynth)", profile.dilution_seeds * profile.cpt.dilution_steps
             * profile.cpt.train.batch_size * profile.cpt.train.block_size),
            ("SFT (every arm and unlearned model)", (n_arms + n_unlearned) * sft),
            ("unlearning (every method; θ₀ forward for KL counted as training)", n_unlearned * unlearn)]
    flops_per_s = gpu.peak_bf16_flops * gpu.mfu
    out = [{"phase": what, "tokens": tokens, "gpu_hours": 6 * n * tokens / flops_per_s / 3600} for what, tokens in rows]
    gen = (n_eval * prompts + (n_arms + n_unlearned) * (profile.eval.probe_prompts or 0)) * reply
    out.append({"phase": f"IFEval replies ({prompts} prompts after SFT, probe before; {n_eval} models)",
                "tokens": gen, "gpu_hours": gen / gpu.generation_tokens_per_s / 3600})
    out.append({"phase": "total", "tokens": sum(r["tokens"] for r in out),
                "gpu_hours": sum(r["gpu_hours"] for r in out)})
    return out


def cost_table(r02_arms: list[dict], unlearn_rows: list[dict]) -> list[dict]:
    """Tokens and wall seconds of CPT (synthetic arm), the dilution arm's extra training, and each unlearning run;
    `share_of_cpt_tokens` = tokens / synthetic CPT tokens (the paper: unlearning ≈ 0.33 %, dilution 100 %)."""
    syn = [a for a in r02_arms if a["arm"] == "synthetic"]
    cpt_tokens = float(np.mean([a["cpt_info"]["tokens"] for a in syn]))
    rows = [{"what": "CPT, synthetic arm", "tokens": cpt_tokens,
             "seconds": float(np.mean([a["cpt_info"]["train_seconds_this_run"] for a in syn]))}]
    dil = [a for a in r02_arms if a["arm"] == "dilution"]
    if dil:
        rows.append({"what": "dilution (extra NonSynth after synthetic CPT)",
                     "tokens": float(np.mean([a["cpt_info"]["tokens"] for a in dil])),
                     "seconds": float(np.mean([a["cpt_info"]["train_seconds_this_run"] for a in dil]))})
    for method in dict.fromkeys(r["arm"] for r in unlearn_rows):
        sel = [r["unlearn_info"] for r in unlearn_rows if r["arm"] == method]
        rows.append({"what": method, "tokens": float(np.mean([i["tokens"] for i in sel])),
                     "seconds": float(np.mean([i["train_seconds_this_run"] for i in sel]))})
    for r in rows:
        r["share_of_cpt_tokens"] = r["tokens"] / cpt_tokens
    return rows
