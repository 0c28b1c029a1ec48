"""The input pipeline's measurement (advisor.probe.input_pipeline): real DataLoaders with 0, 1 and 2 worker
processes over tiny synthetic data, make_batch-only workloads, the errors of a broken loader, no worker process
left behind, the JSON frame that carries the result, the probe's Profile and the profile text output."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import psutil
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from advisor.errors import WorkloadError
from advisor.probe import input_pipeline as ip_module
from advisor.probe.contention import CpuSample, ProcStat, TaskTimes, window_load
from advisor.probe.frames import InputPipelineFrame, MalformedFrame, encode, parse_child_frame
from advisor.probe.input_pipeline import input_budget_seconds, measure_input_pipeline, worker_counts
from advisor.schemas import InputPipeline, LoaderPoint
from advisor.workload import Workload

# One sample: a float32 3 x 8 x 8 image (768 bytes) and an int64 label (8 bytes).
SAMPLE_BYTES = 3 * 8 * 8 * 4 + 8


class Images(Dataset):
    def __init__(self, n: int = 96, sleep_seconds: float = 0.0, fail_in_workers: bool = False) -> None:
        self.n, self.sleep_seconds, self.fail_in_workers = n, sleep_seconds, fail_in_workers

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if self.fail_in_workers and get_worker_info() is not None:
            raise OSError(f"cannot read sample {i} in a worker")
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        return torch.full((3, 8, 8), float(i)), i % 4


def model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))


def loader_workload(pin_memory: bool = False, num_workers: int | None = None, init_seconds: float = 0.0,
                    persistent: bool = False, **dataset) -> Workload:
    def make_dataloader(batch_size, workers):
        return DataLoader(Images(**dataset), batch_size=batch_size, num_workers=workers, pin_memory=pin_memory,
                          worker_init_fn=(lambda _: time.sleep(init_seconds)) if init_seconds else None,
                          persistent_workers=persistent and workers > 0)

    return Workload(model=model, make_dataloader=make_dataloader, num_workers=num_workers, name="images")


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_worker_counts_and_budget():
    assert worker_counts(2, 3.0) == [1, 2]
    assert worker_counts(1, 10.0) == [1]
    assert worker_counts(8, 10.0) == [1, 2, 8]
    assert worker_counts(64, 15.0) == [1, 2, 32]  # at most MAX_WORKERS
    assert worker_counts(64, 3.0) == [1, 2, 12]  # what a 3 s budget can start
    assert input_budget_seconds(60) == 6.0
    assert input_budget_seconds(10) == 3.0 and input_budget_seconds(1000) == 15.0


def test_a_dataloader_is_timed_at_1_and_2_workers():
    before = children()
    # 4 s: with 2 s, a 2-core VM busy with the rest of the suite left the 2-worker point under MIN_POINT_SECONDS
    # (skipped) once in three full runs.
    ip = measure_input_pipeline(loader_workload(pin_memory=True, num_workers=2, sleep_seconds=0.002), batch_size=8,
                                budget_seconds=4.0, cores=2, cpu_name="Test CPU")
    assert children() <= before  # every worker process was shut down
    assert (ip.source, ip.batch_size, ip.host_cores, ip.cpu_name, ip.default_workers) == (
        "dataloader", 8, 2, "Test CPU", 2)
    assert [p.workers for p in ip.points] == [1, 2]
    assert all(p.batches_timed >= 2 and p.seconds > 0 for p in ip.points)
    for p in ip.points:  # samples / seconds, from whole batches of 8 (less the waits if others used the CPU)
        seconds = p.seconds - p.wait_seconds if p.clock == "wall_less_wait" else p.seconds
        assert p.samples_per_second == pytest.approx(8 * p.batches_timed / seconds, rel=1e-4)
        assert p.others_cpu_cores is not None and p.wait_seconds is not None  # measured (Linux)
    # Each sample sleeps 2 ms: one worker makes at most ~500 samples/s.
    assert ip.points[0].samples_per_second < 600
    assert ip.bytes_per_sample == SAMPLE_BYTES
    assert ip.pinned_memory  # the loader's intent: nothing can be pinned without a GPU
    assert 0 < ip.startup_seconds < 2.0 and ip.notes == []


def test_pinned_memory_is_false_without_pin_memory():
    ip = measure_input_pipeline(loader_workload(), batch_size=4, budget_seconds=1.0, cores=1)
    assert [p.workers for p in ip.points] == [1]
    assert not ip.pinned_memory and ip.default_workers is None


@pytest.mark.parametrize("persistent", [False, True])
def test_a_workers_start_is_measured_and_whether_it_repeats_each_epoch(persistent):
    """A worker_init_fn that loads a tokenizer (here: sleeps 0.4 s) is the first batch's wait; the loader's
    persistent_workers says whether a job pays it at every epoch."""
    ip = measure_input_pipeline(loader_workload(init_seconds=0.4, persistent=persistent), batch_size=4,
                                budget_seconds=3.0, cores=1)
    assert ip.persistent_workers is persistent
    assert 0.4 <= ip.startup_seconds < 3.0


def test_a_loader_whose_data_runs_out_is_read_again():
    before = children()
    ip = measure_input_pipeline(loader_workload(n=16), batch_size=4, budget_seconds=1.0, cores=2)
    assert children() <= before
    assert all(p.batches_timed >= 2 for p in ip.points)


def test_a_slow_batch_is_timed_at_a_smaller_batch_size():
    # 16 samples of 40 ms: 0.64 s a batch at one worker, more than a third of a 1.2 s budget.
    ip = measure_input_pipeline(loader_workload(sleep_seconds=0.04), batch_size=16, budget_seconds=1.2, cores=1)
    assert ip.batch_size in (4, 1)
    assert "timed at batch size" in ip.notes[0]
    # 25 samples/s, timed over 2 batches or more from the arrival of the last untimed one. The worker starts the
    # next batch as it hands one over, so where this process is slow to receive it (a CI run beside another test
    # worker: 32.7 samples/s, 2 batches of 1 in 61 ms) that lag reads as free: at most one batch's work, so
    # under 2x over 2 batches. Counting the wrong batch size or the untimed batch would read 100/s or more.
    assert 12 < ip.points[0].samples_per_second < 50


class _Load:
    """A machine where other processes use ``others`` cores (a fake /proc/stat)."""

    def __init__(self, others: float) -> None:
        self.others = others

    def sample(self) -> CpuSample:
        now = time.monotonic()
        return CpuSample(wall_seconds=now, busy_seconds=self.others * now + time.process_time(),
                         steal_seconds=0.0, own_seconds=time.process_time(), procs_running=1)


class _Tasks:
    """Scheduler counters of a task that waits ``wait`` seconds for a CPU between one read and the next."""

    def __init__(self, wait: float) -> None:
        self.wait, self.reads = wait, 0

    def __call__(self, pid):
        self.reads += 1
        return TaskTimes(cpu_seconds=0.0, wait_seconds=self.wait * self.reads)


def _sleepy_batch(batch_size):
    time.sleep(0.1)
    return torch.zeros(batch_size, 3, 8, 8), torch.zeros(batch_size, dtype=torch.long)


@pytest.mark.parametrize("others, clock, rate", [(1.0, "wall_less_wait", 16 / 0.04), (0.0, "wall", 16 / 0.1)])
def test_a_busy_machine_takes_the_waits_out_of_make_batch(others, clock, rate):
    # Each call sleeps 0.1 s, and the fake scheduler says it also waited 0.06 s for a CPU: on a busy machine
    # the rate is over the 0.04 s left; on a quiet one the wait is not taken out (it is the machine's own).
    workload = Workload(model=model, make_batch=_sleepy_batch, num_workers=0)
    ip = measure_input_pipeline(workload, batch_size=16, budget_seconds=0.7, load=_Load(others), tasks=_Tasks(0.06))
    [point] = ip.points
    assert point.clock == clock
    assert point.others_cpu_cores == pytest.approx(others, abs=0.05)
    assert point.wait_seconds == pytest.approx(0.06 * point.batches_timed)
    assert point.seconds == pytest.approx(0.1 * point.batches_timed, rel=0.3)
    assert point.samples_per_second == pytest.approx(rate, rel=0.3)


class _Unread:
    """A machine whose /proc/stat cannot be read (``ProcStat.sample`` returns None there)."""

    def sample(self):
        return None


def test_make_batch_timed_where_the_load_cannot_be_read_records_it_as_unknown_not_quiet():
    workload = Workload(model=model, make_batch=_sleepy_batch, num_workers=0)
    ip = measure_input_pipeline(workload, batch_size=16, budget_seconds=0.5, load=_Unread(), tasks=_Tasks(0.06))
    [point] = ip.points
    assert point.others_cpu_cores is None and point.steal_fraction is None  # was 0.0 and 0.0: "quiet"
    assert point.clock == "wall" and point.wait_seconds == pytest.approx(0.06 * point.batches_timed)


def _background_cores(seconds: float = 1.0) -> float:
    """What other processes used on this machine over ``seconds`` (cores' worth), from /proc/stat."""
    source = ProcStat()
    start = source.sample()
    time.sleep(seconds)
    return window_load(start, source.sample(), cores=psutil.cpu_count() or 1).others_cores


def test_the_loader_workers_are_not_counted_as_other_processes():
    # One worker that computes: on /proc/stat it is another process using a core, but it is the loader. What
    # the rest of the machine used just before and after is the baseline: a shared CI machine is rarely idle.
    def burn(batch_size, workers):
        return DataLoader(Burning(), batch_size=batch_size, num_workers=workers)

    if ProcStat().sample() is None or (psutil.cpu_count() or 1) < 2:
        pytest.skip("needs /proc/stat and two CPUs (the worker's and this process's)")
    before = _background_cores()
    if before > 0.4:
        pytest.skip(f"other processes use {before:.1f} cores: the worker's core cannot be told from theirs")
    ip = measure_input_pipeline(Workload(model=model, make_dataloader=burn, name="burn"), batch_size=4,
                                budget_seconds=2.0, cores=1)
    background = max(before, _background_cores())
    [point] = ip.points
    # Counted, the worker would add most of a core (it computes without pause) on top of the background.
    assert point.others_cpu_cores is not None and point.others_cpu_cores < background + 0.6, (point, background)


class Burning(Dataset):
    def __len__(self) -> int:
        return 400

    def __getitem__(self, i: int):
        until = time.process_time() + 0.01
        while time.process_time() < until:
            pass
        return torch.zeros(3, 8, 8), 0


def test_a_batch_past_the_largest_timed_one_is_timed_at_that_one(monkeypatch):
    # The job's batch size may be up to 10^12; the pipeline's record, as a Measurement's, at most 2^31. A batch
    # size past it made an InputPipeline the schema refused. (Lowered here, so the test makes small batches.)
    monkeypatch.setattr(ip_module, "MAX_TIMED_BATCH_SIZE", 16)
    asked = []

    def make_batch(b):
        asked.append(b)
        return torch.zeros(b, 3, 8, 8), torch.zeros(b, dtype=torch.long)

    ip = measure_input_pipeline(Workload(model=model, make_batch=make_batch, num_workers=0), batch_size=5_000,
                                budget_seconds=2.0)
    assert ip.batch_size == 16 and set(asked) == {16}
    assert ip.notes[-1] == ("the input pipeline was timed at batch size 16, the largest batch the probe times, not at "
                            "the job's 5,000.")


def test_make_batch_only():
    workload = Workload(model=model, make_batch=lambda b: (torch.zeros(b, 3, 8, 8), torch.zeros(b, dtype=torch.long)),
                        num_workers=0)
    ip = measure_input_pipeline(workload, batch_size=16, budget_seconds=5.0)
    assert (ip.source, ip.batch_size, ip.pinned_memory, ip.default_workers) == ("make_batch", 16, False, 0)
    assert ip.bytes_per_sample == SAMPLE_BYTES
    [point] = ip.points
    assert point.workers == 0 and point.batches_timed == ip_module.MAKE_BATCH_CALLS
    assert point.samples_per_second > 0 and ip.startup_seconds == 0.0


def test_make_batch_errors_name_make_batch():
    def broken(batch_size):
        raise RuntimeError("the data server is down")

    with pytest.raises(WorkloadError) as err:
        measure_input_pipeline(Workload(model=model, make_batch=broken), batch_size=8, budget_seconds=1.0)
    assert "make_batch(8) raised RuntimeError: the data server is down" in err.value.message


def test_a_raising_make_dataloader_is_a_workload_error():
    def make_dataloader(batch_size, num_workers):
        raise FileNotFoundError("/data/train is empty")

    with pytest.raises(WorkloadError) as err:
        measure_input_pipeline(Workload(model=model, make_dataloader=make_dataloader), batch_size=8,
                               budget_seconds=1.0, cores=2)
    assert "make_dataloader(8, 1) raised FileNotFoundError: /data/train is empty" in err.value.message
    assert "Fix:" in str(err.value)


def test_an_error_in_a_worker_process_is_a_workload_error_and_leaves_no_worker():
    before = children()
    with pytest.raises(WorkloadError) as err:
        measure_input_pipeline(loader_workload(fail_in_workers=True), batch_size=8, budget_seconds=1.0, cores=2)
    assert children() <= before
    assert "make_dataloader(8, 1) failed while making a batch: OSError: cannot read sample" in err.value.message


def test_the_frame_round_trip():
    ip = InputPipeline(source="dataloader", batch_size=64, bytes_per_sample=150_536.0, pinned_memory=True,
                       points=[LoaderPoint(workers=1, samples_per_second=210.5, batches_timed=6, seconds=1.8),
                               LoaderPoint(workers=2, samples_per_second=390.0, batches_timed=9, seconds=1.5)],
                       host_cores=2, cpu_name="AMD EPYC", startup_seconds=0.3, default_workers=2,
                       notes=["timed at batch size 16"])
    frame = parse_child_frame(encode(InputPipelineFrame(pipeline=ip))[8:])
    assert isinstance(frame, InputPipelineFrame) and frame.pipeline == ip and frame.note is None
    assert frame.pipeline.per_worker_samples_per_second == 210.5
    empty = parse_child_frame(encode(InputPipelineFrame(pipeline=None, note="input pipeline: not timed"))[8:])
    assert empty.pipeline is None and empty.note == "input pipeline: not timed"
    bad = encode(InputPipelineFrame(pipeline=ip))[8:].replace(b"210.5", b"-1.0")
    with pytest.raises(MalformedFrame, match="samples_per_second"):
        parse_child_frame(bad)


def test_profile_text_shows_the_pipeline(capsys):
    from advisor.cli import render

    render.input_pipeline(InputPipeline(
        source="dataloader", batch_size=64, bytes_per_sample=150_536.0, pinned_memory=True, host_cores=2,
        points=[LoaderPoint(workers=1, samples_per_second=210.4, batches_timed=6, seconds=1.8),
                LoaderPoint(workers=2, samples_per_second=390.0, batches_timed=9, seconds=1.5)],
        startup_seconds=0.31, default_workers=2, notes=["2 workers not timed"]))
    text = capsys.readouterr().out
    assert "input pipeline (make_dataloader, timed at batch size 64 on 2 cores): 1 worker 210 samples/s, " \
           "2 workers 390 samples/s" in text
    assert "147 KiB per sample to the device; pinned memory; worker start-up 0.3s; NUM_WORKERS = 2" in text
    assert "note: 2 workers not timed" in text
    render.input_pipeline(InputPipeline(source="make_batch", batch_size=8, bytes_per_sample=776.0,
                                        points=[LoaderPoint(workers=0, samples_per_second=5e4, batches_timed=5,
                                                            seconds=0.001)]))
    text = capsys.readouterr().out
    assert "(make_batch in the training process, batch size 8): 50,000 samples/s" in text
    assert "776 B per sample to the device; pageable memory (not pinned)" in text


# ------------------------------------------------------------------------------------- through the probe

LOADER_FILE = """
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, get_worker_info

NUM_WORKERS = 1
FAIL_IN_WORKERS = {fail}


class Images(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        if FAIL_IN_WORKERS and get_worker_info() is not None:
            raise OSError(f"cannot read sample {{i}}")
        return torch.full((3, 8, 8), float(i)), i % 4


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(192, 4))


def make_dataloader(batch_size, num_workers):
    return DataLoader(Images(), batch_size=batch_size, num_workers=num_workers, shuffle=True,
                      multiprocessing_context={context!r} if num_workers else None)
"""


def loader_file(tmp_path, fail: bool = False, context: str | None = None):
    path = tmp_path / ("broken_loader.py" if fail else "loader.py")
    path.write_text(textwrap.dedent(LOADER_FILE.format(fail=fail, context=context)))
    return path


@pytest.mark.slow
def test_run_profile_stores_the_input_pipeline(tmp_path):
    from advisor.probe import run_profile

    prof = run_profile(loader_file(tmp_path), devices=["cpu"], batch_size=8, probe_seconds=4, threads=1,
                       analyze=False, thread_scaling=False)
    ip = prof.input_pipeline
    assert ip is not None and ip.source == "dataloader" and ip.default_workers == 1
    assert ip.bytes_per_sample == SAMPLE_BYTES and ip.batch_size == 8
    assert [p.workers for p in ip.points][:2] == [1, 2] and all(p.samples_per_second > 0 for p in ip.points)
    assert ip.host_cores >= 1 and ip.cpu_name == prof.device("cpu").name
    assert [m.batch_size for m in prof.device("cpu").measurements][-1] == 8  # the step, from the loader's batch


@pytest.mark.slow
def test_a_spawn_loaders_workers_import_the_workload_by_the_probes_name(tmp_path):
    """A Dataset defined in the file, under a spawn loader: its workers unpickle it by the module name the probe
    imported the file as, which no folder provided ("No module named 'advisor_workload_...'")."""
    import glob
    import tempfile

    from advisor.probe import run_profile

    before = set(glob.glob(f"{tempfile.gettempdir()}/advisor-probe-*"))
    prof = run_profile(loader_file(tmp_path, context="spawn"), devices=["cpu"], batch_size=8, probe_seconds=4,
                       threads=1, analyze=False, thread_scaling=False)
    ip = prof.input_pipeline
    assert ip is not None and ip.source == "dataloader" and ip.points and ip.points[0].samples_per_second > 0
    # Its shim's folder is gone. Another probe running beside the suite (a shared machine) has its own, named by
    # its live pid; the folder of this probe's child, which has exited, would name a pid no longer running.
    left = set(glob.glob(f"{tempfile.gettempdir()}/advisor-probe-*")) - before
    assert [f for f in left if not psutil.pid_exists(int(Path(f).name.split("-")[2]))] == []


@pytest.mark.slow
def test_a_loader_failing_in_its_workers_fails_the_profile_command(tmp_path):
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    path = loader_file(tmp_path, fail=True)
    result = CliRunner().invoke(build_app(), ["profile", str(path), "--device", "cpu", "--batch-size", "8",
                                              "--probe-seconds", "2"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "make_dataloader(8, 1) failed while making a batch: OSError: cannot read sample" in result.output
    assert f"{path.name}:" in result.output


@pytest.mark.slow
def test_a_make_batch_that_cannot_be_timed_leaves_a_note_not_an_error():
    from advisor.probe import run_profile

    def make_batch(batch_size):
        if batch_size > 8:
            raise ValueError(f"only 8 samples, not {batch_size}")
        return torch.zeros(batch_size, 3, 8, 8), torch.zeros(batch_size, dtype=torch.long)

    workload = Workload(model=model, make_batch=lambda b: make_batch(b), name="short")  # a lambda: forked
    with pytest.warns(RuntimeWarning, match="input pipeline: not timed"):
        prof = run_profile(workload, devices=[], batch_size=32, probe_seconds=1, analyze=True)
    assert prof.input_pipeline is None
    assert any("make_batch(32) raised ValueError: only 8 samples, not 32" in n for n in prof.notes)


def test_a_busy_input_pipeline_is_said_in_the_profile_notes():
    from advisor.probe.device_notes import pipeline_busy_notes

    def pipeline(source, *points):
        return InputPipeline(source=source, batch_size=8, bytes_per_sample=SAMPLE_BYTES, points=list(points))

    quiet = LoaderPoint(workers=1, samples_per_second=100.0, batches_timed=4, seconds=1.0, others_cpu_cores=0.1,
                        wait_seconds=0.01)
    busy = LoaderPoint(workers=2, samples_per_second=300.0, batches_timed=4, seconds=0.5, others_cpu_cores=1.4,
                       wait_seconds=0.2, clock="wall_less_wait")
    assert pipeline_busy_notes(pipeline("dataloader", quiet)) == [] and pipeline_busy_notes(None) == []
    (note,) = pipeline_busy_notes(pipeline("dataloader", quiet, busy))
    assert note == ("input pipeline: other processes used up to 1.4 cores while the loader at 2 workers was timed: "
                    "its rate leaves out the time its processes waited for a CPU another process held (0.2s in "
                    "all, summed over them, in 0.5s of timing).")
    (note,) = pipeline_busy_notes(pipeline("make_batch", busy.model_copy(update={"workers": 0})))
    assert "while make_batch was timed" in note
    # Others ran beside it, but it waited for them under 5% of its time: its rate stands, nothing to say.
    barely = busy.model_copy(update={"wait_seconds": 0.02})
    assert pipeline_busy_notes(pipeline("dataloader", barely)) == []
    # A millisecond of make_batch is too short for /proc/stat's 10-ms ticks to give a share of cores: no figure
    # ("up to 7.1 cores" was once printed on a 2-core machine), the scheduler's exact waits still.
    short = LoaderPoint(workers=0, samples_per_second=1e5, batches_timed=5, seconds=0.001, others_cpu_cores=2.0,
                        wait_seconds=0.0003, clock="wall_less_wait")
    (note,) = pipeline_busy_notes(pipeline("make_batch", short))
    assert note == ("input pipeline: other processes ran while make_batch was timed: its rate leaves out the time "
                    "its processes waited for a CPU another process held (0.3ms in all, summed over them, in 1ms "
                    "of timing).")
    # Two processes' waits add up past the wall time timed: said as a sum, never "21ms of 16ms".
    both = short.model_copy(update={"seconds": 0.016, "wait_seconds": 0.021})
    (note,) = pipeline_busy_notes(pipeline("make_batch", both))
    assert "(21ms in all, summed over them, in 16ms of timing)" in note and "21ms of 16ms" not in note


def _noise_rate(busy_loops: int) -> tuple[float, float, str]:
    """make_batch's rate beside ``busy_loops`` busy processes: (the reported rate, the wall-clock rate, its clock)."""
    import subprocess
    import sys

    def make_batch(batch_size):
        return torch.randn(batch_size, 3, 64, 64), torch.zeros(batch_size, dtype=torch.long)

    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy_loops)]
    try:
        time.sleep(0.2 * busy_loops)  # the loops are running before the first call
        ip = measure_input_pipeline(Workload(model=model, make_batch=make_batch, num_workers=0), batch_size=256,
                                    budget_seconds=1.0)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    point = ip.points[0]
    return point.samples_per_second, point.batches_timed * 256 / point.seconds, point.clock


@pytest.mark.slow
def test_busy_loops_beside_make_batch_barely_move_its_rate():
    import os

    if (os.cpu_count() or 1) > 4:
        pytest.skip("three busy loops do not crowd a machine of more than four cores")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the waits of the one that makes the batch are all there is
    try:
        for _pair in range(2):
            idle, _, _ = _noise_rate(0)
            # Three busy loops on two cores leave make_batch about half a core: its wall time doubles. Its time
            # less its waits for a CPU does not.
            busy, busy_wall, clock = _noise_rate(3)
            if not 0.7 < busy / idle < 1.4:
                # This shared VM's neighbours slow the reference now and then (a CI run measured 11.4k samples/s
                # idle, 17.9k beside the loops; 18.2-18.8k idle otherwise): it is measured once more and the
                # faster kept, since noise only slows it.
                idle = max(idle, _noise_rate(0)[0])
            if 0.55 < busy / idle < 1.4:
                break
            # One more pair, both runs: a CI run measured 21.8k idle and 11.6k beside the loops (0.53), its own
            # paired check passing (the host's sibling hyperthread, busy with a loop, slows the work itself). A
            # clock that counted the waits would fail both pairs.
    finally:
        torch.set_num_threads(threads)
    assert clock == "wall_less_wait"
    # The paired check, immune to the host's drift between runs: in the same run, taking out the waits recovers
    # most of the half core the loops took (the wall-clock rate is about half the reported one).
    assert busy / busy_wall > 1.4, (busy, busy_wall)
    # Against the idle run the bound is looser: a CI run measured 30.9k idle and 20.0k beside the loops (0.65),
    # a slowdown no wait counter shows (the host's sibling hyperthread or shared cache, invisible in the guest).
    assert 0.55 < busy / idle < 1.4, (idle, busy)


def test_make_batch_timed_without_proc_stat_reads_psutils_cpu_times_and_no_steal(monkeypatch):
    """The input pipeline read /proc/stat only: off Linux its points recorded the others' load as unknown though
    psutil's CPU times give it (advisor.probe.cpu_times); steal time, which psutil has not, stays unknown."""
    monkeypatch.setattr(ProcStat, "sample", lambda self: None)  # a machine without /proc/stat
    workload = Workload(model=model, make_batch=_sleepy_batch, num_workers=0)
    ip = measure_input_pipeline(workload, batch_size=16, budget_seconds=0.5, tasks=_Tasks(0.0))
    [point] = ip.points
    assert point.others_cpu_cores is not None  # was None: the load not read
    assert point.steal_fraction is None  # psutil counts no steal time: unknown, not 0.0
