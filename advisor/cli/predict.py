"""``advisor predict``: one target's whole-job time, or one GPU model at several counts and precisions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli import remote
from advisor.cli.errors import handle_errors, printed_unsaved, shown_after_saving
from advisor.cli.options import (
    PRECISION_METAVAR,
    BatchSizeOption,
    CompileOption,
    DatasetSizeOption,
    EpochsOption,
    EvalEveryOption,
    EvalStepsOption,
    GradAccumOption,
    NameOption,
    job_setting_kwargs,
    pick_source,
)
from advisor.errors import HistoryError


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


@handle_errors
def predict(
    workload: Annotated[Path | None, typer.Argument(metavar="WORKLOAD", readable=False,
                                                    help="Workload file; omit with --profile.")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", readable=False,
                                                 help="A saved profile instead of probing.")] = None,
    dataset_size: DatasetSizeOption = None,
    epochs: EpochsOption = None,
    batch_size: BatchSizeOption = None,
    device: Annotated[str | None, typer.Option("--device", metavar="[cpu|cuda:N]",
                                               help="A device here.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads to predict for.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="GPU model, e.g. A100-80GB, H100.")] = None,
    gpus: Annotated[str | None, typer.Option("--gpus", metavar="K[,K...]", help="GPUs in data parallel; a list "
                                             "(1,2,4,8) prints one table [default: 1].")] = None,
    vcpus: Annotated[str | None, typer.Option("--vcpus", metavar="N",
                                              help="vCPUs of the GPU host (all its GPUs together), which run the "
                                                   "input pipeline [default: 16 per GPU].")] = None,
    p2p: Annotated[bool | None, typer.Option("--p2p/--no-p2p", help="K GPUs over PCIe with/without peer-to-peer "
                                             "transfers (a cloud VM's often have none) [default: the card's "
                                             "own: data-centre and workstation cards have it]")] = None,
    instance: Annotated[str | None, typer.Option("--instance", metavar="TYPE", help="A catalog machine, priced as "
                                                 "recommend prices its row (e.g. g5.24xlarge).")] = None,
    provider: Annotated[str | None, typer.Option("--provider", metavar="NAME", help="--instance's provider.")] = None,
    precision: Annotated[str | None, typer.Option("--precision", metavar=PRECISION_METAVAR[:-1] + "|all]",
                                                  help="'all' (or a comma list) prints one table [default: the "
                                                       "file's PRECISION, else fp32].")] = None,
    compile_: CompileOption = None,
    grad_accum_steps: GradAccumOption = None,
    eval_every: EvalEveryOption = None,
    eval_steps: EvalStepsOption = None,
    startup_gpu: Annotated[str | None, typer.Option("--startup-gpu", help="Paid start-up of a GPU instance, in "
                                                    "the totals shown [default: 5m].")] = None,
    probe_seconds: Annotated[float | None, typer.Option("--probe-seconds", help="Probe budget [default: 60s].")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (schema_version 1).")] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store the prediction in history.")] = False,
    server: remote.ServerOption = None, name: NameOption = None,
) -> None:
    """Predict the whole job's wall time on one target (this CPU, other thread counts, or K GPUs of a model).

    With --gpus 1,2,4,8 and/or --precision all: one table of every count and precision, with the scaling
    efficiency and the cheapest offer's price per hour. With --server URL: probed here, predicted (and saved,
    unless --no-save) on that server."""
    from advisor.cli import render
    from advisor.cli.db import check_history_url
    from advisor.cli.options import parse_gpu_counts, parse_precisions
    from advisor.errors import ConfigError
    from advisor.predictor.input_bound import check_target_vcpus

    if instance is not None or provider is not None:  # the whole target: checked before the flags it replaces
        return _predict_instance(dict(locals()))
    host_vcpus = check_target_vcpus(vcpus, bool(gpu) or (device or "").startswith("cuda"))
    source = pick_source(workload, profile)
    check_history_url(server, save=not no_save)
    counts, precisions = parse_gpu_counts(gpus or "1"), parse_precisions(precision)
    _check_target_flags(gpu, device, p2p, threads, counts, startup_gpu)
    job_flags = job_setting_kwargs(compile_, grad_accum_steps, eval_every, eval_steps)
    if host_vcpus is not None and (len(counts) > 1 or len(precisions) > 1):
        raise ConfigError("--vcpus is one host's vCPUs: it needs one --gpus count and one --precision.",
                          hint="Fix: e.g. --gpu H100 --gpus 8 --vcpus 96.")
    if server and (len(counts) > 1 or len(precisions) > 1):
        raise ConfigError("--server predicts one target at a time: one --gpus count and one --precision.",
                          hint="Fix: ask for one count and one precision, or drop --server for the table.")
    if len(counts) > 1 or len(precisions) > 1:
        _grid(source, gpu, counts, precisions, dict(dataset_size=dataset_size, epochs=epochs,
                                                   batch_size=batch_size, probe_seconds=probe_seconds,
                                                   save=not no_save, startup_seconds_gpu=startup_gpu,
                                                   peer_to_peer=p2p, name=name, **job_flags), json_out)
        return
    target = _target(source, gpu, counts[0], device, threads, p2p)
    with _printed_if_unsaved(_startup_shown(gpu, startup_gpu), json_out), \
            render.probe_progress(not json_out) as progress:
        est, startup = _run_one(source, dict(
            dataset_size=dataset_size, epochs=epochs, batch_size=batch_size, target=target,
            precision=precisions[0], probe_seconds=probe_seconds, progress=progress, save=not no_save,
            vcpus=host_vcpus, name=name, **job_flags), server=server, gpu=gpu, device=device, startup_gpu=startup_gpu)
    with shown_after_saving([] if est.history_id is None else [f"p{est.history_id}"], server):
        _show_one(est, startup, json_out, server)


def _show_one(est, startup: float | None, json_out: bool, server: str | None = None,
              placed_fields: dict | None = None) -> None:
    """One prediction as ``--json`` or text; ``placed_fields``: a catalog instance's name in the JSON's target."""
    from advisor.cli import render

    if json_out:
        data = est.json_contract(instance_startup_seconds=startup)
        data["target"].update(placed_fields or {})
        render.print_json(data)
    else:
        _print_one(est, startup, server)


@contextlib.contextmanager
def _printed_if_unsaved(startup: float | None, json_out: bool, placed_fields: dict | None = None) -> Iterator[None]:
    """A prediction made but not saved (``HistoryError.estimate``) is printed all the same (``_shown_unsaved``)."""
    try:
        yield
    except HistoryError as exc:
        if exc.estimate is None:
            raise
        raise _shown_unsaved(exc, startup, json_out, placed_fields) from exc


def _shown_unsaved(exc: HistoryError, startup: float | None, json_out: bool,
                   placed_fields: dict | None = None) -> HistoryError:
    """A prediction made but not saved: printed all the same, then the error (``printed_unsaved``); under
    --json the prediction (``"history_id": null``) is the document on stdout, as recommend's unsaved answer is."""
    return printed_unsaved(exc, lambda: _show_one(exc.estimate, startup, json_out, placed_fields=placed_fields),
                           "prediction")


