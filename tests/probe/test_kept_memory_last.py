"""The allocator's what-if runs last in the probe's child (advisor.probe.kept_memory_last). An audit: it ran at the
end of the CPU's ladder and left glibc's mmap threshold fixed at 128 KiB for the rest of the child, so every GPU's
batch creation and the input pipeline timed after it mapped each large batch tensor afresh and faulted it in at
every call (1,025 minor faults for a 4 MiB batch, none in a fresh process)."""

from __future__ import annotations

import sys
import warnings
from types import SimpleNamespace

import pytest
from probe_helpers import tiny_batch, tiny_model

from advisor.probe import allocator, run_profile
from advisor.probe.frames import DeviceFrame
from advisor.probe.request import ProbeRequest
from advisor.probe.runner import _Collected
from advisor.schemas import DeviceProfile
from advisor.workload import Workload


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc: Linux")
def test_the_what_if_runs_after_the_input_pipeline_and_the_cpu_profile_carries_it(tmp_path, monkeypatch):
    log = tmp_path / "calls.txt"

    def note(what: str) -> None:
        with open(log, "a") as f:  # the forked child's calls, in order, whichever process made them
            f.write(what + "\n")

    def make_batch(batch_size):
        note("make_batch")
        return tiny_batch(batch_size)

    # Inherited by the probe's fork: glibc's thresholds left alone (mallopt only noted), the what-if run whatever
    # the kernel's share of the step, and its steps kept on a busy machine.
    monkeypatch.setattr(allocator, "_mallopt", lambda: lambda param, value: note("mallopt"))
    monkeypatch.setattr(allocator, "MIN_KERNEL_SHARE", 0.0)
    monkeypatch.setattr(allocator, "window_load", lambda *a, **k: SimpleNamespace(clean=True))
    workload = Workload(model=tiny_model, make_batch=lambda b: make_batch(b), name="forked")  # a lambda: forked
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the one-thread note, if this process used OpenMP
        profile = run_profile(
            workload, devices=["cpu"], batch_size=8, probe_seconds=10, threads=1, analyze=False, thread_scaling=False
        )
    calls = log.read_text().split()
    first, last = calls.index("mallopt"), len(calls) - 1 - calls[::-1].index("mallopt")
    assert calls.count("mallopt") == 4  # set twice, set back twice: one what-if
    assert "make_batch" in calls[first:last]  # its own steps, between setting the thresholds and setting them back
    assert "make_batch" not in calls[last:]  # nothing timed after it: the input pipeline came before
    assert profile.input_pipeline is not None and profile.input_pipeline.points
    kept = profile.device("cpu").kept_memory
    assert kept is not None and kept.batch_size == 8 and kept.steps >= allocator.MIN_STEPS


def test_the_profile_lists_the_devices_in_the_order_asked_whichever_frame_came_first():
    request = ProbeRequest(devices=["cpu", "cuda:0"], batch_size=8)
    collected = _Collected()
    for device in ("cuda:0", "cpu"):  # the CPU's frame waits for the what-if, after the GPUs'
        kind = "gpu" if device.startswith("cuda") else "cpu"
        collected.take(DeviceFrame(profile=DeviceProfile(device=device, kind=kind, name=device)), request)
    assert [d.device for d in collected.devices] == ["cpu", "cuda:0"]
