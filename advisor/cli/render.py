"""All terminal output of the CLI: rich tables, the probe progress bar, JSON, and error messages.

Commands hand finished pydantic objects to these functions; nothing here computes a figure.

Everything printed here is rich markup, and every piece of text that comes from the user or from data
(names, paths, instance types, notes, messages, hints) goes through ``safe_text`` first: its markup is
escaped, so ``[bold]H100`` prints as typed, and its terminal control characters are shown as ``\\x1b`` and
the like, so a name cannot move the cursor or recolour the terminal. JSON output is ``json.dumps``, which
escapes control characters itself.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from rich.table import Table

from advisor.cli.accuracy_render import ERROR_SIGN, calibration_report, comparison
from advisor.cli.console import err, out, safe_text
from advisor.cli.fit import Column, print_fitted
from advisor.cli.job_rows import job_text, step_text
from advisor.cli.step_text import scaling_efficiency_text
from advisor.hardware.process_memory import LIMIT_WORDS
from advisor.outcome_words import elsewhere_words
from advisor.text import drop_escape_sequences
from advisor.units import format_duration, format_span, format_usd

# re-exported: every command module escapes through render, and prints compare and calibration through it
__all__ = ["ERROR_SIGN", "calibration_report", "comparison", "err", "out", "safe_text"]


def line(text: str) -> None:
    """One line of plain text on stdout, printed as it is (no markup, control characters made visible)."""
    out().print(safe_text(text))


def print_json(data: Any) -> None:
    """One JSON document on stdout (plain print: no colour codes, numbers as numbers)."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json", by_alias=True)
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def error(exc: Exception) -> None:
    """An error's message and hint on stderr (AdvisorError has both; anything else prints as str)."""
    message = getattr(exc, "message", str(exc))
    hint = getattr(exc, "hint", None)
    con = err()
    con.print(f"[bold red]error:[/] {safe_text(message, multiline=True)}")
    if hint:
        con.print(safe_text(hint, multiline=True))


def note(text: str) -> None:
    """A line of plain text on stderr (what the command did besides its result)."""
    err().print(safe_text(text, multiline=True))


@contextlib.contextmanager
def probe_progress(enabled: bool) -> Iterator[Any]:
    """A callback(device, fraction, message) drawing a progress bar on a terminal; a no-op otherwise."""
    if not enabled or sys.stderr is None or not sys.stderr.isatty():  # None: started with stderr closed
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Column as TableColumn

    # The bar and the message give way where the line is too long, the device, percentage and time whole: rich
    # shrank every column alike, so a long message ("waiting for another advisor probe ... (at most 60s)") left
    # the elapsed time "0…".
    bar = Progress(TextColumn("[bold]{task.fields[device]:>7}", table_column=TableColumn(no_wrap=True)),
                   BarColumn(table_column=TableColumn(no_wrap=False)),
                   TextColumn("{task.fields[percent]}", table_column=TableColumn(no_wrap=True)),
                   TimeElapsedColumn(table_column=TableColumn(no_wrap=True)),
                   TextColumn("{task.description}", table_column=TableColumn(no_wrap=False, overflow="fold")),
                   console=err(), transient=True)
    with bar:
        yield _BarUpdate(bar)


