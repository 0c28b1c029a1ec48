"""README.md's sample answer for the saved tabular profile is what the command prints now: it had drifted (115
kinds of machine for 117, an older CPU-vs-GPU sentence, two notes missing) with nothing to tell."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli.app import build_app

REPO = Path(__file__).resolve().parents[2]
COMMAND = "advisor recommend --profile tests/hostile/data/tabular_profile.json --top 5"


def _readme_sample() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\n", readme.index(f"(`{COMMAND}`)")) + len("```text\n")
    return readme[start:readme.index("```\n", start)]


def _undated(text: str) -> str:
    """The answer less the warning whose figure is today's date (a price's age), however it wraps."""
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith("Warning: the price of "):
            skipping = True
            continue
        if skipping and re.match(r"(Warning|Assumed|Here|Could be better):", line):
            skipping = False
        if not skipping:
            out.append(line.rstrip())
    return "\n".join(out).rstrip() + "\n"


def test_the_readme_sample_is_what_the_command_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")  # a fresh history: id 1
    monkeypatch.setenv("COLUMNS", "160")  # output to a file or pipe
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(build_app(), COMMAND.split()[1:])
    assert result.exit_code == 0, result.output
    assert _undated(result.stdout) == _readme_sample()


def test_the_probed_samples_say_what_moves_with_the_machine_probed():
    """The ResNet-50 samples are probed (they did not reproduce on another VM, and nothing said why): the text
    before them says that they depend on the machine probed and which figures move."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = readme.index("(`advisor recommend examples/resnet50.py --dataset-size 1281167")
    intro = " ".join(readme[first:readme.index("```text\n", first)].split())
    assert "depend on the machine probed" in intro
    for moving in ("every GPU time and cost", "`make_batch`", "every CPU row", "memory need", "count of candidates",
                   "Here line"):
        assert moving in intro, moving
    second = readme.index("Ten epochs within an hour")
    assert "move with the machine probed" in " ".join(readme[second:readme.index("```text\n", second)].split())
