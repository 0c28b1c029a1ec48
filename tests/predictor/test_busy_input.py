"""A GPU estimate whose step is mostly batch creation says when that was timed beside other processes
(advisor.predictor.input_bound.busy_input_note): the probe's note reached recommend's top-level notes, not the
estimate, and a make_batch timed on a loaded host once moved predict --gpu 1.9x between runs with no word of it."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor import api
from advisor.predictor.caveats import caveats
from advisor.schemas import InputPipeline, LoaderPoint, Target

TABULAR = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
BUSY = "input pipeline: other processes used up to 1.5 cores while make_batch was timed"


def with_pipeline(samples_per_second: float, *, busy: bool):
    """The tabular MLP's profile with a make_batch timed at ``samples_per_second``, on a busy machine or not."""
    load = dict(others_cpu_cores=1.5, wait_seconds=0.4, clock="wall_less_wait") if busy else {}
    point = LoaderPoint(workers=0, samples_per_second=samples_per_second, batches_timed=3, seconds=1.0, **load)
    pipeline = InputPipeline(source="make_batch", batch_size=512, bytes_per_sample=40.0, points=[point])
    return api.load_profile(TABULAR).model_copy(update={"input_pipeline": pipeline})


def predict(prof):
    return advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target="H100-SXM",
                           precision="bf16")


def test_a_gpu_step_mostly_batch_creation_timed_on_a_busy_host_says_so_without_widening():
    busy, quiet = predict(with_pipeline(100_000.0, busy=True)), predict(with_pipeline(100_000.0, busy=False))
    assert busy.input_seconds == pytest.approx(512 / 100_000.0)  # the rate as measured, its waits left out
    (note,) = [n for n in busy.notes if n.startswith(BUSY)]
    share = 1 - busy.gpu_utilization if busy.gpu_utilization is not None else None
    assert share is None or share >= 0.2
    assert "of this GPU step, so this estimate rests on that timing" in note
    assert "the profile keeps no spread of its calls, so the interval is not widened for it" in note
    assert caveats([note]) == [note]  # said on predict --gpus rows and for recommend's chosen machine
    assert not any(n.startswith("input pipeline: other processes") for n in quiet.notes)
    assert (busy.seconds, busy.low, busy.high) == (quiet.seconds, quiet.low, quiet.high)  # a note, not a wider one


def test_a_busy_timing_of_a_small_share_of_the_step_says_nothing():
    est = predict(with_pipeline(1e9, busy=True))  # batch creation 0.5 us of a step of milliseconds
    assert not any(n.startswith("input pipeline: other processes") for n in est.notes)


def test_every_gpu_count_of_the_target_carries_it():
    """The rows of predict --gpus 1,2,4 and recommend's candidates are the same estimate at K GPUs."""
    prof = with_pipeline(100_000.0, busy=True)
    two = advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target=Target.gpu("H100-SXM", 2),
                          precision="bf16")
    assert [n for n in caveats(two.notes) if n.startswith(BUSY)]
