"""The warnings a probe's ``Profile`` carries about its devices: timings disturbed by other processes (their
windows, their spread, thread scaling slower than one thread), a spread the machine makes with nobody else on it
(a CPU window measured quiet: the fix is not "probe again when idle"), windows timed at raised priority, windows
whose load could not be read, and a
model one step of which did not fit the CPU's memory; and an input pipeline timed while others used the CPU. Each
is said once per device; the runner adds them to ``Profile.notes``, from where they reach every prediction and
recommendation made from the profile.
"""

from __future__ import annotations

from advisor.hardware.process_memory import LIMIT_WORDS
from advisor.os_words import linux_tools_apply, os_label
from advisor.probe.contention import ANOTHER_COMMAND, ANOTHER_PROBE, CPU_TIMES
from advisor.probe.frames import CheckFrame, one_line
from advisor.schemas import DeviceProfile, Measurement

# The input pipeline's judgement is the schemas' (a GPU estimate makes it too): re-exported for the runner.
from advisor.schemas.input_load import pipeline_busy_notes as pipeline_busy_notes
from advisor.schemas.profile import CLEAN_STEAL_FRACTION, LOAD_UNREAD
from advisor.schemas.shared_gpu import held_by_others_gib
from advisor.schemas.small_batch import small_batch_note
from advisor.schemas.spread import NOISY_SPREAD, measured_quiet, others_explain_spread
from advisor.schemas.state_growth import growth_note
from advisor.units import format_duration

OVERSUBSCRIBED = 1.5  # all threads slower than this x one thread: the cores are busy with something else


def small_batch_notes(devices: list[DeviceProfile]) -> list[str]:
    """A note for a device whose step at a batch size the ladder chose below the job's raised
    (``advisor.schemas.small_batch``): timed from the check's size, but the user is told."""
    return [small_batch_note(d.device, d.small_batch_error) for d in devices if d.small_batch_error is not None]


def precision_notes(devices: list[DeviceProfile], asked: str) -> list[str]:
    """A note for a GPU probed at another precision than ``asked``: bf16 on one without bfloat16 runs as fp16."""
    return [f"{d.device} ({d.name}): probed at {d.precision}, not {asked}: it has no bfloat16 (it predates "
            f"Ampere), and a {asked} job runs there as {d.precision} mixed precision (with a GradScaler)."
            for d in devices if d.kind == "gpu" and d.precision != asked]


def shared_gpu_notes(devices: list[DeviceProfile]) -> list[str]:
    """A note for a GPU other processes held part of as its probe began. Where it ran out of memory, the limit may
    be theirs, so the memory fit applies it only to GPUs with no more memory than was free
    (``advisor.schemas.shared_gpu``). Where it did not, the note still says so: a process holding a GPU's memory
    is usually running on it, its kernels share the SMs with the probe's, and every GPU's estimate is scaled from
    this one's steps (the probe's GPU windows measure no contention, as its CPU windows do)."""
    notes = []
    for d in devices:
        held = held_by_others_gib(d)
        if held and not d.oom_batch_size:
            notes.append(f"{d.device}: other processes held {held:.1f} GiB of its {d.memory_gib:.0f} GiB when the "
                         "probe began, so they were probably running on it: its steps may be slower than an idle "
                         "GPU's, and every GPU's estimate is scaled from them. Probe again with the GPU free, or "
                         "name an idle one (--device cuda:N).")
        elif held:
            notes.append(f"{d.device}: other processes held {held:.1f} GiB of its {d.memory_gib:.0f} GiB when the "
                         f"probe began, and it ran out of memory at batch size {d.oom_batch_size}: that limit may be "
                         f"theirs, not the model's, so it bounds only GPUs with no more memory than the "
                         f"{d.free_memory_gib:.1f} GiB that was free. Probe again with the GPU free for the model's "
                         "own limit.")
    return notes


