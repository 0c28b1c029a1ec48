"""A GPU probe in a fork of a process whose CUDA a forked copy cannot use is refused with one clear ProbeError.
An audit: the parent asked only ``torch.cuda.is_initialized()``, which ``torch.cuda.is_available()`` leaves False
although it poisons fork, so a notebook's ``"cuda" if torch.cuda.is_available() else "cpu"`` then ``advisor.profile``
of a lambda workload failed in the child with torch's "Cannot re-initialize CUDA in forked subprocess", reported
as "probably a bug in advisor". No GPU here: torch's bad-fork flag is simulated."""

from __future__ import annotations

import os
import warnings
from types import SimpleNamespace

import pytest
import torch
from probe_helpers import tiny_batch, tiny_model

from advisor.errors import ProbeError
from advisor.probe import cuda_device, run_profile
from advisor.probe import runner as runner_module
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.workload import Workload

REFUSAL = (
    "cannot probe this in-memory workload on a GPU: it does not pickle (a lambda, a closure or a function defined "
    "in __main__), so the probe would have to fork this process, and CUDA is already initialised here (any "
    "torch.cuda call does it, torch.cuda.is_available() included), which a forked process cannot use."
)
HINT = (
    "Fix: pass the workload as a file path (advisor.profile('model.py')), define its functions in an importable "
    "module, or profile before this process first uses the GPU."
)


def test_the_childs_cuda_check_refuses_a_bad_fork_before_any_cuda_call(monkeypatch):
    monkeypatch.setattr(torch.cuda, "_is_in_bad_fork", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: pytest.fail("a CUDA call in a bad fork"))
    with pytest.raises(ProbeError) as info:
        cuda_device.cuda_problem(torch, 0, "cuda:0")
    assert (info.value.message, info.value.hint) == (REFUSAL, HINT)
    with pytest.raises(ProbeError) as info:  # the device probe's own check: not torch's RuntimeError
        DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cuda:0", ProbeOptions(batch_size=4)).run()
    assert info.value.message == REFUSAL


def test_a_torch_without_the_bad_fork_flag_is_not_refused():
    assert cuda_device.in_bad_fork(SimpleNamespace(cuda=SimpleNamespace())) is False


def test_the_parent_refuses_where_it_is_itself_a_bad_fork(monkeypatch):
    monkeypatch.setattr(torch.cuda, "_is_in_bad_fork", lambda: True)
    with pytest.raises(ProbeError) as info:
        runner_module._check_fork_is_safe(["cpu", "cuda:0"])
    assert info.value.message == REFUSAL
    runner_module._check_fork_is_safe(["cpu"])  # a CPU probe forks as ever


@pytest.mark.slow
def test_a_fork_after_is_available_is_refused_before_anything_is_probed(monkeypatch):
    parent = os.getpid()
    # As torch.cuda.is_available() leaves it: this process is not marked, its forks are.
    monkeypatch.setattr(torch.cuda, "_is_in_bad_fork", lambda: os.getpid() != parent)
    calls = []
    workload = Workload(model=tiny_model, make_batch=lambda b: tiny_batch(b), name="forked")  # a lambda: forked
    with warnings.catch_warnings(), pytest.raises(ProbeError) as info:
        warnings.simplefilter("ignore", RuntimeWarning)
        run_profile(
            workload,
            devices=["cpu", "cuda:0"],
            batch_size=4,
            probe_seconds=2,
            analyze=False,
            thread_scaling=False,
            threads=1,
            progress=lambda *a: calls.append(a),
        )
    assert info.value.message == f"workload 'forked': the probe reported: {REFUSAL}"
    assert calls and {call[0] for call in calls} == {"setup"}  # refused before the CPU's probe, not after it
