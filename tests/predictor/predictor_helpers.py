"""Builders shared by the predictor's tests (on sys.path through this folder's conftest)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from advisor.predictor.calibration import Calibration
from advisor.schemas import TrainingRow

ROUND_EFFICIENCIES = {"matmul.fp32": 0.8, "matmul.tf32": 0.4, "matmul.half": 0.8, "conv.fp32": 0.8,
                      "conv.tf32": 0.4, "conv.half": 0.8}


def unit_calibration() -> Calibration:
    """Round efficiencies and nothing else: no latency, host or step overhead, no GEMM shape, layout, batch-norm
    or attention-option terms, so that a test's op time is its FLOPs (or bytes) over a rate it can write down."""
    return Calibration(compute_efficiency=dict(ROUND_EFFICIENCIES), memory_efficiency=0.8,
                       kernel_latency_seconds=0.0, host_seconds_per_op=0.0, step_overhead_seconds=0.0,
                       operand_reuse=1e12, gemm_k_fill=0.0, conv_layout_passes=1.0, conv_index_ops=0.0,
                       bn_plane_seconds={}, attention_score_seconds={})


def mlp_runs(seed: int, n: int, ratio: float, *, noise: float, gpu: bool = False, first_id: int = 0,
             vcpus: Callable[[random.Random], int] = lambda rnd: 4) -> list[TrainingRow]:
    """``n`` stored runs of the workload mlp (jobs of many sizes, each its own recommendation, ids from
    ``first_id``) that took ``ratio`` times their prediction, with lognormal ``noise`` (log sd): on an A100, or
    on a CPU host of ``vcpus(rnd)`` vCPUs (drawn from the runs' own random stream, seeded by ``seed``)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        size, epochs = int(10 ** rnd.uniform(4, 6)), rnd.randint(1, 10)
        predicted = size * epochs * 2e-4 + 1.0
        host_vcpus = None if gpu else vcpus(rnd)
        rows.append(TrainingRow(
            recommendation_id=first_id + i, outcome_id=first_id + i, workload="mlp", param_count=300_000,
            flops_per_sample=1.7e6, dataset_size=size, epochs=epochs, batch_size=256,
            tier="single_gpu" if gpu else "cpu", gpu="A100-80GB" if gpu else None, gpu_count=1 if gpu else 0,
            vcpus=host_vcpus, method="scaled" if gpu else "measured", predicted_seconds=predicted,
            actual_seconds=predicted * ratio * math.exp(rnd.gauss(0, noise))))
    return rows
