"""The probe of one device, run in this process (no child): ladder, statistics, budget, memory, OOM,
precision and thread scaling. Tiny models on one thread keep it fast and steady on a busy machine."""

from __future__ import annotations

import os
import time

import pytest
import torch
from probe_helpers import OomAbove, tiny_batch, tiny_model

from advisor.probe.ladder import MIN_TIMED, MIN_WARMUP, auto_ladder
from advisor.probe.measure import MIN_SAMPLES, MIN_SAMPLES_TARGET, DeviceProbe, ProbeOptions
from advisor.probe.startup_clock import PartTime, StartupParts
from advisor.schemas import DeviceProfile
from advisor.workload import Workload

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _first_step_done():
    """One step first: torch imports its compiler stack on a process's first optimizer step (seconds), which
    the probe child has done already (in the workload check) when it starts timing."""
    from advisor.workload import check_workload

    check_workload(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=2)


class IdleMachine:
    """The CPU-load seam of advisor.probe.contention, reporting a machine nobody else uses: these tests time
    sleeping models, whose wall-clock steps a busy machine's CPU-time clock would not see."""

    def sample(self):
        return None


def cold_check(seconds: float) -> StartupParts:
    """The start-up parts of a workload check whose cold build + step took ``seconds`` (its wall clock)."""
    return StartupParts(check=PartTime(seconds, seconds))


def probe(workload: Workload, **options) -> DeviceProfile:
    # Thread scaling and the subnormal drift step the model beyond the ladder: off unless a test is about them.
    opts = {"batch_size": 32, "budget_seconds": 3.0, "threads": 1, "thread_scaling": False, "after_ladder": False,
            **options}
    return DeviceProbe(workload, "cpu", ProbeOptions(**opts), load_source=IdleMachine()).run()


def test_ladder_statistics_and_device_facts():
    reports = []
    prof = DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cpu",
                       ProbeOptions(batch_size=32, budget_seconds=2.0, threads=1, thread_scaling=False),
                       report=lambda f, msg: reports.append((f, msg)), load_source=IdleMachine()).run()
    assert [m.batch_size for m in prof.measurements] == auto_ladder(32) == [4, 8, 16, 32]
    for m in prof.measurements:
        n = len(m.compute_seconds_samples)
        assert n >= (MIN_SAMPLES_TARGET if m.batch_size == 32 else MIN_SAMPLES)
        assert m.compute_seconds > 0 and m.batch_seconds > 0 and not m.oom
        assert sorted(m.compute_seconds_samples)[(n - 1) // 2] <= m.compute_seconds
        assert m.compute_seconds <= sorted(m.compute_seconds_samples)[n // 2]
        assert m.spread is not None and m.spread >= 0
        assert m.warmup_steps >= MIN_WARMUP
        assert m.threads == 1 and m.precision == "fp32"
        assert m.peak_memory_gib is not None and m.peak_memory_gib >= 0
        assert m.gpu_utilization_pct is None and m.power_watts is None
    assert (prof.device, prof.kind, prof.threads) == ("cpu", "cpu", 1)
    assert prof.largest_batch_size == 32 and prof.oom_batch_size is None
    assert prof.name and prof.memory_gib > 0
    assert 0 < prof.probe_seconds < 3.0 and prof.startup_seconds >= 0
    assert prof.thread_scaling == []
    # The op rates are timed on every CPU ladder: they price the optimizer's share that accumulation saves.
    assert prof.cpu_peak is not None and prof.cpu_peak.memory_bytes_per_second > 0 and not prof.skipped
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_startup_counts_the_cold_first_step():
    # The check's time was given twice (cold_start_seconds beside startup_parts); the parts alone now carry it.
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=4, batch_sizes=[4], budget_seconds=0.5,
                 startup_parts=cold_check(2.5))
    assert 2.5 <= prof.startup_seconds < 3.5


def test_explicit_batch_sizes_replace_the_ladder():
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=1000, batch_sizes=[6, 3, 6],
                 budget_seconds=1.0)
    assert [m.batch_size for m in prof.measurements] == [3, 6]


