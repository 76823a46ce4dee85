"""Probe (not a test): the pretrained track's SFT models on all 541 IFEval prompts, paired per prompt.

A cheaper look at claims 3-4 than `make repro-pretrained-verdicts` (which re-runs notebooks 03-05 on all 541 prompts:
every likelihood, probe and map again, and SmolLM2 itself). It reuses the checkpoints `make repro-pretrained` recorded
in runs/pretrained/02_pretrain_cpt_sft.json and 04_unlearning.json and generates with the profile's evaluation settings
(`instruction_metrics` on the profile's EvalConfig with all 541 prompts: greedy, its reply length, precision and
batching). Models are evaluated in the order given and the JSON is rewritten after each one, so a run stopped early
keeps what it finished.

Every model answers the same 541 prompts, so differences are paired per prompt within each seed
(`stats.paired_effect`: SE the larger of the pooled paired SE and the seed-spread SE; MDE = 2 SE) with the project's
2-SE rule (`stats.verdict`).

    .venv/bin/python benchmarks/ifeval_all_prompts.py --models reference:0 synthetic:0 unlearned:bounded:0 ...
    .venv/bin/python benchmarks/ifeval_all_prompts.py --summary      # comparisons from what the JSON holds
    .venv/bin/python benchmarks/ifeval_all_prompts.py --recorded     # the same paired comparisons on the prompts
                                                                     # notebooks 03-04 evaluated (no model is run)
"""
import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import dataclasses
import json
import time

from synthrepro.config import get_profile, resolve_path
from synthrepro.evaluation import stats
from synthrepro.evaluation.following import instruction_metrics
from synthrepro.evaluation.following import per_prompt_outcomes
from synthrepro.evaluation.suites import leaked_replies, make_suite
from synthrepro.models import load_model, load_tokenizer
from synthrepro.models import smollm2 as pretrained
from synthrepro.records import results

#: (name, first, second, expected sign of second − first, outcome)
COMPARISONS = (("claim 3: synthetic below reference", "reference", "synthetic", -1, "hard"),
               ("claim 4: unlearned above synthetic", "synthetic", "unlearned:bounded", +1, "hard"),
               ("claim 4: unlearned vs reference (restored = not below)", "reference", "unlearned:bounded", +1, "hard"),
               ("leakage: synthetic above reference", "reference", "synthetic", +1, "leak"),
               ("leakage: unlearned below synthetic", "synthetic", "unlearned:bounded", -1, "leak"))


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
    return {f"{e['arm']}:{e['seed']}": {**e["sft"]["following"]["ifeval"],
                                        "per_prompt": e["sft"]["following"]["per_prompt"]}
            for e in _recorded_rows(("03_overfitting_analysis", "evals"), ("04_unlearning", "evals"))}


def summary(rec: dict) -> dict:
    """Per model its rates; per comparison `stats.paired_effect` over the seeds both models were evaluated on, with
    the verdict for its expected sign."""
    table = {k: {m: v[m]["accuracy"] for m in ("prompt_strict", "instruction_strict", "prompt_loose", "leak_rate")}
             for k, v in sorted(rec.items())}
    comps = {}
    for name, a, b, sign, outcome in COMPARISONS:
        per = {arm: {int(k.rsplit(":", 1)[1]): per_prompt_outcomes(v["per_prompt"])[outcome]
                     for k, v in rec.items() if k.rsplit(":", 1)[0] == arm} for arm in (a, b)}
        if set(per[a]) & set(per[b]):
            eff = stats.paired_effect(per[a], per[b])
            comps[name] = {**eff, "verdict": stats.verdict(eff, sign), "first": a, "second": b, "outcome": outcome}
    return {"models": table, "comparisons": comps}


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
        ecfg = dataclasses.replace(cfg.eval, ifeval_prompts=None)
        suite = make_suite(ecfg)
        for m in args.models:
            path = pretrained.ensure_checkpoint() if m == "base" else resolve_path(known[m])
            t0 = time.perf_counter()
            follow, replies = instruction_metrics(load_model(path), load_tokenizer(path), suite, ecfg)
            leaked = leaked_replies(suite.prompts, replies, per_prompt_outcomes(follow["per_prompt"]))
            rec[m] = {**follow["ifeval"], "per_prompt": follow["per_prompt"], "leaked": leaked,
                      "checkpoint": str(path), "generation_seconds": round(time.perf_counter() - t0, 1),
                      "eval_config": dataclasses.asdict(ecfg)}
            results.write_json_atomic(out, rec)
            print(f"{m}: prompt strict {rec[m]['prompt_strict']['accuracy']:.3f}, instruction strict "
                  f"{rec[m]['instruction_strict']['accuracy']:.3f}, leak {rec[m]['leak_rate']['accuracy']:.3f} "
                  f"({rec[m]['generation_seconds']:.0f} s)", flush=True)
    s = summary(rec)
    print(json.dumps(s, indent=1))
    results.write_json_atomic(out.with_name(out.stem + "_summary.json"), s)
    print(f"written {out.with_name(out.stem + '_summary.json')}")


if __name__ == "__main__":
    main()
