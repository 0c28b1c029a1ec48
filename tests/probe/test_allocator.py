"""The memory allocator's what-if (advisor.probe.allocator). In a real probe child: a step that takes and frees a
block larger than glibc's largest adaptive mmap threshold (32 MiB) faults every page of it at every step as glibc
runs by default, and none once freed memory is kept. In this process: when it is not measured."""

from __future__ import annotations

import sys
import textwrap

import pytest

from advisor.probe import run_profile

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc: Linux")]

FAULTING = textwrap.dedent("""
    import torch
    from torch import nn

    BATCH_SIZE = 8


    class Scratch(nn.Module):
        # A 40 MiB scratch buffer a step, filled and freed: above glibc's largest adaptive mmap threshold, so glibc
        # maps it fresh (10,240 pages, each a page fault) and unmaps it again at every step.
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(16, 4)

        def forward(self, x):
            scratch = torch.empty(10 * 1024 * 1024).fill_(1.0)
            return self.linear(x) + scratch[:4].sum() * 0


    def build_model():
        return Scratch()


    def make_batch(batch_size):
        return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
""")


def test_a_step_that_maps_fresh_memory_is_timed_again_with_freed_memory_kept(tmp_path):
    path = tmp_path / "scratch.py"
    path.write_text(FAULTING)
    profile = run_profile(path, batch_size=8, probe_seconds=10, threads=1, analyze=False, thread_scaling=False)
    cpu = profile.devices[0]
    kept = cpu.kept_memory
    assert kept is not None, [(m.batch_size, m.kernel_cpu_share, m.compute_seconds) for m in cpu.measurements]
    assert kept.batch_size == 8 and kept.steps >= 3 and kept.threads == 1
    assert kept.probed_faults_per_step > 5_000  # 10,240 pages a step, less any glibc kept
    assert kept.kept_faults_per_step < 0.1 * kept.probed_faults_per_step
    # Faulting and zeroing 40 MiB a step is most of this step: keeping it takes off far more than timing noise.
    assert kept.saving > 0.2, kept


class _Probe:
    """What measure_kept_memory drives, counting the steps it runs (and failing them where asked)."""

    def __init__(self, fail: bool = False) -> None:
        import torch

        self.torch, self.fail, self.steps = torch, fail, 0
        self.load_source = None

    def batch(self, batch_size):
        return None, None

    def train(self, inputs, target):
        self.steps += 1
        if self.fail:
            raise RuntimeError("a step that fails")


def test_the_what_if_is_not_measured_where_the_kernel_barely_ran_the_budget_is_too_small_or_a_step_fails(monkeypatch):
    from advisor.probe import allocator
    from advisor.schemas import Measurement

    calls: list[tuple[int, int]] = []  # glibc's mallopt, recorded: this test process's own thresholds stay as they are
    monkeypatch.setattr(allocator, "_mallopt", lambda: lambda option, value: calls.append((option, int(getattr(
        value, "value", value)))) or 1)

    def ref(share, step=0.1):
        return Measurement(device="cpu", batch_size=8, threads=1, compute_seconds=step, kernel_cpu_share=share)

    probe = _Probe()
    assert allocator.measure_kept_memory(probe, ref(allocator.MIN_KERNEL_SHARE / 2), 10.0) is None  # not worth it
    assert allocator.measure_kept_memory(probe, ref(None), 10.0) is None  # not counted (not a Unix)
    assert allocator.measure_kept_memory(probe, ref(0.5), 0.35) is None  # 3 steps and a warm-up would not fit
    assert probe.steps == 0 and calls == []
    failing = _Probe(fail=True)
    assert allocator.measure_kept_memory(failing, ref(0.5, step=0.001), 1.0) is None and failing.steps == 1
    # The thresholds were raised for the steps, and set back to glibc's starting values after the failure.
    keep, mmap0, trim0 = allocator.KEEP_BYTES, allocator.GLIBC_MMAP_THRESHOLD, allocator.GLIBC_TRIM_THRESHOLD
    assert calls == [(allocator.M_MMAP_THRESHOLD, keep), (allocator.M_TRIM_THRESHOLD, keep),
                     (allocator.M_MMAP_THRESHOLD, mmap0), (allocator.M_TRIM_THRESHOLD, trim0)]


class _Load:
    """A CPU load source whose other processes use ``others`` cores over each interval between samples."""

    def __init__(self, others: float) -> None:
        self.others, self.t = others, 0.0

    def sample(self):
        from advisor.probe.contention import CpuSample

        self.t += 1.0
        return CpuSample(wall_seconds=self.t, busy_seconds=self.others * self.t, steal_seconds=0.0, own_seconds=0.0,
                         procs_running=1)


def test_kept_steps_timed_beside_busy_processes_on_the_wall_clock_give_no_figure(monkeypatch):
    """Compared with a reference step timed clean (or at raised priority), steps that other processes slowed would
    read as the allocator's cost: 451% more for an LSTM beside other probes. Such a window gives no figure."""
    from advisor.probe import allocator
    from advisor.schemas import Measurement

    monkeypatch.setattr(allocator, "_mallopt", lambda: lambda option, value: 1)
    monkeypatch.setattr(allocator, "minor_faults", lambda: 0)
    ref = Measurement(device="cpu", batch_size=8, threads=1, compute_seconds=0.001, kernel_cpu_share=0.5,
                      clock="wall")
    busy, quiet = _Probe(), _Probe()
    busy.load_source, quiet.load_source = _Load(others=1.0), _Load(others=0.0)
    assert allocator.measure_kept_memory(busy, ref, 1.0) is None and busy.steps > 3  # timed, then dropped
    kept = allocator.measure_kept_memory(quiet, ref, 1.0)
    assert kept is not None and kept.steps >= allocator.MIN_STEPS
    # on the thread's CPU clock other processes do not count: the figure stands
    thread_clock = ref.model_copy(update={"clock": "thread_cpu"})
    busy_thread = _Probe()
    busy_thread.load_source = _Load(others=1.0)
    assert allocator.measure_kept_memory(busy_thread, thread_clock, 1.0) is not None
