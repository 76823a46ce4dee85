"""The committed notebooks read well: few stream outputs (progress shown as one line per bar, not every refresh),
no third-party loading bars or widget warnings, no machine paths, every code cell executed."""
import json

import pytest

from synthrepro.config import ALL_NOTEBOOKS, repo_root

MAX_STREAM_OUTPUTS = 60


#: The world track's notebooks and every other track's published ones (figures/<profile>/notebooks/).
PUBLISHED = [f"notebooks/{name}.ipynb" for name in ALL_NOTEBOOKS] + sorted(
    p.relative_to(repo_root()).as_posix() for p in repo_root().glob("figures/*/notebooks/*.ipynb"))


def _outputs(name: str):
    nb = json.loads((repo_root() / name).read_text())
    return nb, [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("name", PUBLISHED)
def test_committed_notebook_reads_well(name):
    nb, outputs = _outputs(name)
    streams = [o for o in outputs if o.get("output_type") == "stream"]
    assert len(streams) <= MAX_STREAM_OUTPUTS, f"{name}: {len(streams)} stream outputs (progress refreshes?)"
    text = "".join("".join(o.get("text", "")) for o in streams)
    for noise in ("Loading weights", "IProgress not found", "/tmp/", "/root/", "/work/"):
        assert noise not in text, f"{name}: stored output contains {noise!r}"
    whole = json.dumps(nb)
    for path in ("/tmp/", "/root/", "/work/"):
        assert path not in whole, f"{name}: the notebook file names a machine path {path!r} (outputs or metadata)"
    unexecuted = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("execution_count") is None]
    assert not unexecuted, f"{name}: code cells {unexecuted} were never executed"
