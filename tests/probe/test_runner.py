"""Probes in the child process: a workload file and in-memory workloads (pickled to a fresh interpreter, or
forked), and every way a workload can fail (hang, segfault, exit, a user error) ending in a clear error,
never a hung or crashed advisor. The probe's own logic is tested in-process in test_measure.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import torch
from probe_helpers import OomAbove, tiny_batch, tiny_model

from advisor.errors import ConfigError, HardwareError, ProbeError, WorkloadError
from advisor.probe import run_profile
from advisor.probe import runner as runner_module
from advisor.probe.device_notes import noise_notes
from advisor.probe.startup_clock import NOTE_MIN_SECONDS
from advisor.workload import Workload

pytestmark = pytest.mark.slow

TINY = """
import torch
from torch import nn

DATASET_SIZE = 1000
EPOCHS = 2
BATCH_SIZE = 32


def build_model():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""
TINY_PARAMS = 16 * 32 + 32 + 32 * 4 + 4


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def forked(model=tiny_model, make_batch=None, **kwargs) -> Workload:
    """An in-memory workload with a lambda in it: it does not pickle, so the probe forks (fast to start)."""
    make = make_batch or tiny_batch
    return Workload(model=model, make_batch=lambda b: make(b), name="forked", **kwargs)


def probe_forked(workload: Workload, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the one-thread note, if this process used OpenMP
        return run_profile(workload, **{"analyze": False, "thread_scaling": False, "threads": 1, **kwargs})


# ------------------------------------------------------------------------------------------ a file


@pytest.fixture(scope="module")
def file_profile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("probe")
    marker = tmp / "imported_by.txt"
    path = write(tmp, "tiny", TINY + f"\nopen({str(marker)!r}, 'a').write(str(__import__('os').getpid()) + '\\n')\n")
    calls = []
    started = time.perf_counter()
    prof = run_profile(path, devices=["cpu"], batch_size=32, probe_seconds=4, threads=1, analyze=True,
                       progress=lambda *a: calls.append(a))
    return prof, path, marker, calls, time.perf_counter() - started


def test_file_probe_measures_the_ladder(file_profile):
    prof, *_ = file_profile
    assert [d.device for d in prof.devices] == ["cpu"]
    cpu = prof.device("cpu")
    assert [m.batch_size for m in cpu.measurements] == [4, 8, 16, 32]
    assert all(m.compute_seconds > 0 and m.batch_seconds > 0 and m.spread is not None for m in cpu.measurements)
    assert cpu.threads == 1 and cpu.largest_batch_size == 32
    assert cpu.name and cpu.memory_gib > 0


def test_file_probe_describes_the_workload(file_profile):
    prof, path, _, _, elapsed = file_profile
    w = prof.workload
    assert (w.name, w.path, w.dataset_size, w.epochs, w.batch_size) == ("tiny", str(path), 1000, 2, 32)
    assert w.param_count == TINY_PARAMS and w.optimizer == "AdamW"
    assert w.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    if prof.analysis is not None:  # the analysis is optional: the probes stand without it
        assert w.flops_per_sample == prof.analysis.flops_per_sample > 0
    assert 0 < prof.probe_wall_seconds <= elapsed
    assert prof.host is None or prof.host.cpu.model_name == prof.device("cpu").name
    # A fresh interpreter: its start and torch's import, timed (part of the probe's wall time, not all of it).
    assert prof.host is None or 0 < prof.host.process_start_seconds < prof.probe_wall_seconds
    # How the start-ups were timed (advisor.probe.startup_clock): the wall clock, or where others used the CPU the
    # process's CPU time, and a note that says so.
    clocks = [prof.host.process_start_clock] if prof.host is not None else []
    clocks.append(prof.device("cpu").startup_clock)
    assert all(c is not None for c in clocks)
    if prof.host is not None:
        host_clock = prof.host.process_start_clock
        used = host_clock.cpu_seconds if host_clock.clock == "process_cpu" else host_clock.wall_seconds
        assert prof.host.process_start_seconds == pytest.approx(used)
    assert prof.device("cpu").startup_seconds <= prof.device("cpu").startup_clock.wall_seconds + 1e-9
    # a note for each figure the CPU time took a tenth of a second or more off (it shows tenths)
    busy = sum(c.clock == "process_cpu" and c.wall_seconds - c.cpu_seconds >= NOTE_MIN_SECONDS for c in clocks)
    assert sum("timed beside other processes" in n for n in prof.notes) == busy, prof.notes


def test_file_probe_times_make_batch_as_the_input_pipeline(file_profile):
    prof, *_ = file_profile
    ip = prof.input_pipeline
    assert (ip.source, ip.batch_size, ip.pinned_memory, ip.default_workers) == ("make_batch", 32, False, None)
    assert ip.bytes_per_sample == 16 * 4 + 8  # 16 float32 inputs and an int64 label
    assert [p.workers for p in ip.points] == [0] and 1 <= ip.points[0].batches_timed <= 5
    assert ip.points[0].samples_per_second > 0 and ip.host_cores >= 1


def test_file_probe_runs_user_code_only_in_the_child(file_profile):
    _, path, marker, _, _ = file_profile
    pids = set(marker.read_text().split())
    assert len(pids) == 1 and str(os.getpid()) not in pids
    # Other tests load workload files in this process; this file's module must not be among them.
    loaded_here = [name for name, module in list(sys.modules.items())
                   if str(getattr(module, "__file__", "") or "") == str(path)]
    assert loaded_here == []


def test_progress_reports_setup_then_the_device_then_the_input_pipeline(file_profile):
    *_, calls, _ = file_profile
    devices = [c[0] for c in calls]
    assert devices[0] == "setup" and devices[-1] == "input"
    assert max(i for i, d in enumerate(devices) if d == "cpu") < devices.index("input")
    assert all(0.0 <= c[1] <= 1.0 and isinstance(c[2], str) for c in calls)
    cpu = [c[1] for c in calls if c[0] == "cpu"]
    assert cpu == sorted(cpu) and cpu[-1] == 1.0


def test_hang_ends_in_probe_error_naming_where(tmp_path):
    path = write(tmp_path, "hang", TINY.replace(
        "def build_model():\n", "def build_model():\n    while True:\n        pass\n"))
    started = time.perf_counter()
    with pytest.raises(ProbeError) as info:
        # 15 s: the child imports torch (~3 s on a slow 2-core VM, over 8 s on one at load 8) before it reaches
        # build_model's loop, which is where the message must place it.
        run_profile(path, batch_size=8, probe_seconds=1, analyze=False, timeout_seconds=15)
    assert time.perf_counter() - started < 21
    assert "did not finish within 15 s" in info.value.message
    assert "(in build_model, hang.py:" in info.value.message
    assert "--probe-seconds" in info.value.hint


def test_a_hang_is_told_with_the_turn_wait_its_deadline_allowed(tmp_path):
    # A probe stopped after 123 s said "did not finish within 63 s": the deadline also allows the wait for another
    # advisor probe's turn (ADVISOR_PROBE_WAIT, 60 s by default), which the message left out.
    path = write(tmp_path, "hang", TINY.replace(
        "def build_model():\n", "def build_model():\n    while True:\n        pass\n"))
    started = time.perf_counter()
    with pytest.raises(ProbeError) as info:
        # hung in the analysis, before the turn: the deadline keeps the whole wait a turn may take
        run_profile(path, batch_size=8, probe_seconds=1, analyze=True, timeout_seconds=4, probe_wait_seconds=2)
    elapsed = time.perf_counter() - started
    assert 6 <= elapsed < 12
    assert ("the probe did not finish within 6 s (4 s, and 2 s more that a wait for another advisor probe on this "
            "machine may take, ADVISOR_PROBE_WAIT) and was stopped") in info.value.message


# ------------------------------------------------------------------------------ in-memory workloads


@pytest.fixture(autouse=True, scope="module")
def _imports_done():
    """What the workload check imports lazily (seconds of torch modules) is imported here once, so that
    each forked child inherits it instead of importing it again."""
    from advisor.workload import check_workload

    check_workload(forked(), batch_size=2)
    check_workload(forked(tiny_model()), batch_size=2)  # a module object is deep-copied: more imports


def test_in_memory_workload_that_pickles_runs_in_a_fresh_interpreter(tmp_path, monkeypatch):
    write(tmp_path, "probe_pickle_mod", TINY + "\nimport os\nPID = os.getpid()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import probe_pickle_mod as mod

    wl = Workload(model=mod.build_model, make_batch=mod.make_batch, name="pickled", batch_size=8)
    assert runner_module._pickle(wl) is not None
    prof = run_profile(wl, batch_size=8, probe_seconds=3, threads=1, analyze=False, thread_scaling=False)
    assert prof.workload.name == "pickled" and prof.workload.param_count == TINY_PARAMS
    assert [m.batch_size for m in prof.device("cpu").measurements] == [1, 2, 4, 8]


def test_in_memory_workload_that_does_not_pickle_is_forked():
    model = tiny_model()
    wl = forked(model, loss_fn=lambda out, y: torch.nn.functional.cross_entropy(out, y))
    assert runner_module._pickle(wl) is None
    before = [p.detach().clone() for p in model.parameters()]
    prof = probe_forked(wl, batch_size=4, probe_seconds=3)
    assert [m.batch_size for m in prof.device("cpu").measurements] == [1, 2, 4]
    assert all(m.compute_seconds > 0 for m in prof.device("cpu").measurements)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # not trained here
    assert prof.host is None or prof.host.process_start_seconds is None  # a fork: torch was imported already


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 or more CPU cores")
def test_fork_after_this_process_used_the_thread_pool_falls_back_to_one_thread():
    if torch.get_num_threads() < 2:
        pytest.skip("torch runs one thread here")
    a = torch.ones(512, 512)
    (a @ a).sum()  # starts OpenMP's pool in this process: a forked child cannot use it
    torch.ones(1 << 20).mul_(2.0).sum()
    started = time.perf_counter()
    with pytest.warns(RuntimeWarning, match="1 thread"):
        prof = run_profile(forked(), batch_size=4, probe_seconds=2, analyze=False, timeout_seconds=60)
    assert time.perf_counter() - started < 20  # not a hang
    assert prof.device("cpu").threads == 1 and prof.device("cpu").largest_batch_size == 4
    assert any(n.startswith("cpu: ") and "1 thread" in n for n in prof.notes)  # kept in the profile too


def test_analysis_failure_leaves_analysis_empty(monkeypatch):
    import advisor.probe.analysis as analysis_module
    from advisor.errors import PredictionError

    def broken(*args, **kwargs):
        raise PredictionError("cannot trace", hint="Fix: avoid .item() in forward.")

    monkeypatch.setattr(analysis_module, "analyze", broken)  # seen by the forked child
    prof = probe_forked(forked(), batch_size=2, probe_seconds=2, analyze=True)
    assert prof.analysis is None and prof.workload.flops_per_sample is None
    assert prof.workload.param_count == TINY_PARAMS and prof.device("cpu").largest_batch_size == 2
    # Why, and the fix, reach the profile's notes (they only reached the progress bar, gone with the probe)
    assert ("the model's shape analysis failed, so GPUs not probed here cannot be predicted (their offers are "
            "skipped): cannot trace. Fix: avoid .item() in forward.") in prof.notes


def test_a_make_batch_whose_shapes_vary_between_calls_is_a_note_on_the_profile(monkeypatch):
    """The note is also the evidence the spread notes need to blame the batches' cost (``advisor.schemas.spread``):
    the probe's own (``noise_notes``) are told, and a prediction finds it in the profile's notes."""
    import itertools

    from torch import nn

    from advisor.schemas.spread import shapes_vary

    told = []
    monkeypatch.setattr(runner_module, "noise_notes", lambda devices, **kw: told.append(kw) or [])
    lengths = itertools.cycle([4, 32])
    prof = probe_forked(forked(model=lambda: nn.Linear(16, 4), make_batch=lambda b: (
        torch.randn(b, next(lengths), 16), None), loss_fn=lambda out, target: out.mean()), batch_size=2,
        probe_seconds=1)
    assert any(n.startswith("make_batch(2) returned inputs of shape (2, 4, 16), then (2, 32, 16): their shapes vary")
               for n in prof.notes), prof.notes
    assert shapes_vary(prof.notes)
    assert told[0]["shapes_vary"] is True and told[0]["cores"] == prof.host.cpu.logical_cores


@pytest.mark.parametrize("hang_at", ["bf16", "fp32"])
def test_a_bf16_analysis_past_the_timeout_is_left_out_and_said(monkeypatch, hang_at):
    """The bf16 analysis is an extra that runs last: a probe whose timeout passes while it runs keeps everything
    else, without it, and says so. A hang in the analysis the profile needs is still the timeout's error."""
    import advisor.probe.analysis as analysis_module

    real = analysis_module.analyze

    def hangs(workload, *args, precision=None, **kwargs):
        while precision == hang_at:
            time.sleep(0.05)
        return real(workload, *args, precision=precision, **kwargs)

    monkeypatch.setattr(analysis_module, "analyze", hangs)  # seen by the forked child
    kwargs = {"devices": [], "batch_size": 8, "probe_seconds": 1, "analyze": True, "bf16_analysis": True,
              "timeout_seconds": 10}
    started = time.perf_counter()
    if hang_at == "fp32":
        with pytest.raises(ProbeError, match="did not finish within 10 s"):
            probe_forked(forked(), **kwargs)
        return
    prof = probe_forked(forked(), **kwargs)
    assert time.perf_counter() - started < 16  # the timeout, not a hang
    assert prof.analysis is not None and prof.bf16_analysis is None
    assert prof.workload.param_count == TINY_PARAMS
    assert [n for n in prof.notes if n.startswith("the bf16 analysis did not finish within the probe's 10 s")]
    monkeypatch.setattr(analysis_module, "analyze", real)
    assert probe_forked(forked(), **kwargs).bf16_analysis is not None  # it is there when it finishes


def test_the_bf16_analysis_does_not_check_batch_1_again(monkeypatch):
    """The batch-1 check is the model's, whatever the precision: the bf16 analysis skips it (1.6-8.5 s on a slow
    model) and is given the first analysis's answer as the profile is made (``small_batch.told_one_sample``)."""
    from torch import nn

    import advisor.probe.analysis as analysis_module

    real = analysis_module.analyze

    def once(workload, *args, precision=None, one_sample=True, **kwargs):
        if precision == "bf16" and one_sample:  # the bf16 analysis fails, and the assertions below with it
            raise RuntimeError("the bf16 analysis checked batch size 1 again")
        return real(workload, *args, precision=precision, one_sample=one_sample, **kwargs)

    monkeypatch.setattr(analysis_module, "analyze", once)  # seen by the forked child
    prof = probe_forked(forked(model=lambda: nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                                           nn.Linear(32, 4))),
                        devices=[], batch_size=8, probe_seconds=1, analyze=True, bf16_analysis=True)
    assert prof.analysis.one_sample_error.startswith("the forward at batch size 1 raised ValueError")
    assert prof.bf16_analysis is not None and prof.bf16_analysis.one_sample_error == prof.analysis.one_sample_error


def test_only_the_check_when_no_device():
    prof = probe_forked(forked(), devices=[], batch_size=8, probe_seconds=1)
    assert prof.devices == [] and prof.workload.param_count == TINY_PARAMS


def test_nothing_fits_is_a_probe_error():
    # A budget every point fits (each runs out of memory at once): with 1 s, batch 16 was sometimes priced
    # out of the budget instead, and a point skipped for time is a result, not "nothing fits".
    with pytest.raises(ProbeError, match=r"ran out of memory on cpu \(even at batch size 16\)"):
        probe_forked(forked(lambda: OomAbove(2)), batch_size=64, batch_sizes=[16, 32], probe_seconds=10)


def segfaulting_model():
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


def test_segfault_gives_probe_error_naming_the_signal():
    with pytest.raises(ProbeError) as info:
        probe_forked(forked(segfaulting_model), batch_size=8, probe_seconds=1, timeout_seconds=30)
    assert "died with SIGSEGV" in info.value.message
    assert "(in segfaulting_model, test_runner.py:" in info.value.message
    assert info.value.hint.startswith("Fix:")


def test_exit_in_user_code_is_a_probe_error():
    def make_batch(b):
        if b > 2:
            os._exit(7)
        return torch.randn(b, 16), torch.randint(0, 4, (b,))

    with pytest.raises(ProbeError, match="exited with code 7"):
        probe_forked(forked(tiny_model, make_batch), batch_size=8, probe_seconds=1, timeout_seconds=30)


def test_workload_error_in_the_child_stays_a_workload_error():
    with pytest.raises(WorkloadError) as info:
        probe_forked(forked(make_batch=lambda b: torch.randn(b, 16)), batch_size=8, probe_seconds=1)
    assert "workload 'forked'" in info.value.message and "make_batch" in info.value.message
    assert info.value.hint and info.value.hint.startswith("Fix:")


def test_sys_exit_in_user_code_is_a_workload_error():
    def make_batch(b):
        if b > 2:
            sys.exit(3)
        return torch.randn(b, 16), torch.randint(0, 4, (b,))

    with pytest.raises(WorkloadError, match=r"called sys.exit\(3\)"):
        probe_forked(forked(tiny_model, make_batch), batch_size=8, probe_seconds=1)


def test_error_at_a_larger_batch_size_is_a_workload_error():
    def make_batch(b):
        if b > 4:
            raise ValueError("too big")
        return torch.randn(b, 16), torch.randint(0, 4, (b,))

    with pytest.raises(WorkloadError, match="at batch size 8, make_batch .*ValueError: too big"):
        probe_forked(forked(tiny_model, make_batch), batch_size=8, probe_seconds=1)


def endless_make_batch(b):
    while b > 3:  # the check runs batch sizes 2 and 3: this hangs in the probe proper
        pass
    return torch.randn(b, 16), torch.randint(0, 4, (b,))


def test_endless_loop_in_make_batch_ends_in_probe_error():
    started = time.perf_counter()
    with pytest.raises(ProbeError, match="did not finish within 2 s") as info:
        probe_forked(forked(tiny_model, endless_make_batch), batch_size=8, probe_seconds=1, timeout_seconds=2)
    assert time.perf_counter() - started < 8
    assert "(in endless_make_batch, test_runner.py:" in info.value.message
    assert "while probing cpu: batch size" in info.value.message


# ------------------------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs, error", [
    ({"precision": "fp8"}, ConfigError),
    ({"devices": ["tpu"]}, HardwareError),
    ({"batch_size": 0}, WorkloadError),
    ({"batch_sizes": [8, -1]}, ConfigError),
    ({"probe_seconds": 0}, ConfigError),
    ({"probe_seconds": float("nan")}, ConfigError),
    ({"probe_seconds": float("inf")}, ConfigError),
    ({"threads": 0}, ConfigError),
    ({"timeout_seconds": -1}, ConfigError),
])
def test_bad_arguments_fail_before_any_child_starts(tmp_path, kwargs, error):
    started = time.perf_counter()
    with pytest.raises(error):
        run_profile(tmp_path / "never_read.py", **{"batch_size": 8, **kwargs})
    assert time.perf_counter() - started < 1


