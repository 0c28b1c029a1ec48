"""Predict ``bench/accuracy_cpu.py``'s jobs again from the very probes it judged.

``bench/accuracy_cpu.py --json-out ROWS.json`` keeps, for each job, the probe's profile, the job (dataset size,
epochs, batch size) and the real job's times. This script predicts each job again from its profile with the code
as it is now and prints the errors beside the ones the bench printed. A change to how the predictor reads a
probe (a busy probe's assumed parallel fraction, with ``--busy-fraction``) is then judged paired, on the same
probes and the same real jobs, without the probe's own swing between runs: the noise that makes a comparison of
two whole bench runs need many runs.

    .venv/bin/python bench/replay_cpu.py busy1.json busy2.json
    .venv/bin/python bench/replay_cpu.py busy*.json --busy-fraction 0.7

It is a what-if on recorded data, not a bench of its own: the real jobs are not rerun.
"""

from __future__ import annotations

import argparse
import json
import statistics
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def busy_fraction(fraction: float | None):
    """The busy probe's assumed parallel fraction set to ``fraction`` for as long as this lasts (None: as is)."""
    from advisor.predictor import cpu_scaling

    saved = cpu_scaling.BUSY_PARALLEL_FRACTION
    if fraction is not None:
        if not 0.0 <= fraction <= cpu_scaling.MAX_PARALLEL_FRACTION:
            raise ValueError(f"--busy-fraction {fraction}: give a fraction between 0 and "
                             f"{cpu_scaling.MAX_PARALLEL_FRACTION}")
        cpu_scaling.BUSY_PARALLEL_FRACTION = fraction
    try:
        yield
    finally:
        cpu_scaling.BUSY_PARALLEL_FRACTION = saved


def replay(row: dict, fraction: float | None = None) -> dict:
    """``row`` (one job of ``accuracy_cpu.py --json-out``) predicted again from its profile."""
    from advisor.predictor.measured import predict_measured
    from advisor.schemas import JobSpec, Profile

    if "profile" not in row:
        raise ValueError(f"{row.get('workload', '?')}: the row has no profile (written before replay existed)")
    profile = Profile.model_validate(row["profile"])
    job = JobSpec(row["dataset_size"], row["epochs"], row["batch_size"])
    with busy_fraction(fraction):
        est = predict_measured(profile, job)
    actual = row["actual_seconds"]
    return {"workload": row["workload"], "actual_seconds": actual, "recorded_error_pct": row["error_pct"],
            "predicted_seconds": est.seconds, "step_seconds": est.step_seconds,
            "error_pct": 100 * (est.seconds - actual) / actual, "interval_held": est.low <= actual <= est.high}


def table(replayed: list[tuple[str, dict]]) -> str:
    """One line a job: the bench's error as recorded and the error predicted again."""
    lines = ["| run | workload | actual s | recorded error % | predicted again s | error % | held |",
             "|---|---|---:|---:|---:|---:|---|"]
    for run, r in replayed:
        held = "yes" if r["interval_held"] else "no"
        lines.append(f"| {run} | {r['workload']} | {r['actual_seconds']:.1f} | {r['recorded_error_pct']:+.1f} | "
                     f"{r['predicted_seconds']:.1f} | {r['error_pct']:+.1f} | {held} |")
    if replayed:
        recorded = statistics.median(abs(r["recorded_error_pct"]) for _, r in replayed)
        again = statistics.median(abs(r["error_pct"]) for _, r in replayed)
        within = sum(abs(r["error_pct"]) <= 20 for _, r in replayed)
        lines += ["", f"median |error|: recorded {recorded:.1f}%, predicted again {again:.1f}%; "
                      f"within 20% again: {within}/{len(replayed)}; intervals held again: "
                      f"{sum(r['interval_held'] for _, r in replayed)}/{len(replayed)}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="+", help="accuracy_cpu.py --json-out files")
    parser.add_argument("--busy-fraction", type=float, default=None,
                        help="the parallel fraction a busy probe assumes (default: the shipped one)")
    args = parser.parse_args(argv)
    replayed = [(Path(f).stem, replay(row, args.busy_fraction))
                for f in args.rows for row in json.loads(Path(f).read_text(encoding="utf-8"))]
    print(table(replayed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
