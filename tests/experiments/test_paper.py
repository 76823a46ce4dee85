"""The `paper` profile's code path, offline, at a tiny size (`paper_tiny`: the same profile builder, functions and
accelerate configs as `paper`; a tiny Llama and local stand-in datasets instead of the hub's)."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from synthrepro.evaluation import harness
from synthrepro.config import get_profile, repo_root
from synthrepro.config import resolve_path

ROOT = repo_root()


def _run(cmd: list[str]) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    failed = [line for line in res.stderr.splitlines() if line.startswith("[rank")][:80]  # each rank's traceback
    assert res.returncode == 0, res.stdout[-2000:] + "\n".join(failed) + "\n" + res.stderr[-2000:]
    return res.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_paper_profile_trains_every_stage_through_the_gpu_users_commands(tmp_path):
    """Every arm data-parallel on 2 CPU processes (torchrun: the DDP path the Trainer takes under `accelerate launch`
    on GPUs), then every unlearning method through `accelerate launch` with the shipped CPU config; notebooks 01–02
    reuse those stages; the lm-eval harness finds every checkpoint to score."""
    train = ["-m", "synthrepro.cli", "train", "--profile", "paper_tiny"]
    arms = json.loads(_run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", *train,
                            "--stage", "arms"]))
    assert {r["arm"] for r in arms} == {"reference", "synthetic", "dilution"}
    cfg = get_profile("paper_tiny")
    stages = cfg.run_dir() / "stages"
    synthetic = [json.loads(p.read_text()) for p in stages.glob("cpt_synthetic-*/stage.json")]
    assert synthetic and all(s["synth_ratio"] == 0.02 and s["processes"] == 2 for s in synthetic)
    unlearned = json.loads(_run([sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                                 str(ROOT / "configs" / "accelerate" / "ddp_cpu.yaml"), *train, "--stage", "unlearn"]))
    assert {r["arm"] for r in unlearned} == {f"unlearned:{m}" for m in cfg.methods}
    info = json.loads(next(stages.glob("unlearn_bounded-*/stage.json")).read_text())
    assert info["budget_fraction"] == 0.0033 and info["steps"] >= 1

    import papermill as pm
    for name in ("01_data_synthesis", "02_pretrain_cpt_sft", "03_overfitting_analysis", "04_unlearning",
                 "05_figures"):  # 02 and 04 reuse the stages trained above
        pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters={"PROFILE": "paper_tiny", "MAP_SAMPLES": 20} if name.startswith("01")
                            else {"PROFILE": "paper_tiny"}, cwd=str(ROOT / "notebooks"), kernel_name="python3",
                            progress_bar=False)
    r02 = json.loads((cfg.run_dir() / "02_pretrain_cpt_sft.json").read_text())
    assert {str(resolve_path(r["sft"])) for r in r02["arms"]} == {r["sft"] for r in arms}  # the very same stages
    jobs = harness.jobs("paper_tiny", ("mmlu", "ifeval"))
    assert len(jobs) == 2 * (len(r02["arms"]) + len(cfg.methods))
    for _, _, task, ckpt in jobs:  # the benchmark on the model before SFT, instruction following after it
        assert ckpt.exists() and (ckpt.parent.name.startswith(("cpt_", "unlearn_")) if task == "mmlu"
                                  else ckpt.parent.name.startswith("sft-"))
    r04 = json.loads((cfg.run_dir() / "04_unlearning.json").read_text())
    assert {str(resolve_path(r["sft"])) for r in r04["rows"]} == {r["sft"] for r in unlearned}  # reused, not retrained
    report = (cfg.run_dir() / "REPORT.md").read_text()  # the one report template, on the paper track
    assert "# The paper profile" in report and "IFEval after the identical SFT" in report
    assert json.loads((cfg.figures_dir() / "results.json").read_text())["tracks"]["paper"]["arms"]


def test_lm_eval_arguments_and_a_clear_error_without_it():
    args = harness.lm_eval_arguments("runs/x/final", "ifeval", limit=5)
    assert args["model"] == "hf" and args["tasks"] == ["ifeval"] and args["apply_chat_template"] is True
    assert "pretrained=runs/x/final,dtype=bfloat16" == args["model_args"] and args["limit"] == 5
    assert "apply_chat_template" not in harness.lm_eval_arguments("m", "mmlu")
    if importlib.util.find_spec("lm_eval") is None:
        with pytest.raises(ModuleNotFoundError, match="pip install lm-eval"):
            harness.evaluate_checkpoint("runs/x/final", "mmlu")
    with pytest.raises(ValueError, match="unknown task"):
        harness.jobs("paper_tiny", ("hellaswag",))


def test_gpu_hours_follow_the_token_budgets():
    """The estimate is 6·N·tokens at the GPU's assumed rate: CPT of both arms on every seed, twice the rate halves
    it, and the total adds the phases."""
    from synthrepro.experiments.costs import GPU, PARAMETERS, gpu_hours
    paper = get_profile("paper")
    rows = gpu_hours(paper)
    assert rows[0]["tokens"] == 2 * len(paper.seeds) * paper.cpt.train.tokens
    n = PARAMETERS[paper.base_model]
    assert rows[0]["gpu_hours"] == pytest.approx(6 * n * rows[0]["tokens"] / (989e12 * 0.4) / 3600)
    assert gpu_hours(paper, gpu=GPU(mfu=0.8))[0]["gpu_hours"] == pytest.approx(rows[0]["gpu_hours"] / 2)
    assert rows[-1]["gpu_hours"] == pytest.approx(sum(r["gpu_hours"] for r in rows[:-1]))
