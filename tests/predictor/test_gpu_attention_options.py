"""Fused attention's options: the analysis records how ``F.scaled_dot_product_attention`` was called
(``OpRecord.attention``), and the roofline prices its tiles (padding, a causal call's skipped blocks) and what
in-kernel dropout and a mask add per score (``Calibration.attention_score_seconds``)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from bench_scripts import bench_modules
from predictor_helpers import unit_calibration

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import ATTENTION_SCORE_SECONDS, ATTENTION_SCORE_SM_CLOCK_FLOPS, load_calibration
from advisor.predictor.optable import (
    ATTENTION_BACKWARD_FILL,
    ATTENTION_BACKWARD_RATE,
    attention_tiles,
    sm_clock_flops,
)
from advisor.predictor.roofline import StepModel
from advisor.probe.analysis import analyze
from advisor.workload import load_workload

NET = '''
import torch
import torch.nn.functional as F
from torch import nn
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(128, 384)
    def forward(self, x):
        q, k, v = self.qkv(x).view(x.shape[0], {seq}, 3, 2, 64).permute(2, 0, 3, 1, 4)
        mask = torch.zeros(x.shape[0], 1, 1, {seq}) if {mask} else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p={dropout}, is_causal={causal})
def build_model():
    return M()
def make_batch(n):
    return torch.randn(n, {seq}, 128), torch.zeros(n)
def loss_fn(out, target):
    return out.float().mean()
'''


def analysed(tmp_path, seq: int = 256, causal: bool = False, mask: bool = False, dropout: float = 0.0):
    path = tmp_path / f"attn_{seq}_{int(causal)}_{int(mask)}_{dropout}.py"
    path.write_text(NET.format(seq=seq, causal=causal, mask=mask, dropout=dropout))
    return analyze(load_workload(path), precision="bf16")


def attention_ops(analysis):
    return [r for r in analysis.ops if "attention" in r.op]


def attention_seconds(analysis, spec, cal, batch: int = 8) -> dict[str, float]:
    """{phase: seconds of the step's fused attention calls} at ``batch``."""
    model = StepModel(analysis, spec, "bf16", cal)
    seconds = model.table.op_seconds(np.array([float(batch)]))[0][0]
    out: dict[str, float] = {}
    for r, t in zip(analysis.ops, seconds, strict=True):
        if "attention" in r.op:
            out[r.phase] = out.get(r.phase, 0.0) + float(t)
    return out


@pytest.mark.parametrize(("kwargs", "options"), [
    ({}, ()), ({"causal": True}, ("causal",)), ({"mask": True, "dropout": 0.1}, ("dropout", "mask")),
    ({"dropout": 0.0, "mask": True}, ("mask",))])
def test_the_analysis_records_how_attention_was_called(tmp_path, kwargs, options):
    ops = attention_ops(analysed(tmp_path, **kwargs))
    assert {r.phase for r in ops} == {"forward", "backward"}
    assert all(r.attention == options for r in ops)
    assert all(r.gemm[1] == (256.0, 64.0, 256.0) for r in ops)


def test_tiles_pad_queries_and_keys_to_64():
    assert attention_tiles((256.0, 64.0, 256.0)) == 1.0
    assert attention_tiles((197.0, 64.0, 197.0)) == pytest.approx((256 / 197) ** 2)
    assert attention_tiles((100.0, 128.0, 1024.0)) == pytest.approx(128 / 100)


def test_an_unaligned_sequence_is_priced_padded_and_a_causal_one_whole(tmp_path):
    h200, cal = resolve_gpu("H200"), unit_calibration()
    # compute-bound at these lengths: 1,000 tokens compute the same 1,024 x 1,024 tiles as 1,024 tokens do
    aligned = attention_seconds(analysed(tmp_path, seq=1024), h200, cal)
    padded = attention_seconds(analysed(tmp_path, seq=1000), h200, cal)
    assert padded["forward"] == pytest.approx(aligned["forward"], rel=1e-9)
    causal = attention_seconds(analysed(tmp_path, seq=1024, causal=True), h200, cal)
    full = attention_seconds(analysed(tmp_path, seq=1024), h200, cal)
    assert causal == pytest.approx(full, rel=1e-9)


@pytest.mark.parametrize("seq", [512, 2048])
def test_the_backward_runs_slower_per_flop_and_more_so_at_short_sequences(tmp_path, seq):
    h200, cal = resolve_gpu("H200"), unit_calibration()
    seconds = attention_seconds(analysed(tmp_path, seq=seq), h200, cal)
    # compute-bound: the backward's 2.5x the forward's FLOPs, at (rate + fill / queries) its time per FLOP
    expected = 2.5 * (ATTENTION_BACKWARD_RATE + ATTENTION_BACKWARD_FILL / seq)
    assert seconds["backward"] / seconds["forward"] == pytest.approx(expected, rel=1e-6)


def test_the_backward_constants_are_the_h200_fits():
    (paces_bench,) = bench_modules("kernel_paces_h200")
    rows = json.loads(paces_bench.DATA.read_text())["rows"]
    rate, fill = paces_bench.backward_fit(rows)
    assert ATTENTION_BACKWARD_RATE == pytest.approx(rate, abs=0.005)
    assert ATTENTION_BACKWARD_FILL == pytest.approx(fill, abs=0.5)


def test_dropout_and_a_mask_add_their_measured_pace_per_score(tmp_path):
    h200, a100 = resolve_gpu("H200"), resolve_gpu("A100-80GB")
    paces = {"dropout.forward": 1e-12, "dropout.backward": 2e-12, "mask.forward": 4e-12, "mask.backward": 8e-12}
    cal = replace(unit_calibration(), attention_score_seconds=paces)
    batch, scores = 8, 8 * 2 * 256 * 256  # batch x heads x queries x keys
    plain = attention_seconds(analysed(tmp_path), h200, cal, batch)
    both = attention_seconds(analysed(tmp_path, mask=True, dropout=0.1), h200, cal, batch)
    # the mask's own bytes (batch x keys) move too: allow that beside the pace's exact seconds
    assert both["forward"] - plain["forward"] == pytest.approx(5e-12 * scores, rel=1e-3)
    assert both["backward"] - plain["backward"] == pytest.approx(10e-12 * scores, rel=1e-3)
    # the same integer and load work on a GPU with fewer SM clocks takes longer, by that ratio
    slower = attention_seconds(analysed(tmp_path, mask=True, dropout=0.1), a100, cal, batch)
    plain_a100 = attention_seconds(analysed(tmp_path), a100, cal, batch)
    ratio = ATTENTION_SCORE_SM_CLOCK_FLOPS / sm_clock_flops(a100)
    assert slower["forward"] - plain_a100["forward"] == pytest.approx(5e-12 * scores * ratio, rel=1e-3)
    assert math.isclose(ATTENTION_SCORE_SM_CLOCK_FLOPS, sm_clock_flops(h200))


def test_the_shipped_paces_are_the_h200_measurements():
    (paces_bench,) = bench_modules("kernel_paces_h200")
    rows = json.loads(paces_bench.DATA.read_text())["rows"]
    measured = paces_bench.attention_paces(rows)
    assert set(measured) == set(ATTENTION_SCORE_SECONDS)
    for key, seconds in ATTENTION_SCORE_SECONDS.items():
        assert seconds == pytest.approx(measured[key], abs=0.005e-12)
    assert load_calibration().attention_score_seconds == ATTENTION_SCORE_SECONDS