def test_batch_creation_is_timed_apart_from_compute():
    def slow_batch(b):
        time.sleep(0.02)
        return tiny_batch(b)

    prof = probe(Workload(model=tiny_model, make_batch=slow_batch), batch_size=8, batch_sizes=[8],
                 budget_seconds=1.0)
    m = prof.measurements[0]
    assert 0.02 <= m.batch_seconds < 0.2
    assert m.compute_seconds < m.batch_seconds


def test_the_budget_holds_and_the_users_batch_size_is_always_measured():
    class Slow(torch.nn.Linear):  # a step of 3 ms per sample, steady on a busy machine
        def forward(self, x):
            time.sleep(0.003 * x.shape[0])
            return super().forward(x)

    started = time.perf_counter()
    prof = probe(Workload(model=lambda: Slow(16, 4), make_batch=tiny_batch), batch_size=64, budget_seconds=1.5)
    elapsed = time.perf_counter() - started
    sizes = [m.batch_size for m in prof.measurements]
    assert sizes[0] == 8 and sizes[-1] == 64  # the first point and the user's batch size (its 4 steps fit)
    target = prof.measurements[-1]
    assert 0.19 < target.compute_seconds < 0.5
    assert MIN_TIMED <= len(target.compute_seconds_samples) < MIN_SAMPLES_TARGET  # the budget cut it short
    # The budget, at most a step already started, and the op mix when a point between was skipped.
    assert elapsed < 1.5 + 2 * 0.2 + 0.5
    assert all(p.batch_size in (16, 32) for p in prof.skipped)


class SleepPerSample(torch.nn.Linear):
    """A step of ``seconds`` per sample, steady on a busy machine (it sleeps)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(16, 4)
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds * x.shape[0])
        return super().forward(x)


def test_a_slow_model_skips_what_would_not_fit_and_times_smaller_sizes():
    offered = []
    # 10 ms a sample; the cold check priced 30 ms a sample, so B/8 = 32 (4 steps of 0.96 s) does not fit a third
    # of the 3 s budget: one step at 1 prices the ladder (32: 1.28 s), still too much, so 16 comes first; the
    # user's 256 (4 steps of 2.56 s) never starts, and the largest size below it that fits is timed instead.
    started = time.perf_counter()
    prof = probe(Workload(model=lambda: SleepPerSample(0.01), make_batch=tiny_batch), batch_size=256,
                 budget_seconds=3.0, startup_parts=cold_check(0.06),
                 target_measurer=lambda share, report: offered.append(share))
    elapsed = time.perf_counter() - started
    # 16 and 32 fit; whether 8 is timed too depends on the budget the others left (sleeps overrun on a busy
    # machine), so it is allowed, not required.
    assert {16, 32} <= {m.batch_size for m in prof.measurements} <= {8, 16, 32}
    assert [(p.batch_size, p.priced_from) for p in prof.skipped] == [(64, "measured"), (128, "measured"),
                                                                    (256, "measured")]
    assert next(p for p in prof.skipped if p.batch_size == 256).step_seconds == pytest.approx(2.56, rel=0.3)
    assert offered == []  # the user's batch size never went to the twin: it could not finish
    assert all(len(m.compute_seconds_samples) >= MIN_TIMED for m in prof.measurements)
    assert prof.largest_batch_size == 32 and prof.budget_seconds == 3.0
    assert prof.cpu_peak is not None and prof.cpu_peak.matmul_flops_per_second > 0  # for the CPU roofline
    assert elapsed < 3.0 + 0.5 + 1.0  # the budget, a step's overrun at most, the op mix


def test_nothing_is_timed_when_not_even_one_step_fits_the_budget():
    # 0.5 s a sample, a 1 s budget: the pricing step at 1 takes 0.5 s, and a point needs 4 of them.
    started = time.perf_counter()
    prof = probe(Workload(model=lambda: SleepPerSample(0.5), make_batch=tiny_batch), batch_size=8, budget_seconds=1.0,
                 startup_parts=cold_check(1.0))
    elapsed = time.perf_counter() - started
    assert prof.measurements == [] and prof.largest_batch_size is None and prof.oom_batch_size is None
    assert [(p.batch_size, p.priced_from) for p in prof.skipped] == [(b, "first step") for b in (1, 2, 4, 8)]
    assert [p.step_seconds for p in prof.skipped] == pytest.approx([0.5, 1.0, 2.0, 4.0], rel=0.2)
    assert prof.cpu_peak is not None
    assert elapsed < 0.5 + 1.0 + 1.0  # the pricing step, the build and the op mix: no point started


class ColdFirstStep(torch.nn.Linear):
    """0.3 s on its first forward (one-time set-up, as a make_batch derived from make_dataloader builds its loader
    on its first call), then a Linear's microseconds."""

    def __init__(self) -> None:
        super().__init__(16, 4)
        self.cold = True

    def forward(self, x):
        if self.cold:
            self.cold = False
            time.sleep(0.3)
        return super().forward(x)


