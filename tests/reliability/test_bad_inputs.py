"""Every bad input ends in one clear message that names the parameter or file (and line) and says the fix, through
the entry points a user uses: papermill (a notebook's validation cell), the `synthrepro` CLI, and the library."""
import json
import subprocess
import sys

import papermill as pm
import pytest

from synthrepro.config import DataConfig, TrainConfig, UnlearnConfig, get_profile, repo_root
from synthrepro.records.files import load_jsonl

NB_DIR = repo_root() / "notebooks"


def _notebook_error(name: str, tmp_path, **params) -> str:
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(NB_DIR / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters={"PROFILE": "smoke", **params}, cwd=str(NB_DIR), progress_bar=False,
                            kernel_name="python3")
    return str(err.value)


@pytest.mark.parametrize("params,message", [
    ({"SEED": "3"}, "seed must be an integer"),
    ({"SEED": 1.5}, "seed must be an integer"),
    ({"N_PEOPLE": True}, "n_people must be an integer"),
    ({"QA_GENERATOR": "model_based", "QA_MODEL_PATH": "/nonexistent/model"}, "qa_model_path"),
    ({"CUSTOM_NONSYNTH_JSONL": "/"}, "is a folder"),
])
def test_notebook_01_rejects_bad_values_before_writing_anything(tmp_path, params, message):
    before = set((get_profile("smoke").run_dir() / "data").glob("*")) if (get_profile("smoke").run_dir() / "data").exists() else set()
    assert message in _notebook_error("01_data_synthesis", tmp_path, **params)
    after = set((get_profile("smoke").run_dir() / "data").glob("*")) if (get_profile("smoke").run_dir() / "data").exists() else set()
    assert after == before  # nothing half-written


@pytest.mark.parametrize("params,message", [
    ({"GAMMA": "big"}, "gamma must be a finite number"),
    ({"GAMMA": float("nan")}, "gamma must be a finite number"),
    ({"GAMMA": -1.0}, "gamma must be > 0"),
    ({"BUDGET_FRACTION": 2}, "budget_fraction must be in (0, 1]"),
])
def test_notebook_04_rejects_bad_values(tmp_path, params, message):
    assert message in _notebook_error("04_unlearning", tmp_path, **params)


@pytest.mark.parametrize("params,message", [
    ({"SFT_STEPS": True}, "max_steps must be an integer"),
    ({"CPT_STEPS": 5_000_000}, "lower max_steps, batch_size or block_size"),
    ({"CPT_STEPS": 10**9}, "max_steps must be an integer in [1, 10,000,000]"),
])
def test_notebook_02_rejects_bad_values(tmp_path, params, message):
    assert message in _notebook_error("02_pretrain_cpt_sft", tmp_path, **params)


def test_configs_reject_bad_types_and_bounds():
    with pytest.raises(ValueError, match="seed must be an integer"):
        DataConfig(seed="0")
    with pytest.raises(ValueError, match="max_steps must be an integer"):
        TrainConfig(max_steps=True)
    with pytest.raises(ValueError, match="would need"):
        TrainConfig(max_steps=10**7, batch_size=512, block_size=2048)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        UnlearnConfig(params={"gamma": -0.5})


@pytest.mark.parametrize("content,message", [
    (b'{"text": 3}\n', "line 1: \"text\" must be a string"),
    (b'{"text": "ok"}\n\xff\xfe\n', "line 2: not UTF-8"),
    (b'{"text": "ok"}\nnot json\n', "line 2: not valid JSON"),
    (b"", "no rows"),
])
def test_jsonl_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        load_jsonl(path)


def test_jsonl_path_that_is_a_folder(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        load_jsonl(tmp_path)


def test_missing_checkpoint_says_so(tmp_path):
    from synthrepro.models.loading import load_model
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_model(tmp_path / "nothing")


@pytest.mark.parametrize("args,message", [
    (["pipeline", "--profile", "smoke", "-p", "SEEDS=[0"], "is not valid YAML"),
    (["pipeline", "--profile", "smoke", "--only"], "names no notebook"),
    (["train", "--profile", "smoke", "--seed", str(2**40)], "--seed must be in"),
])
def test_cli_errors(args, message):
    res = subprocess.run([sys.executable, "-m", "synthrepro", *args], capture_output=True, text=True)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_a_notebook_refuses_upstream_results_of_another_profile_version(tmp_path, monkeypatch):
    """Results recorded under a profile file that was edited since are refused, with the notebook to re-run."""
    import dataclasses

    from synthrepro.config import resolve_notebook_parameters
    from synthrepro.records import StaleArtifactError, load, record
    monkeypatch.setenv("SYNTHREPRO_ROOT", str(tmp_path))
    prof = tmp_path / "mine.yaml"
    prof.write_text("name: mine\nbase: smoke\n")
    cfg = resolve_notebook_parameters("01_data_synthesis", {"PROFILE": str(prof)})
    record(cfg, "01_data_synthesis", {"data_dir": "x"})
    assert load(resolve_notebook_parameters("02_pretrain_cpt_sft", {"PROFILE": str(prof)}), "01_data_synthesis")
    prof.write_text("name: mine\nbase: smoke\ndata: {n_people: 120}\n")
    later = resolve_notebook_parameters("02_pretrain_cpt_sft", {"PROFILE": str(prof)})
    with pytest.raises(StaleArtifactError, match="re-run notebook 01_data_synthesis"):
        load(later, "01_data_synthesis")
    assert dataclasses.replace(later, base_hash="") == later  # not part of a profile's identity
