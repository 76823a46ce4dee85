"""The `synthrepro` console script: every subcommand has --help, and bad input is one line that says the fix.
Argument handling runs in this interpreter (`cli.main`, what the console script calls: no 10-second torch import per
case); the entry point itself runs as a subprocess in `test_unlearn_own_model_from_jsonl`."""
import json
import subprocess
import sys

import pytest

from synthrepro.cli import main
from synthrepro.config import repo_root

TINY = repo_root() / "tests" / "fixtures" / "tiny_hub" / "model"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "synthrepro", *args], capture_output=True, text=True)


def cli_here(capsys, *args) -> tuple[int, str, str]:
    """`synthrepro ARGS` in this interpreter: (exit code, stdout, stderr); only a clean exit is accepted (any other
    exception fails the test, as a traceback would)."""
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


@pytest.mark.parametrize("command", ["pipeline", "train", "unlearn", "harness", "lm-eval-task", "estimate",
                                     "profiles"])
def test_every_subcommand_has_help(command, capsys):
    code, out, _ = cli_here(capsys, command, "--help")
    assert code == 0 and "usage: synthrepro" in out


@pytest.mark.parametrize("args,message", [
    (["pipeline", "--profile", "nowhere"], "unknown profile 'nowhere'"),
    (["pipeline", "--only", "07_nothing"], "no such notebook"),
    (["pipeline", "-p", "lower=1"], "UPPER_CASE notebook parameter"),
    (["train", "--seed", "-3"], "--seed must be in"),
    (["estimate", "--mfu", "2"], "--mfu must be in (0, 1]"),
    (["unlearn", "--model", "nowhere", "--forget", "f.jsonl", "--retain", "r.jsonl", "--output", "o"], "not a checkpoint directory"),
])
def test_bad_arguments_say_the_fix(args, message, capsys):
    code, _, err = cli_here(capsys, *args)
    assert code == 2 and message in err


def test_unlearn_own_model_from_jsonl(tmp_path):
    forget, retain = tmp_path / "f.jsonl", tmp_path / "r.jsonl"
    forget.write_text("\n".join(json.dumps({"text": f"Question: Who is P{i}?\nAnswer: P{i}."}) for i in range(4)))
    retain.write_text("\n".join(json.dumps({"text": f"P{i} lives in a quiet town by the sea."}) for i in range(4)))
    res = cli("unlearn", "--model", str(TINY), "--forget", str(forget), "--retain", str(retain), "--output",
              str(tmp_path / "out"), "--steps", "2", "--batch-size", "2", "--block-size", "32", "--param", "gamma=1.0")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["method"] == "bounded" and (tmp_path / "out" / "final" / "config.json").exists()
    res = cli("unlearn", "--model", str(TINY), "--forget", str(forget), "--retain", str(retain), "--output",
              str(tmp_path / "o2"), "--param", "beta=1")
    assert res.returncode == 2 and "'bounded' has no hyperparameter(s) ['beta']" in res.stderr
    retain.write_text('{"text": 3}\n')
    res = cli("unlearn", "--model", str(TINY), "--forget", str(forget), "--retain", str(retain), "--output", "o3")
    assert res.returncode == 2 and "line 1: \"text\" must be a string" in res.stderr