@pytest.mark.parametrize("once", [True, False])
def test_a_cold_pricing_step_is_timed_again_instead_of_pricing_every_point_out(monkeypatch, once):
    import advisor.probe.measure as measure

    if once:  # the pricing step as it was: one step, cold or not
        monkeypatch.setattr(measure, "repeat_pricing", lambda *args: False)
    # The check's cold step (1 s) cannot vouch for the ladder: a pricing step at 1 comes first.
    prof = probe(Workload(model=ColdFirstStep, make_batch=tiny_batch), batch_size=8, budget_seconds=2.0,
                 startup_parts=cold_check(1.0))
    if once:  # 0.3 s a step prices a point (4 steps) past what it may take: nothing timed
        assert prof.measurements == [] and [p.priced_from for p in prof.skipped] == ["first step"] * 4
    else:  # the second, warm step prices the ladder: every size is timed
        assert [m.batch_size for m in prof.measurements] == auto_ladder(8) and prof.skipped == []


def test_out_of_memory_is_the_limit_and_nothing_larger_is_tried():
    prof = probe(Workload(model=lambda: OomAbove(8), make_batch=tiny_batch), batch_size=64, budget_seconds=2.0)
    # Measured 8, then 64 (out of memory), then 16 (out of memory); 32 is not tried.
    assert [(m.batch_size, m.oom) for m in prof.measurements] == [(8, False), (16, True), (64, True)]
    assert prof.oom_batch_size == 16 and prof.largest_batch_size == 8
    oom = prof.measurements[-1]
    assert oom.compute_seconds is None and oom.compute_seconds_samples == []


def test_out_of_memory_at_the_smallest_size_looks_lower():
    prof = probe(Workload(model=lambda: OomAbove(8), make_batch=tiny_batch), batch_size=256, budget_seconds=1.0)
    assert [(m.batch_size, m.oom) for m in prof.measurements] == [(8, False), (16, True), (32, True)]
    assert prof.largest_batch_size == 8 and prof.oom_batch_size == 16


def test_out_of_memory_building_the_model():
    def huge():
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB")

    prof = probe(Workload(model=huge, make_batch=tiny_batch), batch_size=8)
    assert prof.largest_batch_size is None and prof.oom_batch_size == 1
    assert [m.oom for m in prof.measurements] == [True]
    assert prof.cpu_peak is None  # no ladder ran: the probe's result is the out-of-memory error, as before


def test_cpu_memory_grows_with_the_batch():
    def wide():
        return torch.nn.Sequential(torch.nn.Linear(16, 8192), torch.nn.ReLU(), torch.nn.Linear(8192, 4))

    # 3 s: with 0.8 s a fresh-clone CI run on this 2-core VM skipped one of the two points (the ladder drops a
    # point whose warm-up and two steps would not fit its share of the budget), and this test is about memory.
    prof = probe(Workload(model=wide, make_batch=tiny_batch), batch_size=512, batch_sizes=[16, 512], budget_seconds=3.0)
    small, large = prof.measurements
    # At 512 the activations alone are 512 x 8192 x 4 B = 16 MiB, several times over in forward + backward.
    assert large.peak_memory_gib * 1024 > 16
    assert large.peak_memory_gib > 4 * small.peak_memory_gib


