"""profiles/published_throughput.csv: every row names a known GPU, a precision, a workload file that exists and
positive measured figures; more than one independent source is present. Published rows cite a GitHub file,
advisor's own (``advisor-<gpu>``) the script in this repo that measured them."""

import csv
import math
import re
from pathlib import Path

import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.schemas import PRECISIONS

ROOT = Path(__file__).resolve().parents[2]
CSV_PATH = ROOT / "profiles" / "published_throughput.csv"
COLUMNS = ["source", "url", "retrieved", "family", "model", "workload", "workload_env", "seq_len", "precision",
           "gpu", "gpu_count", "micro_batch_per_gpu", "grad_accum_steps", "measured_samples_per_second_total",
           "published_mfu", "activation_checkpointing", "compiled", "notes"]


def _rows() -> list[dict[str, str]]:
    with CSV_PATH.open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


ROWS = _rows()


def test_at_least_two_sources_and_thirty_rows():
    sources = {r["source"] for r in ROWS}
    assert len(sources) >= 2, sources
    assert len(ROWS) >= 30


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['source']}-{r['model']}-{r['gpu']}-{r['seq_len']}")
def test_row_is_usable(row):
    assert resolve_gpu(row["gpu"]).name == row["gpu"]  # the canonical profiles/gpus.csv name, not an alias
    assert row["precision"] in PRECISIONS
    assert (ROOT / row["workload"]).is_file()
    if row["source"].startswith("advisor-"):  # advisor's own runs: the script that measured them, in this repo
        assert (ROOT / row["url"]).is_file()
    else:
        assert row["url"].startswith("https://github.com/")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["retrieved"])
    for col in ("gpu_count", "micro_batch_per_gpu", "grad_accum_steps"):
        assert int(row[col]) >= 1, col
    assert 1 <= int(row["gpu_count"]) <= 8  # one node
    sps = float(row["measured_samples_per_second_total"])
    assert sps > 0 and math.isfinite(sps)
    if row["seq_len"]:
        assert int(row["seq_len"]) > 0
    if row["published_mfu"]:
        assert 0 < float(row["published_mfu"]) < 1
    assert row["activation_checkpointing"] in {"yes", "no"}
    assert row["compiled"] in {"yes", "no"}
    for assignment in row["workload_env"].split():
        assert re.fullmatch(r"ADVISOR_[A-Z0-9_]+=\S+", assignment), assignment


def test_token_rows_convert_consistently():
    """llm-foundry's MFU is (6N + 12 x layers x d_model x seq_len) FLOPs per token over the A100's 312 TFLOP/s:
    the rows' samples/s x seq_len reproduce it within 15%, which catches a seq_len or per-GPU/total mix-up."""
    for gpu in ("A100-40GB", "A100-80GB"):
        rows = [r for r in ROWS if r["source"] == "llm-foundry" and r["gpu"] == gpu and r["model"] == "MPT-1b"]
        assert rows
        n_params, d_model, layers = 1.3e9, 2048, 24
        for r in rows:
            seq = int(r["seq_len"])
            flops_per_token = 6 * n_params + 12 * layers * d_model * seq
            tflops_per_gpu = float(r["measured_samples_per_second_total"]) * seq * flops_per_token / 8 / 1e12
            assert tflops_per_gpu / 312 == pytest.approx(float(r["published_mfu"]), rel=0.15)
