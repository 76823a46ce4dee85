"""Nothing wrong is ever reused, and an interrupted stage resumes exactly.

Kill-and-resume: a stage killed with SIGKILL after its first Trainer checkpoint, then run again, ends with the same
final weights and the same recorded loss as an uninterrupted run (CPT, SFT, unlearning). Reuse: a finished stage or
dataset whose files were truncated, swapped or edited is refused with a message naming the path and the fix.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from synthrepro.config import repo_root

STAGE_SCRIPT = r"""
import json, sys
from pathlib import Path
from synthrepro.config import apply_overrides, get_profile
from synthrepro.data import ensure_world
from synthrepro.training import cpt, pretrain, sft, stage_info
from synthrepro.unlearning import unlearn

run_dir, stage = Path(sys.argv[1]), sys.argv[2]
prof = apply_overrides(get_profile("smoke"), {
    "pretrain": {"max_steps": 20},
    "cpt": {"train": {"max_steps": 60 if stage == "cpt" else 10, "save_steps": 5}},
    "sft": {"checkpoint_steps": [], "train": {"max_steps": 60 if stage == "sft" else 10, "save_steps": 5}},
    "unlearn": {"budget_fraction": 1.0, "snapshot_steps": [], "train": {"save_steps": 5}},
})
data_dir, _, _ = ensure_world(prof.data, run_dir)
base = pretrain(data_dir, run_dir, prof.model, prof.pretrain)
final = cpt("synthetic", base, data_dir, run_dir, prof.cpt, 0)
if stage == "sft":
    final = sft(final, data_dir, run_dir, prof.sft, 0)
if stage == "unlearn":
    final = unlearn(final, data_dir, run_dir, prof.unlearn, 60 * 8 * 64 * 4, 0)
print(json.dumps({"final": str(final), **stage_info(final.parent)}))
"""


def _run_stage(run_dir: Path, stage: str, kill_after_checkpoint: bool = False) -> dict | None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", STAGE_SCRIPT, str(run_dir), stage], cwd=repo_root(), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after_checkpoint:
        deadline = time.time() + 600
        prefix = {"cpt": "cpt_synthetic", "sft": "sft", "unlearn": "unlearn_bounded"}[stage]
        while time.time() < deadline and proc.poll() is None:
            if any((run_dir / "stages").glob(f"{prefix}-*/trainer/checkpoint-10/trainer_state.json")):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return None
            time.sleep(0.05)
        pytest.fail(f"the {stage} stage finished before a checkpoint could be interrupted")
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["cpt", "sft", "unlearn"])
def test_kill_and_resume_gives_the_same_weights_and_loss(tmp_path, stage):
    straight = _run_stage(tmp_path / "straight", stage)
    assert _run_stage(tmp_path / "killed", stage, kill_after_checkpoint=True) is None
    resumed = _run_stage(tmp_path / "killed", stage)
    assert resumed["resumed"] is True and straight["resumed"] is False
    a = load_file(str(Path(straight["final"]) / "model.safetensors"))
    b = load_file(str(Path(resumed["final"]) / "model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), f"{stage}: weights differ after resume"
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-6)
    assert resumed["final_loss"] == pytest.approx(straight["final_loss"], rel=1e-6)
    assert resumed["tokens"] == straight["tokens"] and resumed["tokens_per_s"] > 0


# ---------------------------------------------------------------- reuse verifies what it reuses


@pytest.fixture(scope="module")
def finished_stages(tmp_path_factory, smoke_cfg):
    """A smoke world, base model and reference CPT arm, finished once for the tampering tests."""
    from synthrepro.data import ensure_world
    from synthrepro.training import cpt, pretrain
    run_dir = tmp_path_factory.mktemp("reuse")
    data_dir, _, _ = ensure_world(smoke_cfg.data, run_dir)
    base = pretrain(data_dir, run_dir, smoke_cfg.model, smoke_cfg.pretrain)
    ref = cpt("reference", base, data_dir, run_dir, smoke_cfg.cpt, 0)
    return run_dir, data_dir, base, ref


def _copy(src: Path, dst: Path) -> Path:
    import shutil
    shutil.copytree(src, dst)
    return dst


def test_a_truncated_checkpoint_is_refused(finished_stages, smoke_cfg, tmp_path):
    from synthrepro.records import StaleArtifactError
    from synthrepro.training import cpt, finished
    run_dir, data_dir, base, ref = finished_stages
    assert finished(ref.parent)
    weights = ref / "model.safetensors"
    original = weights.read_bytes()
    try:
        weights.write_bytes(original[: len(original) // 2])
        with pytest.raises(StaleArtifactError, match=r"model.safetensors has .* bytes.*truncated.*rm -rf"):
            cpt("reference", base, data_dir, run_dir, smoke_cfg.cpt, 0)
        weights.write_bytes(original[:-4] + b"\0\0\0\0")  # same size, other content
        with pytest.raises(StaleArtifactError, match="does not have the recorded sha256"):
            finished(ref.parent)
    finally:
        weights.write_bytes(original)
    assert finished(ref.parent)


def test_a_stage_under_another_key_is_refused(finished_stages, tmp_path):
    """A finished stage copied under another stage's key (a stale 20-step run under a 30-step key)."""
    from synthrepro.records import StaleArtifactError
    from synthrepro.training import finished
    _, _, _, ref = finished_stages
    moved = _copy(ref.parent, tmp_path / "stages" / "cpt_reference-000000000000")
    with pytest.raises(StaleArtifactError, match="not to this key"):
        finished(moved)


