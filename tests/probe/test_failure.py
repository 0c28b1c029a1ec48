"""How the probe child reports what it raised: a DataLoader worker that died is the workload's loader, wherever
torch's SIGCHLD handler raised it (at times inside advisor's handling of the loader's first error, which then read
"the probe failed unexpectedly ... probably a bug in advisor")."""

from __future__ import annotations

import pytest

from advisor.probe.failure import exception_frame


@pytest.mark.parametrize("message", [
    "DataLoader worker (pid 4242) exited unexpectedly with exit code 3. Details are lost due to multiprocessing.",
    "DataLoader worker (pid(s) 12, 13) exited unexpectedly",
    "DataLoader worker (pid 9) is killed by signal: Killed.",
])
def test_a_dead_loader_worker_is_a_workload_error(message):
    frame = exception_frame(RuntimeError(message), "loader.py")
    assert frame.error_class == "WorkloadError"
    assert frame.message.startswith("loader.py: a DataLoader worker process died while the input pipeline was probed")
    assert frame.hint.startswith("Fix: run the loader on its own")


def test_another_runtime_error_is_still_unexpected():
    assert exception_frame(RuntimeError("CUDA error: an illegal memory access"), "m.py").error_class is None
