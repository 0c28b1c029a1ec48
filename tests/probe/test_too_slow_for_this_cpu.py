"""A model too slow for this CPU is a result, not a timeout: when the analysis prices one step past anything the
probe could time, the one-step check is not run and the CPU is priced from the analysis (issue 8: "never a
timeout for a model that runs"; a 350M-parameter GPT's check step outlasted the whole probe on a 2-core VM).

The model below makes 1.2 TFLOP a sample and sleeps two minutes in any forward pass on real tensors: the old
probe ran that step as its check and ended in a timeout; the analysis traces it on fake tensors and never sleeps.
"""

from __future__ import annotations

import signal
import textwrap
import time
from types import SimpleNamespace

import pytest

import advisor
from advisor.probe import check_step, unprobed_cpu
from advisor.probe.ladder import LAST_RESORT_FRACTION, least_step_seconds

SLOW = textwrap.dedent("""
    import time
    import torch
    from torch import nn
    from torch._subclasses.fake_tensor import FakeTensor

    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(*[nn.Linear(4096, 4096) for _ in range(3)])

        def forward(self, x):
            if not isinstance(x, FakeTensor):
                time.sleep(120)
            return self.layers(x)

    def build_model():
        return Slow()

    def make_batch(batch_size):
        return torch.randn(batch_size, 4096, 4096), torch.randn(batch_size, 4096, 4096)

    DATASET_SIZE = 1_000
    EPOCHS = 1
    BATCH_SIZE = 8
""")


def test_a_step_priced_past_the_smallest_point_is_beyond_the_budget():
    # 2 threads at 100 GFLOP/s each: the check's step (batch 2) takes 10 s at least, batch 1 5 s, its point 20 s
    least = least_step_seconds(1e12, 2, 2, 100e9)
    assert least == pytest.approx(10.0)
    assert unprobed_cpu.beyond_budget(least, budget_seconds=20.0 / LAST_RESORT_FRACTION - 1)
    assert not unprobed_cpu.beyond_budget(least, budget_seconds=20.0 / LAST_RESORT_FRACTION)


@pytest.mark.slow
def test_a_model_too_slow_for_this_cpu_is_priced_from_its_analysis_without_running_a_step(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    prof = advisor.profile(str(path), devices=["cpu"], probe_seconds=2)
    [cpu] = prof.devices
    assert cpu.measurements == [] and cpu.cpu_peak is not None
    assert [p.batch_size for p in cpu.skipped] == [1, 2, 4, 8]
    assert {p.priced_from for p in cpu.skipped} == {"analysis"}
    # each priced at the model's FLOPs over the measured matmul rate on every thread: a floor
    rate = cpu.cpu_peak.matmul_flops_per_second * cpu.threads
    assert cpu.skipped[-1].step_seconds == pytest.approx(8 * prof.analysis.flops_per_sample / rate, rel=1e-9)
    est = advisor.predict(prof, target=advisor.Target.cpu(), dataset_size=1_000, epochs=1, batch_size=8,
                          use_history=False)
    assert est.method == "scaled"
    assert any("no step was run: a floor" in n for n in est.notes)


def test_the_op_rates_are_timed_for_a_step_that_a_generous_rate_would_let_through(monkeypatch):
    # defect 11 of the intervals audit: a 350M GPT (2.42 TFLOP a sample) at the default 60-s budget on 2 threads.
    # At 250 GFLOP/s a thread its batch-1 point is 19 s, under half the budget, so the op rates were never timed
    # and the check ran (past the probe's timeout); at this VM's measured 90 GFLOP/s a thread it is 54 s.
    from advisor.probe import cpu_peak
    from advisor.schemas.profile import CpuPeak

    measured = CpuPeak(matmul_flops_per_second=90e9, memory_bytes_per_second=20e9)
    monkeypatch.setattr(cpu_peak, "measure_cpu_peak", lambda torch: measured)
    gpt350m = SimpleNamespace(flops_per_sample=2.42e12)
    assert unprobed_cpu.too_slow_to_check(gpt350m, 60.0, 2, torch=None) is measured
    # a model the measured rate times well within the budget is still checked, and a small one pays no timing
    assert unprobed_cpu.too_slow_to_check(SimpleNamespace(flops_per_sample=2.42e11), 60.0, 2, torch=None) is None
    monkeypatch.setattr(cpu_peak, "measure_cpu_peak", lambda torch: pytest.fail("timed for a small model"))
    assert unprobed_cpu.too_slow_to_check(SimpleNamespace(flops_per_sample=1e9), 60.0, 2, torch=None) is None


def test_a_bounded_call_is_stopped_past_its_seconds_and_leaves_no_timer_behind():
    previous = signal.getsignal(signal.SIGALRM)
    started = time.perf_counter()
    assert check_step.bounded(lambda: time.sleep(30), 0.2) == (None, True)
    assert time.perf_counter() - started < 5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is previous
    assert check_step.bounded(lambda: 7, 5.0) == (7, False)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert check_step.bounded(lambda: 8, None) == (8, False)


# Cheap in its analysis (3 small layers), but a forward pass on real tensors computes for two minutes: the check's
# step outlasts anything the analysis' floor foresees, as a 350M GPT's did on a busy VM.
SLOWER_THAN_ITS_ANALYSIS = textwrap.dedent("""
    import time
    import torch
    from torch import nn
    from torch._subclasses.fake_tensor import FakeTensor

    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(*[nn.Linear(64, 64) for _ in range(3)])

        def forward(self, x):
            if not isinstance(x, FakeTensor):
                a = torch.randn(128, 128)
                until = time.monotonic() + 120
                while time.monotonic() < until:
                    a = torch.tanh(a @ a)
            return self.layers(x)

    def build_model():
        return Slow()

    def make_batch(batch_size):
        return torch.randn(batch_size, 64), torch.randn(batch_size, 64)

    DATASET_SIZE = 1_000
    EPOCHS = 1
    BATCH_SIZE = 8
""")


@pytest.mark.slow
def test_a_check_past_the_budget_is_stopped_and_the_cpu_priced_from_the_analysis(tmp_path):
    path = tmp_path / "slower.py"
    path.write_text(SLOWER_THAN_ITS_ANALYSIS)
    started = time.perf_counter()
    with pytest.warns(advisor.errors.ProbeNote, match="was stopped after"):
        prof = advisor.profile(str(path), devices=["cpu"], probe_seconds=3)
    # the old probe ran the check until the probe's timeout (3 x 3 + 60 s) and raised ProbeError
    assert time.perf_counter() - started < 60
    [cpu] = prof.devices
    assert cpu.measurements == [] and cpu.cpu_peak is not None
    assert {p.priced_from for p in cpu.skipped} == {"analysis"}
    [note] = [n for n in prof.notes if "workload check" in n]
    assert note.startswith("cpu: the one-step workload check")
    assert "the probe's whole 3.0s budget: no step could be timed here" in note
    est = advisor.predict(prof, target=advisor.Target.cpu(), dataset_size=1_000, epochs=1, batch_size=8,
                          use_history=False)
    assert est.method == "scaled" and note in est.notes
