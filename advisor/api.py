"""The orchestration that the CLI and Python users share: profile, predict, recommend, and the history hand-off.

Every function returns the pydantic object that the CLI prints with ``--json``; nothing here prints. User code
(the workload file) only ever runs inside the probe's child process; this module reads a workload file's
defaults (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``) with ``ast`` without executing it.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import AdvisorError, HistoryError, NoFeasibleCandidateError, PredictionError, WorkloadError
from advisor.schemas import Constraints, Estimate, Profile, Recommendation, Target
from advisor.settings import Settings
from advisor.units import parse_duration_seconds, parse_names, parse_usd
from advisor.workload import check_job_values

if TYPE_CHECKING:  # pragma: no cover
    from advisor.schemas import JobSpec
    from advisor.workload import Workload

Progress = Callable[[str, float, str], None]
Source = "str | Path | Profile | Workload"

DEFAULT_BATCH_SIZE = 32


# ------------------------------------------------------------------------------------------ profiles


def read_file_defaults(path: str | Path) -> dict[str, int]:
    """``DATASET_SIZE`` / ``EPOCHS`` / ``BATCH_SIZE`` literals of a workload file, read without running it."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return {}  # the probe child reports the real problem with its full message
    names = {"DATASET_SIZE": "dataset_size", "EPOCHS": "epochs", "BATCH_SIZE": "batch_size"}
    found: dict[str, int] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    found[names[target.id]] = value
    return found


def _check_workload_path(path: Path) -> None:
    # The same first checks load_workload makes, done here so a typo fails before a child process starts.
    if not path.exists():
        raise WorkloadError(f"{path}: no such file.",
                            hint="Fix: check the path; try one of the examples, e.g. examples/tabular_mlp.py.")
    if path.is_dir() or path.suffix != ".py":
        raise WorkloadError(f"{path}: a workload must be a Python file ending in .py.",
                            hint="Fix: point advisor at the .py file that defines build_model() and make_batch().")


def local_gpu_devices() -> list[str]:
    """["cuda:0", ...] for the GPUs visible here (NVML, so the parent process never initialises CUDA)."""
    from advisor.hardware import detect_gpus

    try:
        return [f"cuda:{g.index}" for g in detect_gpus()]
    except AdvisorError:
        return []


def resolve_devices(devices: str | Sequence[str] | None) -> list[str]:
    """'auto'/'all' -> cpu + every visible GPU; 'cpu'; 'cuda:0'; or a list of those."""
    if devices is None or devices in ("auto", "all"):
        return ["cpu", *local_gpu_devices()]
    items = [devices] if isinstance(devices, str) else list(devices)
    out: list[str] = []
    for item in items:
        for name in str(item).split(","):
            name = name.strip().lower()
            if name in ("auto", "all"):
                out.extend(d for d in ["cpu", *local_gpu_devices()] if d not in out)
            elif name == "cuda":
                out.append("cuda:0")
            elif name == "cpu" or name.startswith("cuda:"):
                out.append(name)
            elif name:
                from advisor.errors import HardwareError, did_you_mean

                raise HardwareError(f"Unknown device {name!r}.{did_you_mean(name, ['cpu', 'cuda:0', 'all'])}",
                                    hint="Fix: use cpu, cuda:N or all.")
    present = set(local_gpu_devices())
    for name in out:
        if name.startswith("cuda:") and name not in present:
            from advisor.errors import HardwareError

            raise HardwareError(f"No GPU {name} here: this machine has "
                                f"{', '.join(sorted(present)) or 'no visible GPU'}.",
                                hint="Fix: use --device cpu, or predict a GPU you don't have with --gpu NAME.")
    return out


