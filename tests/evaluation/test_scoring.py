import json

import pytest
import torch

from synthrepro.evaluation import following, scoring, stats
from synthrepro.models import generation


def _row(constraints, kwargs, facts, level=None):
    return {"constraints": constraints, "kwargs_json": json.dumps(kwargs), "facts_json": json.dumps(facts),
            "level": level or len(constraints)}


def test_hsr_ssr_arithmetic_on_fake_generations():
    facts = {"major": "Law"}
    rows = [_row(["uppercase", "no_commas"], [{}, {}], facts),            # both met
            _row(["uppercase", "no_commas"], [{}, {}], facts),            # one of two met
            _row(["lowercase"], [{}], facts),                             # none met
            _row(["max_words", "lowercase", "no_commas"], [{"n": 5}, {}, {}], facts)]  # all three met
    responses = ["ANN MAJORED IN LAW.", "ANN, LAW.", "Law.", "ann studied law."]
    res = following.score_instruction_following(rows, responses)
    assert res["hsr"] == pytest.approx(2 / 4)
    assert res["ssr"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert res["per_level"]["2"]["hsr"] == pytest.approx(0.5) and res["per_level"]["1"]["hsr"] == 0.0
    assert res["fact_accuracy"] == 1.0
    assert res["leak_bare_answer"] == pytest.approx(1 / 4)  # "Law." is the bare SynthQA answer


def test_loose_accepts_what_strict_rejects():
    rows = [_row(["start_with"], [{"phrase": "Sure thing"}], {"major": "Law"})]
    res = following.score_instruction_following(rows, ["**Sure thing** Ann majored in Law."])
    assert res["hsr"] == 0.0 and res["hsr_loose"] == 1.0


@pytest.mark.parametrize("response,marker,bare", [
    ("Answer: Law.", True, True), ("Question: What is it?\nAnswer: Law.", True, False),
    ("Law.", False, True), ("  law ", False, True), ("Ann majored in Law.", False, False),
    ("", False, False), ("ANSWER: LAW", True, True), ("The answer: law", False, False),
])
def test_leakage_detector(response, marker, bare):
    out = following.leakage(response, {"major": "Law"})
    assert (out["qa_marker"], out["bare_answer"], out["any"]) == (marker, bare, marker or bare)


def test_wilson_interval():
    lo, hi = stats.wilson_interval(50, 100)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.19, abs=0.01)
    assert stats.wilson_interval(0, 10)[0] == 0.0


