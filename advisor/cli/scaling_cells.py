"""The ``predict --gpus 1,2,4,8`` table's memory cell and the notes printed under it.

A row priced sharded (FSDP/ZeRO-3: a full copy per GPU does not fit, the sharded step does) says so in its cell,
"fits sharded (46.2 GiB)", and once under the table that the times of such rows hold only if the training script
shards: a plain "fits" read as "8 GPUs with DDP work", and DDP runs out of memory there. Nothing here computes a
figure; the estimates carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advisor.predictor.caveats import caveats_and_misfit
from advisor.predictor.sharded import SCRIPT_MUST_SHARD


def memory_cell(estimate: Any) -> str:
    """"fits (12.3 GiB)", "fits sharded (46.2 GiB)" or "does not fit (212.7 GiB)": the row's verdict and peak per
    GPU (the sharded step's where the row is priced sharded)."""
    verdict = ("fits sharded" if estimate.sharded else "fits") if estimate.fits_memory else "does not fit"
    return verdict + (f" ({estimate.peak_memory_gib:.1f} GiB)" if estimate.peak_memory_gib is not None else "")


def _row_name(row: Any) -> str:
    return f"{row.count} GPU{'s' if row.count > 1 else ''}, {row.precision}"


def sharded_rows_note(rows: Sequence[Any]) -> str | None:
    """One note for the rows priced sharded ("8 GPUs, bf16; 16 GPUs, bf16"), what that assumes and what the script
    must do; None where no row is."""
    sharded = [_row_name(r) for r in rows if r.estimate is not None and r.estimate.sharded and r.estimate.fits_memory]
    if not sharded:
        return None
    return (f"fits sharded ({'; '.join(sharded)}): a full copy of the model per GPU (DDP) does not fit, so "
            f"{'this row is' if len(sharded) == 1 else 'these rows are'} priced as sharded data parallel (FSDP "
            "FULL_SHARD / ZeRO-3), the weights, gradients and optimizer state split over the GPUs; the time, memory "
            f"and cost hold {SCRIPT_MUST_SHARD}.")


def _rows_named(rows: Sequence[Any]) -> str:
    """"2 GPUs, fp32" for one row; "2 GPUs, fp32, tf32 and bf16; 4 GPUs, fp32" for several, a count once."""
    precisions: dict[int, list[str]] = {}
    for r in rows:
        precisions.setdefault(r.count, []).append(r.precision)
    return "; ".join(f"{count} GPU{'s' if count > 1 else ''}, "
                     + (p[0] if len(p) == 1 else f"{', '.join(p[:-1])} and {p[-1]}") for count, p in precisions.items())


def grid_notes(rows: Sequence[Any]) -> list[str]:
    """The notes under the table, each row's own after the sharded one: the row's caveats (what ``predict`` of that
    one count prints as a note, which a row has no room for) and a row that does not fit its reason, each said once
    and named by the rows that have it (with --precision all, a 2-GPU note was printed, all three lines of it, once
    a precision); a caveat every row has (the job's own, as a last batch that raises) once, unnamed: it was
    printed once a row."""
    shared = sharded_rows_note(rows)
    said = [(r, caveats_and_misfit(r.estimate.notes, r.estimate.fits_memory)) for r in rows if r.estimate is not None]
    common = [text for text in said[0][1] if all(text in texts for _, texts in said[1:])] if len(said) > 1 else []
    having: dict[str, list[Any]] = {}  # each text, in the order first said, with its rows
    for r, texts in said:
        for text in texts:
            if text not in common:
                having.setdefault(text, []).append(r)
    own = [f"{_rows_named(named)}: {text}" for text, named in having.items()]
    return [*([shared] if shared else []), *common, *own]