def _startup_shown(gpu: str | None, startup_gpu: str | None) -> float | None:
    """The paid start-up shown beside a prediction made here: a GPU model's (``--startup-gpu``, else the
    settings'), none for a device here."""
    from advisor.settings import Settings

    return Settings.from_env().with_startup(None, startup_gpu).startup_seconds_gpu if gpu else None


def _predict_instance(flags: dict) -> None:
    """``predict --instance TYPE``: the catalog instance as recommend prices its row (``advisor.instance_target``),
    with its paid start-up (a GPU instance's, ``--startup-gpu``, or a CPU's) and, in JSON, its name in the target.
    With ``--server``, a GPU instance's target and vCPUs are sent (``remote.instance_predictor``). ``flags``:
    ``predict``'s parameters, by name."""
    from advisor import api
    from advisor.cli import render
    from advisor.cli.db import check_history_url
    from advisor.cli.options import parse_precisions
    from advisor.errors import ConfigError
    from advisor.instance_target import check_no_target_flags, placed_target
    from advisor.settings import Settings

    instance, provider, startup_gpu, json_out = (flags[k] for k in ("instance", "provider", "startup_gpu", "json_out"))
    job = dict(dataset_size=flags["dataset_size"], epochs=flags["epochs"], batch_size=flags["batch_size"],
               precision=flags["precision"], probe_seconds=flags["probe_seconds"], save=not flags["no_save"],
               name=flags["name"],
               **job_setting_kwargs(flags["compile_"], flags["grad_accum_steps"], flags["eval_every"],
                                    flags["eval_steps"]))
    if instance is not None:
        p2p = flags["p2p"]
        check_no_target_flags({"--gpu": flags["gpu"], "--gpus": flags["gpus"], "--vcpus": flags["vcpus"],
                               "--p2p" if p2p else "--no-p2p": p2p, "--device": flags["device"],
                               "--threads": flags["threads"]})
    server = flags["server"]
    if len(parse_precisions(job["precision"])) > 1:
        raise ConfigError("--instance prices one machine at one --precision (a list, or all, is a table of GPU "
                          "counts and precisions of a --gpu).", hint="Fix: one --precision, e.g. --precision bf16.")
    source = pick_source(flags["workload"], flags["profile"])
    check_history_url(server, save=job["save"])
    settings = Settings.from_env().with_startup(None, startup_gpu)  # saved with the prediction, as shown
    placed = placed_target(instance, provider, settings, target=None, vcpus=None, device=None)
    if startup_gpu is not None and placed.target.kind != "gpu":
        raise ConfigError(f"--startup-gpu is a GPU instance's start-up: {placed.offer.instance_type} is a CPU "
                          "instance (its start-up is ADVISOR_STARTUP_SECONDS_CPU's).", hint="Fix: drop --startup-gpu.")
    if server and placed.target.kind != "gpu":  # a request's CPU target is the probed machine's CPU
        raise ConfigError(f"--instance {placed.offer.instance_type} is a CPU instance: a server is sent a target, and "
                          "it has no place for the instance's CPU family and memory.",
                          hint="Fix: drop --server to predict the instance here.")
    startup = placed.startup_seconds(settings)
    with _printed_if_unsaved(startup, json_out, placed.json_fields()), \
            render.probe_progress(not json_out) as progress:
        if server:  # its GPUs, links and vCPUs, read from this machine's catalog, are the target sent
            est, startup = remote.instance_predictor(server, placed)(source, **job, progress=progress,
                                                                     startup_seconds_gpu=startup_gpu)
        else:
            est = api.predict(source, **job, progress=progress, settings=settings, instance_type=instance,
                              provider=provider)
    with shown_after_saving([] if est.history_id is None else [f"p{est.history_id}"], server):
        _show_one(est, startup, json_out, server, placed.json_fields())


