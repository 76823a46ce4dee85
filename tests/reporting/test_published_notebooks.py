"""The committed notebooks read well: few stream outputs (progress shown as one line per bar, not every refresh),
no third-party loading bars or widget warnings, no machine paths, every code cell executed."""
import json

import pytest

from synthrepro.config import ALL_NOTEBOOKS, repo_root

MAX_STREAM_OUTPUTS = 60


#: The world track's notebooks and every other track's published ones (figures/<profile>/notebooks/, and
#: figures/<profile>/ifeval-541/notebooks/ for a verdict run).
PUBLISHED = [f"notebooks/{name}.ipynb" for name in ALL_NOTEBOOKS] + sorted(
    p.relative_to(repo_root()).as_posix() for p in repo_root().glob("figures/**/notebooks/*.ipynb"))


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


@pytest.mark.parametrize("prompts,where", [(200, "figures/pretrained/notebooks"),
                                           (None, "figures/pretrained/ifeval-541/notebooks")])
def test_a_verdict_runs_notebooks_are_published_beside_its_figures_with_their_parameters(tmp_path, monkeypatch,
                                                                                           prompts, where):
    """`publish` puts the pretrained track's notebooks beside the figures of the run they come from (the all-541
    verdict run's in ifeval-541/, so the default run's stay) and keeps papermill's parameters cell there."""
    import nbformat

    from synthrepro.config import NOTEBOOKS, get_profile
    from synthrepro.reporting.pipeline import publish

    monkeypatch.setenv("SYNTHREPRO_ROOT", str(tmp_path))
    run = get_profile("pretrained").run_dir()
    (run / "notebooks").mkdir(parents=True)
    for name in NOTEBOOKS:
        rec = {"profile": "pretrained", "track": "pretrained"}
        if name == "03_overfitting_analysis":
            rec["eval_config"] = {"suite": "ifeval", "ifeval_prompts": prompts}
        (run / f"{name}.json").write_text(json.dumps(rec))
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("PROFILE = 'pretrained'", execution_count=1),
                                             nbformat.v4.new_code_cell("IFEVAL_PROMPTS = None", execution_count=2)])
        nb.cells[1].metadata["tags"] = ["injected-parameters"]
        nbformat.write(nb, run / "notebooks" / f"{name}.ipynb")
    published = publish("pretrained")
    assert {p.parent for p in published} == {tmp_path / where}
    assert len(nbformat.read(published[0], as_version=4).cells) == 2  # the run's parameters stay visible


#: Every committed record under figures/ (results, pilots, benchmarks).
RECORDS = sorted(p.relative_to(repo_root()).as_posix() for p in repo_root().glob("figures/**/*.json"))


@pytest.mark.parametrize("name", RECORDS)
def test_every_committed_record_is_json(name):
    """A record is data a reader loads with `json.load`: nothing else in the file (a benchmark once had the
    Trainer's printed log lines above its JSON, from redirecting stdout; `--out` writes the JSON alone now)."""
    assert isinstance(json.loads((repo_root() / name).read_text()), (dict, list))
