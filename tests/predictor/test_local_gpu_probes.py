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


_UNKNOWN = "NVIDIA GeForce RTX 5070 Laptop GPU"  # no row in profiles/gpus.csv


def test_a_probed_gpu_without_a_spec_row_gets_its_own_measured_estimate(tmp_path):
    """predict --device cuda:0 and recommend's Here of a GPU probed here that profiles/gpus.csv lacks: its measured
    steps (both said "advisor has no spec sheet for it" and gave nothing); another precision is refused."""
    from advisor.errors import PredictionError

    prof = with_gpu(_UNKNOWN, None, 7.6, "fp32")
    path = tmp_path / "profile.json"
    path.write_text(prof.model_dump_json())
    est = api.predict(path, device="cuda:0", save=False, **_JOB)
    assert est.method == "measured" and est.source_device == "cuda:0" and est.target.gpu_name == _UNKNOWN
    (note,) = [n for n in est.notes if "no row in profiles/gpus.csv" in n]
    assert note.startswith(f"{_UNKNOWN} has no row in profiles/gpus.csv: this is its own measured step time")
    assert "other GPUs and precisions cannot be scaled from it" in note
    fast = prof.device("cuda:0").measurements[-1]
    assert est.step_seconds == pytest.approx(fast.compute_seconds, rel=0.5)  # its own steps, 20x the CPU's
    rec = api.recommend(prof, dataset_size=100_000, epochs=1, batch_size=512, save=False)
    (here,) = [h for h in rec.here if h.device == "cuda:0"]
    assert here.error is None and here.seconds == pytest.approx(est.seconds, rel=1e-6)
    with pytest.raises(PredictionError, match="probed at fp32, not bf16"):
        api.predict(prof, device="cuda:0", precision="bf16", save=False, **_JOB)


def test_a_probed_mig_slice_is_measured_and_scales_from_its_parents_row():
    """A probe on a MIG slice (torch names it "NVIDIA A100-SXM4-40GB MIG 1g.5gb") matched no spec: now its
    parent's row scaled to the slice, so its own estimate is measured and other GPUs are scaled from it."""
    from advisor.hardware.specs import match_reported_gpu

    name = "NVIDIA A100-SXM4-40GB MIG 1g.5gb"
    prof = with_gpu(name, match_reported_gpu(name, 4.75), 4.75, "fp32")
    own = api.predict(prof, device="cuda:0", save=False, **_JOB)
    assert own.method == "measured" and own.target.gpu_name == "A100-40GB MIG 1g.5gb"
    assert own.notes[0].startswith("A100-40GB MIG 1g.5gb is a MIG slice: the A100-40GB row of profiles/gpus.csv "
                                   "scaled to it, compute (FP32, TF32, FP16/BF16 tensor, FP64) x 0.143 (1 of 7 compute "
                                   "slices)")
    other = api.predict(prof, target="A100-80GB", save=False, **_JOB)
    assert other.method == "scaled" and "scaled from the probe of cuda:0 (A100-40GB MIG 1g.5gb)." in other.notes
