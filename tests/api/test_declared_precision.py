"""One answer for one question, whatever the way of asking: a table of GPU counts and precisions (``predict --gpus
1,2 --precision all``) gives each row the time the single prediction of that count and precision gives, for a
workload that declares its precision (``PRECISION = "bf16"``) and for one given ``--precision``."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
import advisor.api
from advisor.scaling import predict_grid

BF16_LM = Path(__file__).resolve().parent / "data" / "bf16_lm.py"  # a small decoder LM, PRECISION = "bf16"
GPU = "A100-80GB"


def _single(count: int, precision: str | None) -> advisor.Estimate:
    return advisor.predict(BF16_LM, target=advisor.Target.gpu(GPU, count), precision=precision,
                           use_history=False, probe_seconds=5)


def test_a_grid_row_is_the_single_prediction_of_its_count_and_precision():
    # Before: the table analysed the model once, at fp32, and priced its 16-bit rows from that analysis by
    # approximation (26% under the single bf16 prediction of this model, whose autocast casts an fp32 trace lacks).
    declared = predict_grid(BF16_LM, gpu=GPU, counts=[2], precisions=[None], probe_seconds=5)
    for row in declared.rows:
        single = _single(row.count, None)
        assert row.estimate.precision == single.precision == "bf16"
        assert row.estimate.seconds == pytest.approx(single.seconds, rel=0.03)
    both = predict_grid(BF16_LM, gpu=GPU, counts=[2], precisions=["fp32", "tf32", "bf16"], probe_seconds=5)
    for row in both.rows:
        single = _single(2, row.precision)
        assert row.estimate.precision == single.precision
        assert row.estimate.seconds == pytest.approx(single.seconds, rel=0.03)
        assert not any("the analysis was made in" in n for n in row.estimate.notes)  # no approximation


def test_a_saved_profile_of_a_workload_that_declares_its_precision_answers_as_the_file_does(tmp_path):
    # Before, `advisor profile` analysed at fp32 unless told --precision, so `predict --profile` of the saved file
    # priced the declared bf16 job by approximation, not as `predict FILE` did.
    saved = advisor.api.save_profile(advisor.profile(BF16_LM, devices=[]), tmp_path / "lm.json")
    from_profile = advisor.predict(saved, target=advisor.Target.gpu(GPU, 2), use_history=False)
    from_file = _single(2, None)
    assert from_profile.precision == from_file.precision == "bf16"
    assert from_profile.seconds == pytest.approx(from_file.seconds, rel=0.03)
    assert not any("the analysis was made in" in n for n in from_profile.notes)
    told = advisor.profile(BF16_LM, devices=[], precision="fp32")  # asked for: an fp32 job, as asked
    assert told.workload.precision == "fp32"
    assert advisor.predict(told, target=advisor.Target.gpu(GPU, 2), use_history=False).precision == "fp32"
    approximated = advisor.predict(told, target=advisor.Target.gpu(GPU, 2), use_history=False, precision="bf16")
    assert any("the analysis was made in fp32" in n for n in approximated.notes)  # and the estimate says so


MLP = Path(__file__).resolve().parents[2] / "examples" / "tabular_mlp.py"  # declares no PRECISION


def test_a_profile_taken_at_a_precision_is_a_job_at_that_precision(tmp_path):
    # `advisor profile --precision bf16` analysed at bf16 but recorded no precision: --profile then priced the
    # GPUs at fp32, approximated from the 16-bit analysis, without a word in recommend's answer.
    saved = advisor.api.save_profile(advisor.profile(MLP, devices=[], precision="bf16"), tmp_path / "bf16.json")
    prof = advisor.api.load_profile(saved)
    assert prof.workload.precision == "bf16"
    job = {"dataset_size": 300_000, "epochs": 10, "batch_size": 64, "use_history": False}
    est = advisor.predict(saved, target=advisor.Target.gpu(GPU, 1), **job)
    assert est.precision == "bf16" and not any("approximated" in n for n in est.notes)
    rec = advisor.recommend(saved, **{k: v for k, v in job.items() if k != "use_history"}, save=False)
    assert {c.precision for c in rec.best_per_tier.values() if c is not None} == {"bf16"}
    assert advisor.predict(saved, target=advisor.Target.gpu(GPU, 1), **job, precision="fp32").precision == "fp32"
    # A profile taken before the precision was recorded answers as it did: the file's (none: fp32), approximated.
    older = prof.model_copy(update={"workload": prof.workload.model_copy(update={"precision": None})})
    before = advisor.predict(older, target=advisor.Target.gpu(GPU, 1), **job)
    assert before.precision == "fp32" and any("fp32 bytes are approximated" in n for n in before.notes)


@pytest.mark.parametrize(("declared", "asked", "shown"), [("bf16", None, "bf16"), ("mixed", None, "bf16"),
                                                         (None, None, "fp32"), ("bf16", "fp16", "fp16")])
def test_a_grid_row_that_cannot_be_predicted_carries_the_jobs_precision(declared, asked, shown):
    """A bf16 job's row of 512 GPUs (a batch of 64 cannot be split over them) was labelled fp32."""
    from advisor.api import load_profile

    prof = load_profile(Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json")
    prof = prof.model_copy(update={"workload": prof.workload.model_copy(update={"precision": declared})})
    grid = predict_grid(prof, gpu="H100-SXM", counts=[1, 512], precisions=[asked], dataset_size=6400, epochs=1,
                        batch_size=64)
    good, bad = grid.rows
    assert bad.count == 512 and bad.estimate is None and "cannot be split over 512 GPUs" in bad.error
    assert bad.precision == good.precision == shown
