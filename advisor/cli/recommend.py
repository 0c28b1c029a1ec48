"""``advisor recommend``: the main job. The answer comes first (the verdict block), then the table grouped by
hardware; ``--json`` / ``--format markdown`` carry the same content for CI and pull-request comments."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli import remote
from advisor.cli.errors import handle_errors, printed_unsaved, reader_went_away, shown_after_saving
from advisor.cli.options import (
    FORMAT_HELP,
    OBJECTIVE_METAVAR,
    PRECISION_METAVAR,
    BatchSizeOption,
    CompileOption,
    DatasetSizeOption,
    EpochsOption,
    EvalEveryOption,
    EvalStepsOption,
    GradAccumOption,
    NameOption,
    check_output_path,
    job_setting_kwargs,
    output_error,
    output_format,
    pick_source,
)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)


@handle_errors
def recommend(
    workload: Annotated[Path | None, typer.Argument(metavar="WORKLOAD", readable=False,
                                                    help="Workload file (model.py); omit with --profile.")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", readable=False,
                                                 help="Use a saved profile instead of probing.")] = None,
    dataset_size: DatasetSizeOption = None,
    epochs: EpochsOption = None,
    batch_size: BatchSizeOption = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="Total time incl. start-up: 6h, 90m, 1h30.")
                        ] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="US dollars, e.g. 50.")] = None,
    objective: Annotated[str, typer.Option("--objective", metavar=OBJECTIVE_METAVAR,
                                           help="cost (cheapest) or time (fastest; 2% near-ties go to the "
                                                "cheaper).")] = "cost",
    providers: Annotated[str | None, typer.Option("--providers", help="e.g. aws,gcp,lambda.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="e.g. us-east-1 (comma list); a region pasted as "
                                                                "printed (\"Florida, US, NA\") is that one.")
                      ] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Rank on spot (interruptible) prices.")] = False,
    top: Annotated[int, typer.Option("--top", help="How many rows (kinds of machine) to list.")] = 10,
    precision: Annotated[str | None, typer.Option("--precision", metavar=PRECISION_METAVAR,
                                                  help="Precision on GPUs (CPUs train in fp32) [default: the "
                                                       "file's PRECISION, else fp32].")] = None,
    compile_: CompileOption = None,
    grad_accum_steps: GradAccumOption = None,
    eval_every: EvalEveryOption = None,
    eval_steps: EvalStepsOption = None,
    startup_cpu: Annotated[str | None, typer.Option(
        "--startup-cpu", help="Paid start-up of a CPU instance, e.g. 2m or 0 [default: 2m, or "
                              "ADVISOR_STARTUP_SECONDS_CPU].")] = None,
    startup_gpu: Annotated[str | None, typer.Option(
        "--startup-gpu", help="Paid start-up of a GPU instance, e.g. 5m [default: 5m, or "
                              "ADVISOR_STARTUP_SECONDS_GPU].")] = None,
    pricing: Annotated[list[Path] | None, typer.Option("--pricing", help="Extra/overriding rates CSV.")] = None,
    probe_seconds: Annotated[float | None, typer.Option(
        "--probe-seconds", help="Probe time budget [default: 60s; none with --profile].")] = None,
    by: Annotated[str, typer.Option("--by", metavar="[hardware|provider]",
                                    help="Table rows, the first --top: the best of each kind of machine, or of "
                                         "each provider (then --json's candidates too).")
                  ] = "hardware",
    show_all: Annotated[bool, typer.Option("--all", help="List every candidate, ungrouped.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict.")] = False,
    show_skipped: Annotated[bool, typer.Option("--show-skipped", help="List the offers without an estimate, "
                                                                      "with why and the fix.")] = False,
    fmt: Annotated[str, typer.Option("--format", metavar="[text|json|markdown]", help=FORMAT_HELP)] = "text",
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json (schema_version 1).")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write cost-vs-time plot (.png or .svg).")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store in history.")] = False,
    server: remote.ServerOption = None,
    name: NameOption = None,
) -> None:
    """Recommend the cheapest (or fastest) machine for a training job: the answer first, then the alternatives.

    Every time shown is the total you wait for and pay for: the instance's start-up plus the job.
    """
    from advisor.cli.options import choice

    fmt = output_format(fmt, json_out)
    view = dict(view=choice(by, ("hardware", "provider"), "--by"), show_all=show_all, quiet=quiet,
                show_skipped=show_skipped)
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            from advisor.errors import ConfigError

            raise ConfigError(f"--plot {plot}: the file must end in .png or .svg.",
                              hint="Fix: e.g. --plot choice.png.")
        check_output_path(plot, "--plot")
    kwargs = dict(dataset_size=dataset_size, epochs=epochs, batch_size=batch_size, deadline=deadline,
                  budget=budget, objective=objective, providers=providers, regions=region, spot=spot, top=top,
                  precision=precision, pricing_files=pricing or (), probe_seconds=probe_seconds,
                  save=not no_save, startup_seconds_cpu=startup_cpu, startup_seconds_gpu=startup_gpu, name=name,
                  **{k: v for k, v in job_setting_kwargs(compile_, grad_accum_steps, eval_every,
                                                          eval_steps).items() if v is not None})
    _run(pick_source(workload, profile), kwargs, fmt, view, plot, server)


def _run(source, kwargs: dict, fmt: str, view: dict, plot: Path | None, server: str | None = None) -> None:
    from advisor import api
    from advisor.cli import render
    from advisor.cli.db import check_history_url
    from advisor.errors import HistoryError, NoFeasibleCandidateError

    check_history_url(server, save=kwargs["save"])
    staged: list = []  # the plot, written beside its path before the save and moved there only after it
    if plot is not None:
        kwargs = {**kwargs, "before_save": functools.partial(_stage_plot, path=plot, staged=staged)}
    with render.probe_progress(fmt == "text") as progress:
        try:
            run = api.recommend if server is None else remote.recommender(server)
            rec = run(source, progress=progress, **kwargs)
        except BaseException as exc:
            for out in staged:  # a failed save leaves an older plot where it was
                out.discard()
            if isinstance(exc, NoFeasibleCandidateError) and exc.recommendation is not None and (
                    fmt != "text" or exc.recommendation.candidates):
                try:
                    _show(exc.recommendation, fmt, view, server)
                except BrokenPipeError:  # a reader that stopped (`| head`): the answer's exit code 3 stands
                    reader_went_away()
            if isinstance(exc, HistoryError) and exc.recommendation is not None:
                raise _shown_unsaved(exc, fmt, view, server) from exc
            raise
    if plot is not None:
        _commit_plot(staged, plot, rec)
    with shown_after_saving([] if rec.id is None else [str(rec.id)], server):
        _show(rec, fmt, view, server)
    if plot is not None and fmt == "text":
        render.note(f"plot written to {plot}")


def _shown_unsaved(exc, fmt: str, view: dict, server: str | None):
    """A recommendation made but not saved: printed all the same, then the error (``printed_unsaved``); under
    --json the recommendation (``"id": null``) is the document on stdout, as an infeasible one's is."""
    return printed_unsaved(exc, lambda: _show(exc.recommendation, fmt, view, server), "recommendation")


