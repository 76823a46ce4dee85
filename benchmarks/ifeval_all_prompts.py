"""Probe (not a test): the pretrained track's SFT models on all 541 IFEval prompts, with *paired* comparisons.

A cheaper look at claims 3-4 than `make repro-pretrained-verdicts` (which re-runs notebooks 03-05 on all 541 prompts
for every arm: ~2 h on the 2-core CPU). It reuses the checkpoints `make repro-pretrained` recorded in
runs/pretrained/02_pretrain_cpt_sft.json and 04_unlearning.json, generates with the profile's evaluation settings
(greedy, <= 256 new tokens, bf16 where the CPU is fast at it) and scores with `evaluation.suites.evaluate_ifeval`. Models are
evaluated in the order given and the JSON is rewritten after each one, so a run stopped early keeps what it finished.

Every model answers the same 541 prompts, so differences are paired: per prompt d_i = y_i - x_i (prompt-level strict,
1 = every instruction followed); SE = std(d_i) / sqrt(541) per seed; over seeds the larger of that (on the per-prompt
differences averaged over seeds) and the seed-spread SE; verdicts with the project's 2-SE rule (`evaluate.verdict`).

    .venv/bin/python benchmarks/ifeval_all_prompts.py --models reference:0 synthetic:0 unlearned:bounded:0 ...
    .venv/bin/python benchmarks/ifeval_all_prompts.py --summary      # comparisons from what the JSON holds
    .venv/bin/python benchmarks/ifeval_all_prompts.py --recorded     # the same paired comparisons on the prompts
                                                                     # notebooks 03-04 evaluated (no model is run)
"""
import argparse
import json
import math

import numpy as np

from synthrepro.config import get_profile, resolve_path
from synthrepro.evaluation import stats as ev
from synthrepro.evaluation.suites import evaluate_ifeval
from synthrepro.models import smollm2 as pretrained
from synthrepro.records import results

COMPARISONS = (("claim 3: synthetic below reference", "reference", "synthetic", -1),
               ("claim 4: unlearned above synthetic", "synthetic", "unlearned:bounded", +1),
               ("claim 4: unlearned vs reference (restored = not below)", "reference", "unlearned:bounded", +1))


def _recorded_rows(*sources: tuple[str, str]) -> list[dict]:
    """The rows under each (notebook, key) the pretrained profile recorded; the first must exist, later ones may not
    yet (notebook 04 runs after 02-03)."""
    rows = []
    for i, (nb, key) in enumerate(sources):
        try:
            rows += results.load("pretrained", nb)[key]
        except FileNotFoundError:
            if i == 0:
                raise
    return rows


def checkpoints() -> dict[str, str]:
    """'arm:seed' -> the recorded SFT checkpoint, for every arm of notebooks 02 and 04."""
    return {f"{r['arm']}:{r['seed']}": r["sft"]
            for r in _recorded_rows(("02_pretrain_cpt_sft", "arms"), ("04_unlearning", "rows"))}


def recorded() -> dict:
    """'arm:seed' -> the IFEval record (with per-prompt outcomes) after SFT, as notebooks 03 and 04 recorded it."""
    return {f"{e['arm']}:{e['seed']}": {**e["sft"]["following"]["ifeval"], "per_prompt": e["sft"]["following"]["per_prompt"]}
            for e in _recorded_rows(("03_overfitting_analysis", "evals"), ("04_unlearning", "evals"))}


def paired(rec: dict, a: str, b: str, seeds: list[int], expected: int) -> dict | None:
    """Paired prompt-level strict difference b - a over the seeds both were evaluated on (None if none)."""
    seeds = [s for s in seeds if f"{a}:{s}" in rec and f"{b}:{s}" in rec]
    if not seeds:
        return None
    outcome = lambda key: np.array([all(p["strict"]) for p in rec[key]["per_prompt"]], float)  # noqa: E731
    d = np.stack([outcome(f"{b}:{s}") - outcome(f"{a}:{s}") for s in seeds])  # seeds x prompts
    per_seed = d.mean(axis=1)
    prompt_se = float(d.mean(axis=0).std(ddof=1) / math.sqrt(d.shape[1]))
    seed_se = float(per_seed.std(ddof=1) / math.sqrt(len(seeds))) if len(seeds) > 1 else 0.0
    eff = {"diff": float(per_seed.mean()), "se": max(prompt_se, seed_se), "prompt_se": prompt_se, "seed_se": seed_se,
           "per_seed": {str(s): float(v) for s, v in zip(seeds, per_seed)}, "seeds": seeds,
           "a_only": int((d < 0).sum()), "b_only": int((d > 0).sum()), "n_prompts": int(d.shape[1])}
    eff["verdict"] = ev.verdict(eff, expected)
    return eff


def summary(rec: dict) -> dict:
    seeds = sorted({int(k.rsplit(":", 1)[1]) for k in rec if k != "base"})
    table = {k: {m: v[m]["accuracy"] for m in ("prompt_strict", "instruction_strict", "prompt_loose", "leak_rate")}
             for k, v in sorted(rec.items())}
    comps = {name: paired(rec, a, b, seeds, sign) for name, a, b, sign in COMPARISONS}
    return {"models": table, "comparisons": {k: v for k, v in comps.items() if v is not None}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=[], metavar="ARM:SEED",
                        help="in this order, e.g. reference:0 synthetic:0 unlearned:bounded:0 ('base': SmolLM2 itself)")
    parser.add_argument("--summary", action="store_true", help="only print the paired comparisons of the JSON")
    parser.add_argument("--recorded", action="store_true",
                        help="paired comparisons on the recorded evaluations of notebooks 03-04 (no generation)")
    parser.add_argument("--out", default=None, help="JSON path (default runs/pretrained/ifeval_all_prompts.json)")
    args = parser.parse_args()
    cfg = get_profile("pretrained")
    out = resolve_path(args.out) if args.out else cfg.run_dir() / "ifeval_all_prompts.json"
    if args.recorded:
        out = cfg.run_dir() / "ifeval_recorded.json"
        rec = recorded()
    else:
        rec = json.loads(out.read_text()) if out.exists() else {}
    if not (args.summary or args.recorded):
        known = checkpoints()
        missing = [m for m in args.models if m not in known and m != "base"]
        if missing:
            raise SystemExit(f"no recorded checkpoint for {missing}; known: {sorted(known)} "
                             "(run `make repro-pretrained` first)")
        e = cfg.eval
        for m in args.models:
            path = pretrained.ensure_checkpoint() if m == "base" else resolve_path(known[m])
            res = evaluate_ifeval(path, n_prompts=None, max_new_tokens=e.max_new_tokens,
                                             batch_size=e.batch_size, bf16=e.generation_bf16)
            res["checkpoint"] = str(path)
            rec[m] = res
            results.write_json_atomic(out, rec)
            print(f"{m}: prompt strict {res['prompt_strict']['accuracy']:.3f}, instruction strict "
                  f"{res['instruction_strict']['accuracy']:.3f}, leak {res['leak_rate']['accuracy']:.3f} "
                  f"({res['generation_seconds']:.0f} s)", flush=True)
    s = summary(rec)
    print(json.dumps(s, indent=1))
    results.write_json_atomic(out.with_name(out.stem + "_summary.json"), s)
    print(f"written {out.with_name(out.stem + '_summary.json')}")


if __name__ == "__main__":
    main()
