"""``advisor profile``: probe a workload and save the profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.errors import handle_errors
from advisor.cli.options import NameOption, check_output_path, parse_batch_sizes


def register(app: typer.Typer) -> None:
    app.command("profile")(profile)


@handle_errors
def profile(
    workload: Annotated[Path, typer.Argument(metavar="WORKLOAD", readable=False, help="Workload file (model.py).")],
    device: Annotated[str, typer.Option("--device", metavar="[cpu|cuda:N|all]", help="cpu, cuda:0, or all.")] = "all",
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", help="The job's batch size, which the profile records (--profile prices it): the top of "
        "the automatic ladder, and the batch the input pipeline is timed at (with --batch-sizes, not the ladder's "
        "top) [default: the file's BATCH_SIZE].")] = None,
    batch_sizes: Annotated[str | None, typer.Option(
        "--batch-sizes", help="An explicit ladder, e.g. 8,16,32, timed instead of the automatic one (--batch-size "
        "still sets the job's batch and the input pipeline's).")] = None,
    probe_seconds: Annotated[float, typer.Option("--probe-seconds", help="Time budget.")] = 60.0,
    precision: Annotated[str | None, typer.Option(
        "--precision", metavar="[fp32|tf32|bf16|fp16|mixed]",
        help="The probe's and the analysis' precision (mixed = bf16) [default: probed at fp32, analysed at the "
             "file's PRECISION, else fp32].")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for the CPU probe.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the profile JSON here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    name: NameOption = None,
) -> None:
    """Probe a workload with short real training steps and save the profile."""
    from advisor import api
    from advisor.cli import render
    from advisor.current_folder import check_current_folder

    check_current_folder()  # before the output's check, which would blame the output's folder
    ladder = parse_batch_sizes(batch_sizes)
    if output is not None:
        check_output_path(output, "-o", workload=workload, example="profile.json")
    with render.probe_progress(not json_out) as progress:
        prof = api.profile(workload, devices=device, batch_size=batch_size, batch_sizes=ladder,
                           probe_seconds=probe_seconds, precision=precision, threads=threads, progress=progress,
                           name=name)
    if output is not None:
        api.save_profile(prof, output)
    if json_out:
        render.print_json(prof)
    else:
        render.profile_summary(prof, str(output) if output else None)