@pytest.mark.gpu
def test_real_cuda_probe(tmp_path):
    path = write(tmp_path, "tiny", TINY)
    prof = run_profile(path, devices=["cuda:0"], batch_size=64, probe_seconds=3, analyze=False)
    gpu = prof.device("cuda:0")
    assert gpu.kind == "gpu" and gpu.memory_gib > 0
    assert [m.batch_size for m in gpu.measurements] == [8, 16, 32, 64]
    assert all(m.compute_seconds > 0 and m.peak_memory_gib > 0 for m in gpu.measurements)
    assert all(m.threads is None for m in gpu.measurements)


def test_a_noisy_probe_is_flagged():
    from advisor.schemas import DeviceProfile, Measurement

    def device(spread):  # a current probe's windows: their load read (unread, a note says so: test_contention)
        load = {"others_cpu_cores": 0.0, "steal_fraction": 0.0}
        return DeviceProfile(device="cpu", kind="cpu", name="x", measurements=[
            Measurement(device="cpu", batch_size=8, compute_seconds=1.0, spread=0.9, **load),
            Measurement(device="cpu", batch_size=32, compute_seconds=1.0, spread=spread, **load),
            Measurement(device="cpu", batch_size=64, oom=True)])

    assert noise_notes([device(0.2)]) == []  # only the user's batch size (the top fit) counts
    (note,) = noise_notes([device(3.0)])
    assert "cpu" in note and "batch size 32" in note and "300%" in note and "Fix:" in note

    # The same spread where the probe measured the window and nothing else used the CPU: the machine's own jitter,
    # which probing again would not remove, so no "probe again on an idle machine".
    quiet = device(0.56)
    top = quiet.measurements[1]
    top.compute_seconds_samples = [1.0] * 12
    top.others_cpu_cores, top.steal_fraction, top.clock = 0.02, 0.0, "wall"
    (note,) = noise_notes([quiet])
    assert "batch size 32" in note and "56%" in note and "0.02 cores; steal time 0%" in note
    assert "this machine's own" in note and "Fix:" not in note and "probably" not in note
    for disturbed in ({"others_cpu_cores": 0.6}, {"priority_nice": -20, "others_cpu_cores": 0.6},
                      {"clock": "thread_cpu", "steal_fraction": 0.3},
                      {"compute_seconds_samples": [1.0], "compute_seconds": 0.01}):  # 10 ms: under /proc's ticks
        other = device(0.56)
        other.measurements[1] = top.model_copy(update=disturbed)
        (note,) = [n for n in noise_notes([other]) if "varied widely" in n]
        assert "something else was probably using the CPU" in note and "Fix: probe again" in note, disturbed

    from advisor.schemas import ThreadPoint

    busy = device(0.2)
    busy.thread_scaling = [ThreadPoint(threads=1, batch_size=32, compute_seconds=0.01),
                           ThreadPoint(threads=4, batch_size=32, compute_seconds=0.2)]
    (note,) = noise_notes([busy])
    assert "20.0x" in note and "--threads 2" in note
    busy.thread_scaling[1].compute_seconds = 0.004  # 4 threads faster than 1: fine
    assert noise_notes([busy]) == []


