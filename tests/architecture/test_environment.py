import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_pins_match_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env_pins = re.findall(r"^\s+- ([A-Za-z0-9_.\-]+==[^\s#]+)", (ROOT / "environment.yml").read_text(), re.M)
    assert sorted(deps) == sorted(env_pins)
    assert all("==" in d for d in deps), "every dependency is pinned"


def test_ci_calls_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
