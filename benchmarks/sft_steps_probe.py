"""Equal-wall-time probe (not a test): SFT with length-grouped batches for 800 steps, HSR/SSR at step 400 and 800,
seed 0, from the default run's CPT checkpoints. Run from the repository root after `make repro`; prints one line per
(arm, point) and writes /tmp/sft_probe.json."""
import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import dataclasses, json, time
from pathlib import Path
from synthrepro.config import get_profile
from synthrepro.training import sft
from synthrepro.data import load_world
from synthrepro.models.loading import load_model
from synthrepro.models.tokenizer import load_tokenizer
from synthrepro.evaluation.following import instruction_metrics
from synthrepro.config import resolve_path
from synthrepro.records import results
prof = get_profile("default")
r02 = results.load("default", "02_pretrain_cpt_sft")
data_dir = resolve_path(r02["data_dir"])
ds, _ = load_world(data_dir)
rows = list(ds["ifeval"])
out = {}
for arm in ("reference", "synthetic"):
    row = next(r for r in r02["arms"] if r["arm"] == arm and r["seed"] == 0)
    for name, steps, sampling in (("grouped-800", 800, "group_by_length"),):
        cfg = dataclasses.replace(prof.sft, checkpoint_steps=(400,), train=dataclasses.replace(prof.sft.train, max_steps=steps, sampling=sampling))
        t = time.perf_counter()
        final = sft(resolve_path(row["cpt"]), data_dir, prof.run_dir(), cfg, 0)
        secs = time.perf_counter() - t
        for label, path in ((f"{name}@400", final.parent / "steps" / "step-400"), (name, final)):
            f, _ = instruction_metrics(load_model(path), load_tokenizer(path), rows, 80)
            out[f"{arm} {label}"] = {"hsr": f["hsr"], "ssr": f["ssr"], "sft_seconds": round(secs, 1)}
            print(arm, label, out[f"{arm} {label}"], flush=True)
json.dump(out, open("/tmp/sft_probe.json", "w"), indent=1)
