"""A model whose buffers grow at every step (a memory bank appended to): the probe says so from its memory, and
neither its notes nor the prediction blame the steps' spread on other processes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from probe_helpers import tiny_batch, tiny_model

from advisor.predictor.measured import predict_measured
from advisor.probe.device_notes import noise_notes
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.probe.state_meter import StateMeter
from advisor.schemas import CpuInfo, DeviceProfile, HostInfo, JobSpec, Measurement, Profile, WorkloadInfo
from advisor.schemas.state_growth import StateGrowth, growth_note
from advisor.workload import Workload, train_step


class Bank(torch.nn.Module):
    """The audit's model: a MoCo-like bank that keeps every step's embeddings (``torch.cat`` onto a buffer)."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = torch.nn.Linear(16, 8)
        self.register_buffer("bank", torch.zeros(0, 8))
        self.norm = torch.nn.BatchNorm1d(8)  # fixed-size buffers beside it: not named as grown

    def forward(self, x):
        z = self.norm(self.enc(x))
        logits = z @ torch.cat([z.detach(), self.bank]).T
        self.bank = torch.cat([self.bank, z.detach()])
        return logits


def _bank_batch(b):
    return torch.randn(b, 16), None


def _bank_loss(out, _target):
    return torch.nn.functional.cross_entropy(out, torch.arange(out.shape[0]))


BANK = Workload(model=Bank, make_batch=_bank_batch, loss_fn=_bank_loss)


class _Idle:
    def sample(self):
        return None


def _steps(workload: Workload, meter_steps: int, batch_size: int = 4) -> StateMeter:
    model = workload.build_model()
    meter = StateMeter(model)
    optimizer = workload.build_optimizer(model.parameters())
    for step in range(1, meter_steps + 1):
        inputs, target = workload.make_batch(batch_size)
        train_step(workload, model, optimizer, inputs, target)
        meter.after_step(step, batch_size)
    return meter


def test_a_growing_bank_is_measured_and_a_fixed_model_is_not():
    growth = _steps(BANK, 6).growth()
    row = 4 * 8 * 4  # a batch of 4 rows of 8 float32 a step
    assert growth == StateGrowth(bytes_per_step=row, batch_size=4, steps=6, first_bytes=row + 2 * 8 * 4 + 8,
                                 last_bytes=6 * row + 2 * 8 * 4 + 8, buffers=["bank"])
    assert _steps(Workload(model=tiny_model, make_batch=tiny_batch), 6).growth() is None
    assert _steps(BANK, 3).growth() is None  # too few steps to say


def test_the_probe_note_says_it_grew_and_blames_no_one():
    growth = StateGrowth(bytes_per_step=131_072, batch_size=256, steps=312, first_bytes=262_144, last_bytes=81_788_928,
                         buffers=["bank"])
    assert growth_note("cpu", growth) == (
        "cpu: the model's state grew by 128 KiB per step at batch size 256 over the probe's 312 steps (buffers bank: "
        "256 KiB to 78 MiB): the step gets slower and larger as the job runs; this prediction is for the probe's "
        "steps, and the job's later ones take longer and hold more memory. Fix: if the growth is not meant, bound "
        "what the model keeps (a fixed-size queue, as MoCo's).")
    device = _device(spread=1.45, growth=growth)
    notes = noise_notes([device], cores=2)
    assert growth_note("cpu", growth) in notes
    assert not any("something else was probably using" in n for n in notes)
    # The same spread without growth (a busy machine, run queue 3 on 2 cores) is blamed on the others, as before.
    assert any("something else was probably using" in n for n in noise_notes([_device(spread=1.45)], cores=2))


def test_the_prediction_carries_the_note_and_does_not_blame_other_processes():
    growth = StateGrowth(bytes_per_step=262_144, batch_size=64, steps=40, first_bytes=262_144, last_bytes=10_485_760,
                         buffers=["bank"])
    note = growth_note("cpu", growth)
    grown = predict_measured(_profile(_device(spread=1.45, growth=growth), [note]), JobSpec(20_000, 1, 64))
    assert note in grown.notes
    assert any("the model's state grew at every step" in n for n in grown.notes)
    assert not any("other processes were probably competing" in n for n in grown.notes)
    plain = predict_measured(_profile(_device(spread=1.45), []), JobSpec(20_000, 1, 64))
    assert any("other processes were probably competing" in n for n in plain.notes)


@pytest.mark.slow
def test_a_real_probe_of_the_bank_records_its_growth():
    opts = ProbeOptions(batch_size=16, budget_seconds=2.0, threads=1, thread_scaling=False, after_ladder=False,
                        cpu_peak=False)
    grown = DeviceProbe(BANK, "cpu", opts, load_source=_Idle()).run()
    assert grown.state_growth is not None and grown.state_growth.buffers == ["bank"]
    timed = sum(len(m.compute_seconds_samples) for m in grown.measurements if not m.oom)
    assert grown.state_growth.steps >= timed
    # The bank grows by a batch of 8 float32 a step: at the largest batch size timed, exactly that.
    assert grown.state_growth.bytes_per_step == grown.state_growth.batch_size * 8 * 4
    fixed = DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cpu", opts, load_source=_Idle()).run()
    assert fixed.state_growth is None


def _device(spread: float, growth: StateGrowth | None = None) -> DeviceProfile:
    rng = np.random.default_rng(0)
    ms = []
    for b in (16, 32, 64):
        t = 0.004 + 0.0002 * b
        s = t * (1 + 0.4 * rng.standard_normal(30))
        ms.append(Measurement(device="cpu", batch_size=b, threads=1, compute_seconds=float(np.median(s)),
                              compute_seconds_samples=[float(x) for x in s], batch_seconds=0.0002, spread=spread,
                              others_cpu_cores=1.5, steal_fraction=0.0, run_queue=3.0, peak_memory_gib=0.1))
    return DeviceProfile(device="cpu", kind="cpu", name="Test CPU", threads=1, measurements=ms,
                         largest_batch_size=64, startup_seconds=1.0, state_growth=growth)


def _profile(device: DeviceProfile, notes: list[str]) -> Profile:
    host = HostInfo(cpu=CpuInfo(model_name="Test CPU", arch="x86_64", physical_cores=2, logical_cores=2,
                                torch_threads=1, memory_gib=16.0))
    return Profile(workload=WorkloadInfo(name="bank"), host=host, devices=[device], notes=notes)
