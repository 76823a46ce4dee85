"""The inference routine (evaluation.stats.paired_effect) on simulated data with the project's variance structure:
its false-positive rate, its power at twice its MDE, the rule it replaced, nested base models; the layout-agnostic
leakage detector against every SynthQA generator and on reference text."""
import numpy as np
import pytest

import synthrepro  # noqa: F401  (kernels pinned first)
from synthrepro.evaluation import power, stats
from synthrepro.evaluation.power import STRUCTURES, Structure, legacy_two_se, rejection_rate

GRID = [(s, p) for s in (3, 5, 10) for p in (200, 600)]


@pytest.mark.parametrize("structure", ["after SFT", "before SFT"])
@pytest.mark.parametrize("n_seeds,n_prompts", GRID)
def test_false_positive_rate_is_at_most_6_percent_and_twice_the_mde_is_called(structure, n_seeds, n_prompts):
    null = rejection_rate("interval", STRUCTURES[structure], n_seeds, n_prompts, n_sims=2000, seed=n_seeds * n_prompts)
    assert null["rate"] <= 0.06, null
    alt = rejection_rate("interval", STRUCTURES[structure], n_seeds, n_prompts, effect=-2 * null["mde"], n_sims=300,
                         seed=1)
    assert alt["rate"] >= 0.80, (null, alt)


def test_the_replaced_two_se_rule_fails_the_same_test():
    rates = {(s, p): rejection_rate(legacy_two_se, STRUCTURES["before SFT"], s, p, n_sims=1000, seed=3)["rate"]
             for s, p in [(3, 600), (5, 200), (10, 600)]}
    assert all(r > 0.06 for r in rates.values()), rates


def test_base_models_are_a_source_of_variation():
    """3 base models × 4 seeds, base-model spread dominating: treating the 12 (base, seed) units as independent seeds
    calls about a quarter of null comparisons; the nested routine is near its level (measured 0.067: with three top
    units Satterthwaite's df is optimistic — docs/statistics.md, "Limits")."""
    st = Structure(prompt=1.5, arm_prompt=0.3, seed=0.05, cell=0.5, base=0.15)
    nested = rejection_rate("interval", st, 4, 300, n_sims=1500, seed=5, n_bases=3)
    assert nested["rate"] <= 0.075, nested

    def flat(a, b):
        keys = {k: i for i, k in enumerate(a)}
        return stats.verdict(stats.paired_effect({keys[k]: v for k, v in a.items()},
                                                 {keys[k]: v for k, v in b.items()}), -1)
    assert rejection_rate(flat, st, 4, 300, n_sims=1500, seed=5, n_bases=3)["rate"] > 2 * nested["rate"]


def test_known_components_and_one_seed():
    # d = seed effect + prompt effect exactly: MS_interaction 0, both components recovered
    seed_eff, prompt_eff = np.array([-0.1, 0.0, 0.1]), np.linspace(-0.5, 0.5, 50)
    a = {s: np.zeros(50) for s in range(3)}
    b = {s: seed_eff[s] + prompt_eff for s in range(3)}
    e = stats.paired_effect(a, b)
    assert e["components"]["unit"] == pytest.approx(np.var(seed_eff, ddof=1))
    assert e["components"]["prompt"] == pytest.approx(np.var(prompt_eff, ddof=1))
    assert e["se"] ** 2 == pytest.approx(np.var(seed_eff, ddof=1) / 3 + np.var(prompt_eff, ddof=1) / 50)
    one = stats.paired_effect({0: [0, 1, 1, 0]}, {0: [1, 1, 1, 1]})
    assert one["df"] == 0 and stats.verdict(one, +1) == "one seed"
    with pytest.raises(ValueError, match="same seeds per base model"):
        stats.paired_effect({("x", 0): [0, 1], ("x", 1): [0, 1], ("y", 0): [1, 1]},
                            {("x", 0): [1, 1], ("x", 1): [1, 1], ("y", 0): [1, 0]})


def test_holm_adjusts_a_family_and_leaves_no_verdicts_out():
    out = stats.holm([0.01, 0.04, float("nan"), 0.03])
    assert [o["reject_holm"] for o in out] == [True, False, False, False]
    assert out[0]["p_holm"] == pytest.approx(0.03) and np.isnan(out[2]["p_holm"])


