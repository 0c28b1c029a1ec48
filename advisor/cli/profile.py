"""``advisor profile`` (probes only) and ``advisor predict`` (one target's whole-job time)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.app import handle_errors


def register(app: typer.Typer) -> None:
    app.command("profile")(profile)
    app.command("predict")(predict)


def pick_source(workload: Path | None, profile: Path | None) -> Path:
    """The workload file or the --profile file: exactly one of them."""
    from advisor.errors import WorkloadError

    if workload is not None and profile is not None:
        raise WorkloadError("Give either a workload file or --profile FILE, not both.",
                            hint="Fix: drop one of them.")
    if workload is None and profile is None:
        raise WorkloadError("No workload given.",
                            hint="Fix: pass a workload file (e.g. examples/tabular_mlp.py) or --profile FILE.")
    if profile is not None:
        if not profile.exists():
            raise WorkloadError(f"{profile}: no such profile file.",
                                hint="Fix: create one with `advisor profile WORKLOAD -o profile.json`.")
        return profile
    return workload


def parse_batch_sizes(text: str | None) -> list[int] | None:
    from advisor.errors import WorkloadError

    if not text:
        return None
    try:
        sizes = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise WorkloadError(f"--batch-sizes {text!r} is not a comma list of whole numbers.",
                            hint="Fix: e.g. --batch-sizes 8,16,32.") from None
    if not sizes or sizes[0] <= 0:
        raise WorkloadError(f"--batch-sizes {text!r} must list positive sizes.", hint="Fix: e.g. 8,16,32.")
    return sizes


PRECISIONS = ("fp32", "tf32", "bf16", "fp16")


def check_precision(precision: str | None) -> None:
    from advisor.errors import ConfigError, did_you_mean

    if precision is not None and precision not in PRECISIONS:
        raise ConfigError(f"Unknown precision {precision!r}.{did_you_mean(precision, PRECISIONS)}",
                          hint="Fix: use one of fp32, tf32, bf16, fp16.")


@handle_errors
def profile(
    workload: Annotated[Path, typer.Argument(help="Workload file (model.py).")],
    device: Annotated[str, typer.Option("--device", help="cpu, cuda:0, or all.")] = "all",
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Top of the ladder.")] = None,
    batch_sizes: Annotated[str | None, typer.Option("--batch-sizes", help="Explicit ladder, e.g. 8,16,32.")] = None,
    probe_seconds: Annotated[float, typer.Option("--probe-seconds", help="Time budget.")] = 60.0,
    precision: Annotated[str, typer.Option("--precision", help="fp32|tf32|bf16|fp16.")] = "fp32",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for the CPU probe.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the profile JSON here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """Probe a workload with short real training steps and save the profile."""
    from advisor import api
    from advisor.cli import render

    check_precision(precision)
    ladder = parse_batch_sizes(batch_sizes)
    with render.probe_progress(not json_out) as progress:
        prof = api.profile(workload, devices=device, batch_size=batch_size, batch_sizes=ladder,
                           probe_seconds=probe_seconds, precision=precision, threads=threads, progress=progress)
    if output is not None:
        api.save_profile(prof, output)
    if json_out:
        render.print_json(prof)
    else:
        render.profile_summary(prof, str(output) if output else None)


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

    check_precision(precision)
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
