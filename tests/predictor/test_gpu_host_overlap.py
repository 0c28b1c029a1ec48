"""A step's GPU and host times combine as a p-norm (``host_overlap_exponent``), not a sharp max."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from predictor_helpers import unit_calibration

from advisor.predictor.calibration import load_calibration
from advisor.predictor.roofline import overlapped, predict_step
from advisor.schemas import Analysis, GpuSpec, OpRecord

SPEC = GpuSpec(name="Test-GPU", memory_gib=80, memory_bandwidth_gbs=1000, fp32_tflops=50, tf32_tflops=200,
               fp16_bf16_tflops=400, bf16_supported=True)


def test_overlap_runs_from_the_sum_to_the_max():
    assert overlapped(3.0, 4.0, 1.0) == pytest.approx(7.0)
    assert overlapped(3.0, 4.0, 2.0) == pytest.approx(5.0)
    assert overlapped(3.0, 4.0, 200.0) == pytest.approx(4.0, rel=1e-3)
    assert overlapped(2.0, 2.0, 3.0) == pytest.approx(2.0 * 2.0 ** (1 / 3))
    assert overlapped(4.0, 3.0, 3.0) == overlapped(3.0, 4.0, 3.0)
    assert overlapped(5.0, 0.0, 3.0) == 5.0
    # Far from balance the smaller one all but vanishes: a GPU-bound step at 10x its host time.
    assert overlapped(10.0, 1.0, 3.0) == pytest.approx(10.0 * (1 + 1e-3) ** (1 / 3))


def test_a_step_at_balance_takes_longer_than_either_part():
    # 100 elementwise kernels of 1 GB each: 1.25 ms apiece on the GPU (1000 GB/s x 0.8); host 1.25 ms a kernel.
    op = OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", count=100, flops=(0.0, 0.0),
                  bytes=(1e9, 1e9), dtype="float32")
    a = Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=0.0, param_count=1, trainable_param_count=1,
                 param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)
    cal = replace(unit_calibration(), host_seconds_per_op=1.25e-3, host_overlap_exponent=3.0)
    step = predict_step(a, SPEC, 1, "fp32", cal)
    assert step.seconds == pytest.approx(0.125 * 2 ** (1 / 3))
    sharp = predict_step(a, SPEC, 1, "fp32", replace(cal, host_overlap_exponent=1e3))
    assert sharp.seconds == pytest.approx(0.125, rel=1e-3)


def test_shipped_calibration_fits_the_exponent():
    cal = load_calibration()
    assert "host_overlap_exponent" in cal.provenance["free_parameters"]
    assert cal.host_overlap_exponent >= 1.0


def test_a_host_bound_step_says_what_to_do_and_a_gpu_bound_one_says_nothing():
    from advisor.predictor.roofline import host_bound_note

    op = OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", count=100, flops=(0.0, 0.0),
                  bytes=(1e6, 2e6), dtype="float32")
    a = Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=0.0, param_count=1, trainable_param_count=1,
                 param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)
    # GPU: 100 x 1 MB at 800 GB/s = 0.125 ms; host: 100 x 40 us = 4 ms.
    step = predict_step(a, SPEC, 1, "fp32", replace(unit_calibration(), host_seconds_per_op=40e-6))
    note = host_bound_note(step)
    assert step.host_seconds == pytest.approx(4e-3) and step.gpu_seconds == pytest.approx(1.25e-4)
    assert note.startswith("host-bound: at batch 1 per GPU the step launches 100 kernels, ~4.0 ms")
    assert "0.1 ms for them" in note and "torch.compile" in note
    assert "torch.compile" not in host_bound_note(step, compiled=True)
    assert host_bound_note(predict_step(a, SPEC, 1, "fp32", replace(unit_calibration(), host_seconds_per_op=1e-7))) \
        is None


def test_an_estimate_carries_the_host_bound_note_only_when_the_gpu_waits():
    from pathlib import Path

    from advisor import api
    from advisor.predictor.estimate import estimate
    from advisor.schemas import JobSpec, Target

    prof = api.load_profile(Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json")
    small = estimate(prof, JobSpec(200_000, 3, 256), Target.gpu("H100-SXM"))
    assert any(n.startswith("host-bound: at batch 256 per GPU") for n in small.notes), small.notes
    # The same model with 10,000x the matmul work per sample keeps the GPU busy.
    ops = [o.model_copy(update={"flops": tuple(f * 1e4 for f in o.flops), "bytes": tuple(b * 100 for b in o.bytes)})
           if o.kind == "matmul" else o for o in prof.analysis.ops]
    heavy = prof.model_copy(update={"analysis": prof.analysis.model_copy(update={"ops": ops})})
    big = estimate(heavy, JobSpec(200_000, 3, 256), Target.gpu("H100-SXM"))
    assert not any(n.startswith("host-bound") for n in big.notes), big.notes


def test_the_launch_cost_spread_weighs_as_much_as_the_host_sets_the_step():
    """``host_sigma``: d log(step) / d log(host) x HOST_LAUNCH_SIGMA: all of it for a step the host bounds, none for
    one the GPU bounds, and at balance the host's share of the p-norm."""
    from advisor.predictor.roofline import HOST_LAUNCH_SIGMA, StepPrediction, host_sigma

    def step(gpu: float, host: float, k: float = 3.0, overhead: float = 0.0) -> StepPrediction:
        return StepPrediction(seconds=overlapped(gpu, host, k) + overhead, compute_bound_seconds=0.0,
                              memory_bound_seconds=gpu, overhead_seconds=0.0, per_kind={}, gpu="G", batch_size=1,
                              precision="fp32", kernels=1, flops=0.0, bytes=0.0, gpu_seconds=gpu, host_seconds=host)

    assert host_sigma(step(1e-6, 1.0), 3.0) == pytest.approx(HOST_LAUNCH_SIGMA, rel=1e-6)
    assert host_sigma(step(1.0, 1e-3), 3.0) == pytest.approx(0.0, abs=1e-6)
    assert host_sigma(step(2.0, 2.0), 3.0) == pytest.approx(HOST_LAUNCH_SIGMA / 2)  # half the p-norm's weight
    # the step's fixed overhead dilutes it; no host time, no spread
    assert host_sigma(step(1e-6, 1.0, overhead=1.0), 3.0) == pytest.approx(HOST_LAUNCH_SIGMA / 2, rel=1e-5)
    assert host_sigma(step(1.0, 0.0), 3.0) == 0.0
    # a finite difference of the p-norm agrees with the closed form
    s0, s1 = step(1.0, 1.5), step(1.0, 1.5 * 1.001)
    slope = (math.log(s1.seconds) - math.log(s0.seconds)) / math.log(1.001)
    assert host_sigma(s0, 3.0) == pytest.approx(HOST_LAUNCH_SIGMA * slope, rel=1e-3)
