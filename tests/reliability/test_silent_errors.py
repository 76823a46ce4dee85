"""Nothing silently wrong: inputs that once exited 0 with a wrong or stale result now stop with one clear message (or
do the right thing), and a user's mistake at the `synthrepro` command is one line naming the argument and the fix."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from synthrepro import TrainConfig, UnlearnConfig, unlearn_model
from synthrepro.cli import _profile_arg, main
from synthrepro.config import get_profile, repo_root
from synthrepro.models.loading import load_model
from synthrepro.records import StaleArtifactError, check_one_world
from synthrepro.training import checkpoint_fingerprint, pretrain, stage_info
from synthrepro.training.packing import check_packing_fits
from synthrepro.data import ensure_world

TINY = repo_root() / "tests" / "fixtures" / "tiny_hub" / "model"
FORGET = [f"Question: What is the city of Person {i}?\nAnswer: City {i}." for i in range(6)]
RETAIN = [f"Person {i} was born in City {i} and studied history at a small college." for i in range(6)]


def _config():
    return UnlearnConfig(snapshot_steps=(), train=TrainConfig(max_steps=2, batch_size=2, block_size=32, lr=1e-2,
                                                              warmup_steps=0, weight_decay=0.0, save_steps=2))


def _cli_error(args, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(args)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _jsonl(path: Path, texts) -> str:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return str(path)


@pytest.mark.parametrize("args,message", [
    (["estimate", "--profile", "smoke", "--parameters", "0"], "--parameters 0: give the model's parameter count"),
    (["estimate", "--profile", "smoke", "--parameters", "-5"], "--parameters -5: give the model's parameter count"),
    (["harness", "--profile", "smoke", "--tasks", "mmlu", "nosuchtask"], "--tasks nosuchtask: unknown task"),
    (["pipeline", "--profile", "smoke", "-p", "PROFILE=phase_smoke"], "the profile is chosen once, with --profile"),
])
def test_cli_mistakes_are_one_line(args, message, capsys):
    assert message in _cli_error(args, capsys)


def test_a_profile_file_whose_settings_are_a_list_says_so(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nbase: smoke\ndata: [1, 2]\n")
    err = _cli_error(["pipeline", "--profile", str(bad), "--only", "01_data_synthesis"], capsys)
    assert "data must be a mapping of DataConfig settings" in err


def test_unlearn_command_mistakes(tmp_path, capsys):
    forget, retain = _jsonl(tmp_path / "f.jsonl", FORGET), _jsonl(tmp_path / "r.jsonl", RETAIN)
    base = ["unlearn", "--model", str(TINY), "--forget", forget, "--retain", retain, "--steps", "1"]
    (tmp_path / "file").write_text("x")
    assert "--output" in _cli_error(base + ["--output", str(tmp_path / "file")], capsys)
    out = ["--output", str(tmp_path / "out")]
    assert "--separator: separator '<|nope|>' is not a token" in _cli_error(base + out + ["--separator", "<|nope|>"],
                                                                            capsys)
    for size in ("1", "2"):
        assert "is too small to hold text" in _cli_error(base + out + ["--block-size", size], capsys)


def test_a_profile_file_is_resolved_in_the_callers_folder(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "mine.yaml").write_text("name: mine\nbase: smoke\n")
    monkeypatch.chdir(tmp_path)
    assert _profile_arg("configs/mine.yaml") == str(tmp_path / "configs" / "mine.yaml")
    assert _profile_arg("smoke") == "smoke"


def test_unlearn_model_keys_a_model_object_by_its_weights(tmp_path):
    tok = AutoTokenizer.from_pretrained(TINY)
    model_a = AutoModelForCausalLM.from_pretrained(TINY)
    model_b = AutoModelForCausalLM.from_pretrained(TINY)
    with torch.no_grad():
        next(model_b.parameters()).add_(0.01)
    unlearn_model(model_a, tok, FORGET, RETAIN, _config(), tmp_path / "out")
    with pytest.raises(StaleArtifactError, match="another model"):
        unlearn_model(model_b, tok, FORGET, RETAIN, _config(), tmp_path / "out")


def test_unlearn_model_refuses_one_string_for_a_list_of_texts(tmp_path):
    with pytest.raises(ValueError, match="forget_texts is one string"):
        unlearn_model(str(TINY), None, "one string", RETAIN, _config(), tmp_path / "out")
    with pytest.raises(ValueError, match=r"retain_texts\[1\] is a int"):
        unlearn_model(str(TINY), None, FORGET, ["text", 3], _config(), tmp_path / "out")


@pytest.mark.parametrize("fill", [0.0, float("nan")])
def test_a_checkpoint_of_zeros_or_nan_is_named(tmp_path, fill):
    model = AutoModelForCausalLM.from_pretrained(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(fill)
    model.save_pretrained(tmp_path / "broken")
    with pytest.raises(ValueError, match=f"checkpoint {tmp_path / 'broken'}: .*(zero|NaN)"):
        load_model(tmp_path / "broken")


def test_weights_changed_in_place_are_never_evaluated_under_their_old_record(tmp_path, smoke_cfg):
    data_dir, _, _ = ensure_world(smoke_cfg.data, tmp_path)
    final = pretrain(data_dir, tmp_path, smoke_cfg.model, smoke_cfg.pretrain)
    checkpoint_fingerprint(final)  # verified: as recorded
    weights = final / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-8:] = bytes(8)  # same size, other weights, stage.json untouched
    weights.write_bytes(bytes(blob))
    with pytest.raises(StaleArtifactError, match="does not have the recorded sha256"):
        checkpoint_fingerprint(final)


def test_records_of_two_worlds_are_refused():
    check_one_world({"01_data_synthesis": {"data_dir": "runs/x/data/a"}, "02_pretrain_cpt_sft": {"data_dir":
                                                                                                   "runs/x/data/a"}})
    with pytest.raises(StaleArtifactError, match="different worlds .* Re-run the notebooks from 02_pretrain_cpt_sft"):
        check_one_world({"01_data_synthesis": {"data_dir": "runs/x/data/b"},
                         "02_pretrain_cpt_sft": {"data_dir": "runs/x/data/a"}, "03_overfitting_analysis": {}})


def test_a_stage_too_large_to_pack_stops_before_any_work():
    check_packing_fits(1_000_000)
    with pytest.raises(ValueError, match="needs about .* GiB to pack, and this machine has .* lower max_steps"):
        check_packing_fits(3_000_000 * 8 * 64 * 100)


def test_the_harness_offline_says_one_line_and_sets_what_it_needs(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SYNTHREPRO_ROOT": str(tmp_path)}
    env.pop("HF_DATASETS_OFFLINE", None)
    done = subprocess.run([str(Path(sys.executable).parent / "synthrepro"), "harness", "--profile", "smoke",
                           "--tasks", "ifeval", "--limit", "1"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stdout.startswith("offline (huggingface.co cannot be reached)")
    assert done.stderr.count("\n") == 1 and "run notebook 02_pretrain_cpt_sft" in done.stderr