class _BarUpdate:
    """The probe's progress callback over a rich bar; ``write_output`` takes the workload's own output in whole
    lines (``advisor.probe.output_relay``) and prints them above the bar: written past it, they tore the bar.
    ``show_partial`` shows the line the workload has open (a download's bar redrawn with carriage returns) as a row
    of the bar, "output", until the line ends."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._tasks: dict[str, Any] = {}
        self._open_line: Any = None

    def __call__(self, device: str, fraction: float, message: str) -> None:
        fraction = max(0.0, min(1.0, fraction))
        percent = f"{fraction * 100:>3.0f}%"
        if device not in self._tasks:
            self._tasks[device] = self._bar.add_task(safe_text(message), total=1.0, device=safe_text(device),
                                                     percent=percent)
        self._bar.update(self._tasks[device], completed=fraction, description=safe_text(message), percent=percent)

    def show_partial(self, text: str) -> None:
        """The workload's open line, as it reads now ("" once it ended: the row goes)."""
        if not text:
            if self._open_line is not None:
                self._bar.remove_task(self._open_line)
                self._open_line = None
            return
        shown = safe_text(drop_escape_sequences(text).expandtabs())
        if self._open_line is None:  # no total: the bar pulses, and no percentage is claimed for it
            self._open_line = self._bar.add_task(shown, total=None, device="output", percent="    ")
        else:
            self._bar.update(self._open_line, description=shown)

    def write_output(self, lines: str) -> None:
        """Lines the workload wrote: its colours (terminal escape sequences) dropped and tabs expanded, so that it
        reads as printed, and any other control character shown (``\\x1b``) as all user text is."""
        plain = drop_escape_sequences(lines).expandtabs()
        self._bar.console.print(safe_text(plain, multiline=True), soft_wrap=True)


def _interval(low: float, high: float, point: float) -> str:
    return format_span(low, high, point)


def estimate(est: Any, instance_startup_seconds: float | None = None) -> None:
    """One prediction: the whole job's time with its interval, the step, memory and method; with
    ``instance_startup_seconds`` (a GPU you would rent) also the total a fresh instance takes, start-up included."""
    con = out()
    t = est.target
    where = (f"CPU ({t.threads} thread{'s' if t.threads != 1 else ''})" if t.kind == "cpu" and t.threads
             else "CPU (the probed machine's threads)" if t.kind == "cpu" else f"{t.count} x {safe_text(t.gpu_name)}")
    table = Table(title=f"Predicted job time on {where}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("whole job",
                  f"{format_duration(est.seconds)}  (80% interval {_interval(est.low, est.high, est.seconds)})")
    if instance_startup_seconds is not None:
        start = instance_startup_seconds
        table.add_row("with start-up", f"{format_duration(start + est.seconds)}  ({format_duration(start)} start-up "
                      f"of a fresh instance + the job: what you wait for and pay for)")
    table.add_row("job", job_text(est))
    table.add_row("step", step_text(est))
    if est.eval_seconds:
        table.add_row("evaluation", f"{format_duration(est.eval_seconds)} of the job (forward-only passes)")
    if est.epoch_restart_seconds:
        table.add_row("loader restarts", f"{format_duration(est.epoch_restart_seconds)} of the job (the DataLoader's "
                      "workers starting at each epoch)")
    if est.mfu is not None:
        table.add_row("MFU", f"{est.mfu:.{0 if est.mfu >= 0.1 else 2}%} (model FLOPs over the GPUs' dense "
                      f"{est.mfu_peak or est.precision} peak)")
    if est.startup_seconds:
        # the job's own start (process, model, first steps); "with start-up" above adds a fresh instance's
        table.add_row("process start-up", f"{format_duration(est.startup_seconds)} (in the time above)")
    mem = ("fits sharded (FSDP/ZeRO-3)" if est.sharded else "fits") if est.fits_memory else "DOES NOT FIT"
    if est.peak_memory_gib is not None:
        cap = f" of {est.memory_capacity_gib:.0f} GiB" if est.memory_capacity_gib else ""
        if est.memory_capacity_gib and est.memory_datasheet_gib:  # judged against what a driver gives a process
            cap = f" of {est.memory_capacity_gib:.1f} GiB usable; {est.memory_datasheet_gib:g} GB on the datasheet"
        peak = f"{est.peak_memory_gib:.2f} GiB" if est.peak_memory_gib >= 0.005 else "under 0.01 GiB"
        mem += f" (peak {peak}{cap})"
    if est.max_batch_size_per_device:
        mem += f"; largest batch per device {est.max_batch_size_per_device:,}"
    table.add_row("memory", mem)
    if est.scaling_efficiency is not None:
        table.add_row("scaling efficiency", scaling_efficiency_text(est))
    table.add_row("method", f"{est.method} ({est.precision})"
                  + (f", from {safe_text(est.source_device)}" if est.source_device else ""))
    con.print(table)
    for n in est.notes:
        con.print(f"  note: {safe_text(n)}")


