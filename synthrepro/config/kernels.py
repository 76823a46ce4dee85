"""The kernels' instruction set, pinned: the same numbers on every x86 CPU of this kind, with or without AVX-512.

fp32 on a CPU is not one computation. PyTorch dispatches its own vectorised kernels by CPU capability (AVX2 or
AVX-512), OpenBLAS (under NumPy and SciPy) picks its kernels by core type, and oneMKL picks a GEMM code path; each
sums in its own order, and 2,500 training steps at a high learning rate turn the last-bit differences into different
models (on an AVX-512 machine the headline's pre-training ended at loss 0.728 instead of 0.723, and leakage before
SFT read 0.83 instead of 0.48).

`pin_kernels()` runs when `synthrepro` is first imported, before it imports torch or NumPy, and sets PyTorch's
documented switch (ATEN_CPU_CAPABILITY) and OpenBLAS's (OPENBLAS_CORETYPE, NumPy's and SciPy's BLAS) to AVX2 unless
the user turned pinning off (`SYNTHREPRO_PIN_KERNELS=0`). Child processes (papermill's notebook kernels,
`torchrun`/`accelerate` workers, subprocesses of tests) inherit the environment. Which switches
are kept, and why, is in docs/reproducibility.md (each measured: a switch that changes no weight is not kept).

Every stage record and every notebook's JSON carries `kernel_record()`; `kernel_key()` is part of the identity of
everything computed, so a stage computed with other kernels is never reused (see training.runner.finished).

Torch-free: the layer below everything (torch is looked at only if the process already imported it).
"""
from __future__ import annotations

import os
import platform
import sys

#: Turn pinning off with SYNTHREPRO_PIN_KERNELS=0 (the numbers then depend on the CPU; records say "native").
SWITCH = "SYNTHREPRO_PIN_KERNELS"
#: The pinned settings: variable → value. Only what was shown to change the computation (docs/reproducibility.md).
PINNED = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own vectorised kernels (randn, reductions, softmax, norms, AdamW)
    "OPENBLAS_CORETYPE": "Haswell",  # NumPy's and SciPy's OpenBLAS: its AVX2 kernels (t-SNE, SVD, PCA of the maps)
}
#: The name of the pinned computation in records and keys (changes whenever PINNED does).
PINNED_KEY = "pinned-" + "-".join(v.lower() for v in PINNED.values())
#: Measured and left out (docs/reproducibility.md): on these AMD EPYC machines oneMKL's fp32 GEMM takes the same
#: path with and without MKL_CBWR=AVX2 (MKL does not dispatch AVX-512 on AMD), and no fp32 op of the models reaches
#: oneDNN (ONEDNN_MAX_CPU_ISA=AVX2 changed no weight). Both stay allowed, checked and recorded.
#: Values a user may give each variable (checked, so a typo stops the run instead of being silently ignored).
ALLOWED = {
    "ATEN_CPU_CAPABILITY": ("default", "avx2", "avx512"),
    "MKL_CBWR": ("AUTO", "COMPATIBLE", "SSE4_2", "AVX", "AVX2", "AVX512", "AVX512_E1", "AVX2,STRICT", "AVX512,STRICT",
                 "AVX512_E1,STRICT", "BRANCH=AVX2", "BRANCH=AVX512"),
    "OPENBLAS_CORETYPE": ("Prescott", "Core2", "Nehalem", "Sandybridge", "Haswell", "SkylakeX", "CooperLake",
                          "SapphireRapids", "Zen", "Barcelona", "Bulldozer", "Piledriver", "Steamroller",
                          "Excavator", "Atom", "Dunnington", "Penryn", "Opteron", "Katmai", "Coppermine",
                          "Northwood"),
    "ONEDNN_MAX_CPU_ISA": ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
                           "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_AMX", "AVX10_1_512_AMX",
                           "AVX512_CORE_FP16", "AVX10_1_512_AMX_FP16", "ALL", "DEFAULT"),
}
#: The CPU flags that decide which kernels run (recorded with every result).
CPU_FLAGS = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni",
             "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile", "avx_vnni")


class KernelSettingError(ValueError):
    """A pinning variable with a value that is unknown, or that contradicts pinning: the message says the fix."""


def pinning_on() -> bool:
    """Whether this process pins the kernels (SYNTHREPRO_PIN_KERNELS, default on)."""
    value = os.environ.get(SWITCH, "1").strip().lower()
    if value not in ("1", "0", "true", "false", "on", "off", "yes", "no"):
        raise KernelSettingError(f"{SWITCH}={os.environ[SWITCH]!r}: use 1 (pin the kernels to AVX2, the default) or "
                                 "0 (let each library pick its kernels by CPU: the numbers then depend on the machine)")
    return value in ("1", "true", "on", "yes")


