"""A UTF-8 workload file name under a locale that is not UTF-8: one workload under one name, as under UTF-8.

A Latin-1 locale decodes the bytes of ``modèle 🚀.py`` to mojibake (``modÃ¨le ð...``, which was stored in the
history as a second workload) and an ASCII one (``LC_ALL=C PYTHONUTF8=0``) to escaped bytes, which was refused as
"not valid UTF-8". Each run here is a fresh interpreter under that locale, with a probe (analysis only) behind it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.probe.frames import ChildStart, ProgressFrame, encode, parse_child_frame
from advisor.probe.request import ProbeRequest

ROOT = Path(__file__).resolve().parents[2]
NAME = "modèle 🚀"
WORKLOAD = """import torch
def build_model():
    return torch.nn.Linear(4, 1)
def make_batch(batch_size):
    return torch.randn(batch_size, 4), torch.randn(batch_size, 1)
"""
SCRIPT = """import json, sys
from pathlib import Path
from advisor import api
from advisor.workload import load_workload
path = Path(sys.argv[1])
profile = api.profile(path, devices=[], batch_size=8)
print(json.dumps({"fs": sys.getfilesystemencoding(), "name": profile.workload.name, "path": profile.workload.path,
                  "loaded": load_workload(path).name}))
"""


def _latin1_env(tmp_path: Path) -> dict[str, str] | None:
    localedef = shutil.which("localedef")
    if localedef is None:
        return None
    folder = tmp_path / "locales"
    folder.mkdir()
    made = subprocess.run([localedef, "-i", "en_US", "-f", "ISO-8859-1", str(folder / "en_US.ISO-8859-1")],
                          capture_output=True, check=False)
    return {"LOCPATH": str(folder), "LC_ALL": "en_US.ISO-8859-1"} if made.returncode == 0 else None


@pytest.mark.parametrize("locale", ["ascii", "iso8859-1"])
def test_a_utf8_file_name_is_one_workload_name_under_any_locale(tmp_path, locale):
    folder = tmp_path / "dir é 日本"
    folder.mkdir()
    workload = folder / f"{NAME}.py"
    workload.write_text(WORKLOAD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_PROBE_WAIT": "0", "PYTHONUTF8": "0", "LC_ALL": "C"}
    env.pop("PYTHONIOENCODING", None)
    if locale == "iso8859-1":
        latin1 = _latin1_env(tmp_path)
        if latin1 is None:
            pytest.skip("no ISO-8859-1 locale can be made here (localedef)")
        env.update(latin1)
    ran = subprocess.run([sys.executable, "-c", SCRIPT, os.fsencode(workload)], env=env, capture_output=True,
                         timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr.decode("utf-8", "replace")[-3000:]
    got = json.loads(ran.stdout.decode("ascii").splitlines()[-1])
    assert got == {"fs": locale, "name": NAME, "path": str(workload), "loaded": NAME}


def test_path_text_is_the_utf8_text_of_the_bytes():
    from advisor.output_file import non_utf8_shown, path_text

    escaped = os.fsdecode(f"{NAME}.py".encode())  # as an ASCII locale would decode it: escaped bytes
    ascii_locale = "mod\udcc3\udca8le \udcf0\udc9f\udc9a\udc80.py"
    assert path_text(ascii_locale) == f"{NAME}.py" and non_utf8_shown(ascii_locale) is None
    assert path_text(escaped) == f"{NAME}.py"
    latin1_bytes = "m\udce9le.py"  # a Latin-1 name under this UTF-8 locale: not text in any way
    assert path_text(latin1_bytes) is None and non_utf8_shown(latin1_bytes) == "m\\xe9le.py"


def test_a_start_message_carries_escaped_bytes_as_utf8_and_back(monkeypatch):
    workload = "/w/mod\udcc3\udca8le.py"
    start = ChildStart(request=ProbeRequest.build(batch_size=8, workload_path=workload),
                       sys_path=["/lib/\udce6\udc97\udca5", "/plain"], fault_file="/f\udcc3\udca9/fault",
                       parent_pid=1, scratch_dir="/tmp/s")
    sent = start.with_utf8_paths()
    assert sent.request.workload_path == "/w/modèle.py" and sent.sys_path == ["/lib/日", "/plain"]
    # the child, under the same ASCII locale, decodes the bytes back as the parent did
    monkeypatch.setattr(os, "fsdecode", lambda data: data.decode("ascii", "surrogateescape"))
    assert ChildStart.model_validate_json(sent.model_dump_json()).with_local_paths() == start


def test_a_frame_shows_escaped_bytes_as_their_utf8_text():
    """Converted where the child builds the frame, and read back strictly by the parent."""
    frame = ProgressFrame(device="cpu", fraction=0.5, message="mod\udcc3\udca8le.py: boom \ud800")
    back = parse_child_frame(encode(frame)[8:])  # past the length header
    assert back.message == "modèle.py: boom \\ud800"
