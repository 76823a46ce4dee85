"""Benchmark (not a test): generation with fixed batches against batches by a token budget
(`models.generation_batches`, `EvalConfig.batch_tokens`), same model, same prompts, one process: wall seconds, the
padded prompt tokens each batching prefills, new tokens/s, how many replies are identical and IFEval's prompt-level
strict accuracy for each.

    .venv/bin/python benchmarks/generation_batching.py --prompts 200 --budgets 16384 [--model DIR] [--out FILE]

Default model: the shipped SmolLM2-135M-Instruct (no download); IFEval prompts: the seeded subset the pretrained
witness evaluates, in the order notebook 06 generates them (sorted by length in characters).
"""
from __future__ import annotations

import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import json
import time

from synthrepro.data.shipped import load_ifeval_prompts
from synthrepro.evaluation.ifeval import score
from synthrepro.models.generation import generate, generation_batches, prompt_lengths
from synthrepro.models.tokenizer import prompt_texts
from synthrepro.models.loading import load_model
from synthrepro.models.smollm2 import resolve_base
from synthrepro.models.tokenizer import load_tokenizer
from synthrepro.records.results import write_json_atomic


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="a checkpoint directory (default: the shipped SmolLM2)")
    ap.add_argument("--prompts", type=int, default=200)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--budgets", type=int, nargs="+", default=[16384])
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    path = a.model or resolve_base("smollm2-135m-instruct")
    model, tok = load_model(path), load_tokenizer(path)
    rows = sorted(load_ifeval_prompts(a.prompts, 0), key=lambda r: len(r["prompt"]))
    prompts = [r["prompt"] for r in rows]
    lengths = prompt_lengths(tok, prompt_texts(tok, prompts))
    out = {"model": str(a.model or "smollm2-135m-instruct"), "prompts": len(prompts), "batch_size": a.batch_size,
           "max_new_tokens": a.max_new_tokens, "real_prompt_tokens": sum(lengths), "longest_prompt": max(lengths),
           "runs": {}}
    first = None
    for budget in [None, *a.budgets]:
        batches = generation_batches(lengths, a.batch_size, a.max_new_tokens, budget)
        t0 = time.perf_counter()
        replies = generate(model, tok, prompts, a.max_new_tokens, a.batch_size, batch_tokens=budget)
        seconds = time.perf_counter() - t0
        first = first or replies
        new = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies)
        out["runs"]["fixed" if budget is None else f"budget {budget}"] = {
            "seconds": round(seconds, 1), "batches": len(batches),
            "padded_prompt_tokens": sum(len(b) * max(lengths[i] for i in b) for b in batches),
            "new_tokens_per_s": round(new / seconds, 1), "identical_replies": sum(x == y for x, y in zip(first, replies)),
            "prompt_strict": score(rows, replies, modes=("strict",))["prompt_strict"]["correct"]}
        print(json.dumps(out["runs"], indent=1), flush=True)
    if a.out:
        write_json_atomic(a.out, out)


if __name__ == "__main__":
    main()
