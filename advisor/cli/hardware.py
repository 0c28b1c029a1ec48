"""``advisor hardware``: what was detected here, and the known device profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from advisor.cli.errors import handle_errors


def register(app: typer.Typer) -> None:
    """Add ``advisor hardware`` to the app."""
    app.command("hardware")(hardware)


@handle_errors
def hardware(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show this machine's CPU and GPUs, and the GPU/CPU profiles advisor can predict for."""
    from advisor.cli import render
    from advisor.current_folder import check_current_folder
    from advisor.hardware import detect_host
    from advisor.hardware.gpu import no_gpu_reason
    from advisor.hardware.specs import list_known_devices

    check_current_folder()  # detect_host imports torch, which exits 2 in a deleted folder
    host = detect_host()
    known = list_known_devices()
    why_none = None if host.gpus else no_gpu_reason()  # the text's "GPUs: none visible (...)", in --json too
    if json_out:
        render.print_json({
            "schema_version": 1,
            "host": host.model_dump(mode="json"),
            "no_gpu_reason": why_none,
            "known": {k: [s.model_dump(mode="json") if hasattr(s, "model_dump") else s for s in v]
                      for k, v in known.items()},
        })
    else:
        render.hardware(host, known, why_none)
