"""Timed training steps of a workload on one device: the batch-size ladder, warm-up, the stopping rule, memory,
out-of-memory, NVML sampling, CPU thread scaling and, on the CPU once the ladder is done, the optimizer's subnormal
drift (``advisor.probe.subnormal``) and the memory allocator's what-if (``advisor.probe.allocator``).

Runs inside the probe's child process (``advisor.probe.child``); it executes user code and imports torch.

One step is exactly what training does: ``make_batch`` + copy to the device (timed apart, as ``batch_seconds``) and
forward + loss + backward + optimizer step (``compute_seconds``), with ``torch.cuda.synchronize()`` around each part
on a GPU so that the clock sees the device's work.

The ladder and the budget: ``advisor.probe.ladder`` says which batch size to time next and for how long (B/8, B/4,
B/2, the user's B; each priced before it starts and skipped when its warm-up and two timed steps would not fit,
smaller sizes when not even B/8 would, pricing steps first when the check cannot vouch for the ladder). Each point:
warm-up steps (excluded; at least ``ladder.MIN_WARMUP``, until the step time stops falling), then timed steps until
the median is known to ``TARGET_RSE`` or the point's share is spent (no step starts past it once ``ladder.MIN_TIMED``
are in). Skipped points are recorded (``DeviceProfile.skipped``) with, on the CPU, this machine's op rates
(``advisor.probe.cpu_peak``) for the predictor's roofline. An out-of-memory error at a batch size is that device's
limit: recorded (``Measurement.oom``, ``DeviceProfile.oom_batch_size``), the memory freed, and no larger size is
tried; when even the smallest size runs out of memory, the automatic ladder halves it until one fits. Start-up
(``DeviceProfile.startup_seconds``): what a real job pays once before its steady steps (``advisor.probe.coldstart``).

Precision: "fp32" runs PyTorch's defaults (matmuls in fp32; cuDNN convolutions may use TF32, as a plain training
script does); "tf32" allows TF32 for matmuls and convolutions; "bf16"/"fp16" run forward and loss under
``torch.autocast``; fp16 also steps through a ``torch.amp.GradScaler`` (loss scaling, the unscale and inf check of the
gradients, the scale update), as fp16 training does. Peak memory: ``advisor.probe.memory_meter`` (exact on a GPU,
rough on a CPU, where it also counts page faults and the kernel's share of the steps' CPU time).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import HardwareError, WorkloadError
from advisor.hardware.nvml import NvmlLike
from advisor.probe import contention, cuda_device, kept_memory_last, stats, tf32_switches
from advisor.probe.contention import CpuLoadSource, Window, open_window
from advisor.probe.cpu_peak import measure_cpu_peak
from advisor.probe.cpu_times import load_source as busy_check_source
from advisor.probe.device_describe import describe_device
from advisor.probe.ladder import CHECK_BATCH_SIZE, MIN_TIMED, MIN_WARMUP, Ladder, point_cost, repeat_pricing
from advisor.probe.memory_meter import CpuMemory, CudaMemory, is_oom
from advisor.probe.priority import ProbePriority
from advisor.probe.sampler import NvmlSampler
from advisor.probe.startup_clock import PartTime, PartTimer, StartupParts, device_startup
from advisor.probe.state_meter import StateMeter
from advisor.probe.subnormal import measure_subnormal_drift
from advisor.probe.threads import measure_thread_scaling
from advisor.schemas import DeviceProfile, Measurement
from advisor.schemas.profile import MAX_STEP_SAMPLES as MAX_SAMPLES
from advisor.workload import Workload, move_to, split_batch, train_step
from advisor.workload.describe import exception_text

TARGET_RSE = 0.015  # stop sampling a batch size once its median is known to 1.5%
MIN_SAMPLES, MIN_SAMPLES_TARGET = 5, 8  # timed steps at a ladder point, at the user's batch size
MIN_SECONDS, MIN_SECONDS_TARGET = 0.2, 2.0  # timed wall at a ladder point, at the user's batch size (capped by share)
MAX_WARMUP = 12
STABLE = 0.85  # warm-up ends when a step is no faster than STABLE x the one before
THREAD_SCALING_SECONDS = 1.5  # at most, for the 1-thread vs all-threads comparison
AFTER_LADDER_SECONDS = 2.0  # at most (10% of the budget), on the CPU: half for the subnormal drift, half allocator

Report = Callable[[float, str], None]


@dataclass
class ProbeOptions:
    """How one device is probed (``DeviceProbe``): the ladder, its budget and the step's settings."""

    batch_size: int  # the user's batch size: the top of the automatic ladder
    batch_sizes: list[int] | None = None  # an explicit ladder instead
    budget_seconds: float = 60.0  # for this device
    precision: str = "fp32"
    threads: int | None = None  # CPU threads (torch.set_num_threads); None = as is
    thread_scaling: bool = True
    # The process's first-use imports and its first build + step (the workload check at check_batch_size, which
    # prices the ladder), which a fresh job pays too: start-up (advisor.probe.coldstart, probe.startup_clock).
    startup_parts: StartupParts = field(default_factory=StartupParts)
    check_batch_size: int = CHECK_BATCH_SIZE
    cpu_peak: bool = True  # on the CPU, time the op mix (probe.cpu_peak) after the ladder; not in the twin
    after_ladder: bool = True  # on the CPU, the subnormal drift and allocator what-if (AFTER_LADDER_SECONDS); not twin
    kept_memory_last: bool = False  # the child: the what-if left to it, run last (advisor.probe.kept_memory_last)
    # This process's part of timing the user's batch size (advisor.probe.twin: each of two twins 1/2): its
    # least timed seconds scale by it, the precision it stops at by its square root (the parts are pooled).
    target_part: float = 1.0
    # Times the user's batch size in another process (advisor.probe.twin), taken as it is; None back: measure here.
    target_measurer: Callable[[float, Report], DeviceProfile | None] | None = None
    raise_priority: bool = True  # on a busy CPU, windows at raised priority where allowed (probe.priority)
    flops_per_sample: float | None = None  # the analysis's, where made: a pricing step's floor on the CPU (ladder)