def too_big_notes(devices: list[DeviceProfile]) -> list[str]:
    """A note for a CPU on which one training step of the model did not fit in memory (nothing was timed)."""
    notes = []
    for d in devices:
        if d.kind == "cpu" and d.oom_batch_size and not any(m.compute_seconds for m in d.measurements):
            memory = f" {d.memory_gib:.0f} GiB of" if d.memory_gib else ""
            if d.memory_limit and d.memory_gib:  # the limit is what the user can raise, not the RAM
                memory = f" {d.memory_gib:.1f} GiB of"
            limit = f" ({LIMIT_WORDS[d.memory_limit]}, less than its RAM)" if d.memory_limit else ""
            notes.append(f"{d.device}: one training step at batch size {d.oom_batch_size} does not fit this "
                         f"machine's{memory} memory{limit}, so nothing was timed here: the CPU estimate is from the "
                         "model's analysis over this CPU's measured op rates, and GPU candidates from the "
                         "analysis and their datasheets.")
    return notes


def check_notes(check: CheckFrame | None, budget_seconds: float, devices: list[DeviceProfile]) -> list[str]:
    """The one-step workload check's notes: make_batch's shapes that vary between calls, the optimizers (several
    stepped as one, parameters none of them updates), and a check that ran past
    the probe's budget and was stopped (``advisor.probe.check_step``): nothing was timed on the CPU then, and its
    estimate is the analysis' floor."""
    shapes = [one_line(check.shape_note)] if check is not None and check.shape_note else []  # the child's text
    shapes += [one_line(note) for note in check.optimizer_notes] if check is not None else []
    stopped_seconds = check.stopped_seconds if check is not None else None
    if stopped_seconds is None:
        return shapes
    head = (f"the one-step workload check (build, one batch, one training step at batch size 2 on the CPU) was "
            f"stopped after {format_duration(stopped_seconds)}, the probe's whole {format_duration(budget_seconds)} "
            "budget: ")
    if any(d.kind == "cpu" for d in devices):
        return shapes + [f"cpu: {head}no step could be timed here, so the CPU estimate is the model's analysis "
                         "over this CPU's measured op rates, and a real step here takes longer than that floor; GPU "
                         "candidates come from the analysis and their datasheets."]
    return shapes + [head + "the model's analysis stood in for it."]


def noise_notes(devices: list[DeviceProfile], *, shapes_vary: bool = False, cores: int | None = None,
                os_name: str | None = None) -> list[str]:
    """A warning for each device whose steps varied so much that its timings are not to be trusted, or whose
    model's state grew at every timed step (the spread is then the model's: ``advisor.schemas.state_growth``).

    Args:
        devices: the probed devices.
        shapes_vary: make_batch returned different shapes between calls, the one case in which a spread that the
            others' measured load does not explain is blamed on the batches (``advisor.schemas.spread``).
        cores: this machine's usable cores (None: the device's threads); a run queue beyond them explains a spread.
        os_name: this machine's OS (``HostInfo.os_name``), for the fix an unread load's note gives.
    """
    notes = []
    for d in devices:
        machine_cores = cores or d.threads
        notes += unread_load_notes(d, os_name) + busy_notes(d) + raised_notes(d, machine_cores)
        fits = [m for m in d.measurements if not m.oom and m.spread is not None]
        top = max(fits, key=lambda m: m.batch_size, default=None)
        if d.state_growth is not None:  # each step larger than the last: the spread is the model's own
            notes.append(growth_note(d.device, d.state_growth))
        elif top is not None and top.spread > NOISY_SPREAD:
            varied = (f"{d.device}: the step time at batch size {top.batch_size} varied widely (p10-p90 spread "
                      f"{top.spread:.0%} of the median)")
            if measured_quiet(top):
                notes.append(f"{varied}, though no other process was measured using the CPU while those steps ran "
                             f"({top.others_cpu_cores or 0.0:.2f} cores; {_steal_text(top)}):"
                             " the jitter is this machine's own (a virtual machine's host, or the memory allocator "
                             "taking fresh pages) or the workload's (batches that vary in cost), not another "
                             "program's, so probing again here will not steady it. The estimate uses the steps' "
                             "median.")
            elif shapes_vary and others_explain_spread(top, machine_cores) is False:
                notes.append(own_cost_note(varied, top))
            else:
                notes.append(f"{varied}: something else was probably using the "
                             f"{'CPU' if d.kind == 'cpu' else 'GPU'} during the probe"
                             f"{_queued(top, machine_cores)}, so its timings and the predictions made from them are "
                             "unreliable. Fix: probe again on an idle machine.")
        points = {p.threads: p.compute_seconds for p in d.thread_scaling}
        full = max(points, default=1)
        if full > 1 and points[full] > OVERSUBSCRIBED * points[1]:
            notes.append(f"{d.device}: a step on all {full} threads took {points[full] / points[1]:.1f}x as long as "
                         "on 1 thread: other programs are using these cores, and PyTorch's threads wait for each "
                         "other, so the CPU timings are far slower than on an idle machine. Fix: probe again on "
                         f"an idle machine, or with fewer threads (--threads {max(1, full // 2)}).")
    return notes