def _gone(pid: int) -> bool:
    """The process has ended (a zombie left for an init that does not reap counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in state


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG): Linux")
def test_a_killed_advisor_leaves_no_probe_process_behind(tmp_path):
    pid_file = tmp_path / "child.pid"
    path = write(tmp_path, "stuck", TINY.replace(
        "def build_model():\n",
        f"def build_model():\n    import os, time\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(600)\n"))
    code = ("import sys; from advisor.probe import run_profile; "
            f"run_profile({str(path)!r}, batch_size=8, probe_seconds=1, analyze=False, timeout_seconds=600)")
    advisor = subprocess.Popen([sys.executable, "-c", code], cwd=str(Path(__file__).resolve().parents[2]))
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and advisor.poll() is None, "the probe never reached build_model"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert not _gone(child)
    finally:
        advisor.kill()  # SIGKILL: no clean-up runs in advisor's process
        advisor.wait()
    deadline = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < deadline, "the probe's child outlived the advisor process that started it"
        time.sleep(0.05)


SLEEPY = '''
import time
import torch
from torch import nn

class Sleepy(nn.Linear):
    def forward(self, x):
        if not isinstance(x, torch._subclasses.FakeTensor):  # the analysis traces with fake tensors
            time.sleep(0.4 * x.shape[0])
        return super().forward(x)

def build_model():
    return nn.Sequential(Sleepy(64, 256), nn.ReLU(), nn.Linear(256, 4))

def make_batch(batch_size):
    return torch.randn(batch_size, 64), torch.randint(0, 4, (batch_size,))
'''


def test_a_model_too_slow_for_the_budget_is_predicted_from_its_analysis(tmp_path):
    """Issue 8: a model that runs, only slowly, never ends in a probe timeout: nothing fits the 2 s budget (0.4 s
    a sample, a point needs warm-up + 2 steps), so the profile records the skipped sizes and the CPU estimate
    comes from the analysis over this machine's measured op rates, with a note."""
    from advisor import api

    path = tmp_path / "sleepy.py"
    path.write_text(SLEEPY)
    started = time.perf_counter()
    est = api.predict(str(path), dataset_size=1000, epochs=1, batch_size=8, target="cpu", probe_seconds=2,
                      use_history=False)
    assert time.perf_counter() - started < 60
    assert est.method == "scaled" and est.seconds > 0 and est.low < est.seconds < est.high
    assert any("could not time this model within the probe's" in n for n in est.notes), est.notes