# SkippedPoint.priced_from, as the profile summary says it.
_PRICED_FROM = {"first step": "the first step", "check": "the workload check", "measured": "the points measured",
                "analysis": "the model's FLOPs at this CPU's matmul rate, a floor"}


def _untimed_cell(step_seconds: float, *, floor: bool) -> str:
    """"not timed: >12ms a step" (the analysis' floor) or "~58.6s" (as priced). Under a microsecond format_duration
    says "<0.001ms" itself: a ">" or "~" before it read "><0.001ms", so the floor is named in words instead."""
    text = format_duration(step_seconds)
    if text.startswith("<"):
        return f"not timed: {text} a step" + (" (its floor)" if floor else "")
    return f"not timed: {'>' if floor else '~'}{text} a step"


def profile_summary(prof: Any, path: str | None = None) -> None:
    """A profile's measurements, one row per device and batch size."""
    con = out()
    w = prof.workload
    con.print(f"[bold]{safe_text(w.name)}[/]: {w.param_count or 0:,} parameters"
              + (f", {w.flops_per_sample / 1e9:.3g} GFLOPs per training sample" if w.flops_per_sample else ""))
    rows: list[list[str]] = []
    for dev in prof.devices:
        for m in dev.measurements:
            if m.oom:
                rows.append([safe_text(dev.device), str(m.batch_size), "out of memory", "", "", "", ""])
                continue
            rate = m.batch_size / m.compute_seconds if m.compute_seconds else None
            rows.append([
                f"{safe_text(dev.device)} ({safe_text(dev.name)})" if m is dev.measurements[0] else "",
                str(m.batch_size),
                f"{m.compute_seconds * 1000:.2f} ms" if m.compute_seconds else "-",
                f"{m.spread:.1%}" if m.spread is not None else "-",
                f"{m.batch_seconds * 1000:.2f} ms" if m.batch_seconds is not None else "-",
                f"{m.peak_memory_gib:.3f} GiB" if m.peak_memory_gib is not None else "-",
                f"{rate:,.0f}" if rate else "-",
            ])
        for k, sk in enumerate(dev.skipped):  # not timed: what one step would take, as priced
            first = not dev.measurements and k == 0
            rows.append([f"{safe_text(dev.device)} ({safe_text(dev.name)})" if first else "", str(sk.batch_size),
                         _untimed_cell(sk.step_seconds, floor=sk.priced_from == "analysis"), "", "", "", ""])
    print_fitted(con, _PROBE_COLUMNS, rows, title="Probe measurements", title_justify="left")
    for dev in prof.devices:
        if dev.skipped and not dev.measurements:
            budget = f" of {dev.budget_seconds:.0f} s" if dev.budget_seconds else ""
            source = _PRICED_FROM[dev.skipped[0].priced_from]
            con.print(f"{safe_text(dev.device)}: no batch size fitted the probe's budget{budget} (its warm-up and two "
                      f"steps, priced from {source}"
                      + ("): its estimates come from the model's analysis and this CPU's measured op rates (method "
                         "scaled)." if dev.cpu_peak is not None and prof.analysis is not None else
                         "): nothing here prices it.") + " A longer --probe-seconds times it.")
    for dev in prof.devices:
        for m in dev.measurements:
            if len(parts := [p for p in m.process_parts() if p]) > 1:
                medians = ", ".join(f"{statistics.median(p) * 1000:.2f}" for p in parts)
                con.print(f"{safe_text(dev.device)}, batch size {m.batch_size}: timed in {len(parts)} fresh processes, "
                          f"their medians {medians} ms")
            if n := m.processes_left_out:
                con.print(f"{safe_text(dev.device)}, batch size {m.batch_size}: {n} more fresh "
                          f"{'process' if n == 1 else 'processes'} timed it on another clock or thread count (other "
                          f"processes' load changed between them) and {'was' if n == 1 else 'were'} left out")
    if prof.input_pipeline is not None:
        input_pipeline(prof.input_pipeline)
    if prof.analysis is None:
        con.print("analysis: not available (GPU predictions for this profile will not be possible)")
    for n in prof.notes:
        con.print(f"note: {safe_text(n)}")
    con.print(f"probe wall time {prof.probe_wall_seconds:.1f}s" + (f"; saved to {safe_text(path)}" if path else ""))


