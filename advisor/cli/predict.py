"""``advisor predict``: one target's whole-job time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.errors import handle_errors
from advisor.cli.options import pick_source


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


@handle_errors
def predict(
    workload: Annotated[Path | None, typer.Argument(help="Workload file; omit with --profile.")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="A saved profile instead of probing.")] = None,
    dataset_size: Annotated[int | None, typer.Option("--dataset-size")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Global batch size.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda:N (a device here).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads to predict for.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="GPU model, e.g. A100-80GB, H100.")] = None,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs in data parallel.")] = 1,
    precision: Annotated[str | None, typer.Option("--precision", help="fp32|tf32|bf16|fp16.")] = None,
    probe_seconds: Annotated[float, typer.Option("--probe-seconds")] = 60.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (schema_version 1).")] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store the prediction in history.")] = False,
) -> None:
    """Predict the whole job's wall time on one target (this CPU, other thread counts, or K GPUs of a model)."""
    from advisor import api
    from advisor.cli import render
    from advisor.errors import ConfigError

    source = pick_source(workload, profile)
    if gpu and device:
        raise ConfigError("Give --device (a device here) or --gpu (any GPU model), not both.",
                          hint="Fix: drop one of them.")
    target = api.resolve_target(gpu=gpu, gpus=gpus, device=device, threads=threads)
    with render.probe_progress(not json_out) as progress:
        est = api.predict(source, dataset_size=dataset_size, epochs=epochs, batch_size=batch_size, target=target,
                          precision=precision, probe_seconds=probe_seconds, progress=progress, save=not no_save)
    if json_out:
        render.print_json(est.json_contract())
    else:
        render.estimate(est)