class _OutOfMemory(Exception):
    """Internal: a step ran out of memory (the original error is dropped so its frames free their tensors)."""


# ------------------------------------------------------------------------------------------------- probe


def _raised(exc: WorkloadError, batch_size: int) -> str:
    """"the training step raised ValueError: ...", from ``DeviceProbe.user_error``'s message."""
    return exc.message.partition(f"at batch size {batch_size}, ")[2] or exc.message


class DeviceProbe:
    """The probe of one workload on one device. ``run()`` returns the ``DeviceProfile``."""

    def __init__(self, workload: Workload, device: str, options: ProbeOptions, *,
                 report: Report | None = None, nvml: NvmlLike | None = None, nvml_index: int | None = None,
                 load_source: CpuLoadSource | None = None, priority: ProbePriority | None = None) -> None:
        import torch

        self.torch = torch
        self.workload = workload
        self.options = options
        self.device = torch.device(device)
        self.device_name = device
        self.is_cuda = self.device.type == "cuda"
        self._report = report
        self._nvml = nvml if self.is_cuda else None
        self._nvml_index = nvml_index if self.is_cuda else None
        self._autocast = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(options.precision)
        self._last_report = 0.0
        self._fraction = 0.0
        self.model: Any = None
        self.optimizer: Any = None
        self.scaler: Any = None  # fp16 only: the GradScaler that fp16 training steps through
        self.kept_memory_later: tuple[Measurement, float] | None = None  # its reference and budget; model kept
        # What times a step: the wall clock, or on a busy CPU this thread's CPU time (see probe.contention).
        self._clock: Callable[[], float] = time.perf_counter
        self.load_source: CpuLoadSource = load_source or busy_check_source()  # /proc/stat, else psutil's
        self.priority = priority or ProbePriority(options.raise_priority and not self.is_cuda)
        self._full_threads = 1  # the CPU thread count of an idle machine, set when the probe runs
        self._busiest: dict[str, Any] = {}  # the busiest other process, looked up once per probe
        self.wall_factor = 1.0  # of the last timed window (see _timed)
        self.optimizer_steps = 0  # training steps taken here: the optimizer's state ages with them

    def sync(self) -> None:
        """Wait for the GPU's queued work, so that the clock sees it (a no-op on the CPU)."""
        if self.is_cuda:
            self.torch.cuda.synchronize(self.device)

    def report(self, fraction: float, message: str, *, force: bool = False) -> None:
        """Progress to the caller, at most every 0.1 s unless ``force``; the fraction never goes back."""
        self._fraction = max(self._fraction, min(1.0, fraction))
        now = time.perf_counter()
        if self._report is not None and (force or now - self._last_report >= 0.1):
            self._last_report = now
            self._report(self._fraction, message)

    def user_error(self, what: str, batch_size: int, exc: BaseException) -> WorkloadError:
        text = next(iter(exception_text(exc).strip().splitlines()), "")
        return WorkloadError(f"{self.workload.label}: on {self.device_name} at batch size {batch_size}, {what} raised "
                             f"{type(exc).__name__}: {text}", hint="Fix: make the workload run at every batch size up "
                             "to the one you train with (the probe also runs smaller ones: B/8, B/4, B/2).")

    def step(self, batch_size: int) -> tuple[float, float]:
        """One training step: (batch seconds, compute seconds). Raises _OutOfMemory or WorkloadError."""
        try:
            return self._step(batch_size)
        except Exception as exc:  # user code: an out-of-memory error is a result, anything else goes on up
            if not is_oom(exc):
                raise
        # Out of memory. Freed only here, past the except block: the error's frames and their tensors are gone.
        self._free_memory()
        raise _OutOfMemory()

    def _step(self, batch_size: int) -> tuple[float, float]:
        # Batch creation on the wall clock: a real pipeline waits for files, which CPU time would miss. On a busy
        # CPU (steps on the thread's own clock) less the time this thread sat queued for a CPU that another
        # process held, as the input pipeline is timed (probe.input_pipeline).
        queued = contention.task_times() if self._clock is time.thread_time else None
        t0 = time.perf_counter()
        inputs, target = self._user_code("make_batch (or the copy to the device)", batch_size, self.batch,
                                         batch_size)
        t1 = time.perf_counter()
        batch_seconds = t1 - t0
        if queued is not None and (now := contention.task_times()) is not None:
            batch_seconds = max(0.0, batch_seconds - (now.wait_seconds - queued.wait_seconds))
        c1 = self._clock()
        self._user_code("the training step", batch_size, self.train, inputs, target)
        return batch_seconds, self._clock() - c1

    def batch(self, batch_size: int) -> tuple[Any, Any]:
        inputs, target = split_batch(self.workload, self.workload.make_batch(batch_size))
        inputs, target = move_to(inputs, self.device), move_to(target, self.device)
        self.sync()
        return inputs, target

    def train(self, inputs: Any, target: Any) -> None:
        train_step(self.workload, self.model, self.optimizer, inputs, target,
                   autocast_dtype=self._autocast, device_type=self.device.type, scaler=self.scaler)
        self.optimizer_steps += 1
        self.sync()

    def _user_code(self, what: str, batch_size: int, fn: Callable, *args: Any) -> Any:
        """``fn(*args)``; an error that is not out-of-memory becomes a WorkloadError naming the batch size."""
        try:
            return fn(*args)
        except WorkloadError:
            raise
        except Exception as exc:  # user code: a WorkloadError naming the batch size
            if is_oom(exc):
                raise
            raise self.user_error(what, batch_size, exc) from exc

    def _free_memory(self) -> None:
        with contextlib.suppress(Exception):  # user code (the workload's optimizer), or none built yet
            self.optimizer.zero_grad(set_to_none=True)
        gc.collect()
        if self.is_cuda:
            with contextlib.suppress(RuntimeError):  # a CUDA error here is the step's, already reported
                self.torch.cuda.empty_cache()

    def _check_device(self) -> None:
        if self.options.precision == "fp16":
            cuda_device.check_fp16_scaler(self.torch, self.device.type)
        if self.device.type == "cpu":
            return
        if self.device.type != "cuda":
            raise HardwareError(f"cannot probe on {self.device_name!r}: only cpu and cuda:N are supported.",
                                hint="Fix: use --device cpu or --device cuda:0.")
        self.device = cuda_device.check_cuda_device(self.torch, self.device, self.device_name)
        precision = cuda_device.cuda_precision(self.torch, self.device, self.options.precision)
        if precision != self.options.precision:
            self.options = dataclasses.replace(self.options, precision=precision)
            self._autocast = self.torch.float16

    def _build(self) -> None:
        model = self.workload.build_model()
        if model is self.workload.model:  # a module object the user passed: train a copy, fresh per device
            model = copy.deepcopy(model)
        # The modes build_model() left are the job's: a fresh module trains, and a submodule the user put in
        # eval() (a frozen BatchNorm backbone, a teacher) stays there, so no model.train() here.
        self.model = model.to(self.device)
        self.optimizer = self.workload.build_optimizer(self.model.parameters())
        self.state_meter = StateMeter(self.model)  # whether its buffers grow step after step
        if self.options.precision == "fp16":
            self.scaler = cuda_device.grad_scaler(self.torch, self.device.type)
        self.sync()

    def run(self) -> DeviceProfile:
        """Build the model on the device, walk the ladder, and return what was measured."""
        torch = self.torch
        started, build_timer = time.perf_counter(), PartTimer(self.load_source)  # start-up on a busy machine
        self._check_device()
        saved_threads = torch.get_num_threads()
        if self.options.threads and self.device.type == "cpu":
            torch.set_num_threads(int(self.options.threads))
        self._full_threads = torch.get_num_threads()
        saved_flags = tf32_switches.save_and_set(torch, self.options.precision == "tf32")
        profile = self._describe()
        try:
            self.report(0.0, f"building the model on {self.device_name}", force=True)
            try:
                self._build()
                oom_at_build = False
            except Exception as exc:  # user code (build_model, build_optimizer): out of memory is a result
                if not (is_oom(exc) or (exc.__cause__ is not None and is_oom(exc.__cause__))):
                    raise
                oom_at_build = True
            build = build_timer.stop()
            if oom_at_build:
                self._free_memory()
                profile.measurements.append(self._oom_measurement(1))
                profile.oom_batch_size = 1
            else:
                self._ladder(profile, build)
            if self.device.type == "cpu" and self.options.cpu_peak and (profile.skipped or profile.largest_batch_size):
                # Op rates (0.1 s): the roofline of skipped points, the optimizer share accumulation saves (predictor).
                self.report(0.99, "cpu: timing this CPU's op rates", force=True)
                profile.cpu_peak = measure_cpu_peak(torch)
        finally:
            tf32_switches.restore(torch, saved_flags)
            torch.set_num_threads(saved_threads)
            if self.kept_memory_later is None:  # else released once the child ran the what-if (kept_memory_last)
                self.release()
        profile.probe_seconds = time.perf_counter() - started
        self.report(1.0, f"{self.device_name} done", force=True)
        return profile

    def release(self) -> None:
        """Drop the model, its optimizer and scaler, and free their memory."""
        self.model = self.optimizer = self.scaler = None
        self._free_memory()

    def _startup(self, profile: DeviceProfile, build: PartTime, first_excess_seconds: float = 0.0) -> None:
        profile.startup_seconds, profile.startup_clock = device_startup(
            self.is_cuda, build, self.options.startup_parts, first_excess_seconds)

    def _describe(self) -> DeviceProfile:
        return describe_device(self.torch, self.device, self.options.precision, self.options.budget_seconds)

    def _oom_measurement(self, batch_size: int) -> Measurement:
        return Measurement(device=self.device_name, batch_size=batch_size, threads=self._threads(),
                           precision=self.options.precision, oom=True)

    def _threads(self) -> int | None:
        return None if self.is_cuda else self.torch.get_num_threads()

    def _ladder(self, profile: DeviceProfile, build: PartTime) -> None:
        """The timed points; the budget counts from here (building a large model is not probing it)."""
        started = time.perf_counter()
        opts = self.options
        cold = opts.startup_parts.check_seconds if not self.is_cuda else 0.0  # the check ran on the CPU: no GPU price
        check = (opts.check_batch_size, cold) if cold > 0 else None
        ladder = Ladder(opts.batch_size, sorted(set(opts.batch_sizes)) if opts.batch_sizes else None, check=check)
        scaling = (opts.thread_scaling and not self.is_cuda and self.torch.get_num_threads() > 1)
        reserve = min(THREAD_SCALING_SECONDS, 0.1 * opts.budget_seconds) if scaling else 0.0
        after = min(AFTER_LADDER_SECONDS, 0.1 * opts.budget_seconds) if opts.after_ladder and not self.is_cuda else 0
        deadline = started + opts.budget_seconds - reserve - after
        done_units = 0
        fits: list[Measurement] = []
        first_step: float | None = None
        measurer = opts.target_measurer if not ladder.explicit else None
        # Until a point is timed: the build, or the check's cold build + step, whichever is larger (see below).
        self._startup(profile, build)
        if (pricing := ladder.pricing_batch_size(deadline - time.perf_counter())) is not None:
            self._pricing_step(profile, ladder, pricing, deadline)
        while (point := ladder.next(fits, deadline - time.perf_counter())) is not None:
            b, share = point.batch_size, point.share_seconds
            units = done_units + 1 + len(ladder.queue) + (1 if scaling else 0)
            frac0, frac1 = done_units / units, (done_units + 1) / units
            done_units += 1
            if measurer is not None and b == opts.batch_size:
                asked = time.perf_counter()
                given = measurer(share, lambda f, text, a=frac0, z=frac1: self.report(a + (z - a) * f, text))
                measurer = None
                if given is None:  # the twin died: its time was lost, and the ladder goes on as without one
                    deadline += time.perf_counter() - asked
                else:
                    if ladder.take_premeasured(profile, given, fits) and first_step is None:
                        first_step = 0.0  # its start-up stands (see Ladder.take_premeasured)
                    # Each twin's build and first step were paid here already (the check): the excess is not budget.
                    deadline += max(given.startup_seconds, time.perf_counter() - asked - share)
                    continue
            try:
                m, first = self._measure(b, share, point.is_top, frac0, frac1, deadline)
            except _OutOfMemory:
                self._out_of_memory(profile, ladder, b, fits)
                self.report(frac1, f"{self.device_name}: out of memory at batch size {b}", force=True)
                continue
            except WorkloadError as exc:  # a size the ladder chose below the check's: not the job's error
                if not ladder.below_check_failed(b, opts.check_batch_size, _raised(exc, b)):
                    raise
                continue
            if first_step is None:
                first_step = first
                steady = (m.batch_seconds or 0.0) + (m.compute_seconds or 0.0)
                self._startup(profile, build, first - steady)
            profile.measurements.append(m)
            fits.append(m)
            ladder.wall_factor = self.wall_factor  # prices from these points, in the budget's (wall) seconds
        profile.measurements.sort(key=lambda m: m.batch_size)
        profile.oom_batch_size = ladder.oom_limit
        profile.skipped = sorted((p for p in ladder.skipped if p.batch_size not in {m.batch_size for m in fits}),
                                 key=lambda p: p.batch_size)
        profile.largest_batch_size = max((m.batch_size for m in fits), default=None)
        profile.state_growth, profile.small_batch_error = self.state_meter.growth(), ladder.small_batch_error
        if scaling and fits:
            self.report(done_units / (done_units + 1), f"{self.device_name}: thread scaling", force=True)
            profile.thread_scaling = measure_thread_scaling(self, fits, reserve)
        if after and (top := max(fits, key=lambda m: m.batch_size, default=None)):  # timed points only
            with self.priority.raised_if(top.priority_nice is not None):  # as ``top`` was timed
                profile.subnormal = measure_subnormal_drift(self, top, self.optimizer_steps, after / 2)
                profile.kept_memory = kept_memory_last.measure_or_defer(self, top, after / 2)

    def _pricing_step(self, profile: DeviceProfile, ladder: Ladder, b: int, deadline: float) -> None:
        """Steps at batch size ``b`` that price the ladder (probe.ladder): a second where the first was cheap or far
        above its FLOPs' floor (``ladder.repeat_pricing``): a first step pays one-time costs (a loader, lazy set-up)."""
        self.report(0.0, f"{self.device_name}: one step at batch size {b} to price the ladder", force=True)
        try:
            seconds = self._window_step(profile, ladder, b)
        except WorkloadError as exc:  # at 1, below the check's size: priced at the check's (Ladder.below_check_failed)
            if not ladder.below_check_failed(b, self.options.check_batch_size, _raised(exc, b)):
                raise
            b = ladder.floor
            seconds = self._window_step(profile, ladder, b)
        flops = (self.options.flops_per_sample or 0.0) * b if self.device.type == "cpu" else 0.0
        if seconds is not None and repeat_pricing(seconds, deadline - time.perf_counter(), flops, self._full_threads):
            seconds = min(seconds, self._window_step(profile, ladder, b) or seconds)
        if seconds is not None:
            ladder.observe(b, seconds)

    def _window_step(self, profile: DeviceProfile, ladder: Ladder, b: int) -> float | None:
        """One step at ``b`` on a timed window's threads: its wall seconds (None: out of memory, recorded)."""
        self._open_window()
        started = time.perf_counter()
        try:
            self.step(b)
        except _OutOfMemory:
            self._out_of_memory(profile, ladder, b, [])
            return None
        finally:
            self._close_window()
        return time.perf_counter() - started

    def _out_of_memory(self, profile: DeviceProfile, ladder: Ladder, b: int, fits: list[Measurement]) -> None:
        profile.measurements.append(self._oom_measurement(b))
        ladder.out_of_memory(b, fits)  # the device's limit: DeviceProfile.oom_batch_size once the ladder is done

    def _measure(self, b: int, share: float, is_target: bool, frac0: float, frac1: float,
                 deadline: float | None = None) -> tuple[Measurement, float]:
        """Warm-up then timed steps at batch size ``b``; returns the measurement and the first step's time. On the
        CPU, a window that another process disturbed after it started (its wall times include waiting for a core)
        is timed again, on one thread by that thread's CPU time (see advisor.probe.contention), when its warm-up
        and timed steps still fit before ``deadline``; otherwise the disturbed window stands."""
        measured, first = self._window(b, share, is_target, frac0, frac1, busy=False)
        self.priority.judge(raised=measured.priority_nice is not None, clean=measured.clean)
        if not self.is_cuda and measured.clock == "wall" and not measured.clean:
            left = share if deadline is None else deadline - time.perf_counter()
            step = (measured.batch_seconds or 0.0) + (measured.compute_seconds or 0.0)
            if point_cost(step) <= left:
                measured, _ = self._window(b, min(share, left), is_target, frac0, frac1, busy=True)
        return measured, first

    def _window(self, b: int, share: float, is_target: bool, frac0: float, frac1: float,
                busy: bool) -> tuple[Measurement, float]:
        window = self._open_window(busy)
        try:
            return self._timed(b, share, is_target, frac0, frac1, window)
        finally:
            self._close_window()

    def _timed(self, b: int, share: float, is_target: bool, frac0: float, frac1: float,
               window: Window) -> tuple[Measurement, float]:
        start = time.perf_counter()
        label = f"{self.device_name}: batch size {b}"
        least = MIN_SAMPLES_TARGET if is_target else MIN_SAMPLES
        min_seconds = min(self.options.target_part * MIN_SECONDS_TARGET if is_target else MIN_SECONDS, 0.5 * share)
        rse = TARGET_RSE / (self.options.target_part ** 0.5 if is_target else 1.0)

        # Warm-up: at least MIN_WARMUP steps and until the step time stops falling; fewer if one step
        # alone eats a large part of the share (a slow model on a small budget: its timed steps come first).
        warm: list[float] = []
        while True:
            self.report(frac0, f"{label}: warm-up", force=not warm)  # a hang names the batch size
            bt, ct = self.step(b)
            warm.append(bt + ct)
            spent = time.perf_counter() - start
            if len(warm) >= MAX_WARMUP or spent > 0.3 * share:
                break
            if len(warm) >= MIN_WARMUP and warm[-1] > STABLE * warm[-2]:
                break
        # Timed steps; memory is what they add to what the process held after the warm-up.
        memory = CudaMemory(self.torch, self.device) if self.is_cuda else CpuMemory()
        batch_times: list[float] = []
        compute_times: list[float] = []
        timed_start = time.perf_counter()
        window.begin(self.load_source)
        with NvmlSampler(self._nvml, self._nvml_index) as sampler:
            while True:
                bt, ct = self.step(b)
                memory.after_step()
                self.state_meter.after_step(self.optimizer_steps, b)
                batch_times.append(bt)
                compute_times.append(ct)
                now = time.perf_counter()
                n = len(compute_times)
                if n >= MAX_SAMPLES:
                    break
                if now - start + bt + ct > (share if n >= MIN_TIMED else 2 * share):
                    break  # another step would end past the share (MIN_TIMED first, unless that doubles it)
                if n >= least and now - timed_start >= min_seconds and stats.known(compute_times, batch_times, rse):
                    break  # precise enough
                progress = max(n / least, (now - start) / share if share > 0 else 1.0)
                self.report(frac0 + (frac1 - frac0) * min(0.95, progress),
                            f"{label}: {n} steps, {stats.median(compute_times) * 1e3:.1f} ms")
        # Wall seconds per timed second where steps are timed by their CPU time: they also waited for a core.
        timed = max(sum(batch_times) + sum(compute_times), 1e-9)
        self.wall_factor = min(4.0, max(1.0, (time.perf_counter() - timed_start) / timed)) \
            if window.clock == "thread_cpu" else 1.0
        m = Measurement(
            device=self.device_name, batch_size=b, threads=self._threads(), precision=self.options.precision,
            compute_seconds=stats.median(compute_times), compute_seconds_samples=compute_times,
            batch_seconds=stats.median(batch_times), spread=stats.spread(compute_times),
            **memory.fields(len(compute_times)), gpu_utilization_pct=sampler.utilization_pct,
            power_watts=sampler.power_watts, warmup_steps=len(warm), **window.end(self.load_source))
        self.report(frac1, f"{label}: {m.compute_seconds * 1e3:.1f} ms per step", force=True)
        return m, warm[0]

    def _open_window(self, busy: bool = False) -> Window:
        """Before a timed window: its threads, clock and priority (``probe.contention.open_window``)."""
        if self.is_cuda:
            return Window(cores=0, clock="wall", busiest=self._busiest)
        window = open_window(self.load_source, self._full_threads, self._busiest, self.priority, busy)
        self.torch.set_num_threads(window.threads)
        self._clock = time.thread_time if window.clock == "thread_cpu" else time.perf_counter
        return window

    def _close_window(self) -> None:
        self.priority.restore()
        self._clock = time.perf_counter
        if not self.is_cuda:
            self.torch.set_num_threads(self._full_threads)

