"""Benchmark (not a test): the pretrained track's two costly kernels in fp32 and in bf16 on this CPU — a CPT
training step of SmolLM2-135M-Instruct (AdamW, batch 8 × 128 as the profile's CPT; bf16 = autocast, as
`TrainConfig.precision="bf16"`) and greedy IFEval generation (replies ≤ 128 tokens, token budget 16,384; bf16 = a
bfloat16 copy, as `EvalConfig.generation_bf16`): tokens/s, and how many bf16 replies are the fp32 replies.

    .venv/bin/python benchmarks/pretrained_precision.py --steps 4 --prompts 32 [--out FILE]

It says what `bf16 where the CPU has it` would buy the pretrained track (whose committed numbers are fp32, so that
they do not depend on the machine) and what it would change. On a CPU without AVX-512 BF16/AMX, bf16 is slow.
"""
from __future__ import annotations

import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import json
import time

import torch

from synthrepro.data.shipped import load_ifeval_prompts
from synthrepro.evaluation.ifeval import score
from synthrepro.models.generation import generate
from synthrepro.models.loading import bf16_supported, generation_model, load_model
from synthrepro.models.smollm2 import resolve_base
from synthrepro.models.tokenizer import load_tokenizer
from synthrepro.records.results import write_json_atomic
from train_throughput import bare_loop  # benchmarks/ is on the path when this runs as a script


def train_tokens_per_s(path, steps: int, bf16: bool, batch: int = 8, block: int = 128) -> float:
    """Tokens/s of `steps` AdamW steps on random tokens after one warm-up step, fresh weights each call
    (`train_throughput.bare_loop`, the loop that benchmark times)."""
    model = load_model(path)
    torch.manual_seed(0)
    blocks = torch.randint(0, model.config.vocab_size, ((steps + 1) * batch, block))
    return bare_loop(model, blocks, steps, batch, 1e-4, 1, bf16)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    path = resolve_base("smollm2-135m-instruct")
    out = {"threads": torch.get_num_threads(), "fast_bf16_hardware": bf16_supported(), "train": {}, "generation": {}}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        out["train"][f"{name}_tokens_per_s"] = round(train_tokens_per_s(path, a.steps, bf16), 1)
        print(json.dumps(out["train"]), flush=True)
    model, tok = load_model(path), load_tokenizer(path)
    rows = load_ifeval_prompts(a.prompts, 0)
    prompts = [r["prompt"] for r in rows]
    replies = {}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        m = generation_model(model, bf16)
        t0 = time.perf_counter()
        replies[name] = generate(m, tok, prompts, 128, 100, batch_tokens=16384)
        seconds = time.perf_counter() - t0
        new = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies[name])
        strict = score(rows, replies[name], modes=("strict",))["prompt_strict"]["correct"]
        out["generation"][name] = {"seconds": round(seconds, 1), "new_tokens_per_s": round(new / seconds, 1),
                                   "prompt_strict": strict}
        print(json.dumps(out["generation"]), flush=True)
    out["generation"]["identical_replies"] = sum(x == y for x, y in zip(replies["fp32"], replies["bf16"]))
    out["generation"]["prompts"] = len(prompts)
    out["train"]["bf16_over_fp32"] = round(out["train"]["bf16_tokens_per_s"] / out["train"]["fp32_tokens_per_s"], 2)
    gen = out["generation"]
    gen["bf16_over_fp32"] = round(gen["fp32"]["seconds"] / gen["bf16"]["seconds"], 2)
    print(json.dumps(out, indent=1))
    if a.out:
        write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