def _queued(m: Measurement, cores: int | None) -> str:
    """How many tasks were runnable beside the probe's own while ``m``'s steps ran, where more than the ``cores``:
    each slice one of them gets stalls a whole step, even with the probe's priority raised."""
    if not cores or m.run_queue is None or m.run_queue <= cores:
        return ""
    return f" ({m.run_queue:.1f} other tasks on average were ready to run on its {cores} cores)"


def _steal_text(m: Measurement) -> str:
    """"steal time 3%", or where psutil's CPU times measured the window (no steal counted) that it was not."""
    if m.load_measure == CPU_TIMES:
        return "steal time not counted: psutil's CPU times, as /proc/stat could not be read"
    return f"steal time {m.steal_fraction or 0.0:.0%}"


def own_cost_note(varied: str, m: Measurement) -> str:
    """A wide spread well beyond what the others' measured share of the CPU could make (``advisor.schemas.spread``),
    from a make_batch whose shapes vary between calls: the steps themselves vary in cost, and no idle machine would
    steady them."""
    how = ("; advisor held them back at raised priority" if m.priority_nice is not None
           else "; timed by the probe thread's own CPU time, which leaves waiting for them out"
           if m.clock != "wall" else "")
    return (f"{varied}, more than the other processes measured while those steps ran explain "
            f"({m.others_cpu_cores or 0.0:.2f} cores; {_steal_text(m)}{how}): the batches "
            "vary in cost, as make_batch varies their shape (a random sequence length, a bucketed loader). Probing "
            "again on an idle machine will not steady it; a job pays the mean over its batches.")


def unread_load_notes(d: DeviceProfile, os_name: str | None = None) -> list[str]:
    """A note for a CPU whose timed windows' load could not be read (``/proc/stat``; ``probe.contention``), recorded
    as unknown: nothing checked whether other processes used the CPU while those steps ran. The fix is for the OS
    the probe ran on (``os_name``, ``platform.system()``'s; None: Linux's words, as an older profile's): /proc/stat
    is Linux's, so elsewhere it says the machine must be idle."""
    timed = [m for m in d.measurements if not m.oom and m.compute_seconds is not None]
    unread = [m for m in timed if m.others_cpu_cores is None]
    if d.kind != "cpu" or not unread:
        return []
    linux = linux_tools_apply(os_name)
    fix = ("Fix: probe where /proc/stat can be read (Linux), with the machine idle." if linux
           else f"Fix: probe with the machine idle ({os_label(os_name)} has no /proc/stat to check it by).")
    tried = "/proc/stat" if linux else "neither /proc/stat nor psutil's CPU times"  # off Linux both were tried
    return [f"{d.device}: {LOAD_UNREAD} ({tried}) while {len(unread)} of {len(timed)} timed windows ran, so the "
            "probe could not check whether other processes were using the CPU meanwhile: those steps are read as "
            f"an idle machine's, and if others were using it they are slow and the estimate with them. {fix}"]


