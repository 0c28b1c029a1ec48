"""predict carries the profile's workload notes (make_batch's shapes vary, the analysis failed) on every estimate,
the device's own notes only on that device's, each once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import advisor
from advisor.api import load_profile
from advisor.predictor.carried_notes import carried_notes
from advisor.schemas.missing_analysis import failed_note

_DATA = Path(__file__).parent / "data" / "tabular_mlp_subnormal_profile.json"
# The probe's note where make_batch's shapes vary (``advisor.workload.check.varying_shapes_note``), as a GRU
# drawing a random sequence length per batch gets it.
SHAPES = ("make_batch(2) returned inputs of shape (2, 11, 32), then (2, 37, 32): their shapes vary between calls, "
          "and the timed steps and the shape analysis (GPU predictions) each priced whichever shape a call drew, so "
          "this answer can change widely from run to run. Fix: return the same shapes at a batch size (pad to the "
          "length the job pads to, or use the typical length).")
GPU_NOTE = "cuda:0: other processes held 3.0 GiB of it when the probe began."


def _profile(*notes: str) -> advisor.Profile:
    prof = load_profile(_DATA)
    return prof.model_copy(update={"notes": [*prof.notes, *notes]})


@pytest.mark.parametrize("target", [advisor.Target.cpu(), advisor.Target.cpu(threads=1), "A100-80GB"])
def test_predict_carries_the_shapes_vary_note_on_every_target(target):
    """A variable-length GRU's profile said its shapes vary; ``predict`` (measured CPU, CPU scaled to another
    thread count, a GPU from the analysis) dropped it, keeping only notes that start with the device's name."""
    est = advisor.predict(_profile(SHAPES, GPU_NOTE), target=target, dataset_size=20_000, epochs=1,
                          batch_size=512, use_history=False)
    assert est.notes.count(SHAPES) == 1
    assert GPU_NOTE not in est.notes  # another device's note stays with it
    cpu_notes = [n for n in _profile().notes if n.startswith("cpu:")]
    assert all((n in est.notes) == (est.target.kind == "cpu") for n in cpu_notes)


def test_the_analysis_failed_note_rides_on_a_cpu_estimate():
    failed = failed_note("could not analyse w.py with fake tensors: DynamicOutputShapeException. Fix: pad.")
    est = advisor.predict(_profile(failed), target="cpu", dataset_size=20_000, epochs=1, batch_size=512,
                          use_history=False)
    assert est.notes.count(failed) == 1


def test_carried_notes_keep_the_profile_order_and_say_each_once():
    cpu_shapes = f"cpu: {SHAPES}"  # a device's note that also names the shapes: once, not twice
    notes = ["starting Python and importing torch timed beside other processes", cpu_shapes, GPU_NOTE, SHAPES]
    assert carried_notes(notes, "cpu") == [cpu_shapes, SHAPES]
    assert carried_notes(notes, "cuda:0") == [cpu_shapes, GPU_NOTE, SHAPES]
    assert carried_notes(notes, None) == [cpu_shapes, SHAPES]


def test_the_optimizer_notes_ride_on_every_estimate():
    """SparseAdam over the embeddings alone: the probe says the dense layers' update is not timed; predict said
    nothing of it."""
    from advisor.schemas.optimizer_notes import several_note, uncovered_note

    left, pair = uncovered_note(2_177, 1_602_177, "SparseAdam"), several_note(2, "SparseAdam+Adam")
    for target in ("cpu", "A100-80GB"):
        est = advisor.predict(_profile(left, pair), target=target, dataset_size=20_000, epochs=1, batch_size=512,
                              use_history=False)
        assert est.notes.count(left) == est.notes.count(pair) == 1
        assert left.startswith("2,177 of 1,602,177 trainable parameters have no optimizer: their update is not timed")


def test_predict_carries_the_probes_turn_notes_on_a_probed_devices_estimate(tmp_path):
    """A probe that waited ADVISOR_PROBE_WAIT for another advisor probe and then timed beside it says so in its
    profile, and ``recommend`` printed it; ``predict --device cpu`` dropped it (it starts with no device's name), so
    a time measured beside another probe read as any other. The turn was held over every timed device, so each
    estimate from one carries it; a GPU priced from the analysis alone (nothing timed) does not."""
    from advisor.probe import turns

    beside = turns.turn_note(turns.TurnOutcome(waited_seconds=60.0, holder_pid=4242, timed_out=True), 60.0)
    waited = turns.turn_note(turns.TurnOutcome(waited_seconds=14.0, holder_pid=4242), 60.0)
    channel = type("Channel", (), {"sent": [], "send": lambda self, frame: self.sent.append(frame)})()
    os.symlink(tmp_path / "elsewhere", tmp_path / "lock")  # a lock file that cannot be opened
    turns.ProbeTurn(str(tmp_path / "lock"), 5.0, channel).take(0.3)
    unopened = channel.sent[0].note
    assert beside.startswith("this probe waited the limit of 60 s (ADVISOR_PROBE_WAIT) for another advisor probe "
                             "(pid 4242) to finish timing, then timed beside it")
    for target in (advisor.Target.cpu(), advisor.Target.cpu(threads=1)):
        est = advisor.predict(_profile(beside, waited, unopened), target=target, dataset_size=20_000, epochs=1,
                              batch_size=512, use_history=False)
        assert [n for n in est.notes if n in (beside, waited, unopened)] == [beside, waited, unopened]
    gpu = advisor.predict(_profile(beside, unopened), target="A100-80GB", dataset_size=20_000, epochs=1,
                          batch_size=512, use_history=False)
    assert beside not in gpu.notes and unopened not in gpu.notes
    assert carried_notes([GPU_NOTE, beside], "cuda:0") == [GPU_NOTE, beside]
