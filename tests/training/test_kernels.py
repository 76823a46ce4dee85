"""The same numbers on every machine of this kind: kernels pinned to AVX2 (config/kernels.py), a committed fingerprint
of a small training run that any drift breaks, and reuse that never mixes kernels.

The fingerprint (tests/fixtures/kernel_fingerprint.json) was computed with pinning on, on an AMD EPYC with AVX-512 and
AVX-512 BF16; the same weights come out on a CPU without AVX-512 (docs/reproducibility.md says how that was checked).
If this test fails after an intended change of the smoke training (its profile, the data generator, a library
version), re-create the file with `python tests/training/test_kernels.py` and say why in the commit.
"""
import synthrepro  # noqa: F401  (first: pins the kernels when this file runs as a script)
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from synthrepro import training as train
from synthrepro.config import get_profile, kernel_key, kernel_record
from synthrepro.config.kernels import PINNED_KEY, KernelSettingError, check_kernel_settings, pin_kernels
from synthrepro.data import ensure_world
from synthrepro.records import StaleArtifactError
from synthrepro.unlearning.api import tensors_sha256

ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT = ROOT / "tests" / "fixtures" / "kernel_fingerprint.json"


def weights_sha256(final: Path) -> str:
    """sha256 over a checkpoint's tensors (names, dtypes, shapes, bytes): independent of the file format's header."""
    return tensors_sha256(load_file(str(final / "model.safetensors")))


def smoke_chain(run_dir: Path) -> dict:
    """Pre-training, synthetic CPT and SFT at the smoke size: {stage: {"weights_sha256", "final_loss"}}."""
    prof = get_profile("smoke")
    data_dir, _, _ = ensure_world(prof.data, run_dir)
    base = train.pretrain(data_dir, run_dir, prof.model, prof.pretrain)
    cpt = train.cpt("synthetic", base, data_dir, run_dir, prof.cpt, seed=0)
    sft = train.sft(cpt, data_dir, run_dir, prof.sft, seed=0)
    return {name: {"weights_sha256": weights_sha256(final), "final_loss": train.stage_info(final.parent)["final_loss"]}
            for name, final in (("pretrain", base), ("cpt_synthetic", cpt), ("sft", sft))}


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("kernels")
    return run_dir, smoke_chain(run_dir)


def test_pinned_training_reproduces_the_committed_fingerprint(chain):
    _, got = chain
    assert kernel_record()["pinned"] and kernel_record()["torch_capability"] == "AVX2"
    assert kernel_record()["openblas"] in (None, ["Haswell"])
    want = json.loads(FINGERPRINT.read_text())["stages"]
    assert {k: v["weights_sha256"] for k, v in got.items()} == {k: v["weights_sha256"] for k, v in want.items()}, (
        "the smoke training's weights drifted from the committed fingerprint: the kernels, a library or the smoke "
        f"run changed (got {json.dumps(got)})")


def test_every_stage_records_its_kernels_and_cpu(chain):
    run_dir, _ = chain
    infos = [train.stage_info(p) for p in (run_dir / "stages").iterdir() if (p / "stage.json").exists()]
    assert len(infos) == 3
    for info in infos:
        kernels = info["kernels"]
        assert kernels["key"] == PINNED_KEY and kernels["env"]["ATEN_CPU_CAPABILITY"] == "avx2"
        assert kernels["env"]["OPENBLAS_CORETYPE"] == "Haswell" and kernels["torch_capability"] == "AVX2"
        assert "avx2" in kernels["cpu"]["flags"] and kernels["threads"] >= 1


