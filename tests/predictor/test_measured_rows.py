"""advisor's own GPU rows (bench/measure_gpu_rows.py): the CSV rows are the raw runs', and the script's rows
are what bench/gpu_rows.py reads."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import bench_scripts
import pytest

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "bench" / "data" / "h200_2026-11-30" / "rows.jsonl"


@pytest.fixture(scope="module")
def bench_modules():
    return bench_scripts.bench_modules("gpu_rows", "measure_gpu_rows")


def test_h200_rows_in_the_csv_are_the_raw_runs(bench_modules):
    gpu_rows, _ = bench_modules
    raw = [json.loads(line) for line in RAW.read_text().splitlines()]
    rows = [r for r in gpu_rows.published_rows() if r.source == "advisor-H200"]
    assert len(rows) == len(raw) == 16
    for r, run in zip(rows, raw, strict=True):
        family, model, workload, env, precision, batch, compiled = run["row"]
        assert (r.model, r.workload, r.precision, r.micro_batch, r.compiled) == (
            model, workload, precision, batch, compiled)
        # The harness ran fp32 rows with TF32 off; the CSV says so (ADVISOR_TF32=0, added after these runs, which
        # bench/gpu_rows.py analyses them with), the raw record predates the label.
        label = {"ADVISOR_TF32": "0"} if precision == "fp32" else {}
        assert dict(r.env) == {**dict(kv.split("=", 1) for kv in env.split()), **label}
        # throughput = batch / the median of the three stretches' step times, as measured
        assert r.measured == pytest.approx(batch / statistics.median(run["step_seconds"]), rel=1e-3)
        assert max(run["step_seconds"]) / min(run["step_seconds"]) < 1.05
        assert r.skip is None and r.spec.name == "H200" and r.fitted


def test_script_rows_are_read_back(bench_modules, tmp_path):
    """A CPU run of the script (its smoke path) writes rows that published_rows() reads back as written."""
    gpu_rows, measure = bench_modules
    row = ("mlp", "tabular", "examples/tabular_mlp.py", "ADVISOR_UNUSED=1", "fp32", 32, False)
    result = measure.run_row(row[2], "fp32", 32, False, warm_seconds=0.05, stretch_seconds=0.05, device="cpu")
    assert result["samples_per_second"] == pytest.approx(32 / statistics.median(result["step_seconds"]))
    out = tmp_path / "rows.csv"
    line = measure.csv_row(row, result, "H200", "2026-12-01")
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(line))
        w.writeheader()
        w.writerow(line)
    (back,) = gpu_rows.published_rows(out)
    assert back.source == "advisor-H200" and back.spec.name == "H200" and back.skip is None
    assert back.measured == pytest.approx(result["samples_per_second"], rel=1e-3)
    assert dict(back.env) == {"ADVISOR_UNUSED": "1"} and back.grad_accum == 1 and not back.compiled


def test_the_tf32_off_row_is_analysed_as_it_ran_and_the_switches_are_put_back(bench_modules):
    """The H200 fp32 row ran with TF32 off: its analysis records both switches off, a tf32 row of the same
    workload records PyTorch's defaults, and this process's switches are PyTorch's defaults again afterwards."""
    import torch

    gpu_rows, _ = bench_modules
    rows = [r for r in gpu_rows.published_rows() if r.source == "advisor-H200" and r.model == "ResNet-50"
            and r.precision in ("fp32", "tf32")]
    analyses = gpu_rows.analyses_for(rows, {})
    switches = {r.precision: (analyses[gpu_rows.analysis_key(r)].matmul_allow_tf32,
                              analyses[gpu_rows.analysis_key(r)].cudnn_allow_tf32) for r in rows}
    assert switches == {"fp32": (False, False), "tf32": (False, True)}
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (False, True)
