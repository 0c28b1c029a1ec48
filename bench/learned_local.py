"""The learned correction end to end, on real jobs run on this machine: does the history learn, and does it help?

    .venv/bin/python bench/learned_local.py [--rounds 3] [--background busy] [--json-out FILE]

What a user does, through the public API and a fresh SQLite history (nothing else in it):

1. ``advisor.recommend(FILE, ...)``: the probe, every candidate priced, and the "Here" estimate for this CPU
   (``rec.here``), which goes through the learned correction once the history has earned one;
2. the real job on this machine, in a fresh process (``bench/accuracy_cpu.run_job``: model build, epochs x
   steps of make_batch + forward + loss + backward + optimizer step, timed without Python's start);
3. ``History.record_outcome(rec.id, seconds, instance_type="here")``, what ``advisor history record ID
   --instance here`` stores.

The jobs go round the five CPU workloads of ``bench/accuracy_cpu.py`` (the three examples, and two the project
had never seen when they were added), ``--rounds`` times, each round at another dataset size, so that the
history holds 8 runs (``advisor.predictor.learned.MIN_RUNS``) after the second round. Each job is judged as it
comes (prequential: the correction it got was fitted on the earlier jobs only), so the table shows what a user
would have been told at each step, base and corrected, against what the job really took. At the end,
``advisor history calibration``'s report (repeated K-fold on every stored run) says whether the correction
earns its use and by how much.

``--background busy`` runs a busy loop beside each probe (not beside the real job, which runs on the idle
machine): the probe's lean under load is then something a correction could learn.

It is a benchmark, not a test: it exits 0 after printing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import accuracy_cpu as A  # noqa: E402

# (workload, batch size, dataset size of a ~20 s two-epoch job on a 2-vCPU VM: bench/README.md, session 51)
JOBS = (
    ("tabular_mlp", 512, 583_850),
    ("small_cnn", 128, 13_354),
    ("tiny_transformer_lm", 16, 1_893),
    (str(REPO / "bench" / "workloads" / "wide_mlp.py"), 100, 58_533),
    (str(REPO / "bench" / "workloads" / "conv1d_audio.py"), 64, 19_925),
)
# Each round's dataset size, as a share of the ~20 s size: the stored runs are not all one job length.
ROUND_SCALES = (0.5, 1.0, 0.75, 0.4, 0.9)
EPOCHS = 2


def _uneven(n: int, batch_size: int) -> int:
    """Never a multiple of the batch: the epoch's last batch is smaller, as in accuracy_cpu."""
    return n + 1 if n % batch_size == 0 else n


def one_job(name: str, batch_size: int, dataset_size: int, settings, background: str | None) -> dict:
    import advisor
    from advisor.history.repository import History

    path = A.workload_path(name)
    t0 = time.perf_counter()
    with A.Background(background):
        rec = advisor.recommend(str(path), dataset_size=dataset_size, epochs=EPOCHS, batch_size=batch_size,
                                settings=settings, probe_seconds=60.0)
    advise_seconds = time.perf_counter() - t0
    here = next((h for h in rec.here if h.device == "cpu"), None)
    if here is None or here.seconds is None:
        raise SystemExit(f"{path.stem}: no Here estimate for the CPU ({here.error if here else 'none'})")
    actual = A.run_job_subprocess(path, dataset_size, EPOCHS, batch_size, here.threads)
    seconds = actual["wall_seconds"]
    with History(settings.resolved_database_url) as hist:
        hist.record_outcome(rec.id, seconds, instance_type="here")
    corrected = here.method == "history"
    base = here.base_seconds if corrected else here.seconds
    return {
        "workload": path.stem, "batch_size": batch_size, "dataset_size": dataset_size, "epochs": EPOCHS,
        "recommendation_id": rec.id, "advise_seconds": advise_seconds,
        "base_seconds": base, "shown_seconds": here.seconds, "low": here.low, "high": here.high,
        "corrected": corrected, "actual_seconds": seconds,
        "base_error_pct": 100 * (base - seconds) / seconds,
        "shown_error_pct": 100 * (here.seconds - seconds) / seconds,
        "held": here.low is not None and here.low <= seconds <= here.high,
    }


def render(rows: list[dict], report) -> str:
    out = ["| # | workload | dataset | base s | shown s | 80% interval | actual s | base error % | shown error % "
           "| corrected | held |", "|---:|---|---:|---:|---:|---|---:|---:|---:|---|---|"]
    for i, r in enumerate(rows, 1):
        out.append(f"| {i} | {r['workload']} | {r['dataset_size']:,} | {r['base_seconds']:.1f} | "
                   f"{r['shown_seconds']:.1f} | {r['low']:.1f}-{r['high']:.1f} | {r['actual_seconds']:.1f} | "
                   f"{r['base_error_pct']:+.1f} | {r['shown_error_pct']:+.1f} | "
                   f"{'yes' if r['corrected'] else 'no'} | {'yes' if r['held'] else 'no'} |")
    after = [r for r in rows if r["corrected"]]
    out.append("")
    base = statistics.median(abs(r['base_error_pct']) for r in rows)
    shown = statistics.median(abs(r['shown_error_pct']) for r in rows)
    out.append(f"jobs: {len(rows)}; median |base error| {base:.1f}%, median |shown error| {shown:.1f}%; "
               f"intervals held {sum(r['held'] for r in rows)}/{len(rows)}")
    if after:
        out.append(f"the {len(after)} jobs shown a corrected estimate: median |base error| "
                   f"{statistics.median(abs(r['base_error_pct']) for r in after):.1f}%, median |corrected error| "
                   f"{statistics.median(abs(r['shown_error_pct']) for r in after):.1f}%; corrected closer in "
                   f"{sum(abs(r['shown_error_pct']) < abs(r['base_error_pct']) for r in after)} of {len(after)}")
    else:
        out.append("no job was shown a corrected estimate")

    def pct(x):
        return "n/a" if x is None else f"{x:.1f}%"

    out.append(f"advisor history calibration over the {report.n_runs} stored runs ({report.folds} folds): "
               f"held-out median |error| before {pct(report.cv_error_before_pct)}, after "
               f"{pct(report.cv_error_after_pct)}; used: {'yes' if report.used else 'no'} ({report.reason})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from advisor.history.repository import History
    from advisor.predictor.learned import calibration_report
    from advisor.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="passes over the five workloads (default 3: 15 jobs)")
    ap.add_argument("--background", choices=sorted(A.BACKGROUNDS), default=None,
                    help="a load beside each probe (not beside the real jobs)")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="advisor-learned-") as tmp:
        settings = Settings.from_env(database_url=f"sqlite:///{tmp}/history.db")
        rows = []
        for k in range(args.rounds):
            scale = ROUND_SCALES[k % len(ROUND_SCALES)]
            for name, batch_size, size in JOBS:
                row = one_job(name, batch_size, _uneven(int(size * scale), batch_size), settings, args.background)
                rows.append(row)
                print(f"[{len(rows)}] {row['workload']}: base {row['base_seconds']:.1f} s, shown "
                      f"{row['shown_seconds']:.1f} s{' (corrected)' if row['corrected'] else ''}, actual "
                      f"{row['actual_seconds']:.1f} s", file=sys.stderr, flush=True)
        with History(settings.resolved_database_url) as hist:
            report = calibration_report(hist)
    print(f"## The learned correction on {len(rows)} real jobs ({A.machine()}; probe beside: "
          f"{args.background or 'nothing'})\n")
    print(render(rows, report))
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "report": report.model_dump(mode="json")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
