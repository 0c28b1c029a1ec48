"""Option parsing the CLI commands share: the workload-or-profile source, batch-size and GPU-count lists,
precisions, the job-settings flags (``--compile``, ``--grad-accum-steps``, ``--eval-every``, ``--eval-steps``),
output formats, and the choices shown in ``--help``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from advisor.schemas import PRECISIONS, Profile

# Choices are shown in --help as metavars and checked by the command (one message, exit 1, did-you-mean),
# rather than by click (exit 2), like every other bad value.
OBJECTIVE_METAVAR = "[cost|time]"
PRECISION_METAVAR = "[" + "|".join((*PRECISIONS, "mixed")) + "]"  # mixed: bf16 (fp16 on a GPU without it)
FORMATS = ("text", "json", "markdown")
FORMAT_HELP = "text (verdict, then the table), json (schema_version 1) or markdown (a pull-request comment)."


def parse_count(value: object) -> object:
    """A count flag's value (``--dataset-size``, ``--epochs``, ``--batch-size``, ``--grad-accum-steps``...): a whole
    number, also in scientific notation (``1e6``, as ``--deadline 1e3`` is read) or with underscores
    (``1_000_000``).

    Anything else is passed on as typed, for the command to refuse in its own words (one message, exit 1: "must be
    a positive whole number, got 2.5"), not as click's usage error (exit 2), which the flags' other checks never give.
    """
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    # 1e6 is 1000000; 2.5, nan or 1e30 stay floats, which the bounds name as typed (1e+30, not its 31 digits).
    return int(number) if number.is_integer() and abs(number) <= 2**53 else number


def choice(value: str, choices: Sequence[str], flag: str) -> str:
    """``value`` if it is one of ``choices`` (case-insensitive), else a ConfigError with the nearest."""
    from advisor.errors import ConfigError, did_you_mean

    lowered = str(value).strip().lower()
    if lowered not in choices:
        raise ConfigError(f"Unknown {flag} {value!r}.{did_you_mean(lowered, choices)}",
                          hint=f"Fix: use one of {', '.join(choices)}.")
    return lowered


def output_format(fmt: str, json_out: bool) -> str:
    """The output format from ``--format`` and the older ``--json`` (the same as ``--format json``; with another
    ``--format`` the two ask for different output, which is refused rather than one silently dropped)."""
    from advisor.errors import ConfigError

    fmt = choice(fmt, FORMATS, "--format")
    if json_out and fmt not in ("text", "json"):
        raise ConfigError(f"--json and --format {fmt} ask for two different outputs.",
                          hint=f"Fix: drop --json for {fmt}, or drop --format {fmt} for JSON.")
    return "json" if json_out else fmt


def parse_gpu_counts(text: str | int | None) -> list[int]:
    """[1, 2, 4, 8] from "1,2,4,8" (or one number); each from 1 to the most GPUs a target holds."""
    from advisor.errors import ConfigError
    from advisor.schemas.devices import MAX_TARGET_GPUS

    if text is None:
        return [1]
    try:
        counts = sorted({int(x) for x in str(text).split(",")})  # an empty item ("1,2,,4") is no count either
    except ValueError:
        raise ConfigError(f"--gpus {text!r} is not a whole number or a comma list of them.",
                          hint="Fix: e.g. --gpus 8 or --gpus 1,2,4,8.") from None
    if not counts or counts[0] < 1:
        raise ConfigError(f"--gpus must be 1 or more, got {text!r}.", hint="Fix: e.g. --gpus 8 or --gpus 1,2,4,8.")
    if counts[-1] > MAX_TARGET_GPUS:
        raise ConfigError(f"--gpus must be at most {MAX_TARGET_GPUS:,}, got {counts[-1]:,}.",
                          hint="Fix: e.g. --gpus 8 or --gpus 1,2,4,8.")
    return counts


def parse_precisions(text: str | None) -> list[str | None]:
    """[None] (the profile's) without --precision; every precision for "all"; else the comma list given."""
    if text is None:
        return [None]
    if text.strip().lower() == "all":
        return list(PRECISIONS)
    from advisor.workload.job import normalize_precision

    return [normalize_precision(_precision(p)) for p in text.split(",") if p.strip()] or [None]


def _precision(text: str) -> str:
    """One --precision name, lower-cased; else the Python API's message for it (PyTorch spellings, float64)."""
    from advisor.precision_words import unknown_precision

    name = text.strip().lower()
    if name not in (*PRECISIONS, "mixed"):
        raise unknown_precision(text)
    return name


def pick_source(workload: Path | None, profile: Path | None) -> Path | Profile:
    """The workload file, or the profile that --profile names (its path where it ends in .json, checked; else
    loaded): exactly one of them.

    A profile is data: it is read as JSON and validated whatever its file name, and never imported or run.
    """
    from advisor import api
    from advisor.errors import WorkloadError

    if workload is not None and profile is not None:
        raise WorkloadError("Give either a workload file or --profile FILE, not both.",
                            hint="Fix: drop one of them.")
    if workload is None and profile is None:
        from advisor.data_files import example_file

        example = example_file()
        raise WorkloadError("No workload given.", hint="Fix: pass a workload file" + (
            f" (e.g. {example})" if example else "") + " or --profile FILE.")
    if profile is not None:
        loaded = api.load_profile(profile)  # read here, so that a bad file is refused before anything else
        # A .json path is what the API reads as a saved profile, and its messages then name the file
        return profile if profile.suffix == ".json" else loaded
    from advisor.current_folder import check_current_folder

    check_current_folder()  # before the probe: in a deleted folder its child cannot import torch
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


def check_output_path(path: Path, flag: str, *, workload: Path | None = None, example: str = "out.json") -> Path:
    """Fail before any probe when ``path`` cannot be written: a name that is not valid UTF-8, a missing or
    unwritable folder, a folder in its place, a name the file system refuses, or the workload file itself or a
    SQLite database (which the output would replace).
    Checked by creating (and removing) a file beside it."""
    import os
    import stat
    import tempfile

    from advisor.errors import ConfigError
    from advisor.output_file import existing_mode, is_sqlite_database, non_utf8_shown

    hint = f"Fix: pass {flag} with a path in a folder you can write to."
    if str(path) == "-":  # the usual spelling of standard output, which wrote a file named "-" here
        raise ConfigError(f"{flag} - would write a file named '-' in this folder: '-' is not standard output here.",
                          hint=f"Fix: leave {flag} out to print to standard output (with --json where the command "
                               f"has it), or name a file, e.g. {flag} {example}.")
    if (shown := non_utf8_shown(path)) is not None:
        raise ConfigError(f"{flag} {shown}: the path is not valid UTF-8 (\\x.. marks each byte that is not).",
                          hint=f"Fix: pass {flag} with a path that is valid UTF-8 (rename the folder if that is where "
                               "the byte is).")
    # Before anything looks the path up: a name over 255 bytes makes is_dir() raise (ENAMETOOLONG), not say False
    if len(os.fsencode(path.name)) > 255:
        raise ConfigError(f"{flag} {path}: the file name is longer than 255 bytes.", hint="Fix: a shorter name.")
    try:
        is_folder = stat.S_ISDIR(path.stat().st_mode)  # not is_dir(), which says False for a symbolic link loop
    except (FileNotFoundError, NotADirectoryError):
        is_folder = False  # a new file (or a link to one, written through as > does); a missing folder is named below
    except OSError as exc:  # a loop of links, a folder's name over 255 bytes, a path over the system's limit
        raise ConfigError(f"{flag} {path}: cannot be used ({exc.strerror or exc}).",
                          hint=_unusable_hint(exc, flag)) from None
    if is_folder:
        raise ConfigError(f"{flag} {path}: is a folder, not a file.", hint=hint)
    is_workload = workload is not None and _same_file(path, workload)
    if is_workload or path.suffix == ".py" or is_sqlite_database(path):
        what, lost = (("the workload file itself", "code") if is_workload else ("a Python file", "code")
                      if path.suffix == ".py" else ("a SQLite database (the history's own, say)", "the database"))
        raise ConfigError(f"{flag} {path}: is {what}; writing there would replace {lost} with the output.",
                          hint=f"Fix: pass {flag} with another name, e.g. {flag} {example}.")
    mode = existing_mode(path)
    if mode is not None and not stat.S_ISREG(mode):
        # A device or a pipe (/dev/stdout, a FIFO) is written into, not replaced beside it: it must be writable
        # itself, and its folder (/dev) need not be.
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{flag} {path}: cannot write to it (permission denied).", hint=hint)
        return path
    # The folder the file is written in: through a symbolic link, the folder of the file it names.
    folder = Path(os.path.realpath(path)).parent
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: the folder {folder} does not exist.", hint=hint)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name[:40]}.", suffix=".check"):
            pass
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot write in {folder} ({exc.strerror or exc}).", hint=hint) from None
    return path


def _unusable_hint(exc: OSError, flag: str) -> str:
    """The fix for an output path that cannot even be looked up."""
    import errno

    if exc.errno == errno.ELOOP:
        return (f"Fix: the path goes through symbolic links that lead back to themselves; point the link at a file, "
                f"or pass {flag} with another path.")
    if exc.errno == errno.ENAMETOOLONG:
        return f"Fix: pass {flag} with a shorter path."
    return f"Fix: pass {flag} with a path in a folder you can write to."


def _same_file(path: Path, other: Path) -> bool:
    import os

    try:
        return os.path.samefile(path, other)
    except OSError:  # either is missing: they cannot be one file
        return False


def write_atomically(path: Path, write, flag: str) -> None:
    """``advisor.output_file.write_in_place``: ``write(tmp_path)`` then moved into place (through a link, with
    the old file's mode; straight into a device or pipe), or a ConfigError naming ``flag``."""
    from advisor.output_file import write_in_place

    try:
        write_in_place(path, write)
    except OSError as exc:
        raise output_error(path, flag, exc) from None


def output_error(path: Path, flag: str, exc: OSError, kept: str = ""):
    """The ConfigError of an output that could not be written (``kept``: what happened besides, said after it)."""
    from advisor.errors import ConfigError
    from advisor.output_file import out_of_space

    first = "free some space, or pass" if out_of_space(exc) else "pass"
    return ConfigError(f"{flag} {path}: could not write it ({exc.strerror or exc}){kept}.",
                       hint=f"Fix: {first} {flag} with another path.")


# The job's size, as predict and recommend take it (None: the workload file's, or the profile's).
DatasetSizeOption = Annotated[int | None, typer.Option("--dataset-size", metavar="INTEGER", parser=parse_count,
                                                       help="Samples per epoch.")]
EpochsOption = Annotated[int | None, typer.Option("--epochs", metavar="INTEGER", parser=parse_count)]
BatchSizeOption = Annotated[int | None, typer.Option("--batch-size", metavar="INTEGER", parser=parse_count,
                                                     help="Global batch size.")]

# The job-settings flags predict and recommend share (the workload file's PRECISION is --precision's default;
# COMPILE, GRAD_ACCUM_STEPS, EVAL_EVERY and EVAL_STEPS are these flags' defaults). None: not given.
CompileOption = Annotated[bool | None, typer.Option(
    "--compile/--no-compile", help="The job runs under torch.compile [default: the file's COMPILE, else no].",
    show_default=False)]
GradAccumOption = Annotated[int | None, typer.Option(
    "--grad-accum-steps", metavar="N", parser=parse_count, help="Micro-steps of --batch-size per optimizer step: the "
    "optimizer and the all-reduce run once per N [default: the file's GRAD_ACCUM_STEPS, else 1].")]
EvalEveryOption = Annotated[int | None, typer.Option(
    "--eval-every", metavar="N", parser=parse_count, help="Optimizer steps between evaluations [default: the "
    "file's EVAL_EVERY, else none].")]
NameOption = Annotated[str | None, typer.Option(
    "--name", metavar="NAME", help="The workload's name, which the history keeps its runs (and learns its "
    "correction) under [default: the file's WORKLOAD_NAME, else the file's name without .py].")]
EvalStepsOption = Annotated[int | None, typer.Option(
    "--eval-steps", metavar="N", parser=parse_count, help="Forward-only batches per evaluation [default: the "
    "file's EVAL_STEPS, else 0].")]


def job_setting_kwargs(compile_: bool | None, grad_accum_steps: int | None, eval_every: int | None,
                       eval_steps: int | None) -> dict:
    """The job-settings flags as ``advisor.predict`` / ``advisor.recommend`` keywords."""
    return {"compile": compile_, "grad_accum_steps": grad_accum_steps, "eval_every": eval_every,
            "eval_steps": eval_steps}
