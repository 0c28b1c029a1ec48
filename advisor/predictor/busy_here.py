"""Whether the probed machine was busy while its CPU was timed, and what an estimate for that machine says then.

Every estimate is the idle machine's time (README, "A busy machine"). A job started on the probed machine while
the processes the probe found are still running shares the CPU with them: a 2-thread LSTM predicted at 7.3 s
took 35 s beside 1-2 busy cores of a 2-vCPU VM. ``predict --device cpu`` says so in a note, and ``recommend``'s
Here line (``advisor.pricer.Pricer.here``) in its text, from the same judgement.
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.predictor.caveats import UNRECORDED_LOAD
from advisor.schemas import DeviceProfile
from advisor.schemas.profile import LOAD_UNREAD


def busy_when_probed(dev: DeviceProfile) -> bool:
    """Other processes used the CPU during most of ``dev``'s timed windows (a CPU only). A window timed at raised
    priority is clean only because the probe held them back, so it counts as shared: the machine was busy, and a
    job started on it now would share it. Not one window: a daemon's blip as a window began marks it too."""
    windows = [m for m in dev.measurements if m.compute_seconds]
    loaded = sum(1 for m in windows if m.shared)
    return dev.kind == "cpu" and 2 * loaded > len(windows)


def busy_here_notes(dev: DeviceProfile, threads: int | None, *, here: bool) -> list[str]:
    """The note on an estimate of a job on ``threads`` (None: as probed) of ``dev``, where it runs on the probed
    machine itself (``here``) and that machine was busy (``busy_when_probed``); else none. A rented machine of the
    same CPU is not beside those processes."""
    if not here or not busy_when_probed(dev):
        return []
    threads = threads if threads is not None else dev.threads
    fewer = (f", or on fewer threads than {threads} (--threads 1 prices that; torch.set_num_threads(1) in the "
             "job)" if threads and threads > 1 else "")
    return [f"{dev.device}: other processes were using the CPU during most of the probe: this is the time on "
            "this machine when idle, and a job started beside them takes longer (they take its cores, and "
            f"PyTorch's threads wait for each other). Fix: run it when the machine is idle{fewer}."]


def unrecorded_load_notes(dev: DeviceProfile, notes: Iterable[str] = ()) -> list[str]:
    """The note on a CPU whose timed steps carry no contention fields (``others_cpu_cores`` None): a profile from
    an advisor that did not measure what else ran, and timed its steps (and thread scaling) on a busy machine
    too, with nothing recorded; ``quiet(None, None)`` reads such steps as an idle machine's. None where every
    timed step was measured, on a GPU, or where no step was timed, or where the estimate's ``notes`` hold the
    probe's own word that it could not read the load (``LOAD_UNREAD``: a current profile, not an older one)."""
    if any(LOAD_UNREAD in note for note in notes):
        return []
    if dev.kind != "cpu" or not any(m.compute_seconds is not None and not m.oom and m.others_cpu_cores is None
                                    for m in dev.measurements):
        return []
    return [f"an older profile: {UNRECORDED_LOAD} (an advisor that did not yet measure other programs' load), so "
            "they are read as an idle machine's. Fix: re-probe the workload (predict or recommend FILE, or advisor "
            "profile FILE -o profile.json) for a trustworthy CPU time."]
