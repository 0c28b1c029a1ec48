"""Option parsing the CLI commands share: the workload-or-profile source, batch-size lists, precisions."""

from __future__ import annotations

from pathlib import Path

from advisor.schemas import PRECISIONS


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


def check_precision(precision: str | None) -> None:
    from advisor.errors import ConfigError, did_you_mean

    if precision is not None and precision not in PRECISIONS:
        raise ConfigError(f"Unknown precision {precision!r}.{did_you_mean(precision, PRECISIONS)}",
                          hint="Fix: use one of fp32, tf32, bf16, fp16.")
