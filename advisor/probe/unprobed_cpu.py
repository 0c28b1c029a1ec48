"""The CPU's profile when the probe times no step on it, and the decision not to: a training step that does not
fit this machine's memory, or one so slow here that not even the ladder's smallest point could fit the budget.

Both are results, not failures: the model obviously belongs on a GPU, its GPU candidates come from the analysis,
and the CPU is priced from the analysis with this CPU's op rates (``advisor.predictor.cpu_roofline``, method
"scaled"). The one-step workload check is then not run either: the analysis (fake tensors) already traced the
forward, loss, backward and optimizer, and one real step of a 350M-parameter model at batch size 2 outlasted the
probe's whole timeout on a 2-core VM, where the analysis prices it in a fraction of a second.
"""

from __future__ import annotations

from typing import Any

from advisor.probe.ladder import (
    CHECK_BATCH_SIZE,
    LAST_RESORT_FRACTION,
    MIN_TIMED,
    MIN_WARMUP,
    auto_ladder,
    least_step_seconds,
)
from advisor.schemas import Analysis, DeviceProfile, Measurement
from advisor.schemas.profile import CpuPeak, SkippedPoint


def step_bytes(analysis: Analysis) -> float:
    """Memory one training step at the check's batch size holds at its peak: weights, gradients, optimizer
    state and the activations saved for backward, as the analysis counts them (a 16-bit analysis counts its
    activations at half width: a step near the limit is then still tried, and an allocation failure caught)."""
    activations = (analysis.activation_bytes_per_sample or 0.0) * CHECK_BATCH_SIZE + max(
        analysis.activation_bytes_fixed or 0.0, 0.0)
    return analysis.param_bytes + analysis.gradient_bytes + analysis.optimizer_state_bytes + activations


def beyond_budget(least_check_seconds: float, budget_seconds: float) -> bool:
    """Whether no ladder point could be timed: batch size 1, half the check's step at least, needs its warm-up
    and timed steps within ``LAST_RESORT_FRACTION`` of the budget (``advisor.probe.ladder``)."""
    least_point = (MIN_WARMUP + MIN_TIMED) * least_check_seconds / CHECK_BATCH_SIZE
    return least_point > LAST_RESORT_FRACTION * budget_seconds


# How much slower than ``GENEROUS_FLOPS_PER_THREAD`` (``advisor.probe.ladder``) a core's float32 matmul may run: the
# op rates are timed (0.1-0.3 s) for a step that could be beyond the budget at that rate. A prefilter at the
# generous rate itself kept a 350M-parameter GPT's check (floor 9.7 s at 250 GFLOP/s a thread, 27 s at the
# 90 GFLOP/s this 2-core VM's core measures) running at a 60-s budget, and the check outlasted the probe's timeout.
SLOWEST_CORE_FACTOR = 10.0


def too_slow_to_check(analysis: Analysis, budget_seconds: float, threads: int, torch: Any) -> CpuPeak | None:
    """This CPU's op rates when one step is priced past anything the probe could time (``beyond_budget``),
    else None (check the step, probe the ladder). The rates are timed only for a step that would be beyond the
    budget at ``GENEROUS_FLOPS_PER_THREAD / SLOWEST_CORE_FACTOR``: a small model's probe pays nothing for them."""
    from advisor.probe.cpu_peak import measure_cpu_peak

    if not beyond_budget(SLOWEST_CORE_FACTOR * least_step_seconds(analysis.flops_per_sample, CHECK_BATCH_SIZE,
                                                                 threads), budget_seconds):
        return None
    peak = measure_cpu_peak(torch)
    least = least_step_seconds(analysis.flops_per_sample, CHECK_BATCH_SIZE, threads, peak.matmul_flops_per_second)
    return peak if beyond_budget(least, budget_seconds) else None


def cpu_too_slow(request: Any, analysis: Analysis, peak: CpuPeak, threads: int) -> DeviceProfile:
    """The CPU's profile when no step was timed because none could fit the budget: each ladder size skipped,
    priced from the analysis (at least that long), and this CPU's op rates."""
    from advisor.hardware.cpu import detect_cpu

    cpu = detect_cpu()
    sizes = sorted(set(request.batch_sizes)) if request.batch_sizes else auto_ladder(request.batch_size)
    skipped = [SkippedPoint(batch_size=b, priced_from="analysis",
                            step_seconds=least_step_seconds(analysis.flops_per_sample, b, threads,
                                                            peak.matmul_flops_per_second))
               for b in sizes]
    return DeviceProfile(device="cpu", kind="cpu", name=cpu.model_name, memory_gib=cpu.memory_gib,
                         memory_limit=cpu.memory_limit, threads=threads, precision=request.precision,
                         budget_seconds=request.probe_seconds, skipped=skipped, cpu_peak=peak)


def cpu_out_of_memory(request: Any, threads: int, torch: Any, _analysis: Analysis | None = None) -> DeviceProfile:
    """The CPU's profile when one training step of the model does not fit its memory: the out-of-memory
    result and this CPU's op rates, which the predictor prices the model's analysis with (``_analysis``: the
    caller's, not needed here)."""
    from advisor.hardware.cpu import detect_cpu
    from advisor.probe.cpu_peak import measure_cpu_peak

    cpu = detect_cpu()
    return DeviceProfile(
        device="cpu", kind="cpu", name=cpu.model_name, memory_gib=cpu.memory_gib, memory_limit=cpu.memory_limit,
        threads=threads, precision=request.precision, budget_seconds=request.probe_seconds,
        oom_batch_size=CHECK_BATCH_SIZE,
        measurements=[Measurement(device="cpu", batch_size=CHECK_BATCH_SIZE, threads=threads,
                                  precision=request.precision, oom=True)],
        cpu_peak=measure_cpu_peak(torch))