def input_pipeline(ip: Any) -> None:
    """The host side of a step as the probe timed it: the source, the rate per worker count, the bytes per sample
    that cross to the device, pinned memory, worker start-up and its notes."""
    con = out()
    where = f" on {ip.host_cores} cores" if ip.host_cores else ""
    if ip.source == "dataloader":
        head = f"make_dataloader, timed at batch size {ip.batch_size}{where}"
        rates = ", ".join(f"{p.workers} worker{'s' * (p.workers != 1)} {p.samples_per_second:,.0f} samples/s"
                          + _less_waits(p) for p in ip.points)
    else:
        head = f"make_batch in the training process, batch size {ip.batch_size}"
        rates = ", ".join(f"{p.samples_per_second:,.0f} samples/s" + _less_waits(p) for p in ip.points)
    con.print(f"[bold]input pipeline[/] ({head}): {rates or 'not timed'}")
    details = [f"{_size(ip.bytes_per_sample)} per sample to the device",
               "pinned memory" if ip.pinned_memory else "pageable memory (not pinned)"]
    if ip.source == "dataloader":
        details.append(f"worker start-up {format_duration(ip.startup_seconds)}")
    if ip.default_workers is not None:
        details.append(f"NUM_WORKERS = {ip.default_workers}")
    con.print("  " + "; ".join(details))
    for n in ip.notes:
        con.print(f"  note: {safe_text(n)}")


def _less_waits(point: Any) -> str:
    return " (busy machine: less its waits for a CPU)" if point.clock == "wall_less_wait" else ""