def _run_one(source, job: dict, *, server: str | None, gpu: str | None, device: str | None,
             startup_gpu: str | None):
    """The one target's ``Estimate``, and the paid start-up shown beside it: a GPU model you would rent starts
    from cold (not this machine's GPU, ``--device cuda:N``). A server puts it in its answer (its own default, or
    ``--startup-gpu``, which is sent): shown as it came, not added again here."""
    from advisor import api
    from advisor.settings import Settings

    settings = Settings.from_env().with_startup(None, startup_gpu)  # saved with the prediction, as shown
    startup = settings.startup_seconds_gpu if gpu else None
    if server is None:
        return api.predict(source, **job, settings=settings, **({"device": device} if device else {})), startup
    est, served = remote.predictor(server)(source, **job, startup_seconds_gpu=startup_gpu)
    return est, (served if gpu else None)


def _target(source, gpu: str | None, count: int, device: str | None, threads: int | None, p2p: bool | None):
    """The one target asked for; ``--device cuda:N`` of a profile is its machine's GPU (``api.resolve_target``)."""
    from advisor import api

    target = api.resolve_target(gpu=gpu, gpus=count, device=device, threads=threads, peer_to_peer=p2p,
                                source=source)
    if gpu:  # checked; the name as given, so that the estimate's notes say which variant a family name was read as
        target = target.model_copy(update={"gpu_name": gpu.strip()})
    return target


