"""GPU check (run on a CUDA machine): every registered forgetting loss on a randomly initialised Llama of
SmolLM2-135M's shape in bf16, forward + backward, and tokens/s of a bounded-loss AdamW step (batch 32 x 512, eager).
The inputs are synthetic (a fixed gamma, a made-up NPO reference), so the values only show that each loss runs and
stays finite. Prints JSON. Run: PYTHONPATH=. python3 benchmarks/gpu_forget_losses.py"""
import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import json, time, traceback
import torch
out = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
try:
    import transformers
    out["transformers"] = transformers.__version__
    from synthrepro.config import FORGET_METHODS
    from synthrepro.unlearning.losses import FORGET_LOSSES, ForgetInputs
    from transformers import LlamaConfig, LlamaForCausalLM
    dev = "cuda"
    cfg = LlamaConfig(vocab_size=8192, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                      num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048)  # SmolLM2-135M shape
    model = LlamaForCausalLM(cfg).to(dev, dtype=torch.bfloat16)
    B, T = 32, 512
    ids = torch.randint(0, 8192, (B, T), device=dev)
    mask = torch.ones(B, T - 1, device=dev)
    res = {}
    for name, fn in FORGET_LOSSES.items():
        try:
            logits = model(ids).logits[:, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1),
                                                    reduction="none").view(B, T - 1)
            x = ForgetInputs(token_nll=nll, mask=mask, ref_logprob=-(nll.detach().sum(1) + 1.0),
                             gamma=torch.full((B,), 12.0, device=dev))
            loss = fn(x, FORGET_METHODS[name]())
            loss.backward()
            g = sum(p.grad.float().norm() ** 2 for p in model.parameters() if p.grad is not None) ** 0.5
            model.zero_grad(set_to_none=True)
            res[name] = {"loss": float(loss.detach()), "grad_norm": float(g), "finite": bool(torch.isfinite(loss) and torch.isfinite(g))}
        except Exception as e:
            res[name] = {"error": repr(e)[:300]}
    out["losses"] = res
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    fn = FORGET_LOSSES["bounded"]
    for i in range(13):
        if i == 3:
            torch.cuda.synchronize(); t0 = time.perf_counter()
        logits = model(ids).logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1),
                                                reduction="none").view(B, T - 1)
        loss = fn(ForgetInputs(token_nll=nll, mask=mask, gamma=torch.full((B,), 12.0, device=dev)), FORGET_METHODS["bounded"]())
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    out["bounded_step_tokens_per_s"] = round(10 * B * T / (time.perf_counter() - t0))
    out["gpu"] = torch.cuda.get_device_name(0)
except Exception:
    out["error"] = traceback.format_exc()[-1500:]
print(json.dumps(out, indent=1))
