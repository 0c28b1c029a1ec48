"""Predictions from a profile with a GPU probed here, written as the probe child writes one (no GPU needed): a GPU
without bfloat16 probed at bf16, and a probe's precision fallback."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from advisor import api
from advisor.probe.cuda_device import cuda_precision
from advisor.probe.device_notes import precision_notes
from advisor.schemas import DeviceProfile, Profile

_TABULAR = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
_JOB = {"dataset_size": 100_000, "epochs": 1, "batch_size": 512, "use_history": False}


def with_gpu(name: str, spec_name: str | None, memory_gib: float, precision: str, **fields) -> Profile:
    """The tabular CPU profile plus a GPU ``cuda:0`` that ran its ladder 20x faster, at ``precision``."""
    prof = Profile.model_validate_json(_TABULAR.read_text())
    cpu = prof.device("cpu")
    steps = [m.model_copy(update={"device": "cuda:0", "threads": None, "precision": precision,
                                  "compute_seconds": m.compute_seconds / 20,
                                  "compute_seconds_samples": [s / 20 for s in m.compute_seconds_samples]})
             for m in cpu.measurements]
    gpu = DeviceProfile(device="cuda:0", kind="gpu", name=name, spec_name=spec_name, memory_gib=memory_gib,
                        precision=precision, measurements=steps, largest_batch_size=cpu.largest_batch_size,
                        **fields)
    return prof.model_copy(update={"devices": [*prof.devices, gpu]})


def test_a_v100_probed_at_bf16_does_not_break_predictions_of_other_gpus_or_its_own_fp16():
    prof = with_gpu("Tesla V100-SXM2-16GB", "V100-16GB", 15.78, "bf16")
    est = api.predict(prof, target="A100-80GB", precision="bf16", **_JOB)  # raised "V100-16GB has no bfloat16"
    assert est.target.gpu_name == "A100-80GB" and est.seconds > 0
    own = api.predict(prof, target="V100-16GB", precision="fp16", **_JOB)  # the error's own "Fix" failed too
    assert own.seconds > 0


def test_the_probe_runs_bf16_as_fp16_on_a_gpu_without_bfloat16():
    def fake(major: int) -> SimpleNamespace:
        return SimpleNamespace(cuda=SimpleNamespace(get_device_capability=lambda device: (major, 0)))

    assert cuda_precision(fake(7), "cuda:0", "bf16") == "fp16"  # V100 (7.0), T4 (7.5)
    assert cuda_precision(fake(8), "cuda:0", "bf16") == "bf16"
    assert cuda_precision(fake(7), "cuda:0", "fp32") == "fp32"


def test_a_gpu_probed_at_fp16_for_a_bf16_job_says_so_and_carries_to_other_gpus():
    prof = with_gpu("Tesla V100-SXM2-16GB", "V100-16GB", 15.78, "fp16")
    notes = precision_notes(prof.devices, "bf16")
    assert notes == ["cuda:0 (Tesla V100-SXM2-16GB): probed at fp16, not bf16: it has no bfloat16 (it predates "
                     "Ampere), and a bf16 job runs there as fp16 mixed precision (with a GradScaler)."]
    assert precision_notes(prof.devices, "fp16") == []
    est = api.predict(prof, target="A100-80GB", precision="bf16", **_JOB)
    assert est.seconds == pytest.approx(api.predict(prof, target="A100-80GB", precision="fp16", **_JOB).seconds,
                                        rel=0.3)
