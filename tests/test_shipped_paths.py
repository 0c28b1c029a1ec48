"""What advisor's messages cite is there for a user who installed the wheel (``pip install advisor``).

A wheel holds the ``advisor`` package and the data folders ``pyproject.toml`` force-includes under
``advisor/_data`` (pricing, profiles, ...); it has no ``bench/``, ``scripts/`` or ``tests/``, and the project's
README reaches an installed user only as the package's description, so a message names its section instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# A cited file: folders and a name with an extension (``bench/README.md``, ``profiles/gpus.csv``), or a bare
# markdown file (``DESIGN.md``); not a URL's path (it follows a ``/`` or a ``.``).
_PATH = re.compile(r"(?<![\w./-])(?:[A-Za-z_][\w.-]*/)+[\w.-]+\.(?:md|py|sh|csv|json|txt|toml|cfg|ini)\b"
                   r"|(?<![\w./-])[\w-]+\.md\b")
# A README's section: README "Set-up", the README's "Run the service ...", profiles/README.md, 'gpus.csv'.
_SECTION = re.compile(r"""((?:[\w-]+/)?README(?:\.md)?)(?:'s)?,? \(?["']([^"']+)["']""")


def _user_strings() -> list[tuple[str, int, str]]:
    """(file, line, text) of every string in ``advisor/`` but docstrings: what a message, note or label says."""
    found = []
    for path in sorted((REPO / "advisor").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        found += [(str(path.relative_to(REPO)), node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    return found


def _shipped(cited: str) -> bool:
    """Whether the wheel holds ``cited``: a file of the package, or of a force-included data folder."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    wheel = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"][
        "targets"]["wheel"]
    roots = [*wheel["packages"], *wheel["force-include"]]
    return cited.split("/")[0] in roots and (REPO / cited).is_file()


def _headings(readme: Path) -> list[str]:
    return [line.lstrip("#").strip().lower() for line in readme.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")]


def test_every_cited_file_ships_in_the_wheel():
    """Notes cited bench/README.md and scripts/setup.sh, which an installed advisor does not have."""
    unshipped = [f"{where}:{line}: {cited}" for where, line, text in _user_strings()
                 for cited in _PATH.findall(text) if not _shipped(cited)]
    assert not unshipped, "\n".join(unshipped)


def test_every_cited_readme_section_exists():
    """A message names a README's section for the reader to find: it must be a heading there (the hint for
    gpu_usable_memory.csv named a section 'Usable memory' that profiles/README.md does not have)."""
    missing = []
    for where, line, text in _user_strings():
        for readme, section in _SECTION.findall(text):
            path = REPO / (readme if readme.endswith(".md") else f"{readme}.md")
            if not any(h.startswith(section.lower()) for h in _headings(path)):
                missing.append(f"{where}:{line}: {readme} {section!r}")
    assert not missing, "\n".join(missing)


def test_the_scan_sees_what_it_checks():
    # the patterns themselves: a bench path and a README section are found where they are written
    assert _PATH.findall('(bench/README.md, "GPU accuracy") and DESIGN.md') == ["bench/README.md", "DESIGN.md"]
    assert not _PATH.findall("https://github.com/advisor/advisor/schemas/recommendation.schema.json")
    assert _SECTION.findall('''README "Set-up"; profiles/README.md, 'gpus.csv'; the README's "Python API"''') == [
        ("README", "Set-up"), ("profiles/README.md", "gpus.csv"), ("README", "Python API")]
    assert _shipped("profiles/gpus.csv") and not _shipped("bench/README.md") and not _shipped("scripts/setup.sh")
