"""The `ood` instruction suite (data.ood): its wording is IFEval's or written apart from the project's, shares no word
4-gram with anything the project trains on, its prompts are fixed by a seed and checkable, and bad rows in its files
stop generation with the file, the line and the reason."""
import dataclasses
import json
import re
from collections import Counter

import pytest

import synthrepro  # noqa: F401
from synthrepro.config import PROFILES, config_hash
from synthrepro.data import ood
from synthrepro.data.build import build_world
from synthrepro.data.instructions import CONSTRAINTS, check_all
from synthrepro.data.shipped import load_ifeval_prompts
from synthrepro.data.world import generate_people


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_no_template_or_phrasing_shares_a_word_4gram_with_anything_trained_on():
    for p in ood.load_phrasings():
        assert ood.shared_ngrams(p.text) == [], p.id
    for t in ood.load_tasks():
        assert ood.shared_ngrams(t.template) == [], t.id
    # the check itself sees a copy: the project's own first phrasing of a constraint shares its 4-grams
    assert ood.shared_ngrams(CONSTRAINTS["quotation"].phrasings[0])


def test_every_curated_phrasing_quotes_its_ifeval_prompt():
    """Each row (used or left out) is IFEval's wording: with its number put back, a substring of the prompt its key
    names, which carries the instruction id it claims; a left-out row says why."""
    prompts = {r["key"]: r for r in load_ifeval_prompts(None)}
    rows = _rows(ood.CONSTRAINTS_FILE)
    for r in rows:
        src = prompts[r["ifeval_key"]]
        text = r["text"].replace("{n}", r["ifeval_n"]) if "{n}" in r["text"] else r["text"]
        assert _norm(text) in _norm(src["prompt"]), r["id"]
        assert r["ifeval_id"] in src["instruction_id_list"], r["id"]
        assert "exclude" not in r or r["exclude"].strip()
    used = Counter(p.type for p in ood.load_phrasings())
    # what survives the two rules (the world's checker tests it; no 4-gram shared with the project's templates)
    assert used == {"no_commas": 15, "max_words": 7, "quotation": 6, "lowercase": 3, "uppercase": 2, "bullet_list": 1}
    assert len({p.text for p in ood.load_phrasings()}) == sum(used.values())  # distinct wordings


def test_counted_phrasings_render_the_number_the_checker_tests():
    p = next(p for p in ood.load_phrasings() if p.relation == "less than")
    assert "less than 8 words" in p.render({"n": 7})  # max_words(n=7) passes ≤ 7 words: "less than 8"
    q = next(p for p in ood.load_phrasings() if p.relation == "at most")
    assert "7" in q.render({"n": 7})


def test_the_suite_is_fixed_by_its_seed_checkable_and_records_its_sources():
    people = generate_people(60, 0)
    rows = ood.ood_rows(people, 600, [1, 2, 3], 17, 0.6)
    assert rows == ood.ood_rows(people, 600, [1, 2, 3], 17, 0.6)
    assert Counter(r["level"] for r in rows) == {1: 200, 2: 200, 3: 200}
    tasks = {t.id: t for t in ood.load_tasks()}
    phrasings = {p.id: p for p in ood.load_phrasings()}
    for r in rows:
        assert all(check_all(r["response"], r["constraints"], json.loads(r["kwargs_json"])))  # reference passes
        assert [phrasings[i].type for i in r["phrasings"]] == r["constraints"]
        assert tasks[r["task_template"]].kind == ("single" if len(r["attributes"]) == 1 else "multi")
        assert r["request"] in r["prompt"] and all(phrasings[i].text.split("{")[0][:12] in r["prompt"]
                                                    for i in r["phrasings"])
    assert len({r["task_template"] for r in rows}) == len(tasks)


