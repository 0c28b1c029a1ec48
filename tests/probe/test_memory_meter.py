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


GIB_QUARTER = 64 * 1024 * 1024  # float32 elements: 256 MiB


def _no_kernel_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's peak-RSS counter unreadable, as on macOS or in a sandbox without /proc."""
    from advisor.probe import memory_meter

    monkeypatch.setattr(memory_meter, "reset_peak_rss", lambda: False)
    monkeypatch.setattr(memory_meter, "peak_rss_bytes", lambda: None)


def _step_allocating_and_freeing(hold_seconds: float) -> float:
    import time

    meter = CpuMemory()
    buf = torch.empty(GIB_QUARTER)
    buf.fill_(1.0)  # resident
    time.sleep(hold_seconds)
    del buf  # 256 MiB is mmap'd: freed straight back to the OS, as macOS's allocator does with large blocks
    meter.after_step()
    peak = meter.peak_gib()
    assert meter.sampler is None  # sampling stopped with the reading
    return peak


def test_without_the_kernel_counter_the_background_sampler_sees_what_a_step_allocated_and_freed(monkeypatch):
    from advisor.probe import memory_meter

    _no_kernel_counter(monkeypatch)
    monkeypatch.setattr(memory_meter, "max_rss_bytes", lambda: None)  # the sampler alone
    # Read between steps only, the peak was 0 GiB: the tensor was gone by then.
    assert _step_allocating_and_freeing(hold_seconds=0.2) >= 0.9 * 0.25


def test_without_the_kernel_counter_a_risen_lifetime_peak_counts_a_peak_the_sampler_missed(monkeypatch):
    from advisor.probe import memory_meter

    _no_kernel_counter(monkeypatch)
    monkeypatch.setattr(memory_meter, "SAMPLE_INTERVAL_SECONDS", 3600.0)  # one read at the start only
    lifetime = iter([10 * 2**30, 10 * 2**30 + 2**30 + memory_meter.rss_bytes()])  # before, after: rose
    monkeypatch.setattr(memory_meter, "max_rss_bytes", lambda: next(lifetime))
    # The process's peak rose during the steps, to 1 GiB above what it held before them.
    assert _step_allocating_and_freeing(hold_seconds=0.0) >= 0.99


def test_without_the_kernel_counter_a_lifetime_peak_that_did_not_rise_is_not_counted(monkeypatch):
    from advisor.probe import memory_meter

    _no_kernel_counter(monkeypatch)
    monkeypatch.setattr(memory_meter, "SAMPLE_INTERVAL_SECONDS", 3600.0)
    monkeypatch.setattr(memory_meter, "max_rss_bytes", lambda: 100 * 2**30)  # an earlier phase's peak
    assert _step_allocating_and_freeing(hold_seconds=0.0) < 0.2


def test_max_rss_bytes_reads_kib_on_linux_and_bytes_on_macos(monkeypatch):
    from advisor.probe import memory_meter

    monkeypatch.setattr(memory_meter.sys, "platform", "linux")
    linux = memory_meter.max_rss_bytes()
    monkeypatch.setattr(memory_meter.sys, "platform", "darwin")
    assert linux == memory_meter.max_rss_bytes() * 1024


def test_where_rss_cannot_be_read_the_peak_is_not_recorded(monkeypatch):
    """psutil's process reads raised NoSuchProcess where /proc was not mounted: the probe failed "unexpectedly"."""
    import psutil

    from advisor.probe import memory_meter

    def gone(*_args, **_kwargs):
        raise psutil.NoSuchProcess(1)

    monkeypatch.setattr(psutil, "Process", gone)
    _no_kernel_counter(monkeypatch)
    assert memory_meter.rss_bytes() is None
    meter = CpuMemory()
    meter.after_step()
    assert meter.fields(1)["peak_memory_gib"] is None and meter.sampler is None
