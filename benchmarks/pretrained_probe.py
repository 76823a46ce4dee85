"""Probe (not a test): SmolLM2-135M-Instruct before and after continued training on the world's biographies
(reference) or biographies + 50 % uniform Q-A pairs (synthetic), one seed, IFEval on a seeded subset, with the
Q-A leakage rate in replies. Uses the library's stages unchanged. Writes JSON to the path given (default
runs/pretrained_probe.json).

    .venv/bin/python benchmarks/pretrained_probe.py --steps 24 --prompts 48
    .venv/bin/python benchmarks/pretrained_probe.py --arms synthetic --steps 48 --lr 2e-4 --prompts 32   # a dose pilot
"""
import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import json
import time

from synthrepro.evaluation.suites import evaluate_ifeval
from synthrepro.models import smollm2 as pretrained
from synthrepro.records import results
from synthrepro.config import CPTConfig, TrainConfig, get_profile, repo_root
from synthrepro.data import ensure_world
from synthrepro.training import cpt, stage_info

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--steps", type=int, default=24)
parser.add_argument("--batch", type=int, default=8)
parser.add_argument("--block", type=int, default=128)
parser.add_argument("--ratio", type=float, default=0.5)
parser.add_argument("--separator", default="<|endoftext|>")
parser.add_argument("--lr", type=float, default=3e-5)
parser.add_argument("--arms", nargs="+", default=["base", "reference", "synthetic"],
                    choices=["base", "reference", "synthetic"])
parser.add_argument("--prompts", type=int, default=48)
parser.add_argument("--max-new-tokens", type=int, default=192)
parser.add_argument("--gen-batch", type=int, default=32, help="prompts generated together (batched, KV cache)")
parser.add_argument("--out", default=str(repo_root() / "runs" / "pretrained_probe.json"))
args = parser.parse_args()

run_dir = repo_root() / "runs" / "pretrained_probe"
data_dir, _, _ = ensure_world(get_profile("smoke").data, run_dir)  # 100 people: biographies and Q-A pairs
base = pretrained.ensure_checkpoint()
tcfg = TrainConfig(max_steps=args.steps, batch_size=args.batch, block_size=args.block, lr=args.lr, warmup_steps=2,
                   save_steps=args.steps, log_steps=4)
cfg = CPTConfig(synth_ratio=args.ratio, separator=args.separator, train=tcfg)
out = {"args": vars(args), "arms": {}}
for arm, path in ((a, base if a == "base" else None) for a in args.arms):
    t0 = time.perf_counter()
    path = path or cpt(arm, base, data_dir, run_dir, cfg, seed=0)
    info = stage_info(path.parent) if arm != "base" else {}
    res = evaluate_ifeval(path, n_prompts=args.prompts, max_new_tokens=args.max_new_tokens,
                          batch_size=args.gen_batch)
    out["arms"][arm] = {"cpt_tokens": info.get("tokens"), "cpt_tokens_per_s": info.get("tokens_per_s"),
                        "synth_token_share": info.get("synth_token_share"), "seconds": round(time.perf_counter() - t0),
                        **{k: res[k] for k in ("prompt_strict", "prompt_loose", "instruction_strict",
                                               "instruction_loose", "leak_rate", "new_tokens_per_s")},
                        "leaking_replies": [r for r, p in zip(res["replies"], res["per_prompt"]) if p["leak"]][:5]}
    a = out["arms"][arm]
    print(f"{arm}: prompt strict {a['prompt_strict']['accuracy']:.3f} {a['prompt_strict']['ci95']}, leak "
          f"{a['leak_rate']['correct']}/{a['leak_rate']['total']}, {a['seconds']} s", flush=True)
results.write_json_atomic(args.out, out)
print("wrote", args.out)