def profile(
    workload: str | Path | Workload,
    *,
    devices: str | Sequence[str] | None = "auto",
    batch_size: int | None = None,
    batch_sizes: Sequence[int] | None = None,
    probe_seconds: float = 60.0,
    precision: str = "fp32",
    threads: int | None = None,
    analyze: bool = True,
    progress: Progress | None = None,
    timeout_seconds: float | None = None,
) -> Profile:
    """Probe a workload on the requested devices (default: the CPU and every visible GPU).

    Args:
        workload: a workload file path, or an ``advisor.Workload``.
        devices: "auto" (cpu + all GPUs), "cpu", "cuda:0", or a list; an empty list only analyses the model.
        batch_size: the training batch size (the top of the probe ladder); default the file's BATCH_SIZE.
        batch_sizes: an explicit ladder instead of the automatic one.
        probe_seconds: time budget for probing.
        precision: fp32 | tf32 | bf16 | fp16.
        threads: CPU threads for the CPU probe (default torch's).
        analyze: also run the shape-level analysis used to scale to other GPUs.
        progress: callback(device, fraction, message).

    Returns:
        The ``Profile``.
    """
    from advisor.probe import run_profile
    from advisor.workload import Workload

    if not isinstance(workload, Workload):
        path = Path(workload)
        _check_workload_path(path)
        batch_size = batch_size or read_file_defaults(path).get("batch_size")
        source: Any = path
    else:
        batch_size = batch_size or workload.batch_size
        source = workload
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size <= 0):
        raise WorkloadError(f"batch size must be a positive whole number, got {batch_size!r}.",
                            hint="Fix: pass --batch-size with a value of 1 or more.")
    if probe_seconds is None or probe_seconds <= 0:
        raise WorkloadError(f"--probe-seconds must be positive, got {probe_seconds!r}.", hint="Fix: e.g. 60.")
    device_list = resolve_devices(devices) if devices != [] else []
    return run_profile(
        source,
        devices=device_list,
        batch_size=batch_size or DEFAULT_BATCH_SIZE,
        batch_sizes=list(batch_sizes) if batch_sizes else None,
        probe_seconds=probe_seconds,
        precision=precision,
        threads=threads,
        timeout_seconds=timeout_seconds,
        progress=progress,
        analyze=analyze,
    )


def load_profile(path: str | Path) -> Profile:
    """A profile saved by ``advisor profile -o FILE`` (or ``save_profile``)."""
    from advisor.probe import load_profile as _load

    return _load(Path(path))


def save_profile(prof: Profile, path: str | Path) -> Path:
    from advisor.probe import save_profile as _save

    _save(prof, Path(path))
    return Path(path)


# ----------------------------------------------------------------------------------------- prediction


def resolve_target(target: Target | str | None = None, *, gpu: str | None = None, gpus: int = 1,
                   device: str | None = None, threads: int | None = None) -> Target:
    """A ``Target`` from the API/CLI's ways of naming one; GPU names are resolved to their canonical spec."""
    from advisor.hardware.specs import resolve_gpu

    if isinstance(target, Target):
        if target.kind == "gpu":
            return Target.gpu(resolve_gpu(target.gpu_name).name, target.count)
        return target
    if isinstance(target, str):
        if target.lower() == "cpu":
            return Target.cpu(threads)
        gpu = target
    if gpu:
        if gpus is None or gpus < 1:
            raise PredictionError(f"--gpus must be 1 or more, got {gpus!r}.", hint="Fix: e.g. --gpus 8.")
        return Target.gpu(resolve_gpu(gpu).name, gpus)
    if device and device.startswith("cuda"):
        return _local_gpu_target(device)
    if threads is not None and threads < 1:
        raise PredictionError(f"--threads must be 1 or more, got {threads!r}.", hint="Fix: e.g. --threads 8.")
    return Target.cpu(threads)


def _local_gpu_target(device: str) -> Target:
    """The Target of a GPU on this machine ("cuda:0"), by its recognised spec name."""
    from advisor.errors import HardwareError
    from advisor.hardware import detect_gpus

    index = int(device.split(":", 1)[1]) if ":" in device else 0
    for gpu in detect_gpus():
        if gpu.index == index:
            if not gpu.spec_name:
                raise HardwareError(f"{device} ({gpu.name}) is not a GPU advisor has a spec for.",
                                    hint="Fix: add it to profiles/gpus.csv, or predict with --gpu NAME.")
            return Target.gpu(gpu.spec_name, 1)
    raise HardwareError(f"No GPU {device} here.",
                        hint="Fix: run `advisor hardware` to see this machine's devices, or use --gpu NAME.")


def job_for(prof: Profile, dataset_size: int | None, epochs: int | None, batch_size: int | None) -> JobSpec:
    """The job from explicit values, else the workload file's defaults; positive integers only."""
    from advisor.workload import Workload

    info = prof.workload
    stub = Workload(model=None, make_batch=None, name=info.name, dataset_size=info.dataset_size,
                    epochs=info.epochs, batch_size=info.batch_size,
                    path=Path(info.path) if info.path else None)
    return stub.job(dataset_size, epochs, batch_size)


