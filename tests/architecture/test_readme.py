"""The README's commands work as written: every `synthrepro` and `papermill` line of its "Change one knob" section
runs (at the smoke size: `default` becomes `smoke`), in order, from the repository root; every command the README
names has --help; every link in the README and docs/ points inside the repository."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from synthrepro.config import repo_root

ROOT = repo_root()
BIN = Path(sys.executable).parent


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 3)
    return text[start:end]


def commands(text: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [ln.split("  #")[0].strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def smoke(cmd: str) -> list[str]:
    cmd = cmd.replace("--profile default", "--profile smoke").replace("PROFILE default", "PROFILE smoke")
    cmd = cmd.replace("runs/default/", "runs/smoke/")
    args = shlex.split(cmd)
    if args[0].startswith(".venv/bin/"):
        args[0] = str(BIN / args[0].removeprefix(".venv/bin/"))
    return args


@pytest.mark.slow
def test_change_one_knob_commands_run_as_written():
    cmds = commands(section("Change one knob"))
    assert any("synthrepro pipeline" in c for c in cmds) and any("papermill" in c for c in cmds)
    for cmd in cmds:
        res = subprocess.run(smoke(cmd), cwd=ROOT, capture_output=True, text=True, timeout=1200)
        assert res.returncode == 0, f"{cmd}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"


def test_every_synthrepro_command_in_the_readme_exists():
    text = (ROOT / "README.md").read_text()
    used = set(re.findall(r"synthrepro(?:\.cli)? (pipeline|train|unlearn|harness|lm-eval-task|estimate|profiles)\b", text))
    assert used >= {"pipeline", "train", "unlearn"}
    # one interpreter for every subcommand's --help (each exits 0 through argparse); a failing one is named
    script = ("import sys\nfrom synthrepro.cli import main\nfor sub in sys.argv[1:]:\n    try:\n        main([sub, "
              "'--help'])\n    except SystemExit as e:\n        assert e.code in (0, None), sub\n    else:\n        "
              "raise AssertionError(sub + ': --help did not exit')\n")
    res = subprocess.run([sys.executable, "-c", script, *sorted(used)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


def test_links_point_inside_the_repository():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        assert "shared/" not in text and "DESIGN.md" not in text, f"{doc.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"