@pytest.mark.parametrize("precision", ["bf16", "tf32"])
def test_precision_is_applied_and_restored(precision):
    def flags():  # the new API's switches (advisor.probe.tf32_switches) and the legacy flags they stand for
        return (torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision,
                torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)

    before = flags()
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=4, batch_sizes=[4],
                 precision=precision, budget_seconds=1.0)
    assert prof.precision == precision and prof.measurements[0].precision == precision
    assert prof.measurements[0].compute_seconds > 0
    assert flags() == before


def test_thread_scaling_compares_one_thread_with_all():
    if torch.get_num_threads() < 2:
        pytest.skip("torch runs one thread here")
    threads = torch.get_num_threads()
    # A budget with room for the thread-scaling reserve even when another process slows the steps down.
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=4, batch_sizes=[4], threads=None,
                 thread_scaling=True, budget_seconds=20.0)
    assert [p.threads for p in prof.thread_scaling] == [1, threads]
    assert all(p.batch_size == 4 and p.compute_seconds > 0 for p in prof.thread_scaling)
    assert prof.threads == threads and torch.get_num_threads() == threads  # restored


def test_a_module_object_is_copied_not_trained():
    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    probe(Workload(model=model, make_batch=tiny_batch), batch_size=4, batch_sizes=[4], budget_seconds=0.5)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_cuda_device_without_cuda_is_a_hardware_error():
    from advisor.errors import HardwareError

    if torch.cuda.is_available():
        pytest.skip("CUDA is here")
    with pytest.raises(HardwareError, match="no CUDA GPU"):
        DeviceProbe(Workload(model=tiny_model, make_batch=tiny_batch), "cuda:0", ProbeOptions(batch_size=4)).run()


def test_fp16_steps_through_a_grad_scaler_and_bf16_does_not(monkeypatch):
    scaled: list[float] = []

    class CountingScaler(torch.amp.GradScaler):
        def scale(self, outputs):
            scaled.append(outputs.item())
            return super().scale(outputs)

    monkeypatch.setattr(torch.amp, "GradScaler", CountingScaler)
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=16, budget_seconds=0.5, precision="fp16")
    steps = sum(m.warmup_steps + len(m.compute_seconds_samples) for m in prof.measurements)
    assert prof.precision == "fp16" and all(m.precision == "fp16" for m in prof.measurements)
    assert steps > 0 and len(scaled) == steps  # every timed and warm-up step scaled its loss
    scaled.clear()
    probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=16, budget_seconds=0.5, precision="bf16")
    assert scaled == []


class BusyMachine:
    """The CPU-load seam, reporting other processes that use ``cores`` cores all the time (one by default)."""

    def __init__(self, cores: int = 1):
        self.cores = cores

    def sample(self):
        from advisor.probe.contention import CpuSample

        now = time.monotonic()
        return CpuSample(wall_seconds=now, busy_seconds=self.cores * now + time.process_time(), steal_seconds=0.0,
                         own_seconds=time.process_time(), procs_running=1 + self.cores)


def test_a_busy_machines_batch_creation_leaves_out_the_time_queued_for_a_cpu(monkeypatch):
    from advisor.probe import contention

    reads = []

    def queued_2ms_a_call(pid=None):  # the thread waited 2 ms for a CPU between one read and the next
        reads.append(pid)
        return contention.TaskTimes(cpu_seconds=0.0, wait_seconds=0.002 * len(reads))

    monkeypatch.setattr(contention, "task_times", queued_2ms_a_call)

    def sleepy_batch(b):  # 6 ms of waiting on "a disk": counted, as a real pipeline's would be
        time.sleep(0.006)
        return tiny_batch(b)

    # Every core busy: each window is timed on the thread's clock from its start. (With one busy core, a
    # one-thread probe on a 2-core machine starts on the wall clock and is re-timed on the thread's clock only
    # when the re-timing still fits the budget, which a loaded test machine does not always leave.) The probe's
    # priority stays as it is: a raised one would time on the wall clock (tests/probe/test_priority.py).
    prof = DeviceProbe(Workload(model=tiny_model, make_batch=sleepy_batch), "cpu",
                       ProbeOptions(batch_size=8, budget_seconds=1.5, threads=1, thread_scaling=False,
                                    raise_priority=False),
                       load_source=BusyMachine(cores=os.cpu_count() or 1)).run()
    timed = [m for m in prof.measurements if not m.oom]
    assert timed and all(m.clock == "thread_cpu" for m in timed)
    assert reads
    for m in timed:  # 6 ms and a little, less the 2 ms queued
        assert 0.0035 < m.batch_seconds < 0.0058, m


