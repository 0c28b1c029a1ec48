"""``advisor predict --gpus 1,2,4,8 --precision all``: one GPU model at several counts and precisions in one
table, with the scaling efficiency and the price of the cheapest offer of that many GPUs (accelerate's
``estimate-memory`` shows every dtype the same way). Orchestration over ``advisor.api``, like it; prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor import api
from advisor.errors import HistoryError, PredictionError
from advisor.schemas import Profile, ScalingGrid, ScalingRow, Target
from advisor.settings import Settings
from advisor.sources import job_for, probe_budget
from advisor.workload.job import normalize_precision

if TYPE_CHECKING:  # pragma: no cover
    from advisor.probe import Progress


def predict_grid(
    source: Any,
    *,
    gpu: str,
    counts: Sequence[int] = (1,),
    precisions: Sequence[str | None] = (None,),
    dataset_size: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    probe_seconds: float | None = None,
    progress: Progress | None = None,
    save: bool = False,
    pricing_files: Sequence[str | Path] = (),
    settings: Settings | None = None,
    startup_seconds_gpu: str | float | None = None,
    peer_to_peer: bool | None = None,
    **job_steps: Any,
) -> ScalingGrid:
    """One GPU model at several counts and precisions (``predict --gpus 1,2,4,8 --precision all``): each
    prediction, and the cheapest on-demand offer of that many GPUs in the catalog with its billed cost (start-up
    + job). A row that cannot be predicted (a precision the GPU lacks, more GPUs than samples) says why.
    ``peer_to_peer``: ``Target.gpu``'s, for every count above one (None: the card's own guess). ``job_steps``:
    ``compile`` ... ``eval_steps``, as ``api.predict`` takes them, for every row. A row whose save fails (the
    history locked or gone) stops the saving, not the table: the HistoryError is raised at the end with the whole
    table as its ``grid`` (the rows saved before it keep their ``history_id``)."""
    from advisor import pricing

    settings = (settings or Settings.from_env()).with_startup(None, startup_seconds_gpu)
    for prec in precisions:
        api.check_precision(prec)
    name = api.resolve_target(gpu=gpu).gpu_name
    probe_budget(source, probe_seconds)  # a saved profile takes none
    profiled = _profiler(source, name, dict(dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                                            probe_seconds=probe_seconds, progress=progress, **job_steps))
    prof = profiled(precisions[0])
    job = job_for(prof, dataset_size, epochs, batch_size, source=source)
    catalog = pricing.load_catalog([Path(p) for p in (*settings.pricing_files, *pricing_files)])
    offers = [o for o in catalog.offers if o.gpu == name]
    grid = ScalingGrid(title=f"{prof.workload.name} on {name}", gpu=name, dataset_size=job.dataset_size,
                       epochs=job.epochs, batch_size=job.batch_size, startup_seconds=settings.startup_seconds_gpu)
    runs_as: set[tuple[str, str]] = set()  # (asked, priced): the precisions this GPU runs as others
    repeated, unsaved = False, None  # unsaved: the save that failed (a HistoryError), raised once the table is whole

    def predicted(prec: str | None, target: Target, **more: Any) -> Any:  # the job at ``prec`` on ``target``
        return api.predict(profiled(prec), dataset_size=job.dataset_size, epochs=job.epochs,
                           batch_size=job.batch_size, target=target, precision=prec, settings=settings,
                           **job_steps, **more)

    for count in counts:
        cheapest = min((o for o in offers if o.gpu_count == count), default=None,
                       key=lambda o: (o.price_usd_per_hour, o.provider, o.instance_type))
        for prec in precisions:
            try:
                target = Target.gpu(name, count, peer_to_peer if count > 1 else None)
                est = predicted(prec, target, save=save)
            except HistoryError as exc:
                if exc.estimate is None:
                    raise
                est, save, unsaved = exc.estimate, False, exc  # the table goes on (its probe may have taken minutes)
            except PredictionError as exc:
                # the precision the row was asked at: the job's own where none was given (a bf16 file's, not fp32)
                asked = normalize_precision(prec or prof.workload.precision) or "fp32"
                grid.rows.append(ScalingRow(count=count, precision=asked, error=exc.cli_message))
                continue
            if prec not in (None, "mixed", est.precision):  # the GPU lacks it (bf16, tf32 before Ampere)
                runs_as.add((prec, est.precision))
            if any(r.count == count and r.estimate is not None and r.precision == est.precision for r in grid.rows):
                repeated = True  # the same row again
                continue
            # The offer is billed for the job as it runs there: on its own vCPUs and links (recommend's figure),
            # which may not be the host this row assumed (a 4-vCPU g4dn feeds an input-bound job slower).
            own = est if cheapest is None else _on_offer(cheapest, est,
                                                         lambda t, v, p=prec: predicted(p, t, vcpus=v),
                                                         peer_to_peer, grid.notes)
            grid.rows.append(_row(count, est, cheapest, own, settings.startup_seconds_gpu))
    _grid_notes(grid, name, runs_as, repeated, _one_gpu_seconds(grid, lambda p: predicted(p, Target.gpu(name))))
    if unsaved is not None:
        unsaved.grid = grid
        raise unsaved
    return grid


def _row(count: int, est: Any, cheapest: Any, own: Any, startup_seconds: float) -> ScalingRow:
    """One grid row: ``est``, and the cheapest offer of ``count`` GPUs billed for ``own``, the job on that offer."""
    from advisor.pricing.billing import cost_usd

    return ScalingRow(
        count=count, precision=est.precision, estimate=est,
        price_usd_per_hour=cheapest.price_usd_per_hour if cheapest else None,
        offer=f"{cheapest.provider} {cheapest.instance_type} ({cheapest.region})" if cheapest else None,
        offer_seconds=own.seconds if own is not None and own is not est else None,
        # a job that does not fit these GPUs' memory has no cost to show: it would not run
        cost_usd=cost_usd(cheapest, own.seconds, startup_seconds=startup_seconds)
        if cheapest and own is not None and own.fits_memory else None)


def _profiler(source: Any, name: str, job_kwargs: dict[str, Any]) -> Any:
    """``profiled(precision)``: each precision's rows from the profile `predict --gpu NAME --precision P` makes (the
    analysis at P, a GPU of the kind here probed at P), made once. An analysis made at another precision is priced
    by approximation, and the table would disagree with the single prediction. A saved profile is what it is."""
    profiles: dict[str | None, Profile] = {}

    def profiled(prec: str | None) -> Profile:
        if isinstance(source, Profile):
            return source
        if prec == "tf32" and "fp32" in profiles and not profiles["fp32"].timed_devices():
            return profiles["fp32"]  # the same analysis (tf32 changes no byte or FLOP), and no GPU here to time
        if prec not in profiles:
            profiles[prec] = api.job_profile(source, target=Target.gpu(name), precision=prec, **job_kwargs)
        return profiles[prec]

    return profiled


def _one_gpu_seconds(grid: ScalingGrid, predict_one: Any) -> dict[str, float]:
    """One GPU's seconds at each precision of the grid: its one-GPU row's, else ``predict_one(precision)``'s. With
    no one-GPU row (--gpus 2,4,8), one GPU's time, predicted the same way, is still what a speed-up is against; not
    a row, and not saved."""
    one = {r.precision: r.estimate.seconds for r in grid.rows if r.count == 1 and r.estimate is not None}
    for prec in sorted({r.precision for r in grid.rows if r.estimate is not None} - set(one)):
        try:
            one[prec] = predict_one(prec).seconds
        except PredictionError:
            continue
    return one


def _grid_notes(grid: ScalingGrid, name: str, runs_as: set[tuple[str, str]], repeated: bool,
                one: dict[str, float]) -> None:
    """The grid's speed-ups over one GPU (``one``: its seconds at each precision) and its notes: precisions the
    GPU runs as others, offers priced on their own hosts, counts that take longer than one GPU."""
    as_asked = sorted(f"{asked} as {priced}" for asked, priced in runs_as if priced != "fp64")
    if as_asked:
        grid.notes.append(f"{name} runs {' and '.join(as_asked)}" + (": one row each." if repeated else "."))
    float64 = sorted(asked for asked, priced in runs_as if priced == "fp64")
    if float64:  # a float64 model: the same job whatever was asked, not a GPU lacking a precision
        grid.notes.append(f"The model trains in float64, which runs as float64 at {', '.join(float64)} alike "
                          "(autocast and TF32 leave float64 work alone): one row per GPU count.")
    if any(r.offer_seconds is not None for r in grid.rows):
        grid.notes.append("The cost is the named offer's for the job on its own host (its vCPUs feed the input "
                          "pipeline; its GPU links carry the all-reduce), as recommend prices it; where that time "
                          "differs from the row's, the offer's column gives it.")
    if one and not any(r.count == 1 for r in grid.rows):
        grid.notes.append(f"vs 1 GPU: against one {name}, predicted the same way (not a row of this table).")
    for r in grid.rows:
        if r.estimate is not None and r.precision in one and r.estimate.seconds > 0:
            r.speedup_vs_one_gpu = one[r.precision] / r.estimate.seconds
    slower: dict[int, list[str]] = {}  # a count once, with its precisions in the table's order
    for r in grid.rows:
        if r.count > 1 and r.speedup_vs_one_gpu is not None and r.speedup_vs_one_gpu < 1:
            slower.setdefault(r.count, []).append(r.precision)
    if slower:
        rows = ", ".join(f"{count} x {name} ({', '.join(dict.fromkeys(precs))})"
                         for count, precs in sorted(slower.items()))
        grid.notes.append(f"{rows} take longer than one GPU for this job: the all-reduce and "
                          "synchronisation of each step cost more than splitting its batch saves.")


def _on_offer(offer: Any, est: Any, predict: Any, peer_to_peer: bool | None = None,
              notes: list[str] | None = None) -> Any:
    """The job's estimate on ``offer`` as recommend makes it (its vCPUs, its GPU links: ``offer_target``): ``est``
    itself where that is the same within 0.5%, None where the offer cannot run it. ``peer_to_peer``: the request's
    ``--p2p``/``--no-p2p``, which describes the machine asked about, so it replaces the card's own guess for the
    offer too (``--no-p2p`` priced the offer with peer-to-peer before, at the faster time); an instance family
    ``profiles/gpu_links.csv`` says has none stays without, and ``notes`` (the grid's) says so once."""
    from advisor.predictor.targets import offer_target

    target = offer_target(offer)
    if peer_to_peer is not None and target.count > 1:
        if target.peer_to_peer is False and peer_to_peer:
            note = (f"{offer.provider} {offer.instance_type}: its instance family has no PCIe peer-to-peer "
                    "(profiles/gpu_links.csv), so its cost is priced without, though --p2p was given.")
            if notes is not None and note not in notes:
                notes.append(note)
        else:
            target = target.model_copy(update={"peer_to_peer": peer_to_peer})
    try:
        own = predict(target, offer.vcpus)
    except PredictionError:
        return None
    return est if abs(own.seconds - est.seconds) <= 0.005 * est.seconds and own.fits_memory == est.fits_memory \
        else own
