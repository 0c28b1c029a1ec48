"""Issue 8's CPU runs pooled: every run of ``bench/accuracy_cpu.py`` pasted in bench/README.md on the code that ships.

One run of the CPU bench is five jobs, and on a shared 2-vCPU VM the same job rerun moves 5-30%, so one run's
median says little. The headline figures are pooled over every run pasted since the CPU path last changed (session
24's shipped version): each job of each run counts once. This script reads those runs back out of bench/README.md,
so that the pooled figures are computed, not added up by hand.

    python bench/pool_cpu_runs.py                            # every pasted run on the shipped code
    python bench/pool_cpu_runs.py --extra idle:/tmp/run.txt  # plus a run not yet pasted (accuracy_cpu's output)
    python bench/pool_cpu_runs.py --json                     # the same figures as JSON
    python bench/pool_cpu_runs.py --by-cpu                   # also split by the VM's CPU maker
    python bench/pool_cpu_runs.py --criterion                # "every job within 20%" against the floor

The split by CPU maker reads it from the section heading above each run ("... on an Intel Xeon VM", "... on an
AMD EPYC VM"; "unknown" where the heading names neither) and, for a run given with ``--extra``, from the bench
output's first line, which names the CPU.

A run is a line such as ``Idle, 07:30-07:37:`` or ``Busy loop beside the probe, 07:37-07:44:`` followed by the
bench's job table; runs marked "(first version)" ran code that did not ship and are left out. Its load is "idle",
"busy" (a busy loop beside the probe) or "torch" (a competing training job beside the probe); "busy-raised" and
"torch-raised" where the header says "raised priority" (since session 48 a probe that may raises its priority over
the load, ``advisor.probe.priority``; "busy" and "torch" are the path an ordinary user's probe takes, every run
before then and those with ``--normal-priority``). The real jobs always ran on the idle machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "bench" / "README.md"
# The CPU path has not changed since session 24's shipped version; runs before this heading ran other code.
START_HEADING = "### Two fresh processes for the user's batch size (session 24"
END_HEADING = "### Run by run"
RUN_HEADER = re.compile(r"^(Idle|Busy loop|A competing torch job|Competing torch job)\b[^|]*:\s*$")
FLOOR = re.compile(r"against the mean of the job's other runs \(the machine's floor\): ([0-9.]+)%")
LOADS = ("idle", "busy", "busy-raised", "torch", "torch-raised")
RAISED = "raised priority"  # in a run's header: the probe raised its priority over the load
CPU_MAKERS = ("Intel", "AMD")
# Issue 8's targets for the pooled median |error|, by load (the torch job has none of its own).
TARGET_MEDIAN_PCT = {"idle": 7.0, "busy": 10.0, "busy-raised": 10.0}
JUDGED_LOADS = ("idle", "busy", "busy-raised")  # issue 8's interval count: idle and loaded by a busy loop


@dataclass(frozen=True)
class Job:
    """One real job of one run: its signed error and whether its 80% interval held, as the bench printed them
    (from the unrounded times: the table's rounded seconds would move a median by a tenth of a point)."""

    workload: str
    error_pct: float
    held: bool
    predicted_s: float
    actual_s: tuple[float, ...]  # the first run, then each rerun of the same job unchanged (--reruns)

    @property
    def error_vs_mean_pct(self) -> float:
        """The prediction against the mean of the job's runs: the reference's own swing averaged down."""
        mean = statistics.fmean(self.actual_s)
        return 100.0 * (self.predicted_s - mean) / mean

    @property
    def ratio(self) -> float:
        """How far off, as a factor >= 1 either way."""
        predicted_over_actual = 1.0 + self.error_pct / 100.0
        return max(predicted_over_actual, 1.0 / predicted_over_actual)


@dataclass(frozen=True)
class Run:
    """One run of the bench: its label, its load and its jobs (and the machine's floor where it was printed)."""

    label: str
    load: str
    jobs: tuple[Job, ...]
    floor_pct: float | None = None
    cpu: str = "unknown"  # the VM's CPU maker (``cpu_maker``)

    @property
    def median_abs_error_pct(self) -> float:
        return statistics.median(abs(j.error_pct) for j in self.jobs)


def cpu_maker(text: str) -> str:
    """"Intel" or "AMD" where ``text`` (a section heading, or the bench output's first line) names one of them,
    else "unknown"."""
    makers = [m for m in CPU_MAKERS if re.search(rf"\b{m}\b", text)]
    return makers[0] if len(makers) == 1 else "unknown"


def load_of(header: str) -> str:
    """The load a run header names."""
    if header.startswith("Idle"):
        return "idle"
    load = "busy" if header.startswith("Busy") else "torch"
    return f"{load}-raised" if RAISED in header else load


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(lines: list[str]) -> list[list[dict[str, str]]]:
    """Every markdown table in ``lines``, each as its rows keyed by the header's cells."""
    tables: list[list[dict[str, str]]] = []
    columns: list[str] | None = None
    for line in lines:
        if not line.startswith("|"):
            columns = None
            continue
        cells = _cells(line)
        if columns is None:
            columns = cells
            tables.append([])
        elif not set(line) <= set("|-: "):
            if len(cells) != len(columns):
                raise ValueError(f"a table row has {len(cells)} cells against its header's {len(columns)}: {line}")
            tables[-1].append(dict(zip(columns, cells, strict=True)))
    return tables


def _reruns(cell: str) -> tuple[float, ...]:
    """"18.5 (+11.5), 20.5 (+23.5)": each rerun's seconds."""
    return tuple(float(m.group(1)) for m in re.finditer(r"([0-9.]+) \([+-]", cell))


def parse_job_table(lines: list[str]) -> tuple[Job, ...]:
    """The jobs of the first table in ``lines`` with "error %" and "held" columns, with each job's reruns from the
    table after it where that one has a "same job rerun" column."""
    tables = _tables(lines)
    first = next((n for n, t in enumerate(tables) if t and {"workload", "error %", "held"} <= set(t[0])), None)
    if first is None:
        return ()
    reruns: dict[str, tuple[float, ...]] = {}
    for t in tables[first + 1:first + 2]:
        for row in t:
            if "same job rerun: s (diff %)" in row:
                reruns[row["workload"]] = _reruns(row["same job rerun: s (diff %)"])
    jobs = []
    for row in tables[first]:
        if row["held"] not in ("yes", "no"):
            raise ValueError(f"{row['workload']}: held is {row['held']!r}, not yes or no")
        jobs.append(Job(row["workload"], float(row["error %"]), row["held"] == "yes", float(row["predicted s"]),
                        (float(row["actual s"]), *reruns.get(row["workload"], ()))))
    return tuple(jobs)


def _floor(lines: list[str]) -> float | None:
    """The machine's floor the bench printed for a run (its first such line), or None."""
    return next((float(m.group(1)) for line in lines if (m := FLOOR.search(line))), None)


def parse_runs(text: str, *, start: str = START_HEADING, end: str = END_HEADING) -> list[Run]:
    """Every shipped-code run between the headings ``start`` and ``end`` of a bench/README.md text."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(start)), None)
    if first is None:
        raise ValueError(f"no heading starting {start!r}")
    last = next((i for i in range(first + 1, len(lines)) if lines[i].startswith(end)), len(lines))
    headers = [i for i in range(first, last) if RUN_HEADER.match(lines[i])]
    runs = []
    for n, i in enumerate(headers):
        section = next((lines[k] for k in range(i, first - 1, -1) if lines[k].startswith("#")), "")
        block_end = headers[n + 1] if n + 1 < len(headers) else last
        header = lines[i].rstrip(":").strip()
        if "first version" in header:
            continue
        # A run's block also ends at the next heading (a section of prose or a pooled table after the last run).
        block_end = next((k for k in range(i + 1, block_end) if lines[k].startswith("#")), block_end)
        block = lines[i + 1:block_end]
        jobs = parse_job_table(block)
        if not jobs:
            raise ValueError(f"run {header!r} has no job table")
        runs.append(Run(header, load_of(header), jobs, _floor(block), cpu_maker(section)))
    return runs


def run_from_output(load: str, text: str, label: str) -> Run:
    """One run from ``bench/accuracy_cpu.py``'s printed output, whose load the caller names."""
    if load not in LOADS:
        raise ValueError(f"load {load!r}: use one of {', '.join(LOADS)}")
    jobs = parse_job_table(text.splitlines())
    if not jobs:
        raise ValueError(f"{label}: no job table in it")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return Run(label, load, jobs, _floor(text.splitlines()), cpu_maker(first_line))


@dataclass(frozen=True)
class Pool:
    """Every job of every run under one load, pooled."""

    load: str
    runs: int
    jobs: int
    median_abs_error_pct: float
    median_signed_error_pct: float
    runs_within_target: int
    within_20_pct: int
    runs_all_within_20_pct: int  # runs none of whose jobs was off by more than 20% (issue 8's busy criterion)
    held: int
    worst_ratio: float
    floor_median_pct: float | None
    rerun_jobs: int  # jobs that were run more than once
    median_abs_error_vs_mean_pct: float | None


def pool(runs: list[Run], load: str) -> Pool | None:
    """The pooled figures for one load, or None when no run had it."""
    chosen = [r for r in runs if r.load == load]
    if not chosen:
        return None
    jobs = [j for r in chosen for j in r.jobs]
    target = TARGET_MEDIAN_PCT.get(load)
    floors = [r.floor_pct for r in chosen if r.floor_pct is not None]
    rerun = [j for j in jobs if len(j.actual_s) > 1]
    return Pool(
        load=load, runs=len(chosen), jobs=len(jobs),
        median_abs_error_pct=statistics.median(abs(j.error_pct) for j in jobs),
        median_signed_error_pct=statistics.median(j.error_pct for j in jobs),
        runs_within_target=sum(r.median_abs_error_pct <= target for r in chosen) if target is not None else 0,
        within_20_pct=sum(abs(j.error_pct) <= 20.0 for j in jobs),
        runs_all_within_20_pct=sum(all(abs(j.error_pct) <= 20.0 for j in r.jobs) for r in chosen),
        held=sum(j.held for j in jobs),
        worst_ratio=max(j.ratio for j in jobs),
        floor_median_pct=statistics.median(floors) if floors else None,
        rerun_jobs=len(rerun),
        median_abs_error_vs_mean_pct=statistics.median(abs(j.error_vs_mean_pct) for j in rerun) if rerun else None,
    )


WITHIN_PCT = 20.0  # issue 8's per-job bound under a busy loop: every job within it, in every run


@dataclass(frozen=True)
class Criterion:
    """Issue 8's "every job within 20%" for one load, for the prediction and for the machine's own floor.

    The floor asks the same of the real jobs alone: each run of a job, predicted by the mean of the job's other runs
    (the same job rerun unchanged, on the idle machine). A run of five jobs that each ran three times gives three
    such "runs". Its mean of two others carries half their swing, so this floor passes a little less often than a
    predictor that knew each job's true mean time would; the prediction against the mean of all of a job's runs
    (its own included) is the other bracket, with the reference's swing averaged down."""

    load: str
    runs: int  # runs whose every job ran more than once (the others have no floor)
    prediction_first: int  # of those runs: every job's first real run within 20% of the prediction
    prediction_vs_mean: int  # of those runs: every job's mean of its runs within 20% of the prediction
    floor_runs: int  # leave-one-out "runs" of the real jobs: (runs) x (runs of each job)
    floor_within: int  # of those: every job's run within 20% of the mean of its other runs


def _within(error_pct: float) -> bool:
    return abs(error_pct) <= WITHIN_PCT


def criterion(runs: list[Run], load: str) -> Criterion | None:
    """Issue 8's "every job within 20%" for one load's runs whose jobs all ran at least twice; None if none did."""
    chosen = [r for r in runs if r.load == load and r.jobs and all(len(j.actual_s) > 1 for j in r.jobs)]
    if not chosen:
        return None
    floor_runs = floor_within = 0
    for r in chosen:
        for k in range(min(len(j.actual_s) for j in r.jobs)):
            floor_runs += 1
            floor_within += all(
                _within(100.0 * (statistics.fmean(j.actual_s[:k] + j.actual_s[k + 1:]) - j.actual_s[k])
                        / j.actual_s[k]) for j in r.jobs)
    return Criterion(
        load=load, runs=len(chosen),
        prediction_first=sum(all(_within(j.error_pct) for j in r.jobs) for r in chosen),
        prediction_vs_mean=sum(all(_within(j.error_vs_mean_pct) for j in r.jobs) for r in chosen),
        floor_runs=floor_runs, floor_within=floor_within)


def criterion_table(runs: list[Run]) -> str:
    """Issue 8's "every job within 20%", for the prediction and for the real jobs rerun, one line per load."""
    out = ["| load | runs (every job rerun) | prediction against each job's first run | prediction against "
           "the mean of each job's runs | the machine's floor: each real run against the mean of its job's other "
           "runs |",
           "|---|---:|---:|---:|---:|"]
    for load in LOADS:
        c = criterion(runs, load)
        if c is None:
            continue
        out.append(f"| {load} | {c.runs} | {c.prediction_first}/{c.runs} ({100 * c.prediction_first / c.runs:.0f}%) "
                   f"| {c.prediction_vs_mean}/{c.runs} ({100 * c.prediction_vs_mean / c.runs:.0f}%) | "
                   f"{c.floor_within}/{c.floor_runs} ({100 * c.floor_within / c.floor_runs:.0f}%) |")
    return "\n".join(out)


def table(runs: list[Run]) -> str:
    """The pooled table, one line per load."""
    out = ["| load | runs | jobs | median abs error (target) | median signed error | runs within the target "
           "alone | jobs within 20% | runs with every job within 20% | 80% intervals held | worst ratio | "
           "machine's floor, median of runs | jobs run 3 times: against the mean of their runs |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for load in LOADS:
        p = pool(runs, load)
        if p is None:
            continue
        target = TARGET_MEDIAN_PCT.get(load)
        verdict = "" if target is None else (f" ({target:g}%: met)" if p.median_abs_error_pct <= target
                                              else f" ({target:g}%: missed)")
        floor = "-" if p.floor_median_pct is None else f"{p.floor_median_pct:.1f}%"
        alone = "-" if target is None else f"{p.runs_within_target}/{p.runs}"
        vs_mean = ("-" if p.median_abs_error_vs_mean_pct is None
                   else f"{p.median_abs_error_vs_mean_pct:.2f}% ({p.rerun_jobs} jobs)")
        out.append(f"| {load} | {p.runs} | {p.jobs} | {p.median_abs_error_pct:.2f}%{verdict} | "
                   f"{p.median_signed_error_pct:+.1f}% | {alone} | {p.within_20_pct}/{p.jobs} | "
                   f"{p.runs_all_within_20_pct}/{p.runs} | {p.held}/{p.jobs} | "
                   f"{p.worst_ratio:.3f}x | {floor} | {vs_mean} |")
    idle_busy = [j for r in runs if r.load in JUDGED_LOADS for j in r.jobs]
    every = [j for r in runs for j in r.jobs]
    out.append("")
    out.append(f"80% intervals held, idle and busy: {sum(j.held for j in idle_busy)}/{len(idle_busy)}; "
               f"with the torch runs: {sum(j.held for j in every)}/{len(every)}")
    return "\n".join(out)


def makers(runs: list[Run]) -> list[str]:
    """The CPU makers the runs name, in ``CPU_MAKERS`` order, "unknown" last."""
    return [m for m in (*CPU_MAKERS, "unknown") if any(r.cpu == m for r in runs)]


def pools_by_cpu(runs: list[Run]) -> dict[str, dict[str, Pool]]:
    """Each CPU maker's runs pooled by load: {maker: {load: Pool}}, makers in ``makers`` order."""
    by_cpu: dict[str, dict[str, Pool]] = {}
    for maker in makers(runs):
        mine = [r for r in runs if r.cpu == maker]
        by_cpu[maker] = {load: p for load in LOADS if (p := pool(mine, load)) is not None}
    return by_cpu


def table_by_cpu(runs: list[Run]) -> str:
    """The pooled figures of each CPU maker's runs, one line per maker and load."""
    out = ["| CPU | load | runs | jobs | median abs error | median signed error | jobs within 20% | "
           "runs with every job within 20% | 80% intervals held | worst ratio |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for maker, pools in pools_by_cpu(runs).items():
        for load, p in pools.items():
            out.append(f"| {maker} | {load} | {p.runs} | {p.jobs} | {p.median_abs_error_pct:.2f}% | "
                       f"{p.median_signed_error_pct:+.1f}% | {p.within_20_pct}/{p.jobs} | "
                       f"{p.runs_all_within_20_pct}/{p.runs} | {p.held}/{p.jobs} | {p.worst_ratio:.3f}x |")
    return "\n".join(out)


def as_json(runs: list[Run]) -> dict:
    """The pooled figures by load and by CPU maker and load, and each run's label, load, CPU, median and floor."""
    pools = {load: dataclasses.asdict(p) for load in LOADS if (p := pool(runs, load)) is not None}
    by_cpu = {maker: {load: dataclasses.asdict(p) for load, p in pools.items()}
              for maker, pools in pools_by_cpu(runs).items()}
    return {"pooled": pools, "by_cpu": by_cpu,
            "runs": [{"label": r.label, "load": r.load, "cpu": r.cpu, "jobs": len(r.jobs),
                      "median_abs_error_pct": round(r.median_abs_error_pct, 3), "floor_pct": r.floor_pct}
                     for r in runs]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--readme", default=str(README), help="the bench/README.md to read")
    p.add_argument("--extra", action="append", default=[], metavar="LOAD:FILE",
                   help="a run not yet pasted: accuracy_cpu.py's printed output, with its load (idle|busy|torch)")
    p.add_argument("--runs", action="store_true", help="also list each run's median")
    p.add_argument("--json", action="store_true", help="the pooled figures (and each run's) as JSON instead")
    p.add_argument("--by-cpu", action="store_true", help="also pool each CPU maker's runs apart")
    p.add_argument("--criterion", action="store_true",
                   help="also issue 8's 'every job within 20%%' against the machine's own floor")
    args = p.parse_args(argv)
    runs = parse_runs(Path(args.readme).read_text(encoding="utf-8"))
    for spec in args.extra:
        load, _, path = spec.partition(":")
        runs.append(run_from_output(load, Path(path).read_text(encoding="utf-8"), path))
    if args.json:
        print(json.dumps(as_json(runs), indent=2))
        return 0
    if args.runs:
        for r in runs:
            floor = "" if r.floor_pct is None else f", the machine's floor {r.floor_pct:.1f}%"
            print(f"{r.load:5}  {r.median_abs_error_pct:5.1f}%  {r.cpu:7}  {r.label}{floor}")
        print()
    print(table(runs))
    if args.by_cpu:
        print()
        print(table_by_cpu(runs))
    if args.criterion:
        print()
        print(criterion_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