def test_the_cpu_probe_records_the_optimizer_state_of_zero_gradients_unless_told_not_to():
    built, steps = [], {"n": 0}

    def build():
        built.append(tiny_model())
        return built[-1]

    def kill_after_warmup(b):
        steps["n"] += 1
        if steps["n"] == 6:  # a live first layer for five steps (Adam's moments there nonzero), then a dead one
            with torch.no_grad():
                built[-1][0].bias.fill_(-100.0)
        return tiny_batch(b)

    workload = Workload(model=build, make_batch=kill_after_warmup, optimizer=lambda ps: torch.optim.Adam(ps, 1e-3))
    prof = probe(workload, batch_size=8, batch_sizes=[8], budget_seconds=4.0, after_ladder=True)
    assert prof.subnormal is not None
    params = 16 * 32 + 32 + 32 * 4 + 4
    assert prof.subnormal.zero_grad_share == pytest.approx((16 * 32 + 32 + 32 * 4) / params)
    stages = {s.state: s for s in prof.subnormal.stages}
    assert stages["exp_avg"].decay_per_step == pytest.approx(0.9, rel=1e-4)
    assert 50 < stages["exp_avg"].onset_steps < 5_000
    steps["n"] = 0
    assert probe(workload, batch_size=8, batch_sizes=[8]).subnormal is None


def test_cpu_points_record_their_page_faults_and_the_kernels_share_of_their_cpu_time():
    prof = probe(Workload(model=tiny_model, make_batch=tiny_batch), batch_size=16, batch_sizes=[16], budget_seconds=1.0)
    (m,) = prof.measurements
    assert m.page_faults_per_step is not None and m.page_faults_per_step >= 0
    assert m.kernel_cpu_share is not None and 0.0 <= m.kernel_cpu_share <= 1.0


def _slow_build():  # 0.8 s in the build that uses no CPU: on a busy machine, the others' turns on the cores
    time.sleep(0.8)
    return tiny_model()


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_a_busy_machines_start_up_counts_the_process_cpu_time_not_the_wall_clock(busy):
    from advisor.probe.contention import WindowLoad

    # The check's cold build + step: 0.5 s on the wall clock, 0.1 s of it this process's CPU time.
    check = PartTime(0.5, 0.1, WindowLoad(others_cores=1.0 if busy else 0.0, steal_fraction=0.0, run_queue=2.0))
    load = BusyMachine(cores=os.cpu_count() or 1) if busy else IdleMachine()
    prof = DeviceProbe(Workload(model=_slow_build, make_batch=tiny_batch), "cpu",
                       ProbeOptions(batch_size=4, batch_sizes=[4], budget_seconds=0.5, threads=1,
                                    thread_scaling=False, after_ladder=False, cpu_peak=False, raise_priority=False,
                                    startup_parts=StartupParts(check=check)),
                       load_source=load).run()
    clock = prof.startup_clock
    assert clock is not None and clock.wall_seconds >= 0.8  # the larger of the build and the check, on the wall
    if busy:  # the check's CPU time (the build's, a sleep, is next to nothing), and the first step's excess
        assert clock.clock == "process_cpu" and clock.others_cpu_cores > 0.5
        assert prof.startup_seconds == pytest.approx(clock.cpu_seconds) and 0.1 <= prof.startup_seconds < 0.4
    else:
        assert clock.clock == "wall" and prof.startup_seconds == pytest.approx(clock.wall_seconds)
        assert 0.8 <= prof.startup_seconds < 1.3
