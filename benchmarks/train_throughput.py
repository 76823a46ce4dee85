"""Benchmark (not a test): tokens/s of the project's training step (HF Trainer, as `training.run_stage` uses it)
against a bare PyTorch loop (forward, backward, AdamW), same model, same batch, one process; model FLOPs utilisation
(MFU) against this machine's matmul peak measured in the same run and dtype; plus peak memory.

    .venv/bin/python benchmarks/train_throughput.py --profile default --steps 60 [--precision bf16] [--compile] \
        [--out figures/benchmarks/train_throughput.json]

Kernels pinned to AVX2 as every run (config/kernels.py); with SYNTHREPRO_PIN_KERNELS=0 it measures what the CPU's own
kernels (AVX-512 where there is one) would give. The JSON records which.

MFU as nanoGPT reports it: achieved FLOP/s = tokens/s × (6·N + 12·L·d·T) (forward + backward of the N parameters, plus
attention over the block of T tokens), over the peak FLOP/s of a large square matmul in the same dtype on the same
threads. It is the share of what this CPU can do at all that a training step gets.

Peak memory: CUDA max allocated on a GPU; on the CPU the process's peak RSS (ru_maxrss) after each part — a
high-water mark, so the second number includes the first (the bare loop runs first).
"""
from __future__ import annotations

import synthrepro  # noqa: F401  (first: pins the CPU kernels before torch and NumPy load; docs/reproducibility.md)
import argparse
import json
import resource
import tempfile
import time

import torch

from synthrepro.config import get_profile, kernel_record
from synthrepro.models.loading import bf16_supported, build_model, count_parameters
from synthrepro.records.results import write_json_atomic
from synthrepro.training import BlockDataset


def peak_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_flops(dtype: torch.dtype, n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of an n×n @ n×n matmul in `dtype` on this device and these threads (best of `repeats`)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 2):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def flops_per_token(parameters: int, layers: int, hidden: int, block: int) -> float:
    """Training FLOPs per token: 6·N (forward + backward) plus 12·L·d·T for attention (nanoGPT's estimate)."""
    return 6 * parameters + 12 * layers * hidden * block


def bare_loop(model, blocks, steps, batch, lr, warmup, bf16=False, compile_model=False):
    """(tokens/s over the timed steps, seconds of the `warmup` steps before them — where torch.compile compiles)."""
    # fused AdamW, as the Trainer's default optimizer (`adamw_torch_fused`): a per-parameter Python loop would make the
    # bare loop the slow one on a small model with many small tensors
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1, fused=True)
    model.train()
    start = time.perf_counter()
    step = torch.compile(model) if compile_model else model
    t0 = None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for i in range(steps + warmup):
        if i == warmup:
            t0 = time.perf_counter()
        b = blocks[(i * batch) % len(blocks):][:batch]
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            loss = step(input_ids=b, labels=b).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return steps * batch * blocks.shape[1] / (time.perf_counter() - t0), t0 - start


