"""A build_model that reads its weights' values cannot be built on fake tensors: the analysis builds it for real
where that fits this machine's memory, and otherwise refuses at once, with the memory it would need, instead of
allocating the model (a 7B model loaded from a checkpoint on a 24 GiB laptop: the OOM killer, or swap).

The huge models below are a 200k x 200k Linear (160 GB of fp32 weights); the subprocesses run under an address
space limit, so that even the old behaviour (a real build) fails to allocate instead of filling the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from advisor.errors import UnbuildableModelError
from advisor.hardware.process_memory import CGROUP, MACHINE, MemoryFigure, ProcessMemory
from advisor.probe.analysis import analyze, real_build
from advisor.workload import Workload, load_workload

ROOT = Path(__file__).resolve().parents[2]

# The real build of HUGE would take 160 GB; under this limit it fails to allocate, wherever it runs.
ADDRESS_SPACE_LIMIT_BYTES = 16 << 30

HUGE = textwrap.dedent("""
    import torch
    from torch import nn

    N = 200_000  # 160 GB of fp32 weights

    def build_model():
        model = nn.Sequential(nn.Linear(N, N))
        assert model[0].weight.abs().sum() > 0  # reads the weights' values: fails on fake tensors
        return model

    def make_batch(batch_size):
        return torch.randn(batch_size, N), torch.randn(batch_size, N)

    DATASET_SIZE = 1000
    EPOCHS = 1
""")


def _limited() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT_BYTES, ADDRESS_SPACE_LIMIT_BYTES))


def _run_limited(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          preexec_fn=_limited, env=env, cwd=tmp_path)


def test_a_model_too_big_to_build_for_real_is_refused_without_allocating(tmp_path):
    (tmp_path / "huge_check.py").write_text(HUGE)
    code = textwrap.dedent("""
        import json, resource, time
        from advisor.probe.analysis import analyze
        from advisor.workload import load_workload
        started = time.perf_counter()
        try:
            analyze(load_workload("huge_check.py"))
            out = {"error": None}
        except Exception as exc:
            out = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
        out["seconds"] = time.perf_counter() - started
        out["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(out))
    """)
    done = _run_limited(code, tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["error"] == "UnbuildableModelError", out
    assert "build_model() reads its tensors' values" in out["message"]
    assert "so the analysis would build the model for real: about 298" in out["message"]
    assert "its 40,000,200,000 parameter and buffer values" in out["message"]
    # Under the 16 GiB address-space limit the process can get less than the machine has free: the limit is named.
    assert "GiB available" in out["message"] and "It was not built." in out["message"]
    if "bound by" in out["message"]:
        assert "bound by the process's address-space limit (ulimit -v, RLIMIT_AS), 16.0 GiB." in out["message"]
    assert "from_config" in out["hint"] and "LOAD_WEIGHTS" in out["hint"]
    assert out["seconds"] < 60
    assert out["max_rss_kib"] < 2 * 1024 * 1024  # torch and the fake trace: well under the model's 160 GB


@pytest.mark.slow
def test_predict_stops_with_one_message_and_no_real_build(tmp_path):
    (tmp_path / "huge_check.py").write_text(HUGE)
    code = textwrap.dedent("""
        import resource, subprocess, sys
        done = subprocess.run([sys.executable, "-m", "advisor", "predict", "huge_check.py", "--gpu", "H100",
                               "--no-save"], capture_output=True, text=True)
        sys.stderr.write(done.stderr)
        print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """)
    started = time.perf_counter()
    done = _run_limited(code, tmp_path)
    seconds = time.perf_counter() - started
    rc, max_rss_kib = (int(v) for v in done.stdout.split())
    assert rc == 1, done.stderr
    assert "error: huge_check.py: build_model() reads its tensors' values" in done.stderr
    assert "It was not built." in done.stderr
    assert "Fix: the probe reported: build the model with random weights" in done.stderr
    assert "Traceback" not in done.stderr and "run on its own" not in done.stderr
    assert max_rss_kib < 2 * 1024 * 1024
    assert seconds < 120


def _reads_weights(n_in: int, n_out: int):
    def build():
        model = nn.Linear(n_in, n_out)
        assert model.weight.abs().sum() > 0
        return model

    return Workload(model=build, make_batch=lambda b: (torch.randn(b, n_in), torch.randn(b, n_out)))


def _available(available_bytes: float, bound: str = MACHINE, limit_bytes: float | None = None):
    """A ``process_memory`` stand-in: ``available_bytes`` available now, bound by ``bound``."""
    figure = MemoryFigure(available_bytes, bound, limit_bytes)
    return lambda: ProcessMemory(total=figure, available=figure)


def test_the_refusal_is_against_the_memory_available(monkeypatch):
    wl = _reads_weights(512, 512)  # 1 MiB of weights: twice that is over 0.9 x 1 MiB available
    monkeypatch.setattr(real_build, "process_memory", _available(float(1 << 20)))
    with pytest.raises(UnbuildableModelError) as err:
        analyze(wl)
    assert "about 0.002 GiB here (its 262,656 parameter and buffer values" in err.value.message
    assert "with 0.001 GiB available. It was not built." in err.value.message  # the machine's: no limit named
    monkeypatch.setattr(real_build, "process_memory", _available(float(1 << 20), CGROUP, 2.0 * (1 << 30)))
    with pytest.raises(UnbuildableModelError) as err:
        analyze(wl)
    assert ("with 0.001 GiB available, bound by the container's memory limit (cgroup), 2.0 GiB. It was not built."
            in err.value.message)
    monkeypatch.setattr(real_build, "process_memory", _available(float(1 << 30)))
    a = analyze(wl)  # fits: built for real, then faked
    assert a.param_count == 512 * 512 + 512


def test_a_small_model_that_loads_a_checkpoint_is_built_for_real_and_analysed(tmp_path):
    ckpt = tmp_path / "small.pt"
    torch.save(nn.Linear(64, 32).state_dict(), ckpt)
    (tmp_path / "small.py").write_text(textwrap.dedent(f"""
        import torch
        from torch import nn

        def build_model():
            model = nn.Linear(64, 32)
            model.load_state_dict(torch.load({str(ckpt)!r}))
            assert model.weight.abs().sum() > 0
            return model

        def make_batch(batch_size):
            return torch.randn(batch_size, 64), torch.randn(batch_size, 32)
    """))
    a = analyze(load_workload(tmp_path / "small.py"))
    assert a.param_count == 64 * 32 + 32 and a.forward_flops_per_sample == 2 * 64 * 32


def test_a_real_build_that_runs_out_of_memory_says_so_not_run_it_on_its_own():
    def build():
        if torch.ones(1).sum().item() > 0:  # a value read before any module: the fake build sizes nothing
            raise MemoryError("simulated: the real build did not fit")
        return nn.Linear(4, 4)

    with pytest.raises(UnbuildableModelError) as err:
        analyze(Workload(model=build, make_batch=lambda b: (torch.randn(b, 4), torch.randn(b, 4))))
    assert "build_model() reads its tensors' values" in err.value.message
    assert "so the analysis built the model for real, and that ran out of memory (MemoryError: simulated" in (
        err.value.message)
    assert "from_config" in err.value.hint and "run on its own" not in err.value.hint


def test_a_genuine_error_of_build_model_is_still_its_own_prediction_error():
    from advisor.errors import PredictionError

    def build():
        raise ValueError("boom")

    with pytest.raises(PredictionError, match="boom") as err:
        analyze(Workload(model=build, make_batch=lambda b: (torch.randn(b, 4), None)))
    assert not isinstance(err.value, UnbuildableModelError)
