"""A model too slow for this CPU is a result, not a timeout: when the analysis prices one step past anything the
probe could time, the one-step check is not run and the CPU is priced from the analysis (issue 8: "never a
timeout for a model that runs"; a 350M-parameter GPT's check step outlasted the whole probe on a 2-core VM).

The model below makes 1.2 TFLOP a sample and sleeps two minutes in any forward pass on real tensors: the old
probe ran that step as its check and ended in a timeout; the analysis traces it on fake tensors and never sleeps.
"""

from __future__ import annotations

import textwrap

import pytest

import advisor
from advisor.probe import unprobed_cpu
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
