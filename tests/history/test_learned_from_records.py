"""What the learned correction learns from runs recorded in a real SQLite history: each run against the prediction
of the machine it ran on (``--instance``: a T4 run of a recommendation that chose a CPU is judged against the T4's
prediction, never the chosen CPU's), failed runs and forced outliers left out, and each kind of device (CPU, GPU)
corrected by its own runs: one workload's CPU runs at 2x and its GPU runs at 0.5x give 2x and 0.5x, not a blend."""

from __future__ import annotations

import json
import math
import random
import warnings

import pytest
from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.repository import History
from advisor.predictor.learned import calibration_report, fit_correction
from advisor.schemas import Estimate, Target, WorkloadInfo

WORKLOAD = {"name": "mlp", "params": 1_000_000, "flops_per_sample": 6e7, "file_sha256": "f" * 64}


def _saved(hist: History, i: int) -> int:
    """Recommendation i: a CPU (c7i.8xlarge, chosen, measured at 1000 s x (i + 1)) and a T4 (g4dn.xlarge, scaled
    at 200 s x (i + 1))."""
    cpu = candidate(0, seconds=1000.0 * (i + 1), method="measured")
    t4 = candidate(3, seconds=200.0 * (i + 1), method="scaled")
    rec = recommendation("mlp", n=0, excluded=0, workload=WORKLOAD, dataset_size=50_000 * (i + 1), epochs=1 + i % 3,
                         candidates=[cpu, t4])
    return hist.save_recommendation(rec.model_copy(update={"chosen": cpu}))


def _estimate(target: Target, method: str) -> Estimate:
    return Estimate(target=target, dataset_size=100_000, epochs=2, batch_size=128, seconds=1000.0, low=800.0,
                    high=1250.0, step_seconds=1000 / 1564, steps_per_epoch=782, total_steps=1564, fits_memory=True,
                    per_device_batch_size=128, method=method, precision="fp32")


def test_runs_are_learned_per_machine_and_kind_and_failed_or_forced_ones_are_not(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    rnd = random.Random(3)
    with History(url) as hist:
        hist.create()
        ids = [_saved(hist, i) for i in range(6)]
    # A T4 run of the first, recorded by hand: judged against the T4's 200 s, not the chosen CPU's 1000 s.
    out = CliRunner().invoke(build_app(), ["history", "record", str(ids[0]), "--actual-seconds", "100",
                                           "--instance", "g4dn.xlarge", "--json"])
    assert out.exit_code == 0, out.output
    stored = json.loads(out.stdout)
    assert (stored["instance_type"], stored["predicted_seconds"]) == ("g4dn.xlarge", 200.0)
    with History(url) as hist:
        for i, rid in enumerate(ids):
            hist.record_outcome(rid, 1000.0 * (i + 1) * 2.0 * math.exp(rnd.gauss(0, 0.03)))  # the chosen CPU
            hist.record_outcome(rid, 1000.0 * (i + 1) * 2.0 * math.exp(rnd.gauss(0, 0.03)), instance_type="c7i.8xlarge")
            if i:  # the first has its T4 run already
                hist.record_outcome(rid, 200.0 * (i + 1) * 0.5 * math.exp(rnd.gauss(0, 0.03)),
                                    instance_type="g4dn.xlarge")
            hist.record_outcome(rid, 200.0 * (i + 1) * 0.5 * math.exp(rnd.gauss(0, 0.03)), instance_type="G4DN.xlarge")
        hist.record_outcome(ids[0], 20_000.0, instance_type="g4dn.xlarge", status="failed")  # a crash, 100x
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hist.record_outcome(ids[1], 12_000.0, instance_type="g4dn.xlarge", force=True)  # 30x: forced
        rows = hist.training_rows()
        report = calibration_report(hist)
    # 24 completed runs and the forced one; the crash is no training row
    assert len(rows) == 25 and all(r.actual_seconds != 20_000.0 for r in rows)
    by_kind = {(r.tier, r.gpu, r.predicted_seconds > 0) for r in rows}
    assert by_kind == {("cpu", None, True), ("single_gpu", "T4", True)}
    assert all(r.actual_seconds / r.predicted_seconds < 0.6 for r in rows if r.tier != "cpu"
               and r.actual_seconds != 12_000.0)  # every T4 run against the T4's prediction
    assert report.used and report.n_runs == 24  # the forced 30x run is left out, and said so
    assert "1 run(s) more than 20x from their uncorrected prediction are left out of the fit" in report.reason
    corr = fit_correction(rows)
    assert corr is not None and corr.kinds == frozenset({False, True})
    assert corr.kind_runs == {False: (12, 6), True: (12, 6)}
    mlp = WorkloadInfo(name="mlp", param_count=1_000_000, flops_per_sample=6e7)
    cpu = corr.apply(_estimate(Target.cpu(threads=16), "measured"), mlp)
    t4 = corr.apply(_estimate(Target.gpu("T4"), "scaled"), mlp)
    assert cpu.seconds == pytest.approx(2000.0, rel=0.03) and t4.seconds == pytest.approx(500.0, rel=0.03)