def test_the_layout_agnostic_detector_sees_every_generator_and_layout():
    from synthrepro.data.qa import (DIVERSE_LAYOUTS, DiverseQAGenerator, RuleBasedQAGenerator, format_qa, qa_leak,
                                    qa_shaped)
    from synthrepro.data.world import generate_people
    people = generate_people(40, 0)
    uniform = RuleBasedQAGenerator().generate(people)
    diverse = DiverseQAGenerator(seed=1).generate(people)
    assert all(qa_shaped(r["text"]) and qa_leak(r["text"]) for r in uniform)
    assert all(qa_shaped(r["text"]) for r in diverse) and not any(qa_leak(r["text"]) for r in diverse)
    for layout in DIVERSE_LAYOUTS:  # each layout, in the case constraints a reply may be written in
        text = layout.format(q="Which company employs Ada Lind?", a="Umber Ceramics",
                             s="Ada Lind works for Umber Ceramics.")
        assert qa_shaped(text) and qa_shaped(text.upper()) and qa_shaped(text.lower()), text
    assert qa_shaped("Sure. " + format_qa("Where was Ada Lind born?", "Oslo."))  # the model-based generator's form
    for clean in ("Ada Lind works for Umber Ceramics.", "WHAT A DAY! IT WAS GREAT.", "Where do you work?",
                  "* ada lind majored in geology.\n* ada lind was born in glenrock."):
        assert not qa_shaped(clean), clean


def test_the_detector_rarely_fires_on_reference_text():
    """False positives on the world's SFT reference responses (every one) and AlpacaEval's reference replies (the
    pretrained track's SFT data): the rates docs/statistics.md reports."""
    from synthrepro.config import get_profile
    from synthrepro.data.build import build_world
    from synthrepro.data.qa import qa_shaped
    from synthrepro.data.shipped import load_alpaca
    splits, _ = build_world(get_profile("default").data)
    world = [r["response"] for r in splits["sft"]]
    alpaca = [r["output"] for r in load_alpaca()]
    rate_world = sum(map(qa_shaped, world)) / len(world)
    rate_alpaca = sum(map(qa_shaped, alpaca)) / len(alpaca)
    assert rate_world == 0.0 and rate_alpaca < 0.05, (rate_world, rate_alpaca)


def test_simulation_is_exchangeable_under_the_null():
    rng = np.random.default_rng(0)
    a, b = power.simulate(rng, STRUCTURES["after SFT"], 3, 100)
    assert set(a) == set(b) == {0, 1, 2} and all(len(v) == 100 for v in a.values())


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_prompts_written_from_shared_templates_and_phrasings_are_counted(n_seeds):
    """The ood suite's prompts come from 24 task templates and 34 phrasings; when these favour one arm a little, an SE
    that treats the 600 prompts as independent calls a quarter to a third of null comparisons (measured 0.255 with 3
    seeds, 0.347 with 5); the cluster-robust prompt term keeps the rule near its level (measured 0.053 and 0.0625 in
    2,000 simulations: G − 1 = 23 df for the prompt term; docs/statistics.md) and calls twice its MDE."""
    st = STRUCTURES["phrasings"]
    grouped = rejection_rate("grouped", st, n_seeds, 600, n_sims=1500, seed=11 + n_seeds)
    assert grouped["rate"] <= 0.07, grouped
    assert rejection_rate("interval", st, n_seeds, 600, n_sims=400, seed=13)["rate"] > 0.15
    alt = rejection_rate("grouped", st, n_seeds, 600, effect=-2 * grouped["mde"], n_sims=300, seed=12)
    assert alt["rate"] >= 0.80, (grouped, alt)


def test_grouping_costs_little_where_templates_and_phrasings_do_not_matter():
    """With no template or phrasing effect, the grouped rule stays at or below its level and its MDE barely grows."""
    plain = rejection_rate("interval", STRUCTURES["after SFT"], 3, 600, n_sims=600, seed=2)
    grouped = rejection_rate("grouped", STRUCTURES["after SFT"], 3, 600, n_sims=600, seed=2)
    assert grouped["rate"] <= 0.06 and grouped["mde"] <= 1.15 * plain["mde"], (plain, grouped)


def test_grouped_variance_counts_pairs_that_share_a_group():
    # two groups of two prompts with equal deviations inside a group: the variance of the mean is that of two units
    values = np.array([1.0, 1.0, -1.0, -1.0])
    g = stats.grouped_variance(values, [["t:a"], ["t:a"], ["t:b"], ["t:b"]])
    assert g["n_groups"] == 2 and g["var"] == pytest.approx((4 * 1 + 4 * 1) / 16 * 2)
    # multi-membership: a prompt in two phrasings links both groups' prompts to it
    linked = stats.grouped_variance(values, [["p:x"], ["p:x", "p:y"], ["p:y"], ["p:z"]])
    assert linked["kinds"] == {"p": 3}
    with pytest.raises(ValueError, match="one entry per prompt"):
        stats.grouped_variance(values, [["t:a"]])
    with pytest.raises(ValueError, match="kind:label"):
        stats.grouped_variance(values, [["a"], ["a"], ["b"], ["b"]])
