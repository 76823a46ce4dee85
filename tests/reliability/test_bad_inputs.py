"""Every bad input ends in one clear message that names the parameter or file (and line) and says the fix, through
the entry points a user uses: papermill (a notebook's validation cell), the `synthrepro` CLI, and the library."""
import json
import re

import papermill as pm
import pytest

from synthrepro.cli import main
from synthrepro.config import (DataConfig, TrainConfig, UnlearnConfig, get_profile, repo_root,
                               resolve_notebook_parameters)
from synthrepro.records.files import load_jsonl

NB_DIR = repo_root() / "notebooks"


def _notebook_error(name: str, tmp_path, **params) -> str:
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(NB_DIR / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters={"PROFILE": "smoke", **params}, cwd=str(NB_DIR), progress_bar=False,
                            kernel_name="python3")
    return str(err.value)


#: Bad notebook parameters and the message each must give. A notebook's validation cell calls
#: `resolve_notebook_parameters` with its parameters, so these are checked in this interpreter; one case per notebook
#: also goes through papermill (below), to show the cell stops there.
BAD_PARAMETERS = [
    ("01_data_synthesis", {"SEED": "3"}, "seed must be an integer"),
    ("01_data_synthesis", {"SEED": 1.5}, "seed must be an integer"),
    ("01_data_synthesis", {"N_PEOPLE": True}, "n_people must be an integer"),
    ("01_data_synthesis", {"QA_GENERATOR": "model_based", "QA_MODEL_PATH": "/nonexistent/model"}, "qa_model_path"),
    ("02_pretrain_cpt_sft", {"SFT_STEPS": True}, "max_steps must be an integer"),
    ("02_pretrain_cpt_sft", {"CPT_STEPS": 5_000_000}, "lower max_steps, batch_size or block_size"),
    ("02_pretrain_cpt_sft", {"CPT_STEPS": 10**9}, "max_steps must be an integer in [1, 10,000,000]"),
    ("04_unlearning", {"GAMMA": "big"}, "gamma must be a finite number"),
    ("04_unlearning", {"GAMMA": float("nan")}, "gamma must be a finite number"),
    ("04_unlearning", {"GAMMA": -1.0}, "gamma must be > 0"),
    ("04_unlearning", {"BUDGET_FRACTION": 2}, "budget_fraction must be in (0, 1]"),
]


@pytest.mark.parametrize("notebook,params,message", BAD_PARAMETERS)
def test_bad_notebook_parameters_say_the_fix(notebook, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        resolve_notebook_parameters(notebook, {"PROFILE": "smoke", **params})


@pytest.mark.parametrize("notebook,params,message", [
    ("01_data_synthesis", {"CUSTOM_NONSYNTH_JSONL": "/"}, "is a folder"),  # checked by the notebook's own cell
    ("01_data_synthesis", {"SEED": "3"}, "seed must be an integer"),
    ("02_pretrain_cpt_sft", {"CPT_STEPS": 10**9}, "max_steps must be an integer in [1, 10,000,000]"),
    ("04_unlearning", {"GAMMA": -1.0}, "gamma must be > 0"),
])
def test_notebooks_stop_in_their_validation_cell_before_writing_anything(tmp_path, notebook, params, message):
    data = get_profile("smoke").run_dir() / "data"
    before = set(data.glob("*")) if data.exists() else set()
    assert message in _notebook_error(notebook, tmp_path, **params)
    assert (set(data.glob("*")) if data.exists() else set()) == before  # nothing half-written


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
def test_cli_errors(args, message, capsys):
    with pytest.raises(SystemExit) as stop:  # `cli.main`, what the console script runs (see test_cli.py)
        main(args)
    assert stop.value.code == 2 and message in capsys.readouterr().err


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
