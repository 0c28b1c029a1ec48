"""The probe under a memory limit below the machine's RAM (a container's cgroup, ``ulimit -v``): the one-step check
is not tried where the step does not fit what the process can get, and the note for it says which limit bound it,
as that is what the user can raise."""

from __future__ import annotations

from types import SimpleNamespace

from advisor.hardware.process_memory import CGROUP, MemoryFigure, ProcessMemory
from advisor.probe import check_step, unprobed_cpu
from advisor.probe.device_notes import too_big_notes
from advisor.schemas import DeviceProfile, Measurement

GIB = 1 << 30


def _container(available_gib: float, limit_gib: float = 2.0):
    figure = MemoryFigure(available_gib * GIB, CGROUP, limit_gib * GIB)
    return lambda: ProcessMemory(total=MemoryFigure(limit_gib * GIB, CGROUP, limit_gib * GIB), available=figure)


def _check(analysis) -> tuple:
    request = SimpleNamespace(threads=2, analyze=True, probe_seconds=60.0)
    return check_step.check_step(request, workload=None, devices=["cpu"], turn=None, analyse=lambda: analysis,
                                 progress=lambda fraction, text: None)


def test_a_step_past_the_containers_limit_is_not_tried(monkeypatch):
    # 3 GiB a step (weights, gradients, AdamW state, activations) on a 64 GiB host in a 2 GiB container
    analysis = SimpleNamespace(param_bytes=0.5 * GIB, gradient_bytes=0.5 * GIB, optimizer_state_bytes=1.0 * GIB,
                               activation_bytes_per_sample=0.5 * GIB, activation_bytes_fixed=0.0)
    monkeypatch.setattr(check_step, "process_memory", _container(1.5))
    check, got, cpu_profile, stopped = _check(analysis)
    assert (check, got, stopped) == (None, analysis, None)
    assert cpu_profile.func is unprobed_cpu.cpu_out_of_memory  # priced from the analysis: nothing allocated
    # where the process can get the step, it goes on to the step's price (stubbed: the check itself is not run)
    monkeypatch.setattr(check_step, "process_memory", _container(40.0, 48.0))
    monkeypatch.setattr(unprobed_cpu, "too_slow_to_check", lambda *args: "too slow")
    assert _check(analysis)[2].func is unprobed_cpu.cpu_too_slow


def test_the_too_big_note_names_the_limit():
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", memory_gib=2.0, memory_limit="cgroup", oom_batch_size=2,
                        measurements=[Measurement(device="cpu", batch_size=2, oom=True)])
    (note,) = too_big_notes([dev])
    assert note.startswith("cpu: one training step at batch size 2 does not fit this machine's 2.0 GiB of memory "
                           "(the container's memory limit (cgroup), less than its RAM), so nothing was timed here")
    (plain,) = too_big_notes([dev.model_copy(update={"memory_gib": 24.0, "memory_limit": None})])
    assert "does not fit this machine's 24 GiB of memory, so nothing was timed" in plain
