"""Standard output whose encoding cannot hold the answer's marks (``PYTHONIOENCODING=ascii``, a Latin-1 locale):
the chosen row's ``➜`` and a marketplace listing's ``†`` were both written as ``?``, the undated spot price's mark
too, so the chosen row and a marketplace row read the same. Each has an ASCII stand-in of its own now."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_ascii_answer_keeps_its_marks_apart(tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", "recommend",
                           "--profile", str(ROOT / "tests" / "hostile" / "data" / "tabular_profile.json"),
                           "--top", "5", "--no-save"], capture_output=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    text = done.stdout.decode("ascii")
    assert "(273 candidates; > chosen, * time/cost Pareto front, + marketplace listing;" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row.split("|")[1].strip() for row in rows] == ["1>", "2*", "3", "4*", "5"]
    assert rows[4].split("|")[2].strip() == "vast+" and "chosen" in rows[0]
    assert "(2m28s-3m33s)" in rows[0] and not any("?" in row for row in rows)
    assert "(80%: 26.8s-37.2s)" in text  # the Here line's range


def test_the_stand_ins_are_distinct_from_each_other_and_the_other_marks():
    from advisor.cli.render import SUSPECT_MARK, UNDATED_SPOT_MARK
    from advisor.cli.streams import ASCII_STAND_INS

    marks = [ASCII_STAND_INS["➜"], ASCII_STAND_INS["†"], UNDATED_SPOT_MARK, SUSPECT_MARK, "*"]
    assert len(set(marks)) == len(marks) and all(len(m) == 1 and m.isascii() for m in marks)


def test_markdown_into_a_file_is_utf8_whatever_the_encoding(tmp_path):
    """``--format markdown > comment.md`` under a cp1252 (Windows) or ASCII stdout wrote the workload ``modèle 🚀``
    as ``mod?le ?`` (ASCII) or in cp1252 bytes: the pull-request comment showed another name."""
    import json

    prof = json.loads((ROOT / "tests" / "hostile" / "data" / "tabular_profile.json").read_text(encoding="utf-8"))
    prof["workload"]["name"] = "modèle 🚀"
    path = tmp_path / "prof.json"
    path.write_text(json.dumps(prof), encoding="utf-8")
    for encoding in ("ascii", "cp1252"):
        env = {**os.environ, "PYTHONIOENCODING": encoding, "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        done = subprocess.run([sys.executable, "-c", "from advisor.cli.app import main; main()", "recommend",
                               "--profile", str(path), "--top", "3", "--no-save", "--format", "markdown"],
                              capture_output=True, env=env, timeout=300, check=False)
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
        text = done.stdout.decode("utf-8")  # strict: a cp1252 byte fails here
        assert text.startswith("### advisor: modèle 🚀: ") and "➜" in text and "mod?le" not in text
