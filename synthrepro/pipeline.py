"""Run every pipeline notebook that exists, in order, with papermill (`make repro` calls this)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .config import get_profile, repo_root

NOTEBOOKS = ("01_data_synthesis", "02_pretrain_cpt_sft", "03_overfitting_analysis", "04_unlearning", "05_figures")


def run(profile: str, parameters: dict | None = None, only: list[str] | None = None) -> list[Path]:
    """Execute the notebooks under notebooks/ in order; executed copies go to runs/<profile>/notebooks/."""
    import papermill as pm

    cfg = get_profile(profile)
    src = repo_root() / "notebooks"
    out_dir = cfg.run_dir() / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name in NOTEBOOKS:
        path = src / f"{name}.ipynb"
        if not path.exists() or (only and name not in only):
            continue
        t0 = time.perf_counter()
        print(f"== {name} (profile {profile})", flush=True)
        pm.execute_notebook(str(path), str(out_dir / path.name), parameters={"PROFILE": profile, **(parameters or {})},
                            cwd=str(src), progress_bar=False, log_output=True, kernel_name="python3")
        print(f"== {name} done in {time.perf_counter() - t0:.0f} s -> {out_dir / path.name}", flush=True)
        done.append(out_dir / path.name)
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--only", nargs="*", help="notebook names to run (default: all that exist)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    done = run(args.profile, only=args.only)
    print(f"ran {len(done)} notebook(s) in {time.perf_counter() - t0:.0f} s; results JSON under "
          f"{get_profile(args.profile).run_dir()}, figures under {get_profile(args.profile).figures_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
