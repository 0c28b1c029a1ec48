"""The orchestration that the CLI and Python users share: profile, predict, recommend, and the history hand-off.

Every function returns the pydantic object that the CLI prints with ``--json``; nothing here prints. User code
(the workload file) only ever runs inside the probe's child process; a workload file's defaults are read by
``advisor.workload`` without executing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.arguments import (  # noqa: F401 - check_source, check_precision: api.*, as before
    check_objects,
    check_options,
    check_precision,
    check_source,
    check_target,
    pricing_paths,
    recommend_constraints,
)
from advisor.errors import AdvisorError, HistoryError, WorkloadError
from advisor.history.name_paths import shared_name_notes
from advisor.history.session import fit_correction_noted, open_history, save_recommendation
from advisor.option_words import python_surface
from advisor.recommendation_notes import (
    chosen_gpu_notes,
    eager_memory,
    estimate_caveats,
    job_steps,
    profile_notes,
    steps_kept,
    with_history_factors,
)
from advisor.schemas import Estimate, JobSpec, Profile, Recommendation, Target, WorkloadSummary
from advisor.settings import Settings
from advisor.sources import is_saved_profile as _is_saved_profile  # the Client's too
from advisor.sources import job_for, probe_budget
from advisor.units import parse_actual_seconds
from advisor.variant_words import variant_note, variant_notes  # noqa: F401 - variant_note: api.variant_note
from advisor.workload.identity import early_name, named, resolved_name
from advisor.workload.job import JobSettings, check_job_values, normalize_precision
from advisor.workload.settings import declared_precision, job_settings, probe_batch_size, probe_threads, read_once

if TYPE_CHECKING:  # pragma: no cover
    from advisor.hardware.gpu import GpuInfo
    from advisor.history.repository import History
    from advisor.predictor.contexts import ContextCache
    from advisor.probe import Progress
    from advisor.workload import Workload

DEFAULT_BATCH_SIZE = 32


# ------------------------------------------------------------------------------------------ profiles


def _visible_gpus() -> list[GpuInfo]:
    """The GPUs visible here, detected once per API call (NVML: the parent never initialises CUDA)."""
    from advisor.hardware import detect_gpus

    try:
        return detect_gpus()
    except AdvisorError:
        return []


@python_surface
def resolve_devices(devices: str | Sequence[str] | None, gpus: list[GpuInfo] | None = None) -> list[str]:
    """'auto'/'all' -> cpu + every visible GPU; 'cpu'; 'cuda:0'; or a list of those."""
    from advisor.hardware import devices as _devices
    from advisor.hardware import gpu as _gpu

    return _devices.resolve_devices(devices, _visible_gpus() if gpus is None else gpus, _gpu.no_gpu_reason)


@python_surface
def profile(workload: str | Path | Workload, *, devices: str | Sequence[str] | None = "auto",
            batch_size: int | None = None, batch_sizes: Sequence[int] | None = None, probe_seconds: float = 60.0,
            precision: str | None = None, threads: int | None = None, analyze: bool = True,
            progress: Progress | None = None, timeout_seconds: float | None = None,
            analysis_precision: str | None = None, bf16_analysis: bool | None = None,
            raise_priority: bool | None = None, name: str | None = None) -> Profile:
    """Probe a workload on the requested devices (default: the CPU and every visible GPU).

    Args:
        workload: a workload file path, or an ``advisor.Workload``.
        devices: "auto" (cpu + all GPUs), "cpu", "cuda:0", or a list; an empty list only analyses the model.
        batch_size: the job's batch size (default BATCH_SIZE), recorded in the profile, the ladder's top.
        batch_sizes: an explicit ladder instead of the automatic one.
        probe_seconds: time budget for probing.
        precision: fp32 | tf32 | bf16 | fp16 | mixed (= bf16), probed and analysed at it, and the job's precision
            the profile records (``workload.precision``: ``--profile`` prices the job at it unless ``--precision``
            says otherwise); None: probed at fp32 and analysed at the workload's PRECISION (else fp32), as
            ``recommend`` profiles it, so a saved profile answers as the workload file would.
        threads: CPU threads for the CPU probe (default torch's).
        analyze: also run the shape-level analysis used to scale to other GPUs.
        progress: callback(device, fraction, message).
        analysis_precision: the analysis' precision (the GPUs') when not ``precision``; None: ``precision``.
        bf16_analysis: also analyse at bf16 where the analysis is not 16-bit (``Profile.bf16_analysis``, which a
            16-bit job is priced from: recommend's mixed-precision what-if); None: when ``precision`` is None.
        raise_priority: on a busy CPU, time the probe's windows at raised scheduling priority where this process
            may (README "A busy machine"); None: ``ADVISOR_PROBE_PRIORITY`` (default raised).
        name: the workload's name in the profile and the history (``advisor.workload.identity``); None: a file's
            ``WORKLOAD_NAME``, else its name without ``.py``.

    Returns:
        The ``Profile``.
    """
    prof, job_precision = _probe(**locals()), normalize_precision(precision)
    if normalize_precision(analysis_precision) not in (None, job_precision):  # analysed at another: not the job's
        job_precision = None
    job = {k: v for k, v in (("batch_size", batch_size), ("precision", job_precision)) if v is not None}
    return prof.model_copy(update={"workload": prof.workload.model_copy(update=job)}) if job else prof


def _probe(workload: str | Path | Workload, *, devices: str | Sequence[str] | None, batch_size: int | None,
           batch_sizes: Sequence[int] | None, probe_seconds: float, precision: str | None, threads: int | None,
           analyze: bool, progress: Progress | None, timeout_seconds: float | None, analysis_precision: str | None,
           bf16_analysis: bool | None, raise_priority: bool | None, optional_gpus: bool = False,
           name: str | None = None) -> Profile:
    """``profile``'s probe, its profile recording the job's precision as the workload declared it: what ``predict``
    and ``recommend`` probe a workload with (at the precision a device is probed at, not always the job's)."""
    from advisor.probe import run_profile
    from advisor.settings import probe_wait_seconds, raise_probe_priority
    from advisor.workload import Workload

    check_source(workload)
    check_options({"analyze": analyze, "bf16_analysis": bf16_analysis, "raise_priority": raise_priority},
                  {"progress": progress})
    if isinstance(workload, Profile):
        raise WorkloadError("advisor.profile was given a Profile: it is already probed.",
                            hint="Fix: pass it to advisor.predict or advisor.recommend, or give a workload file.")
    raise_priority = raise_probe_priority() if raise_priority is None else raise_priority
    if not isinstance(workload, Workload):
        from advisor.workload.loader import check_path, read_defaults

        path = read_once(check_path(workload))
        batch_size = batch_size or read_defaults(path).get("batch_size")
        source: Any = path
    else:
        batch_size = batch_size or workload.default_count("batch_size")
        source = workload
    name = resolved_name(source, name)  # checked before the probe: --name, else the file's WORKLOAD_NAME
    # "mixed" is bf16, as predict and recommend take it (other values are the ProbeRequest's to check)
    precision, analysis_precision = (normalize_precision(p) if isinstance(p, str) else p
                                     for p in (precision, analysis_precision))
    bf16_analysis = precision is None if bf16_analysis is None else bf16_analysis
    if precision is None:
        precision, analysis_precision = "fp32", analysis_precision or declared_precision(source)
    # The batch size, probe seconds, precision and threads are checked once, by the probe's ProbeRequest.
    gpus = _visible_gpus() if devices != [] else []
    device_list = resolve_devices(devices, gpus) if devices != [] else []
    prof = run_profile(
        source,
        analysis_precision=None if analysis_precision == precision else analysis_precision,
        devices=device_list,
        batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
        batch_sizes=batch_sizes if batch_sizes else None,  # a list, checked there (a string is refused)
        probe_seconds=probe_seconds,
        precision=precision,
        threads=threads,
        timeout_seconds=timeout_seconds,
        progress=progress,
        analyze=analyze,
        bf16_analysis=bf16_analysis,
        raise_priority=raise_priority, probe_wait_seconds=probe_wait_seconds(),  # ADVISOR_PROBE_WAIT
        # NVML's GPUs, not the user's choice: one torch cannot use is left out with a note, not a failed probe
        optional_gpus=optional_gpus or devices is None or str(devices).strip().lower() in ("auto", "all"),
    )
    # A GPU NVML did not list (found through torch.cuda): said once, as "cuda:N: ...", which its estimates carry.
    found = [f"cuda:{g.index}: {g.note}." for g in gpus if g.note and f"cuda:{g.index}" in device_list
             and prof.device(f"cuda:{g.index}") is not None]
    return named(prof.model_copy(update={"notes": [*prof.notes, *found]}) if found else prof, name)


@python_surface
def load_profile(path: str | Path) -> Profile:
    """A profile saved by ``advisor profile -o FILE`` (or ``save_profile``)."""
    from advisor.probe import load_profile as _load

    return _load(Path(path))


@python_surface
def save_profile(prof: Profile, path: str | Path) -> Path:
    from advisor.probe import save_profile as _save

    return _save(prof, Path(path))  # the path written


# ----------------------------------------------------------------------------------------- prediction


@python_surface
def resolve_target(target: Target | str | None = None, *, gpu: str | None = None, gpus: int = 1,
                   device: str | None = None, threads: int | None = None, peer_to_peer: bool | None = None,
                   source: Any = None) -> Target:
    """A ``Target`` from the API/CLI's ways of naming one (``peer_to_peer``: ``gpu``'s ``--p2p/--no-p2p``). With
    a saved profile as ``source``, ``device`` "cuda:N" is a GPU of the machine it was taken on, not of this one."""
    from advisor.hardware.devices import local_gpu_target, one_device, profile_gpu_target
    from advisor.predictor.targets import resolve_target as _resolve

    check_target(target)
    if target is None and not gpu and device is not None and (name := one_device(device)) != "cpu":
        if _is_saved_profile(source):
            prof = source if isinstance(source, Profile) else load_profile(source)
            return profile_gpu_target(name, prof.devices, str(source) if not isinstance(source, Profile) else "")
        return local_gpu_target(name, _visible_gpus())
    try:
        return _resolve(target, gpu=gpu, gpus=gpus, threads=threads, peer_to_peer=peer_to_peer)
    except AdvisorError:
        if isinstance(target, Target) and _unspecced_gpu(target, source):
            return target  # a GPU without a spec row, already named by --device: its own probe is its estimate
        raise


def _unspecced_gpu(target: Target, source: Any) -> bool:
    """Whether ``target`` is one GPU that ``--device cuda:N`` named by the driver's name, having no spec row: one
    of the saved profile ``source``'s GPUs, else one here."""
    if target.kind != "gpu" or target.count != 1:
        return False
    if _is_saved_profile(source):
        names = [d.name for d in (source if isinstance(source, Profile) else load_profile(source)).devices
                 if d.kind == "gpu" and not d.spec_name]
    else:
        names = [g.name for g in _visible_gpus() if not g.spec_name]
    return target.gpu_name in names


def _as_profile(source: Any, *, devices: str | Sequence[str] | None, batch_size: int | None,
                probe_seconds: float, precision: str, progress: Progress | None,
                threads: int | None = None, analysis_precision: str | None = None,
                bf16_analysis: bool = False, raise_priority: bool | None = None,
                optional_gpus: bool = False, name: str | None = None) -> Profile:
    if isinstance(source, Profile) or _is_saved_profile(source):
        prof = source if isinstance(source, Profile) else load_profile(source)
        return named(prof, resolved_name(prof, name, label=None if isinstance(source, Profile) else str(source)))
    return _probe(source, devices=devices, batch_size=batch_size, batch_sizes=None, probe_seconds=probe_seconds,
                  precision=precision, threads=threads, analyze=True, progress=progress, timeout_seconds=None,
                  analysis_precision=analysis_precision, bf16_analysis=bf16_analysis, raise_priority=raise_priority,
                  optional_gpus=optional_gpus, name=name)


@python_surface
def job_profile(source: Any, *, target: Target | str | None = None, recommend: bool = False,
                dataset_size: int | None = None, epochs: int | None = None, batch_size: int | None = None,
                precision: str | None = None, probe_seconds: float | None = None, progress: Progress | None = None,
                raise_priority: bool | None = None, compile: bool | None = None, grad_accum_steps: int | None = None,
                eval_every: int | None = None, eval_steps: int | None = None, name: str | None = None) -> Profile:
    """The profile ``predict`` (of ``target``) or ``recommend`` (``recommend=True``) makes of ``source`` for this
    job; what ``advisor.Client`` sends a server. The steps are named (not ``**kwargs``): errors name only these."""
    source, _, steps = _steps(source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                              precision=precision, compile=compile, grad_accum_steps=grad_accum_steps,
                              eval_every=eval_every, eval_steps=eval_steps)
    return _job_profile(source, None if recommend else resolve_target(target), steps, precision, batch_size,
                        probe_seconds, progress, raise_priority, name=name)


def _job_profile(source: Any, tgt: Target | None, steps: JobSettings, precision: str | None,
                 batch_size: int | None, probe_seconds: float | None, progress: Progress | None,
                 raise_priority: bool | None = None, device: str | None = None, name: str | None = None) -> Profile:
    """``tgt`` None: recommend's (the CPU and one GPU of each model here, fp32; analysed at bf16 too). A GPU: at the
    job's precision, ``device`` ("cuda:N", ``predict --device``) probed, else one GPU of each model here. A CPU:
    probed as asked. The analysis at the job's precision."""
    from advisor.hardware.devices import one_gpu_per_model

    probe_seconds = probe_budget(source, probe_seconds)
    gpu = tgt is not None and tgt.kind == "gpu"
    if tgt is None:
        devices: Any = ["cpu", *one_gpu_per_model(_visible_gpus())]
    elif gpu and not isinstance(source, Profile):
        devices = [device] if device is not None else one_gpu_per_model(_visible_gpus())
    else:
        devices = ["cpu"]
    probe_precision = (steps.precision if gpu else normalize_precision(precision) if tgt else None) or "fp32"
    return _as_profile(source, devices=devices, batch_size=batch_size, probe_seconds=probe_seconds,
                       precision=probe_precision, progress=progress, analysis_precision=steps.precision,
                       threads=probe_threads(tgt.threads) if tgt is not None else None, bf16_analysis=tgt is None,
                       raise_priority=raise_priority, optional_gpus=tgt is None or (gpu and device is None), name=name)


@python_surface
def predict(
    source: Any,
    *,
    dataset_size: int | None = None, epochs: int | None = None, batch_size: int | None = None,
    target: Target | str | None = None, precision: str | None = None,
    probe_seconds: float | None = None, progress: Progress | None = None,
    use_history: bool = True, save: bool = False,
    settings: Settings | None = None,
    vcpus: int | None = None, device: str | None = None,
    compile: bool | None = None,  # the workload file's COMPILE (the flag's name, though it shadows a builtin)
    grad_accum_steps: int | None = None, eval_every: int | None = None, eval_steps: int | None = None,
    instance_type: str | None = None, provider: str | None = None, name: str | None = None,
) -> Estimate:
    """Predict the whole job's wall time on one target.

    Args:
        source: a ``Profile``, a profile ``.json`` path, a workload file path, or an ``advisor.Workload``
            (a workload is probed first: the CPU for a CPU target, only analysed for a GPU you don't have).
        dataset_size, epochs, batch_size: the job (defaults: the workload file's constants).
        target: ``Target.cpu(threads)``, ``Target.gpu("A100-80GB", 4)``, "cpu" or a GPU name. Default: CPU.
        precision: fp32 | tf32 | bf16 | fp16 | mixed (= bf16); default: the workload's ``PRECISION``, else fp32.
        compile, grad_accum_steps, eval_every, eval_steps: how the job steps (README "The workload file").
        use_history: apply the learned history correction where it beats the base predictor.
        save: store the prediction in the history database (a GPU model's with ``settings``' start-up).
        vcpus: a GPU target's host vCPUs (all its GPUs together), which the input pipeline runs on. Default: this
            machine's for a GPU here, else ``input_bound.DEFAULT_VCPUS_PER_GPU`` per GPU (the estimate says so).
        device: a GPU here ("cuda:N", ``predict --device``) that the job is for: the only one probed (default:
            ``target`` of that GPU's model). Ignored with a saved profile.
        instance_type: a catalog instance (``provider``'s where several have the name) as the target, priced as
            ``recommend`` prices its row (its GPUs' links, vCPUs, memory, start-up); not with target, vcpus, device.
        name: the workload's name in the history (``advisor.profile``'s), which the correction is learned by.

    Returns: the ``Estimate`` (DESIGN.md's ``predict --json``).
    """
    from advisor.history.remembered import remember_scaling
    from advisor.instance_target import placed_target
    from advisor.predictor.estimate import estimate as _estimate
    from advisor.predictor.input_bound import check_target_vcpus

    settings = settings or Settings.from_env()
    check_options({"use_history": use_history, "save": save}, {"progress": progress})
    check_objects(settings=(settings, Settings))
    check_job_values(dataset_size, epochs, batch_size)
    probe_budget(source, probe_seconds)  # refused with a saved profile before anything else is done
    source, explicit, steps = _steps(source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                                     precision=precision, compile=compile, grad_accum_steps=grad_accum_steps,
                                     eval_every=eval_every, eval_steps=eval_steps, name=name)
    placed = placed_target(instance_type, provider, settings, target=target, vcpus=vcpus, device=device)
    tgt = placed.target if placed else resolve_target(target, device=device if target is None else None, source=source)
    local = device if tgt.kind == "gpu" and device and not _is_saved_profile(source) else None
    vcpus = placed.vcpus if placed else check_target_vcpus(vcpus, tgt.kind == "gpu")
    notes: list[str] = [placed.note()] if placed else variant_notes(target, tgt)
    with open_history(settings, required=save, notes=notes if use_history else None) as hist:
        fitted = fit_correction_noted(hist, notes, required=save) if use_history else None
        prof = _job_profile(source, tgt, steps, precision, batch_size, probe_seconds, progress,
                            settings.raise_probe_priority, local if tgt.kind == "gpu" else None, name)
        prof, notes = remember_scaling(prof, hist), notes + shared_name_notes(
            hist if use_history else None, prof.workload, on_disk=not _is_saved_profile(source))
        steps = job_settings(source, explicit, prof, probe_batch_size(source, batch_size, DEFAULT_BATCH_SIZE))
        job = job_for(prof, dataset_size, epochs, batch_size, steps, source=source, notes=(job_notes := []))
        priced = prof.analysed_for(steps.precision)  # a 16-bit job: from the profile's bf16 analysis, if any
        est = _estimate(priced, job, tgt, precision=steps.precision, **(placed.estimate_kwargs if placed else
                                                                        {"vcpus": vcpus}))
        est = est.model_copy(update={"notes": [*job_notes, *est.notes, *steps.notes, *notes]})  # not in place
        if fitted is not None:
            est = fitted.apply(est, priced)
        if save and hist is not None:  # a profile probed here is kept: a later busy probe may need its scaling
            rented = placed.startup_seconds(settings) if placed else \
                settings.startup_seconds_gpu if tgt.kind == "gpu" and not device else None  # not a GPU here
            try:
                est.history_id = hist.save_prediction(est, prof.workload, instance_startup_seconds=rented,
                                                      profile=None if _is_saved_profile(source) else prof)
            except HistoryError as exc:  # the answer stands (its probe may have taken minutes), only its save failed
                exc.estimate = est
                raise
    return est


# -------------------------------------------------------------------------------------- recommendation


def _steps(source: Any, name: Any = None, **explicit: Any) -> tuple[Any, dict[str, Any], JobSettings]:
    """(``source``, a file read once for the command, the job settings given, resolved over the workload's): flags
    and file constants checked before any probe, and before the history is opened (a first run's bad ``name``
    must not create one). Devices are probed as asked; the GPUs' analysis at the job's."""
    check_source(source)
    source = read_once(source)  # the file's one reading for the whole command (a WorkloadFile)
    early_name(source, name)
    check_precision(normalize_precision(explicit["precision"]))
    return source, explicit, job_settings(source, explicit)


@python_surface
def recommend(
    source: Any,
    *,
    dataset_size: int | None = None, epochs: int | None = None, batch_size: int | None = None,
    deadline: str | float | timedelta | None = None, budget: str | float | None = None, objective: str = "cost",
    providers: str | Sequence[str] | None = None, regions: str | Sequence[str] | None = None,
    spot: bool = False, top: int = 10, precision: str | None = None,
    pricing_files: Sequence[str | Path] = (),
    probe_seconds: float | None = None,
    progress: Progress | None = None,
    save: bool = True,
    settings: Settings | None = None,
    before_save: Callable[[Recommendation], None] | None = None,
    startup_seconds_cpu: str | float | None = None, startup_seconds_gpu: str | float | None = None,
    compile: bool | None = None,  # the workload file's COMPILE (the flag's name, though it shadows a builtin)
    grad_accum_steps: int | None = None, eval_every: int | None = None, eval_steps: int | None = None,
    contexts: ContextCache | None = None, history: History | None = None,
    outcomes_version: tuple | None = None, name: str | None = None,
) -> Recommendation:
    """Profile (or load a profile), predict every candidate in the catalog, price, rank, store.

    Args:
        source: a workload file path, an ``advisor.Workload``, a ``Profile`` or a profile ``.json`` path.
        deadline: "6h", "90m", seconds, a ``datetime.timedelta``; budget: 50, "$50". objective: "cost"
            (cheapest meeting the constraints) or "time" (fastest meeting them). providers / regions: "aws,gcp"
            or a list. spot: rank on spot prices where offered.
        precision, compile, grad_accum_steps, eval_every, eval_steps, name: the GPUs' precision, how the job steps
            and the workload's name, as in ``predict``; mixed precision and other batch sizes are also what-ifs.
        pricing_files: extra or overriding rate files (also ``ADVISOR_PRICING``). save: store the
            recommendation in history (``rec.id`` is then set).
        before_save: called with the ranked recommendation before it is stored (the CLI writes its plot there),
            so that an output that fails leaves nothing saved.
        startup_seconds_cpu / startup_seconds_gpu: the paid start-up of a CPU / GPU instance ("2m", 90, 0),
            overriding ``settings`` (``ADVISOR_STARTUP_SECONDS_CPU`` / ``_GPU``); it is in every total time.
        contexts / history / outcomes_version: a server's ``ContextCache`` (reused work, the correction's fit
            per version of the outcomes), open ``History`` and its ``outcomes_version()`` as just read.

    Returns: the ``Recommendation``. Raises ``NoFeasibleCandidateError`` (exit code 3) when nothing meets the
        constraints; its ``.recommendation`` holds the nearest misses.
    """
    from advisor import ranking
    from advisor.history.remembered import remember_scaling
    from advisor.pricer import Pricer, offers_for, what_ifs

    check_options({"save": save, "spot": spot}, {"progress": progress, "before_save": before_save})
    check_objects(settings=(settings, Settings))  # history=: open_history checks it
    settings = (settings or Settings.from_env()).with_startup(startup_seconds_cpu, startup_seconds_gpu)
    check_job_values(dataset_size, epochs, batch_size)
    probe_budget(source, probe_seconds)  # refused with a saved profile before anything else is done
    source, explicit, steps = _steps(source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                                     precision=precision, compile=compile, grad_accum_steps=grad_accum_steps,
                                     eval_every=eval_every, eval_steps=eval_steps, name=name)
    precision = steps.precision
    constraints = recommend_constraints(objective, deadline, budget, providers, regions, spot, top, precision, settings)
    files = [*(Path(p) for p in settings.pricing_files), *pricing_paths(pricing_files)]
    catalog, offers, keyed = offers_for(files, contexts, constraints.providers, constraints.regions)
    notes: list[str] = []
    with open_history(settings, required=save, given=history, notes=notes) as hist:
        fitted = fit_correction_noted(hist, notes, required=save, contexts=contexts, version=outcomes_version)
        prof = remember_scaling(_job_profile(source, None, steps, precision, batch_size, probe_seconds, progress,
                                             settings.raise_probe_priority, name=name), hist)
        steps = job_settings(source, explicit, prof, probe_batch_size(source, batch_size, DEFAULT_BATCH_SIZE))
        job = job_for(prof, dataset_size, epochs, batch_size, steps, source=source, notes=(job_notes := []))
        at = prof.analysed_for(precision)  # a 16-bit job: from the profile's bf16 analysis, if any
        price = Pricer.corrected(at, offers, fitted, None if contexts is None else contexts.for_profile(at), keyed)
        priced, here = price(job, precision), price.here(job, precision)
        with steps_kept(job):
            rec = ranking.rank(
                priced, constraints, workload=WorkloadSummary.of(prof.workload), dataset_size=job.dataset_size,
                epochs=job.epochs, batch_size=job.batch_size, grad_accum_steps=job.grad_accum_steps,
                startup_seconds_cpu=settings.startup_seconds_cpu, startup_seconds_gpu=settings.startup_seconds_gpu,
                what_ifs=what_ifs(prof, job, precision, price, fitted, contexts),
                pricing_snapshot=catalog.snapshot(offers),
                notes=[*job_notes, *profile_notes(prof, fitted), *steps.notes, *notes,
                       *shared_name_notes(hist, prof.workload, on_disk=not _is_saved_profile(source))],  # by name
                measured_devices=prof.timed_devices(), here=here, host=prof.host.hostname if prof.host else None,
                process_start_seconds=prof.host.process_start_seconds if prof.host is not None else None,
                today=date.today())
        rec.notes.extend(estimate_caveats(rec, priced, here, prof.notes) + eager_memory(rec, job))
        return _finish(rec, prof, job, price.context, hist if save else None, before_save)


def _finish(rec: Recommendation, prof: Profile, job: JobSpec, ctx: Any, hist: History | None,
            before_save: Callable[[Recommendation], None] | None) -> Recommendation:
    """The answer's last touches: the history factors applied, the chosen GPU's lean for this kind of job and
    what the job could change there, the caller's hook, then the history row (``hist`` None: not saved)."""
    with_history_factors(rec)
    rec.notes.extend(chosen_gpu_notes(rec, prof, job, ctx))
    job_steps(rec, job)
    if before_save is not None:
        before_save(rec)
    if hist is not None:
        save_recommendation(hist, rec, prof)  # a failed save's error carries the answer
    return rec


@python_surface
def record_outcome(recommendation_id: int, actual_seconds: float | str, *, instance_type: str | None = None,
                   force: bool = False, settings: Settings | None = None, failed: bool = False):
    """Store the real duration of a recommended job (what ``advisor history record`` does).

    ``actual_seconds`` is seconds or a duration ("30m", "1h30"). An outcome more than 20x away from the prediction
    (the job alone), or one the recommendation already has (one run twice), is refused unless ``force``.
    ``failed``: the run crashed or was stopped; ``actual_seconds`` is how long it ran. Stored with status "failed":
    listed, never compared nor learned from (a crash recorded as completed was learned as a run that long).
    """
    seconds = parse_actual_seconds(actual_seconds, failed=failed)
    from advisor.history.repository import History  # not open_history(required=True): it makes a missing file
    with History(settings=settings or Settings.from_env()) as hist:
        return hist.record_outcome(recommendation_id, seconds, instance_type=instance_type, force=force,
                                   status="failed" if failed else "completed")
