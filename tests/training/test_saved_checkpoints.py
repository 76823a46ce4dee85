"""Saved checkpoints work in other tools: their generation_config stops a reply at the chat turn end (so plain
`transformers` generation, pipelines and lm-eval stop where a reply ends), and lm-eval scores one with the shipped
world task where lm-eval is installed."""
import importlib.util
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from synthrepro.config import apply_overrides
from synthrepro.data import ensure_world
from synthrepro.evaluation.harness import WORLD_TASK, world_task
from synthrepro.training import cpt, pretrain, sft


@pytest.fixture(scope="module")
def sft_checkpoint(tmp_path_factory, smoke_cfg):
    run_dir = tmp_path_factory.mktemp("ckpt")
    prof = apply_overrides(smoke_cfg, {"sft": {"checkpoint_steps": []}})
    data_dir, _, _ = ensure_world(prof.data, run_dir)
    base = pretrain(data_dir, run_dir, prof.model, prof.pretrain)
    return data_dir, sft(cpt("reference", base, data_dir, run_dir, prof.cpt, 0), data_dir, run_dir, prof.sft, 0)


class ForceAfter(LogitsProcessor):
    """Forces `token` as the `k`-th new token (a stand-in for a model that ends its reply there)."""

    def __init__(self, start: int, k: int, token: int):
        self.start, self.k, self.token = start, k, token

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] - self.start == self.k:
            scores[:] = -float("inf")
            scores[:, self.token] = 0.0
        return scores


def test_plain_transformers_generation_stops_at_the_turn_end(sft_checkpoint):
    _, final = sft_checkpoint
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoModelForCausalLM.from_pretrained(final)
    end = tok.convert_tokens_to_ids("<|end|>")
    assert end in model.generation_config.eos_token_id and tok.eos_token_id in model.generation_config.eos_token_id
    prompt = tok.apply_chat_template([{"role": "user", "content": "Say hello."}], add_generation_prompt=True,
                                     tokenize=False)
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
    n = enc["input_ids"].shape[1]
    out = model.generate(**enc, max_new_tokens=30, do_sample=False,
                         logits_processor=LogitsProcessorList([ForceAfter(n, 3, end)]))
    new = out[0, n:].tolist()
    assert new[-1] == end and len(new) == 4  # stopped right at the turn end, by the saved config alone


@pytest.mark.skipif(importlib.util.find_spec("lm_eval") is None, reason="lm-eval is not installed (pip install lm-eval)")
def test_lm_eval_scores_a_checkpoint_with_the_shipped_world_task(sft_checkpoint, tmp_path):
    data_dir, final = sft_checkpoint
    written = world_task(data_dir, tmp_path / "task")
    assert str(tmp_path) not in (written / f"{WORLD_TASK}.yaml").read_text()  # no absolute path: the folder can move
    task_dir = written.rename(tmp_path / "moved")
    res = subprocess.run([sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
                          f"pretrained={final},dtype=float32", "--device", "cpu", "--include_path", str(task_dir),
                          "--tasks", WORLD_TASK, "--batch_size", "8", "--limit", "20"],
                         capture_output=True, text=True, timeout=900,
                         env={**__import__("os").environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert WORLD_TASK in res.stdout and "acc" in res.stdout