def test_the_world_holds_the_suite_only_where_the_profile_asks_and_old_keys_stay():
    splits, _ = build_world(PROFILES["smoke"].data)
    held = {p["name"] for p in _["people_rows"] if p["heldout"]}
    assert len(splits["ifeval_ood"]) == 12 and {r["person"] for r in splits["ifeval_ood"]} <= held
    base = PROFILES["base"].data
    assert base.ood_prompts_per_level == 0
    assert config_hash(base) != config_hash(dataclasses.replace(base, ood_prompts_per_level=4))  # asking changes the key
    with pytest.raises(ValueError, match="ood_levels"):
        type(base)(ood_prompts_per_level=2, ood_levels=(5,))


@pytest.mark.parametrize("line,reason", [
    ({"id": "x/1", "type": "max_words", "text": "Use fewer than {n} words.", "relation": "roughly",
      "ifeval_key": 164, "ifeval_id": "length_constraints:number_words"}, "cannot be parsed"),
    ({"id": "x/2", "type": "no_commas", "text": "No commas in {n} places.", "ifeval_key": 1, "ifeval_id": "p"},
     "takes no number"),
    ({"id": "x/3", "type": "shouting", "text": "Shout.", "ifeval_key": 1, "ifeval_id": "p"}, "unknown constraint type"),
    ({"id": "x/4", "type": "bullet_list", "text": "Use bullet points.", "relation": "exactly", "ifeval_key": 1,
      "ifeval_id": "p"}, "needs the number"),
])
def test_a_bad_phrasing_row_stops_generation_with_file_line_and_reason(tmp_path, line, reason):
    path = tmp_path / "constraints.jsonl"
    good = _rows(ood.CONSTRAINTS_FILE)[:3]
    path.write_text("".join(json.dumps(r) + "\n" for r in good) + json.dumps(line) + "\n")
    with pytest.raises(ood.SuiteFileError, match=reason) as err:
        ood.load_phrasings(path)
    assert err.value.line == 4 and str(path) in str(err.value)


@pytest.mark.parametrize("row,reason", [
    ({"id": "t1", "kind": "single", "template": "List what you know of {name}'s {attr}."}, "conflicts with the bullet_list"),
    ({"id": "t2", "kind": "multi", "template": "Give two facts about {name}: {attrs}."}, "fixes a number of facts"),
    ({"id": "t3", "kind": "single", "template": "Tell me {attrs} of {name}."}, "needs exactly the placeholders"),
    ({"id": "t4", "kind": "multi", "template": "Shout {attrs} of {name} in capitals."}, "uppercase / lowercase"),
])
def test_a_template_that_conflicts_with_a_constraint_stops_generation(tmp_path, row, reason):
    path = tmp_path / "tasks.jsonl"
    path.write_text(ood.TASKS_FILE.read_text() + json.dumps(row) + "\n")
    with pytest.raises(ood.SuiteFileError, match=reason) as err:
        ood.load_tasks(path)
    assert err.value.line == len(ood.load_tasks()) + 1
    ok = {**row, "avoid": ["bullet_list", "uppercase", "lowercase"]} if row["id"] in ("t1", "t2", "t4") else None
    if ok:
        path.write_text(ood.TASKS_FILE.read_text() + json.dumps(ok) + "\n")
        assert ood.load_tasks(path)[-1].avoid == tuple(ok["avoid"])


def test_the_curated_files_are_part_of_the_world_key(tmp_path, monkeypatch):
    from synthrepro.data import build
    cfg = PROFILES["smoke"].data
    before = build.world_key(cfg)
    edited = tmp_path / "tasks.jsonl"
    edited.write_text(ood.TASKS_FILE.read_text() + json.dumps(
        {"id": "task99", "kind": "single", "template": "Any clue about {name}'s {attr}?"}) + "\n")
    monkeypatch.setattr(build, "TASKS_FILE", edited)
    assert build.world_key(cfg) != before
    assert build.world_key(PROFILES["base"].data) == "25e144a3e727"  # no ood suite: the key of old
