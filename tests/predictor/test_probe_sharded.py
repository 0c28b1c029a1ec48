"""A GPU probe's measured memory is sharded over K GPUs as the analysis's is. Its peaks hold the weights, gradients
and optimizer state as one measured block, which was never split: a Llama-7B-shaped bf16 job priced from the
analysis fitted 8 x H100 sharded (27.4 GiB per GPU), and the same job with a B200 probe beside it was ruled out
("Does not fit even at batch 1 per device: 163.7 GiB needed, 80.0 GiB available")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor import api
from advisor.predictor import memory
from advisor.predictor.probe_parts import held_weight_bytes
from advisor.schemas import DeviceProfile, Profile, Target

DATA = Path(__file__).resolve().parents[1]
LLAMA = DATA / "api" / "data" / "llama7b_analysis_profile.json"
GPT2_H200 = DATA / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def _with_b200_probe(profile: Profile) -> Profile:
    """``profile`` with a bf16 probe on a B200 whose peaks (max_memory_allocated: no margin, no CUDA context) are
    the analysis's weights, gradients, Adam state, autocast copies and activations at batches 1 and 2; its step
    times are the H200 probe's fixture's, scaled by the batch."""
    fit = memory.memory_from_analysis(profile.analysis, 1, 180.0, "bf16")
    static = sum(v for k, v in fit.breakdown.items() if k not in ("activations", "workspace", "cuda_context"))
    per_sample = fit.breakdown["activations"]
    h200 = json.loads(GPT2_H200.read_text())["devices"][0]
    runs = [dict(h200["measurements"][0], batch_size=b, peak_memory_gib=static + per_sample * b,
                 compute_seconds=0.1 * b, compute_seconds_samples=[0.1 * b] * 5) for b in (1, 2)]
    b200 = DeviceProfile.model_validate(dict(h200, name="NVIDIA B200", spec_name="B200", memory_gib=178.35,
                                             largest_batch_size=2, oom_batch_size=None, measurements=runs))
    return profile.model_copy(update={"devices": [*profile.devices, b200]})


def _on_8_h100(profile: Profile):
    return api.predict(profile, dataset_size=20_000, epochs=1, batch_size=8, target=Target.gpu("H100-SXM", 8),
                       precision="bf16", use_history=False)


def test_a_job_whose_memory_a_gpu_probe_measured_is_priced_sharded_as_the_analysis_prices_it():
    profile = api.load_profile(LLAMA)
    analysed, probed = _on_8_h100(profile), _on_8_h100(_with_b200_probe(profile))
    assert analysed.sharded and analysed.fits_memory
    assert probed.sharded and probed.fits_memory  # was: not sharded, "Does not fit even at batch 1 per device"
    assert probed.peak_memory_gib == pytest.approx(analysed.peak_memory_gib, rel=1e-6)
    assert probed.peak_memory_gib == pytest.approx(27.41, abs=0.01)
    assert probed.sharded_memory_gib == pytest.approx(analysed.sharded_memory_gib, rel=1e-6)
    assert probed.sharded_min_gpus == analysed.sharded_min_gpus == 2
    assert any("split 8 ways it needs about 27.4 GiB per GPU" in n for n in probed.notes)
    assert not any(n.startswith("Does not fit") for n in probed.notes)


def test_a_measured_block_smaller_than_the_analysis_parts_is_split_in_their_shares():
    """The H200 probe of GPT-2 (bf16): its peaks' intercept, 1.71 GiB, is under the analysis's weights, gradients,
    Adam state and autocast copies (2.09 GiB). The DDP peak is the probe's as before; the sharded step splits the
    measured block alone, in the analysis's shares, so it never needs less than the probe measured allows."""
    profile = Profile.model_validate_json(GPT2_H200.read_text())
    gpu = profile.devices[0]
    fit = memory.memory_from_probe(gpu, 3, 80.0, profile.analysis, precision="bf16", gpu_count=4)
    unsplit = memory.memory_from_probe(gpu, 3, 80.0, None, precision="bf16", gpu_count=4)
    a = profile.analysis
    parts = ("weights", "gradients", "optimizer_state", "half_weight_copies")
    measured = sum(fit.breakdown[k] for k in (*parts, "measured_fixed"))
    assert measured == pytest.approx(unsplit.breakdown["measured_fixed"], rel=1e-12)
    assert measured == pytest.approx(1.707, abs=1e-3)
    analysed = a.param_bytes + 0.5 * held_weight_bytes(a) + a.gradient_bytes + a.optimizer_state_bytes
    share = measured / (analysed / memory.GIB)
    assert fit.breakdown["measured_fixed"] == pytest.approx(0.0, abs=1e-12)
    assert fit.breakdown["weights"] == pytest.approx(share * a.param_bytes / memory.GIB)
    assert fit.breakdown["half_weight_copies"] == pytest.approx(share * 0.5 * held_weight_bytes(a) / memory.GIB)
    assert sum(fit.breakdown.values()) == pytest.approx(fit.peak_memory_gib)
    # 1.707 GiB split 4 ways, the DDP buckets dropped; activations, margin and context as in the DDP step
    ddp_buckets = fit.breakdown["ddp_buckets"]
    expected = fit.peak_memory_gib - 1.1 * (ddp_buckets + 0.75 * measured)
    assert fit.sharded_gib(4) == pytest.approx(expected)
    assert unsplit.sharded_gib(4) is None  # no analysis: the block cannot be split