def _check_target_flags(gpu: str | None, device: str | None, p2p: bool | None, threads: int | None,
                        counts: list[int], startup_gpu: str | None = None) -> None:
    from advisor.errors import ConfigError

    if counts == [counts[0]] and counts[0] > 1 and not gpu:  # it was ignored: the CPU or --device's one GPU priced
        raise ConfigError(f"--gpus {counts[0]} counts GPUs of a model: it needs --gpu NAME.",
                          hint=f"Fix: e.g. --gpu A100-80GB --gpus {counts[0]}.")

    if threads is not None and (gpu or (device or "cpu").strip().lower() != "cpu"):
        raise ConfigError(f"--threads is a CPU's thread count: it is not taken with {'--gpu' if gpu else '--device'} "
                          f"{gpu or device} (a GPU host's size is its --vcpus).",
                          hint="Fix: drop --threads, or predict --device cpu --threads N for a CPU.")

    if gpu and device:
        raise ConfigError("Give --device (a device here) or --gpu (any GPU model), not both.",
                          hint="Fix: drop one of them.")
    if startup_gpu is not None and not gpu:  # it was dropped without a word: no instance is started
        raise ConfigError("--startup-gpu is the paid start-up of a GPU instance you would rent: it needs --gpu NAME "
                          f"(not {'--device ' + device if device else 'a CPU'}, which starts no instance).",
                          hint="Fix: drop --startup-gpu, or e.g. --gpu H100 --startup-gpu 90s.")
    if p2p is not None and not gpu:
        raise ConfigError(f"--{'' if p2p else 'no-'}p2p says how several GPUs of a model reach each other: it needs "
                          "--gpu.", hint="Fix: e.g. --gpu L4 --gpus 8 --no-p2p.")


def print_estimate(est, startup: float | None) -> None:
    """One prediction's table (with a rented GPU's ``startup``) and what bounds its step: what ``predict`` prints
    of it, and ``history show pN`` again."""
    from advisor.cli import render
    from advisor.cli.console import out, safe_text
    from advisor.predictor.input_bound import bound_sentence

    render.estimate(est, instance_startup_seconds=startup)
    out().print(f"  bound: {safe_text(bound_sentence(est))}")


def _print_one(est, startup: float | None, server: str | None) -> None:
    """One prediction as text: ``print_estimate``'s, and where it was saved."""
    from advisor.cli.console import out, safe_text

    print_estimate(est, startup)
    if est.history_id is not None:
        from advisor.service.call_hints import server_flag

        out().print(f"  saved as p{est.history_id} in " + (
            f"the server's history (`advisor history list{safe_text(server_flag(server))}`)" if server
            else f"history (`advisor history show p{est.history_id}`)"))


def _grid(source, gpu: str | None, counts: list[int], precisions: list, kwargs: dict, json_out: bool) -> None:
    from advisor.cli import render
    from advisor.errors import ConfigError
    from advisor.scaling import predict_grid

    if not gpu:
        raise ConfigError("A table of GPU counts or precisions needs a GPU model.",
                          hint="Fix: add --gpu NAME, e.g. --gpu A100-80GB --gpus 1,2,4,8 --precision all.")
    try:
        with render.probe_progress(not json_out) as progress:
            grid = predict_grid(source, gpu=gpu, counts=counts, precisions=precisions, progress=progress, **kwargs)
    except HistoryError as exc:
        if exc.grid is None:
            raise
        raise _grid_unsaved(exc, gpu, json_out) from exc
    with shown_after_saving(_saved_refs(grid)):
        _show_grid(grid, gpu, json_out)


def _saved_refs(grid) -> list[str]:
    return [f"p{row.estimate.history_id}" for row in grid.rows if row.estimate and row.estimate.history_id]


def _grid_unsaved(exc: HistoryError, gpu: str, json_out: bool) -> HistoryError:
    """A table whose saving failed part way (``HistoryError.grid``): printed all the same, as one prediction is
    (``printed_unsaved``), then the error, naming the rows that were saved before it."""
    saved = _saved_refs(exc.grid)
    which = (f"only {', '.join(saved)} of its predictions {'were' if len(saved) > 1 else 'was'} saved" if saved
             else "its predictions were not saved")
    return printed_unsaved(exc, lambda: _show_grid(exc.grid, gpu, json_out), "table", which)


def _show_grid(grid, gpu: str, json_out: bool) -> None:
    from advisor.cli import answer, render

    if json_out:
        data = grid.model_dump(mode="json")
        for row, dumped in zip(grid.rows, data["rows"], strict=True):
            if row.estimate is not None:
                dumped["estimate"] = row.estimate.json_contract()
        render.print_json(data)
    else:
        answer.scaling_table(grid)
        _print_variants(gpu, grid.gpu)


def _print_variants(gpu: str | None, priced: str | None) -> None:
    """``api.variant_note`` under the table of GPU counts, whose rows are not one estimate's notes."""
    from advisor import api
    from advisor.cli.console import out, safe_text

    note = api.variant_note(gpu, priced)
    if note:
        out().print(f"note: {safe_text(note)}")
