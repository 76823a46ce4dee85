"""Profiles as overrides of `default`, profiles from files, and notebook parameters validated as a whole."""
import json
import subprocess
import sys

import pytest

from synthrepro.config import (PROFILES, BoundedParams, apply_overrides, derive, get_profile, load_profile_file,
                               resolve_notebook_parameters)


def test_every_profile_derives_from_default_and_only_differs_where_it_says():
    default = PROFILES["default"]
    smoke = PROFILES["smoke"]
    assert smoke.data.question_share == default.data.question_share  # not overridden: the default's
    assert smoke.data.n_people == 100 and smoke.seeds == (0,)
    assert PROFILES["pretrained_smoke"].base_model == PROFILES["pretrained"].base_model  # derived from pretrained


def test_overrides_are_checked_with_the_fix():
    with pytest.raises(ValueError, match="n_peeple is not a setting of DataConfig"):
        derive(PROFILES["smoke"], "x", {"data": {"n_peeple": 5}})
    with pytest.raises(ValueError, match=r"n_people must be an integer in \[10, "):
        derive(PROFILES["smoke"], "x", {"data": {"n_people": 3}})
    cfg = apply_overrides(PROFILES["smoke"].unlearn, {"params": {"gamma": 4.0}})
    assert cfg.params == BoundedParams(gamma=4.0)
    cfg = apply_overrides(PROFILES["smoke"].unlearn, {"method": "npo", "params": {"beta": 0.2}})
    assert cfg.params.beta == 0.2


def test_a_profile_from_a_yaml_or_json_file(tmp_path):
    y = tmp_path / "mine.yaml"
    y.write_text("name: mine\nbase: smoke\ndata:\n  n_people: 120\nseeds: [0, 1]\nunlearn:\n  params: {gamma: 3.0}\n")
    prof = get_profile(str(y))
    assert prof.name == "mine" and prof.data.n_people == 120 and prof.seeds == (0, 1)
    assert prof.unlearn.params.gamma == 3.0 and prof.model == PROFILES["smoke"].model
    j = tmp_path / "other.json"
    j.write_text(json.dumps({"base": "smoke", "cpt": {"synth_ratio": 0.5}}))
    assert load_profile_file(j).name == "other" and load_profile_file(j).cpt.synth_ratio == 0.5
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: smoke\ndata: {n_people: [unclosed\n")
    with pytest.raises(ValueError, match="bad.yaml could not be parsed"):
        get_profile(str(bad))
    bad.write_text("base: nowhere\n")
    with pytest.raises(ValueError, match="base 'nowhere' is not a built-in profile"):
        get_profile(str(bad))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_profile(str(tmp_path / "missing.yaml"))


def test_notebook_parameters_are_applied_together():
    """A cross-field check sees every override: the model-based generator with its model path is accepted."""
    cfg = resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "QA_GENERATOR": "model_based",
                                                            "QA_MODEL_PATH": "smollm2"})
    assert cfg.data.qa_generator == "model_based" and cfg.data.qa_model_path == "smollm2"
    with pytest.raises(ValueError, match="QA_GENERATOR='model_based'.*needs qa_model_path"):
        resolve_notebook_parameters("01_data_synthesis", {"PROFILE": "smoke", "QA_GENERATOR": "model_based"})
    cfg = resolve_notebook_parameters("04_unlearning", {"PROFILE": "smoke", "GAMMA": 1.5, "GAMMA_MODE": "absolute"})
    assert cfg.unlearn.params == BoundedParams(gamma=1.5, gamma_mode="absolute")
    with pytest.raises(ValueError, match=r"ABLATIONS='no' is not allowed; choose one of \(True, False\)"):
        resolve_notebook_parameters("04_unlearning", {"PROFILE": "smoke", "ABLATIONS": "no"})


def test_the_config_layer_loads_without_torch():
    code = "import sys, synthrepro.config as c; c.get_profile('smoke'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_verdict_runs_figures_go_to_their_own_folder_so_the_default_runs_stay():
    """Notebooks 03–05 of a committed track's run on all 541 IFEval prompts write to figures/<profile>/ifeval-541/
    (the run's evaluation decides), the default run to figures/<profile>/; the world track is unaffected."""
    import dataclasses

    from synthrepro.config import ALL_PROMPTS_DIR, get_profile, repo_root

    cfg = get_profile("pretrained")
    verdict = dataclasses.replace(cfg.eval, ifeval_prompts=None)
    assert cfg.all_prompts_run(verdict) and not cfg.all_prompts_run()
    assert cfg.figures_dir() == repo_root() / "figures" / "pretrained"
    assert cfg.figures_dir(verdict) == repo_root() / "figures" / "pretrained" / ALL_PROMPTS_DIR
    assert cfg.notebooks_dir(verdict) == repo_root() / "figures" / "pretrained" / ALL_PROMPTS_DIR / "notebooks"
    world = get_profile("default")
    assert world.figures_dir(world.eval) == repo_root() / "figures"


def test_the_extras_run_is_the_pretrained_track_on_its_first_seed_with_every_method_in_its_own_folder():
    """`make repro-pretrained-extras` (profile `pretrained_extras`): the headline's dose, SFT and evaluation, seed 0
    only, the four baselines beside `bounded` and the dilution arm; figures, notebooks and report section of its own,
    so the three-seed headline run's stay."""
    import dataclasses

    from synthrepro.config import get_profile, repo_root

    track, extras = get_profile("pretrained"), get_profile("pretrained_extras")
    same = {"name": "pretrained_extras", "track": "pretrained_extras", "seeds": (0,), "dilution_seeds": 1,
            "methods": ("bounded", "ga", "grad_diff", "npo", "simnpo"), "base_hash": extras.base_hash}
    assert dataclasses.replace(track, **same) == extras
    assert extras.figures_dir() == repo_root() / "figures" / "pretrained_extras" != track.figures_dir()
    assert extras.notebooks_dir() == repo_root() / "figures" / "pretrained_extras" / "notebooks"
    assert extras.report_path() == track.report_path() == repo_root() / "REPORT.md"
