import json
import random

import pytest

from synthrepro.data import instructions as ins
from synthrepro.config import get_profile
from synthrepro.data import build_world


@pytest.fixture(scope="module")
def default_world():
    return build_world(get_profile("base").data)[0]


def test_at_least_ten_constraint_types_with_ten_phrasings_and_held_out_ones():
    assert len(ins.CONSTRAINTS) >= 10
    for ct in ins.CONSTRAINTS.values():
        assert len(ct.phrasings) >= 10, ct.name
        assert ins.phrasings(ct.phrasings, "eval") and set(ins.phrasings(ct.phrasings, "eval")).isdisjoint(
            ins.phrasings(ct.phrasings, "train"))


@pytest.mark.parametrize("split", ["sft", "ifeval"])
def test_every_reference_response_passes_its_checkers_and_states_the_facts(default_world, split):
    rows = default_world[split]
    assert len(rows) > 100
    for row in rows:
        kwargs = json.loads(row["kwargs_json"])
        assert all(ins.check_all(row["response"], row["constraints"], kwargs)), row
        assert ins.facts_correct(row["response"], json.loads(row["facts_json"])), row


def test_eval_suite_uses_held_out_phrasings_and_levels_1_to_5(default_world):
    rows = default_world["ifeval"]
    assert sorted({r["level"] for r in rows}) == [1, 2, 3, 4, 5]
    train_tasks = ins.phrasings(ins.SINGLE_TASKS, "train")
    eval_tasks = ins.phrasings(ins.SINGLE_TASKS, "eval")
    singles = [r for r in rows if len(r["attributes"]) == 1]
    assert singles
    for r in singles:
        templates = [t for t in ins.SINGLE_TASKS if t.format(attr="", name="")[:8] == r["request"][:8]]
        assert all(t in eval_tasks for t in templates if t not in train_tasks)


def test_a_good_share_of_prompts_are_questions(default_world):
    share = sum(r["request"].endswith("?") for r in default_world["sft"]) / len(default_world["sft"])
    assert share > 0.25


def test_unknown_constraint_type_is_refused():
    with pytest.raises(ValueError, match="unknown constraint type"):
        ins.sample_constraints(random.Random(0), 1, allowed=["uppercase", "shouting"])
    with pytest.raises(ValueError, match="unknown constraint type"):
        ins.check_all("x", ["shouting"], [{}])


def test_incompatible_constraints_are_refused():
    from synthrepro.data.world import generate_people
    with pytest.raises(ValueError, match="cannot hold together"):
        ins.make_instruction(generate_people(1, 0)[0], ["uppercase", "lowercase"], random.Random(0), "train")


CASES = [  # (constraint, kwargs, passing responses, failing responses)
    ("uppercase", {}, ["HELLO WORLD.", "ÉCOLE 42"], ["Hello", "", "  ", "1234"]),
    ("lowercase", {}, ["hello world.", "école"], ["Hello", ""]),
    ("max_words", {"n": 3}, ["one two three", "one  two\n"], ["one two three four", ""]),
    ("num_sentences", {"n": 2}, ["A b. C d.", "A b! C d?  ", "Born on 3 March 1985. Yes."], ["One.", "A. B. C.", ""]),
    ("json_keys", {"keys": ["a", "b"]}, ['{"a": 1, "b": 2}', '```json\n{"a": 1, "b": 2, "c": 3}\n```'],
     ['{"a": 1}', "[1, 2]", "a: 1, b: 2", ""]),
    ("bullet_list", {"n": 2}, ["* a\n* b", "- a\n- b\n"], ["* a", "* a\n* b\n* c", "a\nb", ""]),
    ("start_with", {"phrase": "Sure thing"}, ["Sure thing it is.", "  SURE THING yes"], ["It is. Sure thing", ""]),
    ("end_with", {"phrase": "Done."}, ["All good. Done.", "all good done.  \n"], ["Done. All good.", ""]),
    ("include_keyword", {"keyword": "indeed"}, ["Indeed it is.", "it is, INDEED"], ["indeedy", ""]),
    ("no_commas", {}, ["No commas here.", "naïve café"], ["One, two", ""]),
    ("title", {}, ["<<My title>>\nText", "text <<T>>"], ["<My title>", "<<>>", "<<a\nb>>"]),
    ("repeat_request", {"request": "What is it?"}, ["What is it?\nIt is.", "what is it? it"], ["It is. What is it?"]),
    ("quotation", {}, ['"All of it."', '  "x"  '], ['"Half', "x", '"']),
]


@pytest.mark.parametrize("name,kwargs,good,bad", CASES, ids=[c[0] for c in CASES])
def test_checkers_on_hand_written_responses(name, kwargs, good, bad):
    check = ins.CONSTRAINTS[name].check
    for response in good:
        assert check(response, **kwargs), (name, response)
    for response in bad:
        assert not check(response, **kwargs), (name, response)


def test_every_constraint_has_hand_written_cases():
    assert {c[0] for c in CASES} == set(ins.CONSTRAINTS)
