"""A job that does not fit its GPU gets the flags that run it: the largest batch per GPU that fits, or one down to
half of it, with the accumulation that keeps the samples per optimizer update (the rule of a tight fit's advice,
``memory_words.samples_kept_flags``). Before, a profile whose memory a GPU probe measured got none ("Needs 17.0 GiB at
batch 32 per device, 16.0 GiB available; the largest batch per device that fits is 14." on 2 x V100-16GB). (4 x
V100-16GB, 17.0 GiB a GPU as DDP, are priced sharded, as a job priced from the analysis is: ``test_probe_sharded``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor.api import load_profile

PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"  # accumulates 5


def _predict(count: int, *, from_probe: bool = True) -> advisor.Estimate:
    prof = load_profile(PROFILE)
    if not from_probe:
        prof = prof.model_copy(update={"devices": []})
    return advisor.predict(prof, target=advisor.Target.gpu("V100-16GB", count), dataset_size=2_000_000, epochs=3,
                           batch_size=64, use_history=False)


@pytest.mark.parametrize(("count", "largest", "flags"), [
    (2, 14, "at 10 per GPU, --batch-size 20 --grad-accum-steps 16"),  # 14 x 2 = 28 does not divide 320
    (1, 15, "at 10 per GPU, --batch-size 10 --grad-accum-steps 32")])
def test_a_probed_job_that_does_not_fit_gets_the_flags_at_the_largest_batch_that_fits(count, largest, flags):
    est = _predict(count)
    assert not est.fits_memory and est.max_batch_size_per_device == largest
    (note,) = [n for n in est.notes if n.startswith("Needs ")]
    assert note.endswith(f"; the largest batch per device that fits is {largest} ({flags} keeps the 320 samples per "
                         "optimizer update).")


def test_a_job_priced_from_the_analysis_gets_them_too():
    est = _predict(1, from_probe=False)
    (note,) = [n for n in est.notes if n.startswith("Needs ")]
    assert note.endswith("the largest batch per device that fits is 21 (at 20 per GPU, --batch-size 20 "
                         "--grad-accum-steps 16 keeps the 320 samples per optimizer update).")


def test_the_flags_follow_the_tight_advices_rule():
    from advisor.memory_words import roomier_batch_advice, samples_kept_flags

    assert samples_kept_flags(14, 4, 320) == ("at 10 per GPU, --batch-size 40 --grad-accum-steps 8 keeps the 320 "
                                              "samples per optimizer update")
    assert samples_kept_flags(16, 1, 320) == ("--batch-size 16 --grad-accum-steps 20 keeps the 320 samples per "
                                              "optimizer update")
    assert samples_kept_flags(15, 1, 41) == ""  # 41 is prime: steps of one sample are no advice
    assert samples_kept_flags(0, 1, 41) == "" and samples_kept_flags(3, 1, None) == ""
    # a tight fit's advice is the same flags in brackets
    assert roomier_batch_advice(14, 16, 4, 320) == ("batch 14 per device would leave a tenth free (at 10 per GPU, "
                                                    "--batch-size 40 --grad-accum-steps 8 keeps the 320 samples per "
                                                    "optimizer update)")


def test_the_probed_gpu_itself_gets_them_too():
    """predict --device cuda:0 (or --gpu H200, the probed model) is priced from the probe's own measurements, a path
    of its own: its note ended "the largest batch per device that fits is 156." with no flags."""
    est = advisor.predict(load_profile(PROFILE), device="cuda:0", dataset_size=2_000_000, epochs=3, batch_size=256,
                          use_history=False)
    assert est.method == "measured" and not est.fits_memory and est.max_batch_size_per_device == 156
    (note,) = [n for n in est.notes if n.startswith("Needs ")]
    assert note.endswith("the largest batch per device that fits is 156 (at 128 per GPU, --batch-size 128 "
                         "--grad-accum-steps 10 keeps the 1,280 samples per optimizer update).")


def test_recommend_says_why_a_here_gpu_does_not_fit_and_the_flags_that_run_the_job_there():
    """recommend's Here line said "cuda:0 (NVIDIA H200): the job does not fit its memory (needs 228 GiB of memory,
    has 140)" and nothing gave the batch that fits the probed GPU; predict --device cuda:0 did."""
    rec = advisor.recommend(load_profile(PROFILE), dataset_size=2_000_000, epochs=3, batch_size=256, save=False)
    (here,) = rec.here
    assert here.device == "cuda:0" and here.fits_memory is False
    (note,) = [n for n in rec.notes if n.startswith("Here, cuda:0: Needs ")]
    assert note.endswith("the largest batch per device that fits is 156 (at 128 per GPU, --batch-size 128 "
                         "--grad-accum-steps 10 keeps the 1,280 samples per optimizer update).")
    assert not any("the chosen" in n and "Needs " in n for n in rec.notes)  # the chosen machine fits
