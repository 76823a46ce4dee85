import os

import pytest

import synthrepro  # noqa: F401  (pins the CPU kernels before any test imports torch: config/kernels.py)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def smoke_cfg():
    from synthrepro.config import get_profile
    return get_profile("smoke")


@pytest.fixture(scope="session")
def smoke_world(smoke_cfg):
    from synthrepro.data import build_world
    return build_world(smoke_cfg.data)
