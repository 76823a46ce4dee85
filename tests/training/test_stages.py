"""Training stages at the smoke size (CPU)."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from synthrepro import training as train
from synthrepro.models.tokenizer import load_tokenizer
from synthrepro.config import TrainConfig
from synthrepro.data import ensure_world, load_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory, smoke_cfg):
    run_dir = tmp_path_factory.mktemp("run")
    data_dir, _, _ = ensure_world(smoke_cfg.data, run_dir)
    return run_dir, data_dir


@pytest.fixture(scope="module")
def base(world, smoke_cfg):
    run_dir, data_dir = world
    return train.pretrain(data_dir, run_dir, smoke_cfg.model, smoke_cfg.pretrain)


def test_same_seed_same_losses(tmp_path, world, smoke_cfg):
    _, data_dir = world
    runs = []
    for i in range(2):
        final = train.pretrain(data_dir, tmp_path / f"r{i}", smoke_cfg.model, smoke_cfg.pretrain)
        log = json.loads((final.parent / "log.json").read_text())
        runs.append([r["loss"] for r in log if "loss" in r])
    assert runs[0] == runs[1] and len(runs[0]) >= 3


def test_stage_is_reused_and_changed_config_gets_new_dir(world, base, smoke_cfg):
    run_dir, data_dir = world
    t0 = time.perf_counter()
    assert train.pretrain(data_dir, run_dir, smoke_cfg.model, smoke_cfg.pretrain) == base
    other = train.pretrain(data_dir, run_dir, smoke_cfg.model, dataclasses.replace(smoke_cfg.pretrain, max_steps=5))
    assert other != base and train.stage_info(other.parent)["steps"] == 5
    assert train.stage_info(base.parent)["steps"] == smoke_cfg.pretrain.max_steps


def test_checkpoints_load_with_plain_transformers_and_generate(world, base, smoke_cfg):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    run_dir, data_dir = world
    finals = [base]
    for arm in ("reference", "synthetic", "dilution"):
        finals.append(train.cpt(arm, base, data_dir, run_dir, smoke_cfg.cpt, seed=0))
    finals.append(train.sft(finals[2], data_dir, run_dir, smoke_cfg.sft, seed=0))
    for final in finals:
        model = AutoModelForCausalLM.from_pretrained(str(final))
        tok = AutoTokenizer.from_pretrained(str(final))
        enc = tok("Alice", return_tensors="pt")
        out = model.generate(**enc, max_new_tokens=5, do_sample=False, pad_token_id=tok.pad_token_id)
        assert out.shape[1] > enc["input_ids"].shape[1]
    info = train.stage_info(finals[2].parent)
    assert info["arm"] == "synthetic" and abs(info["synth_token_share"] - smoke_cfg.cpt.synth_ratio) < 0.05
    assert train.stage_info(finals[1].parent)["synth_token_share"] == 0.0
    assert train.stage_info(finals[3].parent)["start"].endswith(str(finals[2].relative_to(run_dir)))
    points = train.sft_checkpoints(finals[4])
    assert list(points) == [0, *smoke_cfg.sft.checkpoint_steps, smoke_cfg.sft.train.max_steps]
    assert all(Path(p).exists() for p in points.values())


def test_sft_labels_ignore_prompt_tokens(base):
    tok = load_tokenizer(base)
    ex = train.sft_example(tok, "What is the major of Ann Lee? Answer in lowercase.", "ann lee majored in law.", 512)
    prompt_len = sum(1 for x in ex["labels"] if x == -100)
    assert prompt_len > 5
    assert all(x == -100 for x in ex["labels"][:prompt_len])
    assert ex["labels"][prompt_len:] == ex["input_ids"][prompt_len:]
    response = tok.decode(ex["input_ids"][prompt_len:])
    assert response == "ann lee majored in law.<|end|>"
    batch = train.pad_collate([ex, train.sft_example(tok, "Hi?", "Yes.", 512)], tok.pad_token_id)
    assert (batch["labels"][1][batch["attention_mask"][1] == 0] == -100).all()


def test_packing_ratio_and_negative_ratio_refused():
    docs = [[1, 2, 3]] * 50
    synth = [[7, 7]] * 50
    blocks, share = train.pack_blocks(docs, 20, 16, 0, seed=0, synth=synth, synth_ratio=0.5)
    assert blocks.shape == (20, 16) and abs(share - 0.5) < 0.05
    with pytest.raises(ValueError, match="ratio"):
        train.pack_blocks(docs, 4, 16, 0, seed=0, synth=synth, synth_ratio=-0.1)


KILL_SCRIPT = """
import sys
from pathlib import Path
from synthrepro import training as train
from synthrepro.models.tokenizer import load_tokenizer
from synthrepro.config import get_profile, TrainConfig
p = get_profile("smoke")
run_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
tcfg = TrainConfig(max_steps=300, batch_size=8, block_size=64, lr=3e-3, warmup_steps=3, save_steps=40, log_steps=20)
print(train.pretrain(data_dir, run_dir, p.model, tcfg))
"""


def _run(run_dir, data_dir, wait_for=None):
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(run_dir), str(data_dir)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait_for is None:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out.decode()[-2000:]
        return Path(out.decode().strip().splitlines()[-1])
    deadline = time.time() + 300
    while time.time() < deadline and not list(Path(run_dir).glob(wait_for)):
        assert proc.poll() is None, "the stage finished before it could be killed"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return None


def test_killed_stage_resumes_and_matches_uninterrupted(tmp_path, world):
    _, data_dir = world
    whole = _run(tmp_path / "whole", data_dir)
    _run(tmp_path / "killed", data_dir, wait_for="stages/pretrain-*/trainer/checkpoint-80/trainer_state.json")
    assert not train.stage_info(next((tmp_path / "killed" / "stages").iterdir()))  # not finished
    resumed = _run(tmp_path / "killed", data_dir)
    info_whole, info_resumed = train.stage_info(whole.parent), train.stage_info(resumed.parent)
    assert info_resumed["resumed"] is True
    assert info_resumed["final_loss"] == pytest.approx(info_whole["final_loss"], rel=1e-4)


@pytest.mark.slow
def test_two_processes_gloo_match_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    outs = {}
    for n in (1, 2):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n), "-m", "synthrepro.cli", "train",
               "--profile", "smoke", "--stage", "pretrain", "--run-dir", str(tmp_path / f"p{n}")]
        res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        outs[n] = json.loads(res.stdout.strip().splitlines()[-1])
    assert outs[2]["processes"] == 2
    assert outs[2]["final_loss"] == pytest.approx(outs[1]["final_loss"], rel=0.05)


RACE = """import os, runpy, shutil, sys, time
from pathlib import Path
rmtree = shutil.rmtree
def late(path, *args, **kw):  # rank 1 reaches the staging folder only once rank 0 has begun writing into it
    if os.environ.get("RANK") == "1" and str(path).endswith("final.tmp"):
        for _ in range(2000):
            if (Path(path) / "config.json").exists():
                break
            time.sleep(0.001)
    return rmtree(path, *args, **kw)
shutil.rmtree = late
sys.argv = ["synthrepro.cli", *sys.argv[1:]]
runpy.run_module("synthrepro.cli", run_name="__main__")
"""


@pytest.mark.slow
def test_a_late_rank_never_removes_the_checkpoint_the_writer_is_saving(tmp_path):
    """Under torchrun a rank that lags behind the writer must not clear the staging folder under it (CI once lost a
    stage that way: rank 0 then found no config.json in final/)."""
    script = tmp_path / "late_rank.py"
    script.write_text(RACE)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script), "train",
                          "--profile", "paper_tiny", "--stage", "sft", "--run-dir", str(tmp_path / "run")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    ranks = "\n".join(line for line in res.stderr.splitlines() if line.startswith("[rank"))
    assert res.returncode == 0, ranks[-3000:] + res.stderr[-1500:]
    sft = json.loads(res.stdout.strip().splitlines()[-1])  # SFT loaded the CPT checkpoint that rank 0 saved
    assert sft["processes"] == 2 and train.finished(Path(sft["final"]).parent)
    assert all(train.finished(p) for p in (tmp_path / "run" / "stages").glob("cpt_*"))