def test_a_stage_made_with_other_kernels_is_never_reused(chain, monkeypatch):
    run_dir, _ = chain
    prof = get_profile("smoke")
    data_dir, _, _ = ensure_world(prof.data, run_dir)
    out = train.pretrain(data_dir, run_dir, prof.model, prof.pretrain).parent
    record = out / "stage.json"
    original = record.read_text()
    try:
        info = json.loads(original)
        info["kernels"]["key"] = "native-avx512-avx2-avx512f"
        record.write_text(json.dumps(info))
        with pytest.raises(StaleArtifactError, match="computed with kernels native-avx512"):
            train.finished(out)
        del info["kernels"]
        record.write_text(json.dumps(info))
        with pytest.raises(StaleArtifactError, match="before pinning"):
            train.finished(out)
    finally:
        record.write_text(original)
    assert train.finished(out)
    # pinning off: another key, so another directory (the pinned stage is never reused for an unpinned run)
    pinned_dir = train.stage_dir(run_dir, "pretrain", "x")
    monkeypatch.setenv("SYNTHREPRO_PIN_KERNELS", "0")
    assert kernel_key().startswith("native-") and train.stage_dir(run_dir, "pretrain", "x") != pinned_dir


@pytest.mark.parametrize("env,message", [
    ({"ATEN_CPU_CAPABILITY": "avx9"}, "ATEN_CPU_CAPABILITY='avx9' is not a value its library knows; use one of "
                                      "['default', 'avx2', 'avx512']"),
    ({"MKL_CBWR": "FAST"}, "MKL_CBWR='FAST' is not a value its library knows"),
    ({"ONEDNN_MAX_CPU_ISA": "avx3"}, "ONEDNN_MAX_CPU_ISA='avx3' is not a value its library knows"),
    ({"OPENBLAS_CORETYPE": "Skylake"}, "OPENBLAS_CORETYPE='Skylake' is not a value its library knows"),
    ({"OPENBLAS_CORETYPE": "SkylakeX"}, "OPENBLAS_CORETYPE='SkylakeX' contradicts synthrepro's pinned kernels"),
    ({"SYNTHREPRO_PIN_KERNELS": "maybe"}, "SYNTHREPRO_PIN_KERNELS='maybe': use 1"),
    ({"ATEN_CPU_CAPABILITY": "avx512"}, "contradicts synthrepro's pinned kernels"),
])
def test_a_bad_pinning_variable_stops_with_its_value_and_the_allowed_ones(env, message, monkeypatch):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(KernelSettingError, match=re.escape(message)):
        check_kernel_settings()


def test_the_command_says_a_bad_pinning_variable_in_one_line():
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx9"}
    done = subprocess.run([str(Path(sys.executable).parent / "synthrepro"), "profiles"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "ATEN_CPU_CAPABILITY='avx9'" in done.stderr and "Traceback" not in done.stderr


def test_a_pin_that_came_too_late_is_caught():
    """NumPy imported before synthrepro loads OpenBLAS with the CPU's own kernels: a notebook's record refuses."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY")}
    code = ("import numpy, synthrepro\nfrom synthrepro.config import kernel_record\n"
            "try:\n    kernel_record(numpy_too=True)\nexcept Exception as err:\n    print(type(err).__name__, err)\n"
            "else:\n    print('ok', kernel_record()['openblas'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    cpu_has_avx512 = "avx512f" in kernel_record()["cpu"]["flags"]
    if cpu_has_avx512:  # OpenBLAS picked its AVX-512 kernels before the pin
        assert done.stdout.startswith("KernelSettingError") and "import synthrepro first" in done.stdout
    else:
        assert done.stdout.startswith(("ok", "KernelSettingError"))


def test_pinning_off_is_recorded_as_native(monkeypatch):
    monkeypatch.setenv("SYNTHREPRO_PIN_KERNELS", "0")
    rec = kernel_record()
    assert rec["pinned"] is False and rec["key"].startswith("native-")
    monkeypatch.setenv("SYNTHREPRO_PIN_KERNELS", "1")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    assert pin_kernels()["ATEN_CPU_CAPABILITY"] == "avx2"


if __name__ == "__main__":  # re-create the committed fingerprint (with pinning on; say why in the commit)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        stages = smoke_chain(Path(tmp))
    FINGERPRINT.write_text(json.dumps({"profile": "smoke", "kernels": kernel_record(), "stages": stages}, indent=1)
                           + "\n")
    print(json.dumps(stages, indent=1))
