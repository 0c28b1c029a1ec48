"""A CPU probed under a memory limit (a container's cgroup, ``ulimit -v``): "this machine" is judged against the
limit the profile recorded, and the notes say which limit that is (``advisor.hardware.process_memory``)."""

from __future__ import annotations

import pytest
from test_measured import _profile

from advisor.hardware.process_memory import ADDRESS_SPACE, MemoryFigure, ProcessMemory
from advisor.predictor import measured
from advisor.predictor.measured import predict_measured
from advisor.schemas import JobSpec

GIB = 1 << 30


def _limited(profile, memory_gib: float, limit: str | None):
    dev = profile.devices[0].model_copy(update={"memory_gib": memory_gib, "memory_limit": limit})
    return profile.model_copy(update={"devices": [dev]})


def test_this_machine_is_judged_at_the_containers_limit_and_the_note_names_it():
    profile = _limited(_profile(memory=(0.2, 0.01), host_gib=64.0), 2.0, "cgroup")
    est = predict_measured(profile, JobSpec(100_000, 1, 512))  # 5.3 GiB: fits the host's 64, not the limit's 2
    assert est.memory_capacity_gib == 2.0 and est.fits_memory is False
    assert ("this machine's memory is judged at 2.0 GiB, the container's memory limit (cgroup) the probe ran "
            "under, not its RAM: a job here gets no more.") in est.notes
    plain = predict_measured(_limited(_profile(), 16.0, None), JobSpec(1000, 1, 128))
    assert not any("judged at" in n for n in plain.notes)


def test_a_profile_without_memory_takes_what_this_process_may_hold(monkeypatch):
    limit = MemoryFigure(3.0 * GIB, ADDRESS_SPACE, 3.0 * GIB)
    monkeypatch.setattr(measured, "process_memory", lambda: ProcessMemory(total=limit, available=limit))
    profile = _profile(memory=(0.2, 0.01))
    profile = profile.model_copy(update={"host": None})
    est = predict_measured(profile, JobSpec(100_000, 1, 512))
    assert est.memory_capacity_gib == pytest.approx(3.0) and est.fits_memory is False
