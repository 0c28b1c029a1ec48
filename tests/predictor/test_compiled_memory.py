"""A compiled job's memory fit is the eager step's (the probe and the analysis run it eagerly): where it rules a GPU
out, the answer says that a compiled step usually holds less (multi-GPU audit: the same compiled nanoGPT job was
ruled out of an H100 from the H200 probe without a word)."""

from __future__ import annotations

from pathlib import Path

import advisor
from advisor.api import load_profile

PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"  # compiled, batch 96


def _job(compile: bool) -> dict:
    return {"dataset_size": 96_000, "epochs": 1, "batch_size": 96, "use_history": False, "compile": compile}


def test_a_compiled_job_ruled_out_for_memory_says_its_fit_is_the_eager_steps():
    prof = load_profile(PROFILE)
    compiled = advisor.predict(prof, target=advisor.Target.gpu("H100-SXM"), **_job(True))
    eager = advisor.predict(prof, target=advisor.Target.gpu("H100-SXM"), **_job(False))
    assert not compiled.fits_memory and not eager.fits_memory  # 86.9 GiB of 80
    assert sum("memory is the eager step's" in n for n in compiled.notes) == 1
    assert not any("memory is the eager step's" in n for n in eager.notes)
    fits = advisor.predict(prof, target=advisor.Target.gpu("H200"), **_job(True))
    assert fits.fits_memory and not any("memory is the eager step's" in n for n in fits.notes)


def test_recommend_says_it_once_for_the_gpus_it_dropped():
    prof = load_profile(PROFILE)
    job = {k: v for k, v in _job(True).items() if k != "use_history"}
    rec = advisor.recommend(prof, **job, save=False)
    said = [n for n in rec.notes if "memory is the eager step's" in n]
    dropped = [c for c in rec.excluded if c.gpu]
    assert dropped and len(said) == 1 and said[0].startswith(f"{len(dropped):,} GPU candidate(s) dropped for memory")
    eager = advisor.recommend(prof, **{**job, "compile": False}, save=False)
    assert not any("memory is the eager step's" in n for n in eager.notes)
