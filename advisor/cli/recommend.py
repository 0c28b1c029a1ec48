"""``advisor recommend``: the main job."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.errors import handle_errors
from advisor.cli.options import check_output_path, pick_source, write_atomically


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)


@handle_errors
def recommend(
    workload: Annotated[Path | None, typer.Argument(help="Workload file (model.py); omit with --profile.")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="Use a saved profile instead of probing.")] = None,
    dataset_size: Annotated[int | None, typer.Option("--dataset-size", help="Samples per epoch.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Global batch size.")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="e.g. 6h, 90m, 1h30m.")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="US dollars, e.g. 50.")] = None,
    objective: Annotated[str, typer.Option("--objective", help="cost (cheapest) or time (fastest).")] = "cost",
    providers: Annotated[str | None, typer.Option("--providers", help="e.g. aws,gcp,lambda.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="e.g. us-east-1 (comma list).")] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Rank on spot (interruptible) prices.")] = False,
    top: Annotated[int, typer.Option("--top", help="How many candidates to list.")] = 10,
    precision: Annotated[str | None, typer.Option("--precision", help="fp32|tf32|bf16|fp16 on GPUs.")] = None,
    pricing: Annotated[list[Path] | None, typer.Option("--pricing", help="Extra/overriding rates CSV.")] = None,
    probe_seconds: Annotated[float, typer.Option("--probe-seconds", help="Probe time budget.")] = 60.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (schema_version 1).")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write cost-vs-time plot (.png or .svg).")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store in history.")] = False,
) -> None:
    """Recommend the cheapest (or fastest) machine for a training job, with alternatives and reasons."""
    from advisor import api
    from advisor.cli import render
    from advisor.errors import NoFeasibleCandidateError

    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            from advisor.errors import ConfigError

            raise ConfigError(f"--plot {plot}: the file must end in .png or .svg.",
                              hint="Fix: e.g. --plot choice.png.")
        check_output_path(plot, "--plot")
    source = pick_source(workload, profile)
    with render.probe_progress(not json_out) as progress:
        try:
            rec = api.recommend(
                source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size, deadline=deadline,
                budget=budget, objective=objective, providers=providers, regions=region, spot=spot, top=top,
                precision=precision, pricing_files=pricing or (), probe_seconds=probe_seconds,
                progress=progress, save=not no_save,
                before_save=None if plot is None else functools.partial(_write_plot, path=plot),
            )
        except NoFeasibleCandidateError as exc:
            if json_out and exc.recommendation is not None:
                render.print_json(exc.recommendation)
            elif exc.recommendation is not None and exc.recommendation.candidates:
                render.recommendation(exc.recommendation)
            raise
    if json_out:
        render.print_json(rec)
    else:
        render.recommendation(rec)
        if plot is not None:
            render.note(f"plot written to {plot}")


def _write_plot(rec, path: Path) -> None:
    """The plot, written before the recommendation is stored: a plot that fails leaves nothing saved."""
    from advisor.cli.plot import plot_recommendation

    write_atomically(path, lambda tmp: plot_recommendation(rec, tmp), "--plot")