def _as_profile(source: Any, *, devices: str | Sequence[str] | None, batch_size: int | None,
                probe_seconds: float, precision: str, progress: Progress | None,
                threads: int | None = None) -> Profile:
    if isinstance(source, Profile):
        return source
    from advisor.workload import Workload

    if isinstance(source, (str, Path)) and Path(source).suffix == ".json":
        return load_profile(source)
    if isinstance(source, (str, Path, Workload)):
        return profile(source, devices=devices, batch_size=batch_size, probe_seconds=probe_seconds,
                       precision=precision, progress=progress, threads=threads)
    raise WorkloadError(f"Cannot predict from a {type(source).__name__}.",
                        hint="Fix: pass a workload file path, an advisor.Workload, a Profile or a profile .json path.")


def _history(settings: Settings):
    from advisor.history.repository import History

    return History(settings=settings)


def _correction(settings: Settings):
    """The learned history correction, or None (no history yet, too few runs, or it does not help)."""
    try:
        from advisor.predictor.learned import fit_correction

        with _history(settings) as hist:
            return fit_correction(hist.training_rows())
    except (AdvisorError, ImportError):
        return None


def predict(
    source: Any,
    *,
    dataset_size: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    target: Target | str | None = None,
    precision: str | None = None,
    probe_seconds: float = 60.0,
    progress: Progress | None = None,
    use_history: bool = True,
    save: bool = False,
    settings: Settings | None = None,
) -> Estimate:
    """Predict the whole job's wall time on one target.

    Args:
        source: a ``Profile``, a profile ``.json`` path, a workload file path, or an ``advisor.Workload``
            (a workload is probed first: the CPU for a CPU target, only analysed for a GPU you don't have).
        dataset_size, epochs, batch_size: the job (defaults: the workload file's constants).
        target: ``Target.cpu(threads)``, ``Target.gpu("A100-80GB", 4)``, "cpu" or a GPU name. Default: CPU.
        precision: fp32 | tf32 | bf16 | fp16 (default: the profile's, fp32).
        use_history: apply the learned history correction where it beats the base predictor.
        save: store the prediction in the history database.

    Returns:
        The ``Estimate`` (DESIGN.md's ``predict --json``).
    """
    from advisor.predictor.estimate import estimate as _estimate

    settings = settings or Settings.from_env()
    check_job_values(dataset_size, epochs, batch_size)
    tgt = resolve_target(target)
    if tgt.kind == "gpu" and not isinstance(source, Profile):
        # Only the analysis is needed for a GPU we don't have; a local GPU of that kind is probed.
        local = [d for d in local_gpu_devices()]
        devices: Any = local if local else []
    else:
        devices = ["cpu"]
    prof = _as_profile(source, devices=devices, batch_size=batch_size, probe_seconds=probe_seconds,
                       precision=precision or "fp32", progress=progress, threads=tgt.threads)
    job = job_for(prof, dataset_size, epochs, batch_size)
    est = _estimate(prof, job, tgt, precision=precision)
    if use_history:
        corr = _correction(settings)
        if corr is not None:
            est = corr.apply(est, prof)
    if save:
        with _history(settings) as hist:
            hist.save_prediction(est, prof.workload)
    return est


# -------------------------------------------------------------------------------------- recommendation


