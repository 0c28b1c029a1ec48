"""probe.memory_meter on the CPU: page faults a step and the kernel's CPU share, from real allocations."""

from __future__ import annotations

import pytest
import torch

from advisor.probe.memory_meter import CpuMemory

resource = pytest.importorskip("resource")

MIB64 = 16 * 1024 * 1024  # float32 elements: 64 MiB, above glibc's largest dynamic mmap threshold (32 MiB)


def _steps(fresh: bool, steps: int = 20) -> dict:
    kept = torch.empty(MIB64)
    kept.fill_(1.0)  # faulted in once, before the meter starts
    meter = CpuMemory()
    for _ in range(steps):
        buf = torch.empty(MIB64) if fresh else kept
        # Every page of a fresh block faults. Writing all of it (not one element a page) gives each step
        # milliseconds of user time too: with next to none, one clock tick of system time from any thread made
        # the reused loop's kernel share anything from 0 to 1 (a CI run saw 1.0).
        buf.fill_(2.0)
        del buf
        meter.after_step()
    return meter.fields(steps)


def test_fresh_memory_every_step_shows_as_page_faults_and_kernel_time_and_reused_memory_does_not():
    fresh, reused = _steps(fresh=True), _steps(fresh=False)
    # 64 MiB of 4 KiB pages is 16,384 faults a step (32 with 2 MiB transparent huge pages, where the kernel
    # hands those out); memory used again faults next to none.
    faults = fresh["page_faults_per_step"]
    assert faults >= 32 and faults > 10 * reused["page_faults_per_step"] + 5
    assert reused["page_faults_per_step"] < 5
    assert 0.0 <= reused["kernel_cpu_share"] <= 1.0 and fresh["kernel_cpu_share"] > reused["kernel_cpu_share"]
    assert fresh["peak_memory_gib"] >= 0.0


@pytest.mark.parametrize(("text", "oom"), [
    ("CUDA out of memory. Tried to allocate 2.00 GiB", True),
    ("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`", True),
    ("cuDNN error: CUDNN_STATUS_ALLOC_FAILED", True),
    ("CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm`", False),
    ("mat1 and mat2 shapes cannot be multiplied", False),
])
def test_cublas_and_cudnn_allocation_failures_are_out_of_memory(text, oom):
    from advisor.probe.memory_meter import is_oom

    assert is_oom(RuntimeError(text)) is oom
