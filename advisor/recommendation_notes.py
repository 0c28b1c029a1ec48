"""The notes a recommendation takes from the estimates behind it, which the ranking (it imports no predictor)
does not read: the chosen GPU's lean for this kind of job (``estimate.gpu_notes``), and the caveats
(``advisor.predictor.caveats``) of the chosen candidate's own estimate and of each "Here" device's, which
``predict`` of that target prints, each said once with the machines it applies to; the probe's notes and where
the candidates' figures come from (``profile_notes``); and how the ranked job steps (``job_steps``), on a
feasible answer and an infeasible one alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from advisor.ranking.precision import gpus_in_fp16
from advisor.schemas import JobSpec, Profile, Recommendation
from advisor.schemas.devices import BUSY_STARTUP, PROCESS_START


def chosen_gpu_notes(rec: Recommendation, prof: Profile, job: JobSpec, ctx: Any) -> list[str]:
    """``estimate.gpu_notes`` for the chosen GPU: what ``predict`` of it says beyond its figures (the lean for
    this kind of job, not where the history corrected the time; what the job could change there)."""
    from advisor.predictor.estimate import gpu_notes
    from advisor.predictor.fp64 import fp64_note

    chosen = rec.chosen
    spec = ctx.gpu_specs.get(chosen.gpu) if chosen is not None and chosen.gpu else None
    if spec is None:
        return []
    # "fp64" is what a float64 model's estimate says it priced, not a precision to run at: its float64 work runs
    # so at any, and the rest at the one asked for
    precision = rec.constraints.precision if chosen.precision == "fp64" else chosen.precision
    notes = gpu_notes(prof.analysed_for(precision), spec, precision,
                      math.ceil(job.batch_size / chosen.gpu_count), job.compiled, ctx, lean=chosen.method != "history")
    float64 = fp64_note(prof.analysis, spec)  # predict's GPU estimate says it; the ranked candidates carry no notes
    notes = [float64, *notes] if float64 else notes
    return [f"the chosen {chosen.gpu}: {note}" for note in notes]


def estimate_caveats(rec: Recommendation, priced: Sequence[tuple[Any, Any]],
                     here: Sequence[tuple[str, str, Any, bool]], probe_notes: Sequence[str] = ()) -> list[str]:
    """The caveats of each "Here" device's estimate (``here``: ``Pricer.here``'s runs; an error has none) and of
    the chosen candidate's (``priced``: the (offer, estimate) pairs ranked), then the probe's note
    (``probe_notes``: ``Profile.notes``) on starting Python and importing torch timed beside other processes,
    which every Here time includes (``ranking.here``) and no estimate's notes carry. Each is said once, naming
    every machine it applies to ("Here, cpu and the chosen gcp e2-standard-2: ..."): the same text under each
    machine in turn read as that many caveats. One the probe's notes already say (a "probe: " note on ``rec``,
    a warning too) is said there, with the machines, and not again here."""
    machines: dict[str, list[str]] = {}  # caveat -> the machines it applies to, in the order first said
    for device, _name, est, _busy in here:
        for note in _caveats_of(est):
            machines.setdefault(note, []).append(device)
    if any(run.process_start_seconds for run in rec.here):  # added to each device's time on the Here line
        for note in probe_notes:
            if note.startswith(f"{PROCESS_START} {BUSY_STARTUP}"):
                machines.setdefault(note, [])
    chosen = rec.chosen
    for offer, est in priced if chosen is not None else ():
        if (offer.provider, offer.instance_type, offer.region) == (chosen.provider, chosen.instance_type,
                                                                    chosen.region):
            for note in _caveats_of(est):
                machines.setdefault(note, []).append(f"the chosen {chosen.provider} {chosen.instance_type}")
            break
    out = []
    for note, names in machines.items():
        said = f"{_machines_text(names)}: {note}"
        if not _into_probe_note(rec, note, said):
            out.append(said)
    return out


def _machines_text(names: Sequence[str]) -> str:
    """``names`` (Here's devices, then the chosen machine; none: the Here line's own start) as one phrase:
    "Here, cpu and the chosen gcp e2-standard-2", "Here, cpu, cuda:0 and the chosen ...", "the chosen ..."."""
    if not names:
        return "Here"
    words = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    return words if names[0].startswith("the chosen ") else f"Here, {words}"


def _into_probe_note(rec: Recommendation, note: str, said: str) -> bool:
    """Where a "probe: " note on ``rec`` (and its warning) says ``note`` (its device's name before it, or none),
    that note names the machines instead (``said``, after "probe: "); whether one did."""
    probe = [n for n in rec.notes if n.startswith("probe: ") and (n == f"probe: {note}" or n.endswith(f": {note}"))]
    if not probe:
        return False
    # In place: a caller may hold ``rec.notes`` (``rec.notes.extend(estimate_caveats(rec, ...))`` took the list
    # before this ran, and a new list here lost every caveat it added, the chosen machine's "may run out of memory").
    rec.notes[:] = [f"probe: {said}" if n == probe[0] else n for n in rec.notes if n not in probe[1:]]
    if rec.verdict is not None:
        rec.verdict.warnings = [f"probe: {said}" if w == probe[0] else w for w in rec.verdict.warnings
                                if w not in probe[1:]]
    return True


def _caveats_of(est: Any) -> list[str]:
    """``est``'s caveats, and where it does not fit why and with what flags it would (a Here device: its line says
    only "the job does not fit its memory"), less the probed device a note may start with ("cpu: this job slows
    down part-way"): the caller names the machine."""
    from advisor.predictor.caveats import caveats_and_misfit

    source = f"{getattr(est, 'source_device', None)}: "
    notes = caveats_and_misfit(getattr(est, "notes", ()), getattr(est, "fits_memory", None))
    return [note.removeprefix(source) for note in notes]


def eager_memory(rec: Recommendation, job: JobSpec) -> list[str]:
    """Where a compiled job's GPU candidates were dropped for memory: that their memory is the eager step's."""
    from advisor.predictor.memory import compiled_memory_note

    dropped = [c for c in rec.excluded if c.gpu]
    return [f"{len(dropped):,} GPU candidate(s) dropped for memory: {compiled_memory_note()}"] \
        if job.compiled and dropped else []


def profile_notes(prof: Profile, fitted: Any) -> list[str]:
    """The probe's notes, where the candidates' figures come from (no GPU here: scaled; the CPU's timed or
    analysed), and ``fitted``'s (a ``LearnedCorrection``, or None) ranking note."""
    notes = [f"probe: {note}" for note in prof.notes]
    if not prof.devices or all(d.kind == "cpu" for d in prof.devices):
        cpus = [d for d in prof.devices if d.kind == "cpu"]
        timed = any(d.device in prof.timed_devices() for d in cpus)
        cpu = ("CPU candidates from the probed machine's timed steps" if timed
               else "CPU candidates from the model's analysis and this CPU's measured op rates (no step was timed)"
               if any(d.cpu_peak is not None for d in cpus)
               else "no CPU step was timed here, so no CPU offer is priced (--show-skipped lists them)")
        gpus = (": GPU candidates are scaled from the model's analysis and datasheet specs (method 'scaled')"
                if prof.analysis is not None else " and no analysis of the model to scale GPU candidates from: none "
                "is priced (--show-skipped lists them)")
        notes.append(f"No GPU {'here' if prof.devices else 'was probed'}{gpus}; {cpu}.")
    corrected = fitted.ranking_note(prof.workload.name) if fitted is not None else None
    if corrected:
        notes.append(corrected)
    return notes


@contextmanager
def steps_kept(job: JobSpec) -> Iterator[None]:
    """An infeasible answer (``NoFeasibleCandidateError.recommendation``, always set by the ranking) with the job's
    stepping too, as a feasible one has it from ``advisor.api``'s ``_finish``."""
    from advisor.errors import NoFeasibleCandidateError

    try:
        yield
    except NoFeasibleCandidateError as exc:
        job_steps(exc.recommendation, job)
        raise


def job_steps(rec: Recommendation, job: JobSpec) -> None:
    """How the ranked job steps, set on ``rec``, an infeasible one too (its ``--json`` gave the schema's defaults:
    ``advisor diff`` against a feasible run reported a change of job that never happened)."""
    rec.compiled, rec.grad_accum_steps, rec.eval_every, rec.eval_steps = (
        job.compiled, job.grad_accum_steps, job.eval_every, job.eval_steps)
    # A CPU runs the job as it was probed: what applies to GPUs only is said where CPU instances were priced.
    gpu_only = [w for w, on in ((rec.constraints.precision, rec.constraints.precision not in (None, "fp32")),
                                ("torch.compile", job.compiled)) if on]
    cands = rec.all_candidates or rec.candidates
    # A GPU without bfloat16 runs a bf16 job as fp16 with a GradScaler: "bf16 applies to GPUs" named none of them.
    fp16 = gpus_in_fp16(cands, rec.constraints.precision)
    as_fp16 = (f"as fp16 with a GradScaler on those without bfloat16 ({', '.join(fp16)})") if fp16 else ""
    if gpu_only and rec.verdict is not None and any(c.tier == "cpu" for c in cands):
        rec.verdict.assumptions += (f"; CPU instances run the job as probed, at fp32 and eager: "
                                    f"{' and '.join(gpu_only)} appl{'y' if len(gpu_only) > 1 else 'ies'} to GPUs"
                                    + (f", {rec.constraints.precision} {as_fp16}" if as_fp16 else ""))
    elif as_fp16 and rec.verdict is not None:
        rec.verdict.assumptions += f"; GPUs run {rec.constraints.precision}, {as_fp16}"
    _batch_cautioned(rec, job)


def _batch_cautioned(rec: Recommendation, job: JobSpec) -> None:
    """The batch-size what-if's advice, where it doubles the samples per optimizer update, with the caution that
    this changes the optimisation (``pricer.batch_caution``), in ``advice`` and the verdict's copy alike."""
    from advisor.pricer import batch_caution, batch_what_if

    caution = batch_caution(job)
    if caution is None:
        return
    head = f"with {batch_what_if(job)[0]}: "

    def cautioned(lines: list[str]) -> list[str]:
        return [f"{line}{caution}" if line.startswith(head) and not line.endswith(caution) else line
                for line in lines]

    rec.advice = cautioned(rec.advice)
    if rec.verdict is not None:
        rec.verdict.could_be_better = cautioned(rec.verdict.could_be_better)


def with_history_factors(rec: Recommendation) -> None:
    """The history correction's note on ``rec`` with the factors it applied, lowest to highest over the candidates
    it corrected (``predict``'s note gives its one factor; a recommendation's said none)."""
    factors = [c.seconds / c.base_seconds for c in rec.all_candidates or rec.candidates
               if c.method == "history" and c.base_seconds]
    if not factors:
        return
    low, high = min(factors), max(factors)
    said = f"x{low:.2f}" if high - low < 0.005 else f"x{low:.2f} to x{high:.2f}"
    rec.notes = [f"{n}; applied: {said} over {len(factors):,} candidates" if n.startswith("history correction: every")
                 else n for n in rec.notes]
