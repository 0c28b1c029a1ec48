"""Another GPU carried from a GPU probe, at a per-GPU batch outside the sizes the probe timed (review3): the probed
GPU's own estimate said "batch size 64 is outside the measured range 1-12 ...", but the same job on a V100, or on
2 x H200, said nothing, though its step was extrapolated along the same curve and its interval widened for it."""

from __future__ import annotations

from pathlib import Path

import advisor

PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
JOB = {"dataset_size": 2_000_000, "epochs": 3, "save": False, "use_history": False}


def _outside(est) -> list[str]:
    return [n for n in est.notes if "is outside the measured range" in n]


def test_a_carried_gpu_outside_the_probes_batches_says_so():
    v100 = advisor.predict(str(PROFILE), target="V100-16GB", batch_size=64, **JOB)
    assert _outside(v100) == ["batch size 64 per GPU is outside the measured range 1-12 of the probe on cuda:0: "
                              "carried along its curve, extrapolated, with a wider interval."]
    two = advisor.predict(str(PROFILE), target=advisor.Target.gpu("H200", 2), batch_size=64, **JOB)
    assert [n.split(" of the probe")[0] for n in _outside(two)] == [
        "batch size 32 per GPU is outside the measured range 1-12"]


def test_inside_the_probes_batches_and_the_probed_gpu_itself_say_it_once():
    assert _outside(advisor.predict(str(PROFILE), target="V100-16GB", batch_size=8, **JOB)) == []
    own = _outside(advisor.predict(str(PROFILE), target="H200", batch_size=64, **JOB))
    assert len(own) == 1 and own[0].startswith("batch size 64 is outside the measured range 1-12; extrapolated")
