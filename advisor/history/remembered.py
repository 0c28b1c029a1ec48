"""A busy probe's thread scaling, remembered from an earlier free probe of the same workload on this machine (or
one that raised its priority over the others and timed its steps undisturbed: the note says which).

Why: on a busy machine the probe times one thread only (``advisor.probe.contention``: PyTorch's threads wait for
each other at every operator, so a thread sharing a core with another program slows the whole step), and the
predictor scales one thread to the idle machine's threads with a parallel fraction. A busy probe cannot time that
fraction, so it assumes one (``cpu_scaling.BUSY_PARALLEL_FRACTION``, 0.8), and the fraction spans 0.58-0.94
across workloads on a 2-core VM (bench/README.md, "CPU accuracy under load"): a -16% error for a workload at 0.58
before any other noise. A free probe times the step at one thread and at all of them (``advisor.probe.threads``)
and the history keeps its profile, so the next probe of the same file on the same machine, if busy, uses what was
measured then. "The same" is strict: the workload's name and file hash, the model (``same_model``: the file's
hash misses a sibling ``model.py`` edited since), the host name, the CPU model and the thread count; the newest such
profile with a trustworthy curve (``trustworthy_scaling``) wins.
"""

from __future__ import annotations

import math
from statistics import median
from typing import Any

from advisor.errors import AdvisorError
from advisor.predictor.cpu_scaling import fit_amdahl
from advisor.schemas import DeviceProfile, Profile, RememberedScaling, WorkloadInfo
from advisor.schemas.profile import quiet
from advisor.schemas.spread import shapes_vary, warned_unreliable

PROFILES_SEARCHED = 20  # the workload's newest stored profiles looked through


def _timed_scaling(device: DeviceProfile) -> bool:
    """The device's step was timed at two thread counts or more (a free probe's ``thread_scaling``)."""
    return len({p.threads for p in device.thread_scaling}) >= 2


def _probed_free(device: DeviceProfile) -> bool:
    """Every timed step of the device was measured for contention (``others_cpu_cores``, ``steal_fraction``) and
    found quiet. Advisors before those fields timed the thread scaling on a busy machine too, and stored it
    without them: ``quiet(None, None)`` counts "not measured" as quiet, so only the fields' presence tells a
    curve taken on a free machine from one timed under contention."""
    timed = [m for m in device.measurements if not m.oom and m.compute_seconds is not None]
    return bool(timed) and all(m.others_cpu_cores is not None and m.steal_fraction is not None
                               and quiet(m.others_cpu_cores, m.steal_fraction) for m in timed)


# More threads this much slower than fewer is other programs' doing, not the workload's: a small model's threads
# can cost it a little (a measured parallel fraction of 0, which is then what a busy probe should use), while the
# audit's stored busy curve had 2 threads 30x slower than 1.
SLOWER_ON_MORE_THREADS = 1.5


def trustworthy_scaling(device: DeviceProfile, *, batch_shapes_vary: bool = False, cores: int | None = None) -> bool:
    """A stored CPU device's thread scaling is fit to reuse: timed at two thread counts or more on a free machine
    (``_probed_free``), its steps not called unreliable by its own probe's notes (``warned_unreliable``: a raised
    priority's windows measure quiet, yet an audit's varied 61-67% beside a busy loop, and its curve was then
    reused as a free machine's; ``batch_shapes_vary`` and ``cores`` as the probe's notes judged it), and no step
    ``SLOWER_ON_MORE_THREADS`` times slower on more threads (the threads waited for other programs the fields
    missed, not how the workload scales)."""
    if not _timed_scaling(device) or not _probed_free(device):
        return False
    if warned_unreliable(device.measurements, batch_shapes_vary=batch_shapes_vary, cores=cores):
        return False
    try:
        fit = fit_amdahl(list(device.thread_scaling))
    except AdvisorError:  # no usable point
        return False
    times = [median(p.compute_seconds for p in device.thread_scaling if p.batch_size == fit.batch_size
                    and p.threads == t) for t in sorted(fit.thread_counts)]
    return not any(more > SLOWER_ON_MORE_THREADS * fewer for fewer, more in zip(times, times[1:], strict=False))


def same_model(old: WorkloadInfo, new: WorkloadInfo) -> bool:
    """Whether a stored profile's workload is the model probed now, as far as its figures tell: equal parameter
    counts (known on both) and equal FLOPs per sample where both were analysed (a probe without the shape analysis
    has none). The history's key, the file's name and hash, holds for a ``train.py`` whose ``model.py`` changed, or
    another project's identical script: another model, whose threads scale otherwise."""
    if old.param_count is None or old.param_count != new.param_count:
        return False
    if old.flops_per_sample is None or new.flops_per_sample is None:
        return True
    return math.isclose(old.flops_per_sample, new.flops_per_sample, rel_tol=1e-9)


def needs_scaling(device: DeviceProfile) -> bool:
    """A CPU device whose steps were timed on fewer threads than its own, with no thread scaling of its own."""
    if device.kind != "cpu" or not device.threads:
        return False
    busy = any(m.threads and m.threads < device.threads for m in device.measurements)
    return busy and not _timed_scaling(device)


def remember_scaling(prof: Profile, history: Any) -> Profile:
    """``prof`` with ``remembered_scaling`` set on each CPU device that ``needs_scaling``, from ``history`` (an
    open ``History``; None: unchanged). A history that cannot be read leaves the profile as it is: the assumed
    fraction then applies, as without a history."""
    if (history is None or prof.host is None or not prof.host.hostname
            or not any(needs_scaling(d) for d in prof.devices)):  # no host name: no way to tell it is this machine
        return prof
    try:
        stored = history.recent_profiles(prof.workload, limit=PROFILES_SEARCHED)
    except AdvisorError:
        return prof
    devices = []
    for device in prof.devices:
        if needs_scaling(device):
            found = _from_stored(stored, prof, device)
            if found is not None:
                device = device.model_copy(update={"remembered_scaling": found})
        devices.append(device)
    return prof.model_copy(update={"devices": devices})


def _from_stored(stored: list, prof: Profile, device: DeviceProfile) -> RememberedScaling | None:
    hostname = prof.host.hostname if prof.host else None
    for profile_id, created_at, data in stored:
        try:
            old = Profile.model_validate(data)
        except ValueError:  # a profile stored by another version of advisor: not comparable
            continue
        if old.host is None or old.host.hostname != hostname or not same_model(old.workload, prof.workload):
            continue
        for d in old.devices:
            if (d.kind == "cpu" and d.name == device.name and d.threads == device.threads
                    and trustworthy_scaling(d, batch_shapes_vary=shapes_vary(old.notes),
                                            cores=old.host.cpu.logical_cores)):
                fit = fit_amdahl(list(d.thread_scaling))
                raised = any(m.priority_nice is not None for m in d.measurements if not m.oom)
                return RememberedScaling(parallel_fraction=fit.parallel_fraction, profile_id=profile_id,
                                         probed_at=created_at, raised_priority=raised)
    return None