def test_startup_counts_the_first_use_imports_the_analysis_paid(tmp_path):
    # The analysis traces the optimizer, which imports torch._dynamo, before the check is timed; a fresh job
    # pays that import. An explicit ladder has no twin (which would carry its own fresh start-up).
    fresh = subprocess.run([sys.executable, "-c", "import time, torch\nt = time.perf_counter()\n"
                            "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n"
                            "print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
    first_use = float(fresh.stdout)
    prof = run_profile(write(tmp_path, "tiny", TINY), devices=["cpu"], batch_size=16, batch_sizes=[8, 16],
                       probe_seconds=3)
    assert prof.analysis is not None
    assert prof.devices[0].startup_seconds >= 0.3 * first_use


def _order_is(expected: str):
    def make_batch(batch_size):
        if os.environ.get("CUDA_DEVICE_ORDER") != expected:
            raise RuntimeError(f"CUDA_DEVICE_ORDER is {os.environ.get('CUDA_DEVICE_ORDER')!r}")
        return tiny_batch(batch_size)
    return make_batch


def test_the_child_numbers_gpus_in_pci_order_unless_the_user_set_an_order(monkeypatch):
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    prof = probe_forked(forked(make_batch=_order_is("PCI_BUS_ID")), devices=[], batch_size=8, probe_seconds=1)
    assert prof.workload.param_count == TINY_PARAMS  # make_batch saw PCI_BUS_ID
    assert "CUDA_DEVICE_ORDER" not in os.environ  # set in the child only
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "FASTEST_FIRST")
    prof = probe_forked(forked(make_batch=_order_is("FASTEST_FIRST")), devices=[], batch_size=8, probe_seconds=1)
    assert prof.workload.param_count == TINY_PARAMS