def busy_notes(d: DeviceProfile) -> list[str]:
    """What other processes did to the timed windows (probe.contention), said once per device."""
    timed = [m for m in d.measurements if not m.oom and m.others_cpu_cores is not None]
    dirty = [m for m in timed if not m.clean or m.clock != "wall"]
    if not dirty:
        return []
    others = max(m.others_cpu_cores or 0.0 for m in dirty)
    steal = max(m.steal_fraction or 0.0 for m in dirty)
    busiest = next((m.busiest_other for m in dirty if m.busiest_other), None)
    who = f"; the busiest was {busiest}" if busiest else ""
    # Say what was seen: a window is timed on one thread when the look at free cores just before it saw others
    # busy, even if they then used next to nothing during it (a blip); "up to 0.0 cores" would read as a bug.
    seen = [f"other processes used up to {others:.1f} cores"] if others >= 0.05 else []
    if steal >= CLEAN_STEAL_FRACTION:
        seen.append(f"the hypervisor took up to {steal:.0%} of the CPU (steal time)")
    if not seen:
        seen = ["other processes were busy as a window began (next to nothing during it)"]
    head = f"{d.device}: {' and '.join(seen)} during {len(dirty)} of {len(timed)} timed windows{who}"
    if any(m.load_measure == CPU_TIMES for m in dirty):  # say what the figures are: no steal time or run queue
        head += (" (measured by psutil's CPU times, as /proc/stat could not be read: other processes' CPU time, "
                 "no steal time or run queue)")
    if all(m.clock == "thread_cpu" for m in dirty):
        how = ("those steps were timed on one thread by its own CPU time and scaled to an idle machine, so the "
               "estimate is wider than on an idle machine.")
    else:
        how = ("their wall-clock times include waiting for the CPU, so the estimate may be slow and is wider.")
    if len(dirty) == len(timed):
        how += " No clean window was found. Fix: probe again when the machine is idle for a tighter estimate."
    return [f"{head}: {how}{_sibling_probe(busiest)}"]


def _sibling_probe(busiest: str | None) -> str:
    """The advice where the busiest other process was another advisor probe (``contention.ANOTHER_PROBE``), or
    another advisor command's own process (``contention.ANOTHER_COMMAND``)."""
    if (busiest or "").startswith(ANOTHER_COMMAND):
        return (" Advisor commands run at the same time disturb each other's probes (a command's ranking and its "
                "probe's set-up run while another probe times): run them one after another.")
    if not (busiest or "").startswith(ANOTHER_PROBE):
        return ""
    return (" Advisor probes run at the same time disturb each other (each raises its own priority where it "
            "may): run them one after another.")


def raised_notes(d: DeviceProfile, cores: int | None = None) -> list[str]:
    """What the probe did where it found others using the CPU and raised its priority over them
    (probe.priority), said once per device. ``cores``: this machine's usable cores (None: the device's threads);
    where more tasks than that were runnable beside the probe's own during a raised window, the note says so
    instead of calling the cores the probe's alone (``advisor.schemas.spread``: each slice one of them still gets
    stalls a whole step)."""
    timed = [m for m in d.measurements if not m.oom and m.others_cpu_cores is not None]
    raised = [m for m in timed if m.priority_nice is not None and m.clean]
    if not raised:
        return []
    named = next((m for m in raised if m.busiest_other), None)
    busiest = named.busiest_other if named else None
    who = f" (the busiest was {busiest})" if busiest else ""
    during = max(m.others_cpu_cores or 0.0 for m in raised)
    nice = raised[0].priority_nice
    # Held back only by a priority above its own: another probe raises its own in its windows, and a process
    # at the probe's nice or above it shares the cores as before.
    sibling = (busiest or "").startswith(ANOTHER_PROBE)
    other_nice = named.busiest_other_nice if named else None
    if sibling or (other_nice is not None and nice is not None and other_nice <= nice):
        above, held = "", "" if sibling else (f"; the busiest ran at nice {other_nice}, as high as advisor's, so "
                                              "it was not held back")
    else:
        above, held = " above theirs", "; the other processes were held back meanwhile"
    return [f"{d.device}: other processes were using the CPU as {len(raised)} of {len(timed)} timed windows "
            f"began{who}. advisor raised its priority{above} for those windows (nice {nice}), and they then used "
            f"{during:.2f} cores at most, {_raised_outcome(raised, cores or d.threads)}{held}."
            f"{_sibling_probe(busiest)} ADVISOR_PROBE_PRIORITY=normal probes without raising it."]


def _raised_outcome(raised: list[Measurement], cores: int | None) -> str:
    """What the raised windows' timings are: an idle machine's, unless more tasks than the ``cores`` were ready to
    run beside the probe's own in one of them (its run queue), when the cores were not the probe's alone."""
    queue = max((m.run_queue for m in raised if m.run_queue is not None), default=None)
    if not cores or queue is None or queue <= cores:
        return "so those steps were timed with the cores to themselves, as on an idle machine"
    return (f"but {queue:.1f} other tasks on average were ready to run on its {cores} cores while those steps ran, "
            "so the cores were not the probe's alone: each slice the scheduler still gave one of them stalled a "
            "whole step, and those timings may be slower and vary more than on an idle machine")
