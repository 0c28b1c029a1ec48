"""The advisor process's own reading of a workload file's text is bounded: it runs outside the probe's timeout
and memory handling, which cover the child only. A 5 MB file of one list literal took the parent 254 s and 2.5 GB;
40,000 top-level names took 16 s a reading in the near-miss matching."""

from __future__ import annotations

import difflib
import time

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.workload import names
from advisor.workload.constants import read_file_constants

MAX_WORKLOAD_BYTES = 1024 * 1024  # advisor.workload.constants.MAX_WORKLOAD_BYTES, as README states it


def test_a_workload_file_over_the_cap_is_refused_before_any_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.delenv("ADVISOR_DEBUG", raising=False)
    path = tmp_path / "big_literal.py"
    path.write_text("DATA = [" + "0," * (MAX_WORKLOAD_BYTES // 2 + 10) + "]\nBATCH_SIZE = 4\n")
    app = build_app()
    for args in (["predict", str(path), "--device", "cpu", "--dataset-size", "64", "--epochs", "1", "--no-save"],
                 ["profile", str(path), "--device", "cpu", "-o", str(tmp_path / "p.json")]):
        started = time.perf_counter()
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "the file is 1.0 MB; advisor reads the job's constants from a workload file's text, and reads at " \
               "most 1024 KiB of it" in " ".join(result.output.split())
        assert "move the data out of the file" in result.output and "Traceback" not in result.output
        assert time.perf_counter() - started < 30  # no probe started, no parse of the literal
    assert read_file_constants(path).values == {}  # a plain path's reading is bounded too: nothing read


def test_near_miss_matching_asks_difflib_only_of_names_that_could_match(tmp_path, monkeypatch):
    made = []

    class Counting(difflib.SequenceMatcher):
        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(names.difflib, "SequenceMatcher", Counting)
    path = tmp_path / "flat_names.py"
    path.write_text("".join(f"A{i} = 1\n" for i in range(40_000)) + "EPOCH = 3\n")
    constants = read_file_constants(path)
    assert constants.values.get("EPOCHS") is None and "A39999" not in constants.near_misses
    # 480,000 matchers before (each name against each of the 12 names advisor reads): 16 s a reading
    assert len(made) < 20_000, len(made)


@pytest.mark.parametrize("name", ["EPOCH", "BATCHSIZE", "loss_func"])
def test_near_misses_are_still_found(name):
    found = names.near_misses({name: 3}, ("EPOCHS", "BATCH_SIZE", "DATASET_SIZE"))
    assert name in found
