"""Every memory verdict assumes data parallelism (DDP), a full copy of the weights, gradients and optimizer state on
each GPU: predict says so on more than one GPU or where the job does not fit, with the rough per-GPU need if that
state were sharded (FSDP/ZeRO-3, not modelled). Nothing said it, so a model too big for DDP read as too big."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor.api import load_profile
from advisor.predictor.memory import GIB

PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def _predict(count: int, batch: int) -> advisor.Estimate:
    prof = load_profile(PROFILE)
    prof = prof.model_copy(update={"devices": []})  # memory from the analysis, whose parts are known apart
    return advisor.predict(prof, target=advisor.Target.gpu("H100-SXM", count), dataset_size=96_000, epochs=1,
                           batch_size=batch, use_history=False)


def test_multi_gpu_memory_says_ddp_and_what_sharding_would_need():
    est = _predict(8, 96)
    a = load_profile(PROFILE).analysis
    state = (a.param_bytes * 1.5 + a.gradient_bytes + a.optimizer_state_bytes) / GIB  # bf16: 16-bit copies
    # sharded over 8: 7/8 of the state and DDP's gradient buckets fewer, with the 10% margin
    assert est.peak_memory_gib - est.sharded_memory_gib == pytest.approx(1.1 * (state * 7 / 8 + a.gradient_bytes / GIB))
    said = [n for n in est.notes if n.startswith("memory assumes data parallel (DDP)")]
    assert said == ["memory assumes data parallel (DDP): a full copy of weights, gradients and optimizer state on "
                    "each GPU; sharded (FSDP/ZeRO-3) it would need about "
                    f"{est.sharded_memory_gib:.1f} GiB per GPU on 8 GPUs."]
    # what no batch size reduces: the state and the buckets, with the margin and the CUDA context
    assert est.memory_static_gib == pytest.approx(0.5 + 1.1 * (state + a.gradient_bytes / GIB), abs=0.01)


def test_one_gpu_that_fits_gets_no_ddp_note_and_one_that_does_not_does():
    assert not any("DDP" in n for n in _predict(1, 96).notes)
    over = _predict(1, 4096)
    assert not over.fits_memory and any(n.startswith("memory assumes data parallel (DDP)") for n in over.notes)


def test_the_estimate_says_how_much_of_its_static_memory_is_frozen_weights():
    """The no-batch-fits fix tells frozen weights that alone fit no GPU (16-bit or quantised weights help, LoRA
    does not) from gradients and optimizer state, by this figure."""
    assert _predict(1, 96).memory_frozen_weights_gib == pytest.approx(0.0)  # GPT-2 trains every weight
    prof = load_profile(PROFILE).model_copy(update={"devices": []})
    a = prof.analysis
    lora = prof.model_copy(update={"analysis": a.model_copy(update={"gradient_bytes": a.param_bytes / 100})})
    est = advisor.predict(lora, target=advisor.Target.gpu("H100-SXM", 1), dataset_size=96_000, epochs=1,
                          batch_size=96, use_history=False)
    assert est.memory_frozen_weights_gib == pytest.approx(0.99 * a.param_bytes / GIB)