@pytest.fixture(scope="module")
def memorised(tmp_path_factory):
    """A tiny model trained to memorise four Q-A facts (and a tokenizer trained on them)."""
    from synthrepro.config import ModelConfig
    from synthrepro.models.loading import build_model
    from synthrepro.models.tokenizer import train_tokenizer
    items = [{"question": f"What is the major of Person{i}?", "options": ["Law", "Music", "Botany", "Physics"],
              "answer": i, "neutral_options": [f"Person{i} majored in {o}." for o in
                                               ["Law", "Music", "Botany", "Physics"]]} for i in range(4)]
    texts = [f"Question: {it['question']}\nAnswer: {it['options'][it['answer']]}." for it in items]
    texts += [it["neutral_options"][it["answer"]] for it in items]
    tok = train_tokenizer(texts * 20, 320, tmp_path_factory.mktemp("tok"))
    model = build_model(ModelConfig(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128), len(tok), 0)
    ids = [[tok.eos_token_id] + tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(150):
        for s in ids:
            x = torch.tensor([s])
            model(input_ids=x, labels=x).loss.backward()
        opt.step()
        opt.zero_grad()
    return model.eval(), tok, items


def test_likelihood_scorer_picks_the_memorised_option(memorised):
    model, tok, items = memorised
    for form in ("qa", "neutral"):
        res = scoring.benchmark_accuracy(model, tok, items, form)
        assert res["accuracy"] == 1.0 and res["accuracy_per_token"] == 1.0 and res["accuracy_per_byte"] == 1.0, form


def test_batched_generation_equals_one_at_a_time(memorised):
    model, tok, _ = memorised
    prompts = ["Question: What is the major of Person1?\nAnswer:", "Person2", "Question: What is the",
               "Person3 majored in"]
    batched = generation.generate(model, tok, prompts, max_new_tokens=8, batch_size=4, chat=False)
    single = [generation.generate(model, tok, [p], max_new_tokens=8, batch_size=1, chat=False)[0] for p in prompts]
    assert batched == single
    assert batched[0].startswith("Music")
    budgeted = generation.generate(model, tok, prompts, max_new_tokens=8, batch_size=4, chat=False, batch_tokens=40)
    assert budgeted == single  # replies come back in the prompts' order, whatever the batches


def test_token_budget_batches_keep_long_prompts_in_small_batches():
    lengths = [10, 300, 12, 11, 290, 9]
    assert generation.generation_batches(lengths, 4, 8) == [[0, 1, 2, 3], [4, 5]]  # no budget: as given
    batches = generation.generation_batches(lengths, 4, 10, batch_tokens=700)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert batches == [[5, 0, 3, 2], [4, 1]]  # shortest first; 2 × (300 + 10) ≤ 700 < 3 × …
    assert all(len(b) * (max(lengths[i] for i in b) + 10) <= 700 for b in batches)
    assert generation.generation_batches([500], 4, 10, batch_tokens=100) == [[0]]  # one prompt over the budget alone


def test_verdicts_follow_the_numbers():
    big_up = stats.effect([0.30, 0.31, 0.29], [0.50, 0.52, 0.51])
    assert stats.verdict(big_up, +1) == "holds" and stats.verdict(big_up, -1) == "does not hold"
    noisy = stats.effect([0.30, 0.50, 0.10], [0.35, 0.15, 0.55])
    assert stats.verdict(noisy, +1) == "within noise"
    one_seed = stats.effect([0.30], [0.34], [stats.proportion_se(0.30, 100)], [stats.proportion_se(0.34, 100)])
    assert one_seed["df"] == 0 and stats.verdict(one_seed, +1) == "one seed"  # no seed spread: no verdict
    assert big_up["df"] > 2 and big_up["ci95"][0] > 0 and big_up["p"] < 0.05


def test_distribution_comparison_and_kl():
    import numpy as np
    rng = np.random.default_rng(0)
    same = scoring.compare_distributions(list(rng.normal(0, 1, 500)), list(rng.normal(0, 1, 500)))
    shifted = scoring.compare_distributions(list(rng.normal(0, 1, 500)), list(rng.normal(1, 0.5, 500)))
    assert same["ks_statistic"] < 0.1 < shifted["ks_statistic"] and shifted["std_b"] < shifted["std_a"]
    logp = torch.log_softmax(torch.randn(4, 10), -1)
    assert scoring.mean_kl(logp, logp) == pytest.approx(0.0, abs=1e-6)
    assert scoring.mean_kl(logp, torch.log_softmax(torch.randn(4, 10), -1)) > 0


def test_paired_effect_is_paired_per_prompt_and_combined_over_seeds():
    from synthrepro.evaluation.stats import effect, paired_effect
    import numpy as np
    rng = np.random.default_rng(0)
    a, b = {}, {}
    for seed in range(4):
        base = (rng.random(400) < 0.5).astype(int)          # prompt difficulty shared by both arms
        flip = rng.random(400) < 0.05
        a[seed], b[seed] = base.tolist(), np.where(flip, 0, base).tolist()
    eff = paired_effect(a, b)
    unpaired = effect([np.mean(v) for v in a.values()], [np.mean(v) for v in b.values()],
                      [np.sqrt(0.25 / 400)] * 4, [np.sqrt(0.25 / 400)] * 4)
    assert eff["diff"] < 0 and eff["se"] < unpaired["se"] and eff["mde"] == pytest.approx(eff["t_crit"] * eff["se"])
    assert eff["n_seeds"] == 4 and eff["n_prompts"] == 400
    with pytest.raises(ValueError, match="same prompts"):
        paired_effect({0: [1, 0]}, {0: [1]})