def _show(rec, fmt: str, view: dict, server: str | None = None) -> None:
    from advisor.cli import answer, render

    if fmt == "json":
        if view.get("show_all") and rec.all_candidates:
            # --all lists every ranked candidate, and the JSON carries what the table shows (a server's answer
            # has only its first --top: all_candidates is not sent)
            rec = rec.model_copy(update={"candidates": list(rec.all_candidates)})
        elif view.get("view") == "provider" and not view.get("show_all") and rec.best_per_provider:
            rec = rec.model_copy(update={"candidates": answer.provider_rows(rec)})  # as --by provider's table
        render.print_json(rec)
    elif fmt == "markdown":
        answer.print_markdown(answer.markdown(rec, **view, server=server))
    else:
        answer.recommendation(rec, **view, server=server)


def _stage_plot(rec, path: Path, staged: list) -> None:
    """The plot, written beside ``path`` before the recommendation is stored (a plot that fails leaves nothing
    saved); ``_commit_plot`` moves it into place once the recommendation is, so that a save that fails leaves
    any older plot at ``path`` as it was."""
    from advisor.cli.plot import plot_recommendation
    from advisor.output_file import StagedFile

    try:
        staged.append(StagedFile(path, lambda tmp: plot_recommendation(rec, tmp)))
    except OSError as exc:
        raise output_error(path, "--plot", exc) from None


def _commit_plot(staged: list, path: Path, rec) -> None:
    for out in staged:
        try:
            out.commit()
        except OSError as exc:
            kept = f"; the recommendation was stored as history id {rec.id}" if rec.id is not None else ""
            raise output_error(path, "--plot", exc, kept) from None
