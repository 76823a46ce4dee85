"""`unlearn_model`: the paper's method (and every baseline) on any causal LM that transformers loads, without the
notebooks or the generated world: here a tiny random Llama shipped with the tests."""
import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from synthrepro import BoundedParams, TrainConfig, UnlearnConfig, unlearn_model
from synthrepro.config import repo_root

TINY = repo_root() / "tests" / "fixtures" / "tiny_hub" / "model"
FORGET = [f"Question: What is the city of Person {i}?\nAnswer: City {i}." for i in range(6)]
RETAIN = [f"Person {i} was born in City {i} and studied history at a small college." for i in range(6)]


def _config(method="bounded", **params):
    train = TrainConfig(max_steps=4, batch_size=2, block_size=32, lr=1e-2, warmup_steps=0, weight_decay=0.0,
                        save_steps=2, log_steps=1)
    return UnlearnConfig(method=method, params=params or None, snapshot_steps=(), train=train)


def _forget_nll(final):
    return [r["forget_nll"] for r in json.loads((final.parent / "log.json").read_text()) if "forget_nll" in r]


def test_unlearn_model_from_a_path_writes_a_loadable_checkpoint(tmp_path):
    final = unlearn_model(str(TINY), None, FORGET, RETAIN, _config(gamma=1.0), tmp_path / "out")
    model = AutoModelForCausalLM.from_pretrained(final)
    assert sum(p.numel() for p in model.parameters()) > 0
    info = json.loads((final.parent / "stage.json").read_text())
    assert info["method"] == "bounded" and info["steps"] == 4
    assert info["unlearn_config"]["params"] == {"gamma": 1.0, "gamma_mode": "relative", "level": "sequence"}
    curve = _forget_nll(final)
    assert curve[-1] > curve[0]  # forgetting raised the forget-set NLL


@pytest.mark.parametrize("method", ["ga", "grad_diff", "npo", "simnpo"])
def test_every_method_runs_on_a_model_object_and_leaves_it_unchanged(tmp_path, method):
    model = AutoModelForCausalLM.from_pretrained(TINY)
    tok = AutoTokenizer.from_pretrained(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    side = tok.padding_side
    final = unlearn_model(model, tok, FORGET, RETAIN, _config(method), tmp_path / method)
    assert (final / "config.json").exists()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the caller's model is untouched
    assert tok.padding_side == side


def test_a_finished_output_dir_is_reused(tmp_path):
    cfg = _config(gamma=1.0)
    first = unlearn_model(str(TINY), None, FORGET, RETAIN, cfg, tmp_path / "out")
    stamp = (first.parent / "stage.json").stat().st_mtime
    again = unlearn_model(str(TINY), None, FORGET, RETAIN, cfg, tmp_path / "out")
    assert again == first and (again.parent / "stage.json").stat().st_mtime == stamp


def test_bad_inputs_say_the_fix(tmp_path):
    with pytest.raises(ValueError, match="pass its tokenizer"):
        unlearn_model(AutoModelForCausalLM.from_pretrained(TINY), None, FORGET, RETAIN, _config(), tmp_path / "a")
    with pytest.raises(ValueError, match="needs forget and replay texts"):
        unlearn_model(str(TINY), None, [], RETAIN, _config(), tmp_path / "b")
    with pytest.raises(ValueError, match="needs the reference model"):
        unlearn_model(str(TINY), None, FORGET, RETAIN, _config(gamma_mode="reference_arm"), tmp_path / "c")
    assert BoundedParams(gamma_mode="absolute", gamma=3.0).gamma == 3.0
