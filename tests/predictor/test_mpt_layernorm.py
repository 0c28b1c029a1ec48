"""bench/workloads/mpt.py runs llm-foundry's low_precision_layernorm by default, as the published MPT rows did."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.probe.analysis import analyze
from advisor.workload import load_workload

MPT = Path(__file__).resolve().parents[2] / "bench" / "workloads" / "mpt.py"


def _layer_norms(monkeypatch, lp: str | None, precision: str = "bf16") -> dict[str, list]:
    monkeypatch.setenv("ADVISOR_MPT_SIZE", "125m")
    monkeypatch.setenv("ADVISOR_MPT_SEQ_LEN", "64")
    if lp is None:
        monkeypatch.delenv("ADVISOR_MPT_LP_LN", raising=False)
    else:
        monkeypatch.setenv("ADVISOR_MPT_LP_LN", lp)
    a = analyze(load_workload(MPT), batch_sizes=(1, 2), precision=precision)
    return {phase: [r for r in a.ops if r.kind == "norm" and r.phase == phase] for phase in ("forward", "backward")}


def test_the_default_layer_norm_is_bf16_at_half_the_bytes_of_autocasts(monkeypatch):
    lp, fp32 = _layer_norms(monkeypatch, None), _layer_norms(monkeypatch, "0")
    for phase in ("forward", "backward"):
        assert {r.dtype for r in lp[phase]} == {"bfloat16"}, phase
        assert {r.dtype for r in fp32[phase]} == {"float32"}, phase
        # 25 LayerNorms (two a block, twelve blocks, the final one), every tensor 2 bytes instead of 4
        assert sum(r.count for r in lp[phase]) == 25
        assert sum(r.count * r.bytes[1] for r in lp[phase]) == pytest.approx(
            sum(r.count * r.bytes[1] for r in fp32[phase]) / 2, rel=1e-9)


def test_without_autocast_the_layer_norm_is_fp32_either_way(monkeypatch):
    lp, plain = _layer_norms(monkeypatch, None, "fp32"), _layer_norms(monkeypatch, "0", "fp32")
    assert [(r.dtype, r.count, r.bytes) for r in lp["forward"] + lp["backward"]] == \
        [(r.dtype, r.count, r.bytes) for r in plain["forward"] + plain["backward"]]


def test_each_row_is_priced_with_the_layer_norm_it_ran():
    import csv

    path = MPT.parents[2] / "profiles" / "published_throughput.csv"
    with path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["workload"] == "bench/workloads/mpt.py"]
    foundry = [r for r in rows if r["source"] == "llm-foundry"]
    own = [r for r in rows if r["source"] == "advisor-H200"]
    # llm-foundry's runs set low_precision_layernorm: the default
    assert foundry and all("low_precision_layernorm" in r["notes"] for r in foundry)
    assert not any("ADVISOR_MPT_LP_LN" in r["workload_env"] for r in foundry)
    # advisor's own H200 runs (2026-11-30) ran the file's nn.LayerNorm of that day
    assert len(own) == 2 and all("ADVISOR_MPT_LP_LN=0" in r["workload_env"].split() for r in own)
