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
        # data_file("profiles", "README.md")'s words are a path checked whole (_data_file_calls), not two strings
        resolved = {id(a) for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "data_file" for a in node.args}
        found += [(str(path.relative_to(REPO)), node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings | resolved]
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


def _data_file_calls() -> list[tuple[str, int, str]]:
    """(file, line, "folder/name") of every ``data_file("folder", "name")`` call in ``advisor/``: a message's path
    resolved when it is made, which the string scan above sees only as two words."""
    found = []
    for path in sorted((REPO / "advisor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "data_file"
                    and all(isinstance(a, ast.Constant) for a in node.args)):
                found.append((str(path.relative_to(REPO)), node.lineno, "/".join(a.value for a in node.args)))
    return found


def test_every_data_file_a_message_names_ships_in_the_wheel():
    cited = _data_file_calls()
    assert {"profiles/gpus.csv", "profiles/README.md", "pricing/README.md"} <= {c for _, _, c in cited}
    assert not [f"{where}:{line}: {c}" for where, line, c in cited if not _shipped(c)]


def _hinted(raise_it) -> str:
    from advisor.errors import AdvisorError

    with pytest.raises(AdvisorError) as info:
        raise_it()
    return info.value.hint


def test_a_hint_names_the_data_file_this_installation_reads(tmp_path, monkeypatch):
    """Hints said "add the GPU to profiles/gpus.csv" and "See pricing/README.md": from any folder but a checkout's
    root, and in a wheel (whose data is site-packages' advisor/_data), no such file is there. They name the file
    the running install reads, resolved when the message is made."""
    from advisor import data_files
    from advisor.hardware.specs import resolve_gpu
    from advisor.hardware.usable_memory import load_usable_memory
    from advisor.pricing.csvfile import read_csv

    monkeypatch.chdir(tmp_path)
    hint = _hinted(lambda: resolve_gpu("Frobnitz-9000"))
    gpus, readme = re.search(r"add the GPU to (\S+) \(see (\S+)\)", hint).groups()
    assert Path(gpus) == data_files.data_dir("profiles") / "gpus.csv" and Path(gpus).is_file()
    assert Path(readme).is_absolute() and Path(readme).is_file()
    (tmp_path / "empty.csv").write_text("# nothing\n")
    priced = re.search(r"See (\S+) \('Your own rates'\)", _hinted(lambda: read_csv(tmp_path / "empty.csv")))
    assert Path(priced.group(1)) == data_files.data_dir("pricing") / "README.md" and Path(priced.group(1)).is_file()
    (tmp_path / "usable.csv").write_text("gpu_model,usable_memory,unit,source,retrieved\nT4,15,GiB,,2026-01-01\n")
    usable = _hinted(lambda: load_usable_memory(tmp_path / "usable.csv"))
    assert usable.startswith(f"Fix: correct {(tmp_path / 'usable.csv').resolve()} (see ")
    (section,) = _SECTION.findall(usable)
    assert any(h.startswith(section[1].lower()) for h in _headings(Path(re.search(r"see (\S+),", usable)[1])))
    # an installed wheel's data folder: the hint names the copy there
    wheel = tmp_path / "site-packages" / "advisor" / "_data" / "profiles"
    wheel.mkdir(parents=True)
    for name in ("gpus.csv", "README.md"):
        (wheel / name).write_bytes((data_files.data_dir("profiles") / name).read_bytes())
    monkeypatch.setattr(data_files, "data_dir", lambda folder: wheel.parent / folder)
    assert f"add the GPU to {wheel / 'gpus.csv'} (see {wheel / 'README.md'})" in _hinted(
        lambda: resolve_gpu("Frobnitz-9001"))
    monkeypatch.undo()
    monkeypatch.chdir(REPO)  # a checkout's root: the short path, which is the file read
    assert "add the GPU to profiles/gpus.csv (see profiles/README.md)" in _hinted(lambda: resolve_gpu("Frobnitz-9002"))