def check_kernel_settings() -> None:
    """Raise `KernelSettingError` for a variable set to a value its library does not know, or (pinning on) set to
    another value than the pinned one."""
    pin = pinning_on()
    for var, allowed in ALLOWED.items():
        value = os.environ.get(var)
        if value is None:
            continue
        norm = value.strip().upper()
        if norm not in {a.upper() for a in allowed}:
            raise KernelSettingError(f"{var}={value!r} is not a value its library knows; use one of {list(allowed)}, "
                                     f"or unset it")
        if pin and var in PINNED and norm != PINNED[var].upper():
            raise KernelSettingError(f"{var}={value!r} contradicts synthrepro's pinned kernels ({var}="
                                     f"{PINNED[var]}); unset it, or set {SWITCH}=0 to run with your own kernels "
                                     "(the numbers then depend on the machine)")


def pin_kernels() -> dict:
    """Set the pinned variables in this process's environment (inherited by every child process) unless pinning
    is off; check every pinning variable the user set. Call before torch is imported. Returns the settings in force."""
    check_kernel_settings()
    if pinning_on():
        for var, value in PINNED.items():
            os.environ.setdefault(var, value)
    return {var: os.environ.get(var) for var in ALLOWED}


def cpu_description() -> dict:
    """The CPU's model name and the flags that decide the kernels (from /proc/cpuinfo where there is one)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    model = value.strip()
                elif key == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return {"model": model, "machine": platform.machine(), "flags": [f for f in CPU_FLAGS if f in flags]}


def torch_capability() -> str | None:
    """The capability PyTorch dispatches to ("AVX2", "AVX512", …), if this process imported torch; else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch.backends.cpu.get_cpu_capability()
    except Exception:  # a torch without the query: unknown
        return None


def kernel_key() -> str:
    """What the kernels make of a computation, for the identity of its results: `PINNED_KEY` when pinned,
    "native-<capability>-<cpu flags>" when not (another machine, another key)."""
    if pinning_on():
        return PINNED_KEY
    cpu = cpu_description()
    return "native-" + "-".join([(torch_capability() or "unknown").lower(), *cpu["flags"]])


def kernel_record(numpy_too: bool = False) -> dict:
    """What every stage record and notebook JSON says about the kernels: pinned or not, the variables in force,
    PyTorch's dispatch capability, the number of threads, and the CPU (model and flags). Raises
    `KernelSettingError` when pinning is on but PyTorch dispatches to another capability (torch was imported
    and used before synthrepro, so the pin came too late) and, with `numpy_too` (a notebook's results, which NumPy
    computes in part), when OpenBLAS runs other kernels than the pinned ones (NumPy was imported first). Training
    uses no NumPy arithmetic, so a stage's record only says which OpenBLAS the process had."""
    pin = pinning_on()
    capability = torch_capability()
    torch = sys.modules.get("torch")
    cpu = cpu_description()
    if pin and capability is not None and "avx2" in cpu["flags"] and capability != "AVX2":
        raise KernelSettingError(f"kernels are pinned to AVX2 but PyTorch dispatches to {capability}: torch ran before "
                                 "synthrepro set ATEN_CPU_CAPABILITY; import synthrepro before torch, or start "
                                 f"Python with ATEN_CPU_CAPABILITY={PINNED['ATEN_CPU_CAPABILITY']} set")
    cores = openblas_cores()
    if numpy_too and pin and cores and any(c.upper() != PINNED["OPENBLAS_CORETYPE"].upper() for c in cores):
        raise KernelSettingError(f"kernels are pinned but OpenBLAS runs {cores}: NumPy was imported before synthrepro "
                                 "set OPENBLAS_CORETYPE; import synthrepro first (before numpy, pandas, torch), or "
                                 f"start Python with OPENBLAS_CORETYPE={PINNED['OPENBLAS_CORETYPE']} set")
    return {"key": kernel_key(), "pinned": pin, "env": {var: os.environ.get(var) for var in ALLOWED},
            "torch_capability": capability, "threads": torch.get_num_threads() if torch is not None else None,
            "openblas": cores, "cpu": cpu}


def openblas_cores() -> list[str] | None:
    """The core types the process's OpenBLAS libraries run (NumPy's, SciPy's), if threadpoolctl can tell."""
    if "numpy" not in sys.modules:
        return None
    try:
        from threadpoolctl import threadpool_info  # scikit-learn's dependency: installed with it
    except ImportError:
        return None
    return sorted({i.get("architecture") or "unknown" for i in threadpool_info()
                   if i.get("internal_api") == "openblas"})