def test_four_v100s_that_hold_the_probed_gpt2_only_sharded_are_priced_sharded():
    """GPT-2 at 16 a GPU on 4 x V100-16GB, its memory from the H200 probe: 17.0 GiB a GPU as DDP. Before, "Needs
    17.0 GiB at batch 16 per device, 16.0 GiB available" with no sharded figure; sharded it needs 15.1."""
    prof = api.load_profile(GPT2_H200)
    est = api.predict(prof, target=Target.gpu("V100-16GB", 4), dataset_size=2_000_000, epochs=3, batch_size=64,
                      use_history=False)
    assert est.sharded and est.fits_memory and est.peak_memory_gib == pytest.approx(15.05, abs=0.01)
    (note,) = [n for n in est.notes if n.startswith("priced as sharded data parallel")]
    assert "(DDP) needs 17.0 GiB, more than 16.0 GiB" in note and "about 15.1 GiB per GPU" in note
    assert not any(n.startswith("Needs ") for n in est.notes)


def test_the_probed_gpu_itself_gives_no_sharded_figures_and_the_readme_says_so():
    # On the probed GPU itself the peak is measured (method "measured"): no fit of parts, so no static or sharded
    # figures, though the profile has an analysis. README said they were null only where there is no analysis.
    prof = api.load_profile(GPT2_H200)
    est = api.predict(prof, target=Target.gpu("H200", 1), dataset_size=20_000, epochs=1, batch_size=12)
    assert est.method == "measured"
    assert est.sharded_min_gpus is None and est.memory_static_gib is None
    readme = " ".join((DATA.parent / "README.md").read_text().split())
    clause = readme.split("`sharded_min_gpus` (the fewest of this", 1)[1].split("`sharded` (true", 1)[0]
    assert "probed GPU itself" in clause


def test_a_ddp_note_says_why_a_batch_the_probe_ran_out_at_is_not_priced_sharded():
    # The note said "sharded (FSDP/ZeRO-3) it would need about 15 GiB per GPU on 8 GPUs" of 140 GiB H200s, while the
    # target was not priced sharded (the probe ran out of memory at batch 16 on an H200): read as a way to fit.
    data = json.loads(GPT2_H200.read_text())
    data["devices"][0]["oom_batch_size"] = 16
    prof = Profile.model_validate(data)
    est = api.predict(prof, dataset_size=100_000, epochs=1, batch_size=128, target=Target.gpu("H200", 8),
                      use_history=False)
    assert est.fits_memory is False and est.sharded is False and est.sharded_memory_gib is not None
    [note] = [n for n in est.notes if "sharded (FSDP/ZeRO-3) it would need" in n]
    assert note.endswith("GiB per GPU on 8 GPUs (not priced sharded: a probe ran out of memory above batch 15 per "
                         "GPU on a GPU with no less memory, a measured limit that this rough figure does not "
                         "overrule).")
    fits = api.predict(prof, dataset_size=100_000, epochs=1, batch_size=96, target=Target.gpu("H200", 8),
                       use_history=False)  # 12 a GPU, below the limit: no such clause
    assert not [n for n in fits.notes if "not priced sharded" in n]
