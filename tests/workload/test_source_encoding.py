"""A workload file's constants are read from its text decoded as Python decodes source: a UTF-8 byte-order mark
and a PEP 263 coding cookie (``# -*- coding: latin-1 -*-``) are honoured, so the notes read from the text (near
misses, "set at line") stay for such files."""

from __future__ import annotations

import pytest

from advisor.workload.constants import WorkloadFile, read_file_constants

TEXT = "import torch  # {note}\n\nBATCH_SIZE = 8\nDATASET_SIZE = 1000\nNUM_EPOCHS = 2\n"


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbf" + TEXT.format(note="caf\u00e9").encode("utf-8"),  # a BOM, as some Windows editors write
    b"# -*- coding: latin-1 -*-\n" + TEXT.format(note="caf\u00e9").encode("latin-1"),  # not UTF-8 bytes
    TEXT.format(note="x").replace("\n", "\r\n").encode("utf-8"),
], ids=["utf-8 BOM", "latin-1 cookie", "CRLF"])
def test_constants_and_near_misses_are_read_whatever_the_encoding_python_reads(tmp_path, data):
    path = tmp_path / "train.py"
    path.write_bytes(data)
    for constants in (read_file_constants(path), WorkloadFile.read(path).constants()):
        assert constants.values == {"BATCH_SIZE": 8, "DATASET_SIZE": 1000}
        line = 6 if b"coding" in data else 5  # the cookie is a line of its own
        assert constants.near_misses == {"NUM_EPOCHS": ("EPOCHS", line)}  # "did you mean EPOCHS?" at its line


def test_a_file_python_cannot_decode_gives_no_constants(tmp_path):
    path = tmp_path / "train.py"
    path.write_bytes(b"# -*- coding: no-such-codec -*-\nBATCH_SIZE = 8\n")
    assert read_file_constants(path).values == {}
    path.write_bytes(b"BATCH_SIZE = 8\nNOTE = '\xff'\n")
    assert read_file_constants(path).values == {}
