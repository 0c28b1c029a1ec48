"""OpTable: a step's operators priced at many batch sizes at once (its curve) give what each one alone gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.hardware.specs import resolve_gpu
from advisor.predictor import roofline
from advisor.predictor.calibration import load_calibration
from advisor.predictor.optable import PHASES, op_table
from advisor.schemas import Profile

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _table(precision: str):
    analysis = Profile.model_validate_json(PROFILE.read_text()).analysis
    retype = roofline._Retype.for_precision(analysis, precision)
    return op_table(analysis, resolve_gpu("H100-SXM"), precision, load_calibration(), False, retype,
                    roofline._rate, roofline.tf32_allowed(analysis, precision))


def _one_by_one(table, b: float) -> dict:
    """The table's formulas, op by op in plain Python (the oracle)."""
    out = {"per_kind": dict.fromkeys(table.kinds, 0.0), "per_phase": dict.fromkeys(PHASES, 0.0),
           "compute_bound": 0.0, "memory_bound": 0.0, "flops": 0.0, "bytes": 0.0, "layout": 0.0}
    for i in range(len(table.count)):
        db = b - table.b0
        flops = max(0.0, table.flops0[i] + table.flops_slope[i] * db)
        nbytes = max(0.0, table.bytes0[i] + table.bytes_slope[i] * db)
        m, n, k = (max(1.0, table.gemm0[j, i] + table.gemm_slope[j, i] * db) for j in range(3))
        big, small = (256.0, 128.0) if table.half_tile[i] else (128.0, 128.0)
        tm, tn = max(min(max(m, n), big), 1.0), max(min(min(m, n), small), 1.0)
        fill = 1.0 + table.k_fill[i] / max(k, 1.0) if table.tensor[i] else 1.0
        t_core = flops * table.seconds_per_flop[i] * fill
        t_stage = flops / (2.0 * tm * tn / (tm + tn)) * table.staging_seconds[i]
        t_comp = max(t_core, t_stage) if table.overlap else t_core + t_stage
        t_mem = nbytes * table.seconds_per_byte[i]
        t = (max(t_comp, t_mem) + nbytes * table.layout_per_byte[i] + table.fixed_seconds[i]) * table.count[i]
        out["per_kind"][table.kinds[table.kind_index[i]]] += t
        out["per_phase"][PHASES[table.phase_index[i]]] += t
        out["compute_bound" if t_comp > t_mem else "memory_bound"] += t
        out["flops"] += table.count[i] * flops
        out["bytes"] += table.count[i] * nbytes
        out["layout"] += nbytes * table.layout_per_byte[i] * table.count[i]
    return out


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_curve_prices_each_batch_size_as_the_op_by_op_formulas(precision):
    table = _table(precision)
    for b in (1, 7, 64, 100, 333, 512, 1000, 9000, 12.5):
        got, want = table.price(b), _one_by_one(table, float(b))
        assert got["per_kind"] == pytest.approx(want["per_kind"], rel=1e-12)
        assert got["per_phase"] == pytest.approx(want["per_phase"], rel=1e-12)
        for key in ("compute_bound", "memory_bound", "flops", "bytes", "layout"):
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-300), (b, key)
        assert got["flops"] > 0 and sum(got["per_phase"].values()) > 0


def test_a_batch_size_is_priced_to_the_last_bit_whatever_rows_it_comes_with():
    from advisor.predictor.optable import CURVE_AFTER

    table = _table("bf16")
    alone = {b: table._as_dict(table.price_rows(np.array([float(b)])), 0) for b in (3, 100, 700)}
    one_by_one = [table.price(b) for b in range(1, CURVE_AFTER + 1)]  # priced alone: no curve yet
    assert table._curve is None and one_by_one[2] == alone[3]
    assert table.price(3) == alone[3] and table._curve["rows"] == 64  # the next one builds it
    grown = [table.price(b) for b in (3, 100, 700)]
    assert table._curve["rows"] == 1024
    assert grown == [alone[3], alone[100], alone[700]]
    # each call hands out its own dicts: the roofline adds the GradScaler and optimizer launches to them
    first = table.price(3)
    first["per_kind"]["optimizer"] = 1e9
    first["per_phase"]["optimizer"] = 1e9
    assert table.price(3) == alone[3]


def test_op_seconds_gives_each_op_what_the_oracle_does_and_sums_to_the_step():
    """``OpTable.op_seconds`` (bench/per_op_profile.py's per-operator breakdown) is each op's time, and its
    ops add up to what ``price`` reports per kind."""
    table = _table("bf16")
    seconds, bound, flops, nbytes, _, _ = table.op_seconds(np.array([64.0, 300.0]))
    assert seconds.shape == (2, len(table.count))
    for row, b in enumerate((64.0, 300.0)):
        priced = table.price(b)
        for kind_i, kind in enumerate(table.kinds):
            assert seconds[row, table.kind_index == kind_i].sum() == pytest.approx(priced["per_kind"][kind], rel=1e-12)
        assert (table.count * flops[row]).sum() == pytest.approx(priced["flops"], rel=1e-12)
        assert (table.count * nbytes[row]).sum() == pytest.approx(priced["bytes"], rel=1e-12)
        assert seconds[row][bound[row]].sum() == pytest.approx(priced["compute_bound"], rel=1e-12)
    assert (seconds[1] >= seconds[0]).all() and seconds[1].sum() > seconds[0].sum()
