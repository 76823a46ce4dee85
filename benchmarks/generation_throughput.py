"""Benchmark (not a test): new tokens/s of the batched evaluator (`evaluate.generate`, left padding, KV cache)
against calling `generate` one prompt at a time, same model and prompts; and the wall time of evaluating one
arm (benchmark both forms, NLLs, generation on the whole suite) at the profile's size.

    .venv/bin/python benchmarks/generation_throughput.py --profile default --prompts 64

Needs notebook 02's checkpoints for the profile (`make repro` or notebook 02 first).
"""
from __future__ import annotations

import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import dataclasses
import json
import time

from synthrepro.config import get_profile, resolve_path
from synthrepro.models import generation as ev
from synthrepro.records import results
from synthrepro.data import load_world
from synthrepro.models.loading import load_model
from synthrepro.experiments.arm_evaluation import evaluate_arm
from synthrepro.models.tokenizer import load_tokenizer


def new_tokens(tok, texts: list[str]) -> int:
    return sum(len(tok(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)  # +1: the stop token


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: the profile's eval.max_new_tokens")
    a = ap.parse_args()
    ecfg = get_profile(a.profile).eval
    ecfg = dataclasses.replace(ecfg, max_new_tokens=a.max_new_tokens or ecfg.max_new_tokens)
    a.max_new_tokens = ecfg.max_new_tokens
    r02 = results.load(a.profile, "02_pretrain_cpt_sft")
    ds, _ = load_world(resolve_path(r02["data_dir"]))
    arm = r02["arms"][0]
    path = resolve_path(arm["sft"])
    model, tok = load_model(path), load_tokenizer(path)
    prompts = list(ds["ifeval"]["prompt"])[: a.prompts]
    out = {"profile": a.profile, "prompts": len(prompts), "max_new_tokens": a.max_new_tokens}
    t0 = time.perf_counter()
    batched = ev.generate(model, tok, prompts, a.max_new_tokens, batch_size=len(prompts))
    out["batched_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = [ev.generate(model, tok, [p], a.max_new_tokens, batch_size=1)[0] for p in prompts]
    out["one_at_a_time_s"] = time.perf_counter() - t0
    out["batched_new_tokens_per_s"] = new_tokens(tok, batched) / out["batched_s"]
    out["one_at_a_time_new_tokens_per_s"] = new_tokens(tok, single) / out["one_at_a_time_s"]
    out["speedup"] = out["batched_new_tokens_per_s"] / out["one_at_a_time_new_tokens_per_s"]
    out["same_text"] = sum(x == y for x, y in zip(batched, single)) / len(prompts)
    t0 = time.perf_counter()
    evaluate_arm(arm, ds, ecfg, curve=False)
    out["evaluate_one_arm_s"] = time.perf_counter() - t0
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=2))


if __name__ == "__main__":
    main()