def trainer_loop(model, blocks, steps, batch, lr, warmup, out_dir, bf16=False, compile_model=False):
    """(tokens/s over the timed steps, seconds from `train()` to the end of the warmup steps)."""
    from transformers import Trainer, TrainerCallback, TrainingArguments, default_data_collator

    marks = {}

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == warmup:
                marks["t0"] = time.perf_counter()
            marks["t1"] = time.perf_counter()

    args = TrainingArguments(output_dir=out_dir, max_steps=steps + warmup, per_device_train_batch_size=batch,
                             learning_rate=lr, weight_decay=0.1, save_strategy="no", report_to="none",
                             disable_tqdm=True, logging_steps=10**6, bf16=bf16, torch_compile=compile_model,
                             use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=BlockDataset(blocks), data_collator=default_data_collator,
                      callbacks=[Clock()])
    start = time.perf_counter()
    trainer.train()
    return steps * batch * blocks.shape[1] / (marks["t1"] - marks["t0"]), marks["t0"] - start


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--compile", action="store_true",
                    help="also both loops under torch.compile: tokens/s, the warmup seconds where it compiles, and "
                         "after how many steps compiling pays for itself")
    ap.add_argument("--out", default=None, help="also write the result here as JSON (the Trainer prints to stdout too, "
                                                "so stdout is not JSON)")
    a = ap.parse_args()
    bf16 = a.precision == "bf16"
    p = get_profile(a.profile)
    tc = p.pretrain
    torch.manual_seed(0)
    blocks = torch.randint(0, p.model.vocab_size, ((a.steps + a.warmup) * tc.batch_size, tc.block_size))
    model = build_model(p.model, p.model.vocab_size, seed=0)
    res = {"profile": a.profile, "parameters": count_parameters(model), "batch": tc.batch_size,
           "block": tc.block_size, "steps_timed": a.steps, "threads": torch.get_num_threads(),
           "device": "cuda" if torch.cuda.is_available() else "cpu", "precision": a.precision,
           "fast_bf16_hardware": bf16_supported(), "kernels": kernel_record()}
    if torch.cuda.is_available():
        model = model.cuda()
        blocks = blocks.cuda()
    tps, warm = bare_loop(model, blocks, a.steps, tc.batch_size, tc.lr, a.warmup, bf16)
    res["bare_tokens_per_s"], res["bare_warmup_seconds"] = round(tps, 1), round(warm, 2)
    res["bare_peak_mb"] = round(peak_mb(), 1)
    model = build_model(p.model, p.model.vocab_size, seed=0)
    with tempfile.TemporaryDirectory() as d:
        tps, warm = trainer_loop(model, blocks.cpu(), a.steps, tc.batch_size, tc.lr, a.warmup, d, bf16)
    res["trainer_tokens_per_s"], res["trainer_warmup_seconds"] = round(tps, 1), round(warm, 2)
    res["trainer_peak_mb"] = round(peak_mb(), 1)
    res["trainer_over_bare"] = round(res["trainer_tokens_per_s"] / res["bare_tokens_per_s"], 3)
    if a.compile:
        tokens_per_step = tc.batch_size * tc.block_size
        for loop in ("bare", "trainer"):
            model = build_model(p.model, p.model.vocab_size, seed=0)
            if loop == "bare":
                tps, warm = bare_loop(model.to(blocks.device), blocks, a.steps, tc.batch_size, tc.lr, a.warmup, bf16,
                                      compile_model=True)
            else:
                with tempfile.TemporaryDirectory() as d:
                    tps, warm = trainer_loop(model, blocks.cpu(), a.steps, tc.batch_size, tc.lr, a.warmup, d, bf16,
                                             compile_model=True)
            res[f"{loop}_compiled_tokens_per_s"], res[f"{loop}_compiled_warmup_seconds"] = round(tps, 1), round(warm, 2)
            saved_per_step = tokens_per_step / res[f"{loop}_tokens_per_s"] - tokens_per_step / tps
            extra = warm - res[f"{loop}_warmup_seconds"]
            res[f"{loop}_compile_pays_after_steps"] = round(extra / saved_per_step) if saved_per_step > 0 else None
    fpt = flops_per_token(res["parameters"], p.model.num_layers, p.model.hidden_size, tc.block_size)
    peak = matmul_peak_flops(torch.bfloat16 if bf16 else torch.float32)
    res["flops_per_token"] = fpt
    res["matmul_peak_gflops"] = round(peak / 1e9, 1)
    for loop in ("bare", "trainer"):
        achieved = res[f"{loop}_tokens_per_s"] * fpt
        res[f"{loop}_achieved_gflops"] = round(achieved / 1e9, 2)
        res[f"{loop}_mfu"] = round(achieved / peak, 4)
    print(json.dumps(res, indent=2))
    if a.out:
        write_json_atomic(a.out, res)


if __name__ == "__main__":
    main()
