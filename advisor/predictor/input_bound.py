"""The host side of a training step on a target: the input pipeline and the host-to-device copy, as a bound.

A GPU is only as fast as the vCPUs that feed it. This module owns the model of that (issue 13): pure arithmetic
on the profile's ``InputPipeline`` (measured on this machine by ``advisor.probe.input_pipeline``), the target's
compute time per step (from ``advisor.predictor.estimate``) and the datasheet's host link (``profiles/gpus.csv``,
``host_link_gbs``). No torch.

GPU target, K GPUs, global batch B (b = ceil(B / K) per GPU), host with V vCPUs:

* loader workers W = V - K (one vCPU per training process), or min(that, NUM_WORKERS x K) when the
  workload file sets ``NUM_WORKERS``; where V - K < K, none (each process makes its own share, as below), or
  NUM_WORKERS x K where the file sets it (each process has its own DataLoader), with a note;
* input seconds I = B / (rate x W x eff(W) x speed): ``rate`` one worker's samples/s here, ``eff`` what running
  workers side by side cost here (``InputPipeline.worker_efficiency``, 1 for W = 1), ``speed`` the target CPU's
  per-core speed over this one (1.0 when either is unknown, with a note);
* transfer seconds T = bytes_per_sample x b / (host link x fraction): one GPU's copy of its share, each GPU on
  its own link. Pinned memory overlaps the copy with compute: step = max(compute, I, T); pageable memory does
  not: step = max(compute + T, I);
* ``make_batch`` (or NUM_WORKERS = 0): each training process makes its own b samples, serially:
  step = compute + I + T with I = b / (rate x speed).

CPU target with ``cores`` cores (compute threads) on V vCPUs: no copy (T = 0.0). With a dataloader the CPU is
loader and trainer at once: loader work L = B / (rate x speed) core-seconds, of which L_busy lands on the
compute threads' cores (L less what the V - cores free vCPUs, FREE_VCPU_LOADER_SHARE of a core each, absorb
during compute). With stall = min(L_busy, compute) and I = L / (min(W, V) x eff), W = NUM_WORKERS, else
max(1, cores - 1): step = max(compute + stall, compute + L_busy / cores, I + (compute + stall) / 2 where
L_busy > 0): a worker on a compute core stalls compute (a barrier after every operator) for at most as long as
compute runs; the cores' time is shared; the workers run side by side, at half a core while they share one with
compute. ``input_seconds`` is I, the workers' time for a batch. ``make_batch`` keeps the probe's
measured batch creation (``advisor.predictor.measured``).

``bound`` is the largest of compute, input and transfer; ``gpu_utilization`` = compute / step on GPUs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from advisor.batch_maker import serial_maker
from advisor.errors import ConfigError
from advisor.loader_cores import (  # noqa: F401 - the names stay ib.X, as before
    FREE_VCPU_LOADER_SHARE,
    SMT_THREADS_PER_CORE,
    loader_cores,
)
from advisor.predictor.caveats import RESTS_ON_BUSY_INPUT
from advisor.schemas import Bound, CpuSpec, Estimate, GpuSpec, InputPipeline
from advisor.schemas.input_load import pipeline_busy_notes
from advisor.units import format_duration, format_rate

# vCPUs per GPU assumed when the host is not known (``advisor predict --gpu`` without ``--vcpus``): the median
# vCPUs / GPUs over the 127 GPU offers of the built-in catalog that list vCPUs (pricing/instances.csv, the same
# rows as /work/shared/data/instances.csv, read 2026-11-29; the 45 Vast listings give none). A p4d.24xlarge
# (96 vCPUs, 8 A100) has 12, a g5.xlarge (4 vCPUs, 1 A10G) 4, an a2-highgpu-1g 12, a Lambda 1x H100 26.
DEFAULT_VCPUS_PER_GPU = 16
VCPUS_MAX = 100_000  # the most vCPUs --vcpus takes (advisor.service.wire bounds a request's alike)

# Share of the theoretical host link a host-to-device copy reaches (sources in profiles/README.md, "host_link_gbs").
# Pinned (page-locked) memory, DMA straight from the buffer: CUDA's bandwidthTest shows 81-83% on PCIe 3.0 x16
# (15.75 GB/s): RTX 2080 Ti 13.1 GB/s (github.com/usadellab/Helixer/issues/22, 2020-12-08), Tesla P100-PCIE
# 12,150.7 MiB/s = 12.7 GB/s (github.com/mpicbg-scicomp/gearshifft/pull/82, 2017-03-27); both read 2026-11-29.
PINNED_LINK_FRACTION = 0.82
# Pageable memory: the driver copies each chunk into a small pinned staging buffer first, then DMAs it
# (NVIDIA, "How to Optimize Data Transfers in CUDA C/C++", developer.nvidia.com/blog/how-optimize-data-transfers-
# cuda-cc/, quoted in the pull request that follows). Measured: "Without pinned memory, I normally see transfers
# at 5-6 GB/s, and 11-12 GB/s with" (github.com/rapidsai/dask-cuda/pull/98, 2019-08-01, read 2026-11-29; 11-12
# GB/s pinned is a PCIe 3.0 x16 link's): 5.5 / 15.75.
# Host memcpy bounds it more than the link does, so on PCIe 4.0/5.0 this share is optimistic.
PAGEABLE_LINK_FRACTION = 0.35
# Relative sigma of the host-side model where it sets the step (a judgment, not fitted: the loader's rate is
# measured here at a few workers and extrapolated to the target's workers and CPU). Weighted by the share of
# the step spent outside compute, so a compute-bound estimate keeps its interval.
HOST_REL_SIGMA = 0.25
# A host side this share of a GPU step or more says when its input was timed on a busy machine: a 2x error in that
# timing (a make_batch timed on a busy VM read 1.6-2.5x slow before it was timed past its first call: bench/README.md,
# "make_batch timed past its first call") then moves the step 20% or more, about a GPU interval's half-width.
BUSY_NOTE_HOST_SHARE = 0.2
RESTART_NOTE_SECONDS = 0.1  # a loader's start worth a note: fork's own is some 10-50 ms on this kind of machine

Source = Literal["dataloader", "make_batch", "probe", "none"]


@dataclass(frozen=True)
class StepParts:
    """One step at one batch size: what the device computes and what the host side adds."""

    compute_seconds: float
    step_seconds: float
    input_seconds: float | None  # wall time to make the step's batches; None = not measured
    transfer_seconds: float | None  # one GPU's copy of its share; 0.0 on a CPU; None = unknown
    bound: Bound
    gpu_utilization: float | None  # compute / step on GPUs; None on a CPU

    @property
    def host_seconds(self) -> float:
        """What the step spends outside compute: input and the part of the copy that does not overlap."""
        return max(0.0, self.step_seconds - self.compute_seconds)

    @property
    def host_share(self) -> float:
        return self.host_seconds / self.step_seconds if self.step_seconds > 0 else 0.0


@dataclass(frozen=True)
class HostModel:
    """The host side of one target (fixed per target and host vCPUs); ``parts`` applies it at a batch size.

    ``source``: "dataloader" / "make_batch" (the profile's ``InputPipeline``), "probe" (an older profile: the
    CPU probe's make_batch time, ``serial_seconds``), "none" (nothing measured: compute alone).
    """

    kind: Literal["cpu", "gpu"]
    source: Source
    rate_per_worker: float | None = None  # one worker's samples/s on the target (speed ratio applied)
    workers: int | None = None  # loader processes in all; 0 = batches made in the training process
    worker_cores: float | None = None  # the cores' worth those workers get (``loader_cores``); None = workers
    efficiency: float = 1.0  # eff(W)
    serial_seconds: Callable[[int], float] | None = None  # source "probe": make_batch seconds at a batch
    bytes_per_sample: float | None = None
    link_bytes_per_second: float | None = None  # effective (fraction applied)
    pinned: bool = False
    gpu_count: int = 1
    cores: int | None = None  # CPU target: the cores that both compute and load
    vcpus: int | None = None
    notes: tuple[str, ...] = ()
    # Other processes held the CPU while the pipeline was timed (``schemas.input_load``): said where the host side
    # is a large share of a GPU step (``busy_input_note``).
    busy_notes: tuple[str, ...] = ()
    # A DataLoader's workers starting (``loader_restart``): each epoch, or once where they persist.
    restart_seconds: float = 0.0
    persistent: bool = False

    @property
    def epoch_restart_seconds(self) -> float:
        return 0.0 if self.persistent else self.restart_seconds

    @property
    def once_restart_seconds(self) -> float:
        return self.restart_seconds if self.persistent else 0.0

    @property
    def serial(self) -> bool:
        """Batches are made in the training process, between steps (make_batch, NUM_WORKERS = 0)."""
        return self.source in ("make_batch", "probe") or self.workers == 0

    def _input(self, batch_size: int, per_process: int) -> float | None:
        if self.source == "probe" and self.serial_seconds is not None:
            return float(self.serial_seconds(per_process))
        if self.rate_per_worker is None:
            return None
        if self.serial:
            return per_process / self.rate_per_worker
        return batch_size / (self.rate_per_worker * (self.worker_cores or self.workers) * self.efficiency)

    def _transfer(self, per_gpu: int) -> float | None:
        if self.kind == "cpu":
            return 0.0
        if self.bytes_per_sample is None or not self.link_bytes_per_second:
            return None
        return self.bytes_per_sample * per_gpu / self.link_bytes_per_second

    def parts(self, batch_size: int, compute_seconds: float) -> StepParts:
        """The step at ``batch_size`` (global) whose device compute takes ``compute_seconds``."""
        if self.kind == "cpu":
            return self._cpu_parts(batch_size, compute_seconds)
        per_gpu = max(1, math.ceil(batch_size / self.gpu_count))
        c = compute_seconds
        i = self._input(batch_size, per_gpu)
        t = self._transfer(per_gpu)
        ii, tt = i or 0.0, t or 0.0
        if self.serial:
            step = c + ii + tt
        elif self.pinned:
            step = max(c, ii, tt)
        else:
            step = max(c + tt, ii)
        return StepParts(c, step, i, t, _largest(c, ii, tt), c / step if step > 0 else None)

    def _cpu_parts(self, batch_size: int, c: float) -> StepParts:
        if self.serial or self.rate_per_worker is None:
            i = self._input(batch_size, batch_size)
            step = c + (i or 0.0)
            return StepParts(c, step, i, 0.0, _largest(c, i or 0.0, 0.0), None)
        work = batch_size / self.rate_per_worker  # core-seconds of loading per step
        # PyTorch's compute threads meet at a barrier after every operator, so a core a loader worker takes
        # stalls them all (a thread sharing its core slowed a wide MLP 9x here, issue 8): loading overlaps
        # compute only on the vCPUs the compute threads leave free, and those are SMT siblings of busy cores on
        # a cloud instance (threads = physical cores), each worth FREE_VCPU_LOADER_SHARE of a core.
        vcpus = self.vcpus or self.cores or 1
        cores = self.cores or 1
        free = max(0, vcpus - cores) * FREE_VCPU_LOADER_SHARE
        busy = work - min(work, free * c)  # loading on the compute threads' cores
        # A worker time-shares a compute thread's core, so the barrier holds compute to that thread's share: a
        # stall lasts at most as long as compute runs (compute at most doubles). A short stall is the whole
        # busy loading (a 1-worker loader's 100 ms a step here: bench/README.md, "Input pipeline").
        stall = min(busy, c)
        # All the cores' time: compute's and the loading on its cores (README's compute + loader work / cores).
        shared = c + busy / cores
        # The workers' own wall time for a batch, side by side (no more of them at once than the vCPUs): the
        # workers' rate. Those on compute cores get half of them while compute runs, which the step adds.
        loader = batch_size / (self.rate_per_worker * min(self.workers, vcpus) * self.efficiency)
        step = max(c + stall, shared, loader + ((c + stall) / 2 if busy > 0 else 0.0))
        bound: Bound = "input" if max(loader, step - c) > c else "compute"
        return StepParts(c, step, loader, 0.0, bound, None)

    def split_measured(self, batch_size: int, compute_seconds: float, batch_seconds: float) -> StepParts:
        """A probed device whose step keeps its measured batch creation (make_batch + copy): that time split
        into the modelled copy (at most all of it) and the rest, input."""
        per_gpu = max(1, math.ceil(batch_size / self.gpu_count))
        t = self._transfer(per_gpu)
        t = min(t, batch_seconds) if t is not None else (0.0 if self.kind == "cpu" else None)
        i = batch_seconds - (t or 0.0)
        step = compute_seconds + batch_seconds
        util = compute_seconds / step if self.kind == "gpu" and step > 0 else None
        return StepParts(compute_seconds, step, i, t, _largest(compute_seconds, i, t or 0.0), util)


def _largest(compute: float, inp: float, transfer: float) -> Bound:
    """The term that sets the step; compute wins ties (a host that just keeps up does not limit it)."""
    if inp > compute and inp >= transfer:
        return "input"
    if transfer > compute and transfer > inp:
        return "transfer"
    return "compute"


# -------------------------------------------------------------------------------------------- building


def speed_ratio(target_cpu: CpuSpec | None, local_cpu: CpuSpec | None) -> tuple[float, str | None]:
    """(per-core speed of ``target_cpu`` over ``local_cpu``, a note when it is assumed 1.0).

    ``advisor.predictor.cpu_scaling.per_core_speed`` (turbo GHz x FP32 FLOPs/cycle) where both CPUs have it;
    else the all-core turbo clock ratio where both have one (decoding and augmenting images is scalar and
    integer work more than FP32 vector work); else 1.0.
    """
    from advisor.predictor.cpu_scaling import per_core_speed

    if target_cpu is None:
        return 1.0, None
    if local_cpu is not None and local_cpu.name == target_cpu.name:
        return 1.0, None
    local, target = per_core_speed(local_cpu), per_core_speed(target_cpu)
    if local and target:
        return target / local, None
    if local_cpu is not None and local_cpu.turbo_ghz and target_cpu.turbo_ghz:
        return target_cpu.turbo_ghz / local_cpu.turbo_ghz, None
    return 1.0, (f"input pipeline: no per-core speed for {target_cpu.name if local_cpu else 'this CPU'} in "
                 f"profiles/cpus.csv: its loader workers are assumed as fast per core as the probed machine's.")


def few_spare_vcpus(vcpus: int, gpu_count: int) -> bool:
    """Whether a GPU host has fewer spare vCPUs (one kept per training process) than training processes: then no
    shared pool of loader workers (``gpu_workers``), and a note says so (``few_vcpus_note``)."""
    return vcpus - gpu_count < gpu_count


def gpu_workers(vcpus: int, gpu_count: int, default_workers: int | None) -> int:
    """Loader worker processes a GPU host affords, in all: one vCPU per training process, the rest loading; capped
    at the workload's NUM_WORKERS per training process when it sets one. Each training process has its own
    DataLoader, so with fewer spare vCPUs than processes the host affords none (0: each process makes its own
    share, as num_workers=0 does), and a NUM_WORKERS the file sets runs in every process (NUM_WORKERS x K)."""
    if few_spare_vcpus(vcpus, gpu_count):
        return 0 if default_workers is None else default_workers * gpu_count
    afford = vcpus - gpu_count
    return afford if default_workers is None else min(afford, default_workers * gpu_count)


def few_vcpus_note(vcpus: int, gpu_count: int, workers: int) -> str | None:
    """A note where the host has fewer spare vCPUs than training processes (``gpu_workers``)."""
    if not few_spare_vcpus(vcpus, gpu_count):
        return None
    how = ("each makes its own share of the batch between steps (as num_workers=0)" if not workers else
           f"{workers // gpu_count} loader worker{'s' if workers // gpu_count > 1 else ''} each (NUM_WORKERS), "
           "sharing the cores; num_workers=0 may be faster here")
    fewer = "fewer vCPUs than GPUs" if vcpus < gpu_count else "fewer spare vCPUs than GPUs"
    return (f"input pipeline: {vcpus:,} vCPUs for {gpu_count:,} GPUs ({fewer}): each of the {gpu_count:,} training "
            f"processes has its own DataLoader and {how}.")


def cpu_workers(cores: int, default_workers: int | None) -> int:
    """Loader worker processes on a CPU target: NUM_WORKERS, else all cores but the trainer's."""
    return max(1, cores - 1) if default_workers is None else default_workers


def _efficiency(pipeline: InputPipeline, workers: int) -> float:
    return pipeline.worker_efficiency if workers > 1 else 1.0


def default_vcpus(gpu_count: int) -> int:
    return DEFAULT_VCPUS_PER_GPU * gpu_count


def gpu_host(pipeline: InputPipeline | None, spec: GpuSpec, gpu_count: int, vcpus: int | None, *,
             speed: float = 1.0, speed_note: str | None = None,
             probe_batch_seconds: Callable[[int], float] | None = None) -> HostModel:
    """The host side of ``gpu_count`` x ``spec`` on a host of ``vcpus`` (None: ``DEFAULT_VCPUS_PER_GPU`` each,
    with a note). ``probe_batch_seconds``: an older profile without an ``InputPipeline``, the CPU probe's
    make_batch seconds at a batch on this machine (used, divided by ``speed``, when there is no pipeline)."""
    notes: list[str] = []
    if vcpus is None:
        vcpus = default_vcpus(gpu_count)
        if pipeline is not None and pipeline.source == "dataloader":
            notes.append(f"input pipeline: assumed {DEFAULT_VCPUS_PER_GPU} vCPUs per GPU ({vcpus} in all; the "
                         "median of the catalog's GPU instances). Pass --vcpus N (API: vcpus=N) for the instance "
                         "you mean.")
    if pipeline is None or pipeline.per_worker_samples_per_second is None:
        if probe_batch_seconds is None:
            notes.append("the host side (batch creation, the copy to the GPU) was not measured (an older "
                         "profile): the step is the GPU's compute alone. Profile the workload again to count it.")
            return HostModel("gpu", "none", gpu_count=gpu_count, vcpus=vcpus, notes=tuple(notes))
        notes.append("an older profile: batch creation is the probed machine's make_batch time (CPU probe), made by "
                     "each GPU's process between steps; the copy to the GPU is not counted (its size was not "
                     "measured). Profile the workload again to count it.")
        return HostModel("gpu", "probe", workers=0, serial_seconds=lambda b: probe_batch_seconds(b) / speed,
                         gpu_count=gpu_count, vcpus=vcpus, notes=tuple(notes))
    if speed_note:
        notes.append(speed_note)
    link = spec.host_link_gbs
    if not link:
        notes.append(f"{spec.name} has no host link in profiles/gpus.csv: the copy to the GPU is not counted.")
    fraction = PINNED_LINK_FRACTION if pipeline.pinned_memory else PAGEABLE_LINK_FRACTION
    if pipeline.source == "make_batch":
        workers = 0
    else:
        workers = gpu_workers(vcpus, gpu_count, pipeline.default_workers)
        if (few := few_vcpus_note(vcpus, gpu_count, workers)) is not None:
            notes.append(few)
    restart = loader_restart(pipeline, workers, speed, notes)
    return HostModel(
        "gpu", pipeline.source, rate_per_worker=pipeline.per_worker_samples_per_second * speed, workers=workers,
        worker_cores=loader_cores(workers, vcpus, gpu_count) if workers else None,
        efficiency=_efficiency(pipeline, workers), bytes_per_sample=pipeline.bytes_per_sample,
        link_bytes_per_second=link * 1e9 * fraction if link else None, pinned=pipeline.pinned_memory,
        gpu_count=gpu_count, vcpus=vcpus, notes=tuple(notes), restart_seconds=restart,
        persistent=pipeline.persistent_workers, busy_notes=tuple(pipeline_busy_notes(pipeline)))


def cpu_host(pipeline: InputPipeline | None, cores: int, *, vcpus: int | None = None, speed: float = 1.0,
             speed_note: str | None = None) -> HostModel:
    """The host side of a CPU target with ``cores`` cores (the threads it computes with). Without a
    dataloader the probe's measured batch creation stands (``split_measured``)."""
    if pipeline is None or pipeline.source != "dataloader" or pipeline.per_worker_samples_per_second is None:
        return HostModel("cpu", "make_batch" if pipeline is not None else "probe", workers=0, cores=cores,
                         vcpus=vcpus)
    workers = cpu_workers(cores, pipeline.default_workers)
    notes = [speed_note] if speed_note else []
    restart = loader_restart(pipeline, workers, speed, notes)
    return HostModel("cpu", "dataloader", rate_per_worker=pipeline.per_worker_samples_per_second * speed,
                     workers=workers, efficiency=_efficiency(pipeline, workers), cores=cores, vcpus=vcpus,
                     notes=tuple(notes), restart_seconds=restart, persistent=pipeline.persistent_workers)


def loader_restart(pipeline: InputPipeline, workers: int, speed: float, notes: list[str]) -> float:
    """Seconds a DataLoader's worker processes take to start each time an iteration of it begins (every epoch,
    unless ``persistent_workers=True``): the probe's first batch at its most workers less one batch made by one
    worker (which the steady steps count), at the target's ``speed``; 0 without worker processes. A
    ``worker_init_fn`` that loads a tokenizer, or ``spawn`` workers that import torch, pay seconds here."""
    rate = pipeline.per_worker_samples_per_second
    if pipeline.source != "dataloader" or not workers or not rate:
        return 0.0
    restart = max(0.0, pipeline.startup_seconds - pipeline.batch_size / rate) / speed
    if restart >= RESTART_NOTE_SECONDS:
        notes.append(f"input pipeline: the DataLoader's workers take about {format_duration(restart)} to start (its "
                     "first batch's wait, measured here), paid "
                     + ("once: they persist between epochs (persistent_workers=True)." if pipeline.persistent_workers
                        else "at every epoch's start; persistent_workers=True would pay it once."))
    return restart


def host_rel_sigma(parts: StepParts) -> float:
    """The relative sigma the host-side model adds to a step it partly sets (see ``HOST_REL_SIGMA``)."""
    return HOST_REL_SIGMA * parts.host_share


# ------------------------------------------------------------------------------------------- reporting


# An older profile's batches ("probe") were made by the file's make_batch too.
_ESTIMATE_SOURCE = {"dataloader": "dataloader", "make_batch": "make_batch", "probe": "make_batch"}


def estimate_fields(host: HostModel, parts: StepParts) -> dict:
    """The ``Estimate`` fields of the host side, at the job's batch size."""
    return {"bound": parts.bound, "input_seconds": parts.input_seconds, "transfer_seconds": parts.transfer_seconds,
            "gpu_utilization": parts.gpu_utilization, "input_workers": host.workers, "host_vcpus": host.vcpus,
            "input_source": _ESTIMATE_SOURCE.get(host.source),
            "transfer_overlapped": (host.pinned and not host.serial) if host.kind == "gpu" else None}


def busy_input_note(host: HostModel, parts: StepParts) -> str | None:
    """Say so when the host side is ``BUSY_NOTE_HOST_SHARE`` of a GPU step or more and its input pipeline was timed
    beside other processes (``HostModel.busy_notes``): the estimate rests on that timing. The interval is not
    widened for it: the profile records each point's median and waits, not the spread of its calls."""
    if host.kind != "gpu" or not host.busy_notes or parts.host_share < BUSY_NOTE_HOST_SHARE:
        return None
    return (f"{host.busy_notes[0]} The host side is {parts.host_share:.0%} of this GPU step, so this estimate "
            f"{RESTS_ON_BUSY_INPUT}; the profile keeps no spread of its calls, so the interval is not widened for "
            "it. Profile again on an idle machine to confirm it.")


def make_batch_note(host: HostModel, parts: StepParts) -> str | None:
    """Say so when a GPU step's make_batch (made between steps, in each training process) is a tenth of the step
    or more: the workload file's make_batch may stand in for a real loader that runs beside the GPU."""
    if host.kind != "gpu" or host.source != "make_batch" or not parts.input_seconds \
            or parts.input_seconds < 0.1 * parts.step_seconds:
        return None
    return (f"make_batch takes {parts.input_seconds * 1000:,.1f} ms of each {parts.step_seconds * 1000:,.1f} ms "
            "step: each training process makes its own batch between steps, at the probed machine's measured rate. If "
            "the real job loads data with a DataLoader (worker processes, pinned memory), add "
            "make_dataloader(batch_size, num_workers) to the workload file so its real rate is used.")


SERIAL_SHARE = 0.1  # a serial input this share of a GPU step or more is said beside compute (``make_batch_note``'s)


def bound_sentence(est: Estimate) -> str:
    """One line on what limits a step, e.g. "input (the 88 loader workers on 96 vCPUs make 2,400 samples/s; the
    GPUs could take 22,000)": the host's rate is the batch over ``input_seconds``, the device's the batch over
    its compute (``gpu_utilization`` x step on GPUs, the step less ``batch_seconds`` on a CPU). A GPU step whose
    batch is made in series with it (make_batch, no loader workers) for ``SERIAL_SHARE`` of the step or more says
    both, with the share and the job's own rate: "compute + input, in series (make_batch in the 8 training
    processes takes 24.2 ms of each 60.1 ms step, 40%, between steps: the job runs at 4,260 samples/s; the GPUs
    alone could take 7,490)"."""
    b, step = est.batch_size, est.step_seconds
    gpu = est.target.kind == "gpu"
    compute = est.gpu_utilization * step if gpu and est.gpu_utilization is not None else \
        max(step - (est.batch_seconds or 0.0), 0.0)
    device = ("the GPU" if est.target.count == 1 else "the GPUs") if gpu else "the CPU"
    if est.input_seconds is None:
        return f"{est.bound} (the host side was not measured: {device} compute alone)"
    if est.input_workers:
        vcpus = f" on {est.host_vcpus:,} vCPUs" if est.host_vcpus else ""
        who = f"the {est.input_workers:,} loader worker{'s' if est.input_workers > 1 else ''}{vcpus}"
    else:
        who = serial_maker(est, est.target.count) if gpu else "batch creation"
    made = b / est.input_seconds if est.input_seconds > 0 else math.inf
    take = b / compute if compute > 0 else math.inf
    if est.bound == "transfer" and est.transfer_seconds:
        return (f"transfer (the copy of each GPU's share takes {est.transfer_seconds * 1000:,.1f} ms a step; "
                f"its compute {compute * 1000:,.1f} ms)")
    if gpu and not est.input_workers and est.input_seconds >= SERIAL_SHARE * step > 0:
        # Made between steps, not beside them: the two rates do not overlap, and the job runs at neither.
        lead = "input + compute" if est.bound == "input" else "compute + input"
        return (f"{lead}, in series ({who} takes {est.input_seconds * 1000:,.1f} ms of each {step * 1000:,.1f} ms "
                f"step, {est.input_seconds / step:.0%}, between steps: the job runs at {format_rate(b / step)} "
                f"samples/s; {device} alone could take {format_rate(take)})")
    if est.bound == "input":
        return f"input ({who} make{'' if (est.input_workers or 0) > 1 else 's'} {format_rate(made)} samples/s; " \
               f"{device} could take {format_rate(take)})"
    return f"compute ({device} take{'s' if device != 'the GPUs' else ''} {format_rate(take)} samples/s; " \
           f"{who} could make {format_rate(made)})"


# ------------------------------------------------------------------------------------------ validation


def check_vcpus(value: object) -> int | None:
    """``--vcpus`` / ``vcpus=``: a whole number of vCPUs, 1 or more (None: not given)."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        vcpus = int(text) if not isinstance(value, float) else (int(value) if value.is_integer() else None)
    except ValueError:
        vcpus = None
    if vcpus is None or vcpus < 1 or vcpus > VCPUS_MAX:
        raise ConfigError(f"--vcpus must be a whole number of vCPUs from 1 to {VCPUS_MAX:,}, got {value!r}.",
                          hint="Fix: e.g. --vcpus 96 (the instance's vCPUs, all its GPUs together).")
    return vcpus


def check_target_vcpus(value: object, gpu_target: bool) -> int | None:
    """``check_vcpus``, and a ConfigError when vCPUs are given for a target that is not a GPU's (only a GPU
    host's input pipeline is sized by them)."""
    vcpus = check_vcpus(value)
    if vcpus is not None and not gpu_target:
        raise ConfigError("--vcpus applies to GPU targets (the host that feeds the GPUs).",
                          hint="Fix: add --gpu NAME, or give a CPU's size with --threads.")
    return vcpus
