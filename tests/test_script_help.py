"""The data scripts answer --help without doing their work: no refit, no file rewritten."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[1]
WRITTEN = [REPO / "profiles" / "calibration.json", REPO / "schemas" / "recommendation.schema.json"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", ["bench/gpu_rows.py", "bench/heldout_gpu.py", "bench/gemm_report.py",
                                    "bench/lambda_systems.py", "-m advisor.schemas.publish"])
def test_help_prints_usage_and_writes_nothing(script):
    before = [(p.stat().st_mtime_ns, p.read_bytes()) for p in WRITTEN]
    result = _run(*script.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and "wrote" not in result.stdout
    assert [(p.stat().st_mtime_ns, p.read_bytes()) for p in WRITTEN] == before


def test_gpu_rows_refit_writes_only_with_write_or_out(monkeypatch, tmp_path, capsys):
    (gpu_rows,) = bench_modules("gpu_rows")

    class Fitted:
        def to_json(self):
            return {"fitted": True}

    monkeypatch.setattr(gpu_rows, "fit_calibration", Fitted)
    monkeypatch.setattr(gpu_rows, "REPO", tmp_path)  # where --write would put profiles/calibration.json
    (tmp_path / "profiles").mkdir()
    assert gpu_rows.main([]) == 0
    assert not (tmp_path / "profiles" / "calibration.json").exists()
    assert "not written: pass --write" in capsys.readouterr().err
    assert gpu_rows.main(["--out", str(tmp_path / "c.json")]) == 0
    assert (tmp_path / "c.json").read_text() == '{\n  "fitted": true\n}\n'
    assert gpu_rows.main(["--write"]) == 0
    assert (tmp_path / "profiles" / "calibration.json").exists()