def test_a_tampered_world_is_refused(finished_stages, tmp_path):
    import json as _json

    from synthrepro.data import load_world
    from synthrepro.records import StaleArtifactError
    _, data_dir, _, _ = finished_stages
    fake = _copy(data_dir, tmp_path / "data" / data_dir.name)
    manifest = _json.loads((fake / "manifest.json").read_text())
    manifest["splits"]["nonsynth"]["rows"] = 1  # faked row count
    (fake / "manifest.json").write_text(_json.dumps(manifest, indent=2, sort_keys=True))
    with pytest.raises(StaleArtifactError, match="was edited after it was written"):
        load_world(fake)
    other = _copy(data_dir, tmp_path / "other" / data_dir.name)
    arrow = next((other / "datasets" / "nonsynth").glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:-10])  # a truncated or swapped data file
    with pytest.raises(StaleArtifactError, match="truncated or replaced"):
        load_world(other)
    renamed = _copy(data_dir, tmp_path / "renamed" / "0123456789ab")
    with pytest.raises(StaleArtifactError, match="belongs to world"):
        load_world(renamed)


def test_custom_nonsynth_changes_the_key_of_every_stage(smoke_cfg, tmp_path):
    from synthrepro.data import ensure_world
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"text": "Ada Byron wrote the first program in a quiet study."}) + "\n")
    plain, m_plain, _ = ensure_world(smoke_cfg.data, tmp_path / "run")
    custom, m_custom, _ = ensure_world(smoke_cfg.data, tmp_path / "run", str(extra))
    assert plain != custom and m_plain["config_hash"] != m_custom["config_hash"]  # the stages' key follows the data
    assert m_custom["config_hash"] == custom.name


def test_a_second_run_waits_for_the_lock(tmp_path):
    from synthrepro.records import locked
    code = ("import sys, time; from pathlib import Path; from synthrepro.records import locked\n"
            "with locked(Path(sys.argv[1]), 'testing'):\n    print('got it', flush=True)\n")
    target = tmp_path / "stage"
    with locked(target, "holding"):
        proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
        time.sleep(3)
        assert proc.poll() is None  # still waiting
    out, _ = proc.communicate(timeout=60)
    assert "waiting for another run that is testing" in out and "got it" in out


def test_a_cached_evaluation_is_reused_only_for_the_same_weights(finished_stages, smoke_cfg, tmp_path, monkeypatch):
    """Notebooks 03/04 keep each model's evaluation under a key of its stage record (every weight file's sha256),
    the suite and the settings: a rerun reuses it as stored; a stage retrained with other weights, another suite or
    other generation settings never does."""
    import dataclasses

    from synthrepro.data import load_world
    from synthrepro.evaluation import make_suite
    from synthrepro.experiments import arm_evaluation as ae
    from synthrepro.experiments import phase_map as pmap
    run_dir, data_dir, base, ref = finished_stages
    ds, _ = load_world(data_dir)
    ecfg = smoke_cfg.eval
    suite = make_suite(ecfg, ds, 2)
    stage = _copy(ref.parent, tmp_path / "stages" / ref.parent.name)  # a copy whose record this test may change
    ckpt = stage / "final"
    first = ae.evaluate_model(ckpt, ds, ecfg, suite, response_nll=False, cache_dir=tmp_path / "evaluations")
    assert {"following", "benchmark_qa", "leaked", "examples"} <= set(first)
    calls = []
    real = ae.instruction_metrics
    monkeypatch.setattr(ae, "instruction_metrics", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = ae.evaluate_model(ckpt, ds, ecfg, suite, response_nll=False, cache_dir=tmp_path / "evaluations")
    assert again == first and calls == []  # reused, as stored
    ae.evaluate_model(ckpt, ds, ecfg, make_suite(ecfg, ds, 3), response_nll=False, cache_dir=tmp_path / "evaluations")
    ae.evaluate_model(ckpt, ds, dataclasses.replace(ecfg, max_new_tokens=ecfg.max_new_tokens + 1), suite,
                      response_nll=False, cache_dir=tmp_path / "evaluations")
    assert calls == [1, 1]  # another suite, other generation settings: evaluated again
    key = ae.generation_key(ckpt, suite.rows, ecfg)  # the phase map's cache is keyed the same way
    pmap.evaluate_checkpoint(ckpt, suite, ecfg, tmp_path / "phase")
    assert [p.name for p in (tmp_path / "phase").iterdir()] == [f"{key}.json"]
    import torch

    from synthrepro.models.loading import load_model
    from synthrepro.records.files import file_records
    model = load_model(ckpt, device="cpu")  # as if retrained with other weights (and recorded as such)
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    model.save_pretrained(ckpt)
    record = json.loads((stage / "stage.json").read_text())
    record["files"] = file_records(ckpt)
    (stage / "stage.json").write_text(json.dumps(record))
    ae.evaluate_model(ckpt, ds, ecfg, suite, response_nll=False, cache_dir=tmp_path / "evaluations")
    assert calls == [1, 1, 1] and ae.generation_key(ckpt, suite.rows, ecfg) != key
