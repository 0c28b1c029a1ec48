"""Builders shared by the predictor's tests (on sys.path through this folder's conftest)."""

from __future__ import annotations

from advisor.predictor.calibration import Calibration

ROUND_EFFICIENCIES = {"matmul.fp32": 0.8, "matmul.tf32": 0.4, "matmul.half": 0.8, "conv.fp32": 0.8,
                      "conv.tf32": 0.4, "conv.half": 0.8}


def unit_calibration() -> Calibration:
    """Round efficiencies and nothing else: no latency, host or step overhead, no GEMM shape, layout, batch-norm
    or attention-option terms, so that a test's op time is its FLOPs (or bytes) over a rate it can write down."""
    return Calibration(compute_efficiency=dict(ROUND_EFFICIENCIES), memory_efficiency=0.8,
                       kernel_latency_seconds=0.0, host_seconds_per_op=0.0, step_overhead_seconds=0.0,
                       operand_reuse=1e12, gemm_k_fill=0.0, conv_layout_passes=1.0, conv_index_ops=0.0,
                       bn_plane_seconds={}, attention_score_seconds={})