def _size(n_bytes: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def recommendation(rec: Any, **view: Any) -> None:
    """A recommendation: the verdict block first, then the table grouped by hardware, then what was dropped,
    skipped and assumed (``advisor.cli.answer``; ``view``: ``view="provider"``, ``show_all``, ``quiet``,
    ``show_skipped``)."""
    from advisor.cli import answer

    answer.recommendation(rec, **view)


SUSPECT_MARK = "!"  # after a price the catalog flags suspect_price, in ``pricing list``
UNDATED_SPOT_MARK = "?"  # after a spot price the catalog flags spot_undated, in ``pricing list``
# rich's default overflow (an ellipsis) where the table fits; on a narrower terminal the instance folds, whole
_OFFER_COLUMNS = tuple(Column(header, justify, whole=whole, drop=drop, fold_min=fold_min, overflow="ellipsis")
                       for header, justify, whole, drop, fold_min in (
    ("provider", "left", True, None, 6), ("instance", "left", False, None, 16), ("region", "left", False, 6, 8),
    ("vCPU", "right", True, 4, 6), ("memory", "right", True, 3, 6), ("GPU", "left", True, None, 6),
    ("$/h", "right", True, None, 6), ("spot $/h", "right", True, 5, 6), ("billing", "left", False, 1, 8),
    ("as of", "left", True, 2, 6)))


# An 80-column terminal cut these to an ellipsis ("$0.00…" for $0.0023, "(0.9s–…") or broke a GPU name over two
# lines: numbers and short names stay whole, as in recommend's table; the least useful columns go first.
_PROBE_COLUMNS = tuple(Column(h, "left" if h == "device" else "right", whole=h != "device", drop=drop, fold_min=12)
                      for h, drop in (("device", None), ("batch", None), ("step (median)", None), ("spread", 3),
                                      ("batch creation", 1), ("peak memory", 2), ("samples/s", None)))
_GPU_COLUMNS = (*(Column(h, whole=True) for h in ("name", "memory", "bandwidth", "FP32", "TF32", "BF16/FP16")),
                Column("link", whole=True, drop=2), Column("aliases", drop=1, fold_min=10))
# Outcomes time the training itself (track, --actual-seconds), so both times in the history are the job alone; the
# cost pays for the whole run (the instance's start-up + the job), whose time it names.
_HISTORY_COLUMNS = tuple(Column(h, j, whole=whole, drop=drop, fold_min=fold)
                         for h, j, whole, drop, fold in (
    ("id", "right", True, None, 6), ("when (UTC)", "left", True, 2, 6), ("workload", "left", False, None, 12),
    ("job", "left", True, 3, 6), ("chosen", "left", False, None, 16),
    ("predicted job (80%)", "right", True, None, 6), ("cost (whole run)", "right", True, None, 6),
    ("method", "left", True, 1, 6), ("actual job", "right", True, None, 6)))
_PREDICTION_COLUMNS = tuple(Column(h, j, whole=whole, drop=drop, fold_min=fold)
                            for h, j, whole, drop, fold in (
    ("id", "right", True, None, 6), ("when (UTC)", "left", True, 2, 6), ("workload", "left", False, None, 12),
    ("job", "left", True, 3, 6), ("target", "left", False, None, 16), ("predicted (80%)", "left", True, None, 6),
    ("method", "left", True, 1, 6), ("precision", "left", True, 4, 6)))


def offers(rows: Sequence[Any]) -> None:
    """Catalog offers, one row each."""
    from advisor.pricing.billing import billing_cell
    mark, spot = " " + SUSPECT_MARK, UNDATED_SPOT_MARK  # no space: the spot column stays as narrow as "$0.0994"
    cells = []
    for o in rows:
        cells.append([safe_text(o.provider), safe_text(o.instance_type), safe_text(o.region), str(o.vcpus or "-"),
                      f"{o.memory_gib:g} GiB" if o.memory_gib else "-",
                      f"{o.gpu_count} x {safe_text(o.gpu)}" if o.gpu else "-",
                      format_usd(o.price_usd_per_hour, rate=True) + (mark if o.suspect_price else ""),
                      format_usd(o.spot_price_usd_per_hour, rate=True) + (spot if o.spot_undated else "")
                      if o.spot_price_usd_per_hour is not None else "-",
                      safe_text(billing_cell(o)), safe_text(o.snapshot_date or "undated")])
    con = out()
    print_fitted(con, _OFFER_COLUMNS, cells, title=f"{len(rows)} {'offer' if len(rows) == 1 else 'offers'}",
                 title_justify="left")
    # Costs are the run rounded up to the unit and at least the minimum: a short job on a whole-hour provider
    # costs an hour, which the hourly rate alone does not show.
    out().print("billing: each run is billed rounded up to its unit (second, minute or hour) and for at least its "
                "minimum; recommend's costs include both (pricing/README.md)")
    undated = sum(1 for o in rows if o.spot_undated)
    if undated:  # the "as of" column is the on-demand price's date: the spot price has none
        out().print(f"{UNDATED_SPOT_MARK} undated spot price ({undated} of these): its source gave no date; the row's "
                    "'as of' is the on-demand price's (pricing/README.md)")
    suspects = [o for o in rows if o.suspect_price]
    if suspects:  # as recommend's notes say it of a chosen machine: the table alone read them as real rates
        by_reason: dict[str, list[str]] = {}
        for o in suspects:
            by_reason.setdefault(_suspect_reason(o.notes), []).append(f"{o.provider} {o.instance_type}")
        out().print(f"{SUSPECT_MARK} suspect price ({len(suspects)} of these): the catalog flags these prices as "
                    "doubtful (pricing/README.md); check the provider's own price before budgeting on one.")
        for reason, names in by_reason.items():
            out().print(f"  {safe_text(', '.join(names))}: {safe_text(reason)}")


def _suspect_reason(notes: str | None) -> str:
    """Why a price is suspect, from its row's notes: the source's caution ("source H100 GPU spot ~= on-demand and
    far below a3-megagpu (suspect SKU mapping)"), else the notes' last part ("host VM row priced 0.0 in source")."""
    from advisor.pricing.rows import SUSPECT_NOTE

    parts = [p.strip() for p in (notes or "").split(";") if p.strip() and p.strip() != SUSPECT_NOTE]
    caution = [p for p in parts if p.upper().startswith("CAUTION")]
    if caution:
        return caution[0][len("CAUTION"):].strip(" :")
    return parts[-1] if parts else "flagged in the catalog"


def hardware(host: Any, known: dict, no_gpu_reason: str | None = None) -> None:
    """This machine's CPU and GPUs (``no_gpu_reason``: why none is visible), and the known device profiles."""
    con, cpu = out(), host.cpu
    memory = "unknown" if cpu.memory_gib is None else f"{cpu.memory_gib:.1f} GiB"  # None: /proc unreadable
    limit = f" ({LIMIT_WORDS[cpu.memory_limit]})" if cpu.memory_limit else ""  # what binds it, not the RAM
    con.print(f"[bold]CPU[/]: {safe_text(cpu.model_name)} ({safe_text(cpu.arch)}), {cpu.physical_cores} cores / "
              f"{cpu.logical_cores} threads, torch uses {cpu.torch_threads}; {memory} memory{limit}")
    if not host.gpus:
        con.print(f"[bold]GPUs[/]: none visible ({safe_text(no_gpu_reason or 'no NVIDIA driver or no GPU')}). "
                  "GPU predictions are scaled from the model's analysis and datasheet specs.")
    for g in host.gpus:
        con.print(f"[bold]GPU {g.index}[/]: {safe_text(g.name)} ({g.memory_gib:.0f} GiB"
                  + (f", driver {safe_text(g.driver_version)}" if g.driver_version else "")
                  + (f", SM {g.sm_clock_mhz:.0f} MHz" if g.sm_clock_mhz else "")
                  + (f", power limit {g.power_limit_watts:.0f} W" if g.power_limit_watts else "")
                  + (f"; profile {safe_text(g.spec_name)}" if g.spec_name else "; no matching profile") + ")"
                  + (f"; {safe_text(g.note)}" if g.note else ""))
    con.print(f"torch {safe_text(host.torch_version)}, CUDA {'available' if host.cuda_available else 'not available'}")
    if gpus := known.get("gpus", []):
        rows = [[safe_text(s.name), _num(s.memory_gib, " GiB"), _num(s.memory_bandwidth_gbs, " GB/s"),
                 _num(s.fp32_tflops, " TF"), _num(s.tf32_tflops, " TF"), _num(s.fp16_bf16_tflops, " TF"),
                 _link(s.intra_node_link, s.intra_node_bandwidth_gbs),
                 safe_text(", ".join(s.aliases[:4]))] for s in gpus]
        print_fitted(con, _GPU_COLUMNS, rows, title="Known GPU profiles (profiles/gpus.csv)", title_justify="left")
    if cpus := known.get("cpus", []):
        con.print("Known CPU families: " + safe_text(", ".join(c.name for c in cpus)))


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _link(link: str | None, bandwidth_gbs: float | None) -> str:
    """The link cell: "nvlink 300 GB/s"; one "-" for a GPU that has neither (the GH200, rented one a machine), which
    read "- -"."""
    if link is None and bandwidth_gbs is None:
        return "-"
    return f"{safe_text(link or '-')} {_num(bandwidth_gbs, ' GB/s')}"


# rich folded the instance ("e2-standa" over "rd-2") at 60 columns: fitted as the other history tables are
_OUTCOME_COLUMNS = tuple(Column(h, whole=whole, drop=drop, fold_min=fold) for h, whole, drop, fold in (
    ("id", True, None, 6), ("actual", True, None, 6), ("instance", False, None, 16), ("status", True, None, 6),
    ("recorded (UTC)", True, 1, 6), ("notes", False, None, 12)))


def outcomes_table(outcomes: Sequence[Any]) -> None:
    """``history show``'s recorded runs, in the units the rest of the output uses."""
    con = out()
    if not outcomes:
        con.print("Outcomes: nothing yet.")
        return
    rows = [[_cell(o.id), format_duration(o.actual_seconds), _cell(o.instance_type), _cell(o.status),
             _when(o.recorded_at), _cell(o.notes)] for o in outcomes]
    print_fitted(con, _OUTCOME_COLUMNS, rows, title="Outcomes", title_justify="left")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return safe_text(value)


def _when(value: Any) -> str:
    text = str(value)
    return safe_text(text[:16].replace("T", " ")) if text else "-"


def _page(n: int, offset: int, total: int | None) -> str:
    """A listed page's place in what matched: "3, newest first" when it is all of it ("3 newest first" read as the
    three newest), else "51-100 of 3,080, newest first" and the flag for the next page."""
    if total is None or (offset == 0 and n >= total):
        return f"{n:,}, newest first"
    text = f"{offset + 1:,}-{offset + n:,} of {total:,}, newest first"
    return text + (f"; --offset {offset + n} lists the next" if offset + n < total else "")


def history_list(entries: Sequence[Any], offset: int = 0, total: int | None = None) -> None:
    """Stored recommendations, one row each with the chosen candidate and the latest outcome (``offset`` /
    ``total``: where this page sits in what matched)."""
    con = out()
    if not entries:
        con.print("History: nothing stored yet (every `advisor recommend` lands here unless --no-save).")
        return
    rows = []
    for e in entries:
        chosen = "-" if not e.instance_type else (
            f"{safe_text(e.provider)} {safe_text(e.instance_type)}"
            + (f" ({e.gpu_count} x {safe_text(e.gpu)})" if e.gpu else ""))
        actual = format_duration(e.actual_seconds) if e.actual_seconds else "-"
        if e.status == "failed":
            actual += " (failed)"
        actual += safe_text(elsewhere_words(e))  # a run on another machine: its own prediction, not the chosen's
        # The cost ranked on ("spot" as `history show` says); no interval from a server too old to send it.
        cost = (format_usd(e.ranked_cost_usd) + (" spot" if e.interruptible and e.spot_cost_usd is not None else "")
                + (f" for {format_duration(e.total_seconds)}" if e.total_seconds is not None else ""))
        predicted = format_duration(e.predicted_seconds) + (
            f" ({_interval(e.low, e.high, e.predicted_seconds)})" if e.low is not None and e.high is not None else "")
        rows.append([str(e.id), _when(e.created_at), safe_text(e.workload),
                     f"{e.epochs:,} x {e.dataset_size:,} @ {e.batch_size:,}", chosen,
                     predicted, cost, safe_text(e.method or "-"), actual])
    print_fitted(con, _HISTORY_COLUMNS, rows, title=f"History ({_page(len(entries), offset, total)})",
                 title_justify="left")


def prediction_list(entries: Sequence[Any], offset: int = 0, total: int | None = None) -> None:
    """Predictions saved by ``advisor predict``, one row each (nothing when there are none)."""
    if not entries:
        return
    rows = [[f"p{e.id}", _when(e.created_at), safe_text(e.workload),
             f"{e.epochs:,} x {e.dataset_size:,} @ {e.batch_size:,}", safe_text(e.target),
             f"{format_duration(e.seconds)} ({_interval(e.low, e.high, e.seconds)})", safe_text(e.method),
             safe_text(e.precision)] for e in entries]
    print_fitted(out(), _PREDICTION_COLUMNS, rows, title_justify="left",
                 title=f"Predictions ({_page(len(entries), offset, total)}; job alone, no start-up)")


