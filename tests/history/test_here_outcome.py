"""An outcome recorded on the probed machine itself (``--instance here``): it copies the "Here" line's estimate of
that device, and compare, the learned correction's rows and ``advisor.track`` judge it like a candidate's. On SQLite
and on PostgreSQL (the ``history`` fixture)."""

from __future__ import annotations

import time

import pytest
from history_helpers import profile, recommendation
from sqlalchemy import select

import advisor
from advisor.errors import HistoryError
from advisor.history.tables import OutcomeTable
from advisor.schemas import HereRun

CPU = HereRun(device="cpu", name="Xeon, 2 threads", threads=2, seconds=600.0, low=480.0, high=750.0,
              method="measured", fits_memory=True)
H200 = HereRun(device="cuda:0", name="NVIDIA H200", gpu="H200", seconds=40.0, low=30.0, high=55.0, method="scaled",
               fits_memory=True)
NO_SPEC = HereRun(device="cuda:1", name="Some GPU", error="advisor has no spec sheet for Some GPU.")


def saved(history, *runs):
    return history.save_recommendation(recommendation("m", chosen=1, here=list(runs)), profile=profile("m"))


def test_a_run_here_copies_the_cpu_estimate_and_compare_judges_it(history):
    rec_id = saved(history, CPU, NO_SPEC)  # one device with an estimate: "here" is that one
    out = history.record_outcome(rec_id, 800.0, instance_type="here")
    assert out.instance_type == "here:cpu"
    with history.engine.connect() as conn:
        row = conn.execute(select(OutcomeTable).where(OutcomeTable.id == out.id)).one()
    assert (row.candidate_id, row.provider, row.tier, row.gpu, row.gpu_count, row.vcpus, row.method) == (
        None, None, "cpu", None, 0, 2, "measured")
    assert (row.predicted_seconds, row.low, row.high, row.cost_usd) == (600.0, 480.0, 750.0, None)
    (cmp,) = history.compare().rows
    assert (cmp.instance_type, cmp.device, cmp.predicted_seconds, cmp.actual_seconds) == ("here:cpu", "cpu", 600.0,
                                                                                          800.0)
    assert cmp.error_pct == pytest.approx(-25.0) and not cmp.within_interval
    (train,) = history.training_rows()
    assert (train.predicted_seconds, train.actual_seconds, train.vcpus, train.gpu, train.gpu_count) == (
        600.0, 800.0, 2, None, 0)


def test_a_gpu_here_is_named_and_judged_by_its_spec(history):
    rec_id = saved(history, CPU, H200)
    out = history.record_outcome(rec_id, 44.0, instance_type="HERE:CUDA:0")
    assert out.instance_type == "here:cuda:0"
    (cmp,) = history.compare().rows
    assert (cmp.device, cmp.predicted_seconds, cmp.method) == ("H200", 40.0, "scaled") and cmp.within_interval
    (train,) = history.training_rows()
    assert (train.gpu, train.gpu_count, train.vcpus) == ("H200", 1, None)


def test_a_corrected_estimate_here_trains_on_its_base(history):
    corrected = CPU.model_copy(update={"method": "history", "seconds": 660.0, "base_seconds": 600.0,
                                       "base_method": "measured"})
    rec_id = saved(history, corrected)
    history.record_outcome(rec_id, 700.0, instance_type="here:cpu")
    (train,) = history.training_rows()
    assert (train.predicted_seconds, train.method) == (600.0, "measured")
    assert history.compare().rows[0].predicted_seconds == 660.0


def test_which_device_here_is_asked_when_it_is_not_clear_or_not_there(history):
    rec_id = saved(history, CPU, H200, NO_SPEC)
    with pytest.raises(HistoryError) as two:
        history.record_outcome(rec_id, 44.0, instance_type="here")
    assert "has 2 devices with an estimate" in two.value.message and "here:cpu, here:cuda:0" in two.value.hint
    with pytest.raises(HistoryError) as unknown:
        history.record_outcome(rec_id, 44.0, instance_type="here:cuda:7")
    assert "not a device of the machine" in unknown.value.message
    assert unknown.value.hint == "Fix: use one of here:cpu, here:cuda:0, here:cuda:1."
    with pytest.raises(HistoryError) as none:
        history.record_outcome(rec_id, 44.0, instance_type="here:cuda:1")
    assert none.value.message.endswith("(advisor has no spec sheet for Some GPU).")
    old = history.save_recommendation(recommendation("m", chosen=1))  # no Here line: an older advisor's answer
    with pytest.raises(HistoryError, match="no estimate for the machine that was probed"):
        history.record_outcome(old, 44.0, instance_type="here")
    assert history.compare().rows == []  # nothing was written by any of them


def test_track_times_a_run_here(history):
    rec_id = saved(history, CPU)
    # A block that trains nothing is far from the estimate here, and is warned about as a test run
    with pytest.warns(RuntimeWarning, match="shorter than the predicted 10m00s"):
        with advisor.track(rec_id, url=history.url, instance_type="here") as tracked:
            time.sleep(0.01)
    assert tracked.outcome.instance_type == "here:cpu"
    with pytest.raises(HistoryError, match="not a device of the machine"):
        advisor.track(rec_id, url=history.url, instance_type="here:cuda:0").__enter__()  # checked before the job starts
    (cmp,) = history.compare().rows
    assert cmp.predicted_seconds == 600.0 and cmp.actual_seconds == pytest.approx(tracked.seconds)


def test_history_list_names_the_machine_an_outcome_ran_on_when_not_the_chosen_one(history, db_url):
    """The list put the chosen instance's prediction beside a run here, with nothing to say the two differ."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    rec_id = saved(history, CPU)
    history.record_outcome(rec_id, 60.0, instance_type="here")
    (entry,) = history.list()
    assert (entry.instance_type, entry.outcome_instance_type, entry.actual_seconds) == (
        recommendation("m").chosen.instance_type, "here:cpu", 60.0)
    table = CliRunner().invoke(build_app(), ["history", "list"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "1m00s on here:cpu" in table.output
    chosen = saved(history, CPU)
    history.record_outcome(chosen, 600.0)  # on the chosen machine: nothing to add
    assert history.list()[0].outcome_instance_type == recommendation("m").chosen.instance_type