def recommend(
    source: Any,
    *,
    dataset_size: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    deadline: str | float | None = None,
    budget: str | float | None = None,
    objective: str = "cost",
    providers: str | Sequence[str] | None = None,
    regions: str | Sequence[str] | None = None,
    spot: bool = False,
    top: int = 10,
    precision: str | None = None,
    pricing_files: Sequence[str | Path] = (),
    probe_seconds: float = 60.0,
    progress: Progress | None = None,
    save: bool = True,
    settings: Settings | None = None,
) -> Recommendation:
    """Profile (or load a profile), predict every candidate in the catalog, price, rank, store.

    Args:
        source: a workload file path, an ``advisor.Workload``, a ``Profile`` or a profile ``.json`` path.
        deadline: "6h", "90m", seconds...; budget: 50, "$50".
        objective: "cost" (cheapest meeting the constraints) or "time" (fastest meeting them).
        providers / regions: "aws,gcp" or a list. spot: rank on spot prices where offered.
        precision: the precision assumed on GPUs (default fp32 = plain PyTorch); mixed precision and other
            batch sizes are evaluated as what-ifs and reported in ``advice``.
        pricing_files: extra or overriding rate files (also ``ADVISOR_PRICING``).
        save: store the recommendation in history (``rec.id`` is then set).

    Returns:
        The ``Recommendation``. Raises ``NoFeasibleCandidateError`` (exit code 3) when nothing meets the
        constraints; its ``.recommendation`` holds the nearest misses.
    """
    from advisor import pricing, ranking
    from advisor.predictor.estimate import EstimateContext, estimate_many

    settings = settings or Settings.from_env()
    check_job_values(dataset_size, epochs, batch_size)
    if objective not in ("cost", "time"):
        from advisor.errors import ConfigError, did_you_mean

        raise ConfigError(f"Unknown objective {objective!r}.{did_you_mean(objective, ['cost', 'time'])}",
                          hint="Fix: use --objective cost or --objective time.")
    if top is None or top < 1:
        from advisor.errors import ConfigError

        raise ConfigError(f"--top must be 1 or more, got {top!r}.", hint="Fix: e.g. --top 10.")
    constraints = Constraints(
        objective=objective,
        deadline_seconds=parse_duration_seconds(deadline, what="deadline"),
        budget_usd=parse_usd(budget),
        providers=parse_names(providers),
        regions=parse_names(regions),
        spot=spot,
        top=top,
        precision=precision,
    )
    files = [Path(p) for p in (*settings.pricing_files, *pricing_files)]
    catalog = pricing.load_catalog(files)
    offers = catalog.filter(providers=constraints.providers, regions=constraints.regions)

    prof = _as_profile(source, devices="auto", batch_size=batch_size, probe_seconds=probe_seconds,
                       precision="fp32", progress=progress)
    job = job_for(prof, dataset_size, epochs, batch_size)
    targets = ranking.needed_targets(offers)
    correction = _correction(settings)
    context = EstimateContext.load()

    def _estimates(prec: str | None, bsz: int) -> dict[str, Estimate]:
        alt_job = job if bsz == job.batch_size else type(job)(job.dataset_size, job.epochs, bsz)
        out = estimate_many(prof, alt_job, targets, precision=prec, context=context)
        if correction is not None:
            out = [(t, correction.apply(e, prof)) for t, e in out]
        return {ranking.target_key(t): e for t, e in out}

    estimates = _estimates(precision, job.batch_size)
    alternatives: dict[str, dict[str, Estimate]] = {}
    if precision not in ("bf16", "fp16"):
        alternatives["--precision bf16 (fp16 where bf16 is unsupported)"] = _estimates("mixed", job.batch_size)
    for factor in (2,):
        alt_batch = job.batch_size * factor
        alternatives[f"--batch-size {alt_batch}"] = _estimates(precision, alt_batch)

    snapshot = catalog.snapshot() if hasattr(catalog, "snapshot") else {}
    workload_info = {
        "name": prof.workload.name,
        "params": prof.workload.param_count,
        "flops_per_sample": prof.workload.flops_per_sample,
        "path": prof.workload.path,
        "file_sha256": prof.workload.file_sha256,
    }
    try:
        rec = ranking.rank(
            offers=offers, estimates=estimates, constraints=constraints, workload=workload_info,
            dataset_size=job.dataset_size, epochs=job.epochs, batch_size=job.batch_size,
            startup_seconds_cpu=settings.startup_seconds_cpu, startup_seconds_gpu=settings.startup_seconds_gpu,
            alternatives=alternatives, pricing_snapshot=snapshot,
        )
    except NoFeasibleCandidateError as exc:
        if exc.recommendation is not None:
            exc.recommendation.measured_devices = [d.device for d in prof.devices]
        raise
    rec.measured_devices = [d.device for d in prof.devices]
    rec.notes.extend(f"probe: {note}" for note in prof.notes)
    if not prof.devices or all(d.kind == "cpu" for d in prof.devices):
        rec.notes.append("No GPU here: GPU candidates are scaled from the model's analysis and datasheet specs "
                         "(method 'scaled'); CPU candidates from this machine's probe.")
    if save:
        try:
            with _history(settings) as hist:
                rec.id = hist.save_recommendation(rec, profile=prof)
        except HistoryError:
            raise
    return rec


def record_outcome(recommendation_id: int, actual_seconds: float, *, instance_type: str | None = None,
                   settings: Settings | None = None):
    """Store the real duration of a recommended job (what ``advisor history record`` does)."""
    if actual_seconds is None or not math.isfinite(actual_seconds) or actual_seconds <= 0:
        raise HistoryError(f"--actual-seconds must be a positive number, got {actual_seconds!r}.",
                           hint="Fix: e.g. --actual-seconds 5400.")
    with _history(settings or Settings.from_env()) as hist:
        return hist.record_outcome(recommendation_id, actual_seconds, instance_type=instance_type)
