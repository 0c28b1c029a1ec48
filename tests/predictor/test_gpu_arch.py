"""Per-architecture tensor-core efficiency: every GPU names its architecture, the calibration's factor for it
scales that architecture's 16-bit tensor rate only, and the fit moves it through its prior."""

from __future__ import annotations

import json
import math

import pytest
from predictor_helpers import unit_calibration

from advisor.hardware.specs import load_gpu_specs, resolve_gpu
from advisor.predictor.calibration import ARCH_PRIOR, Calibration, load_calibration, prior
from advisor.predictor.calibration_fit import fit_general
from advisor.predictor.roofline import predict_step
from advisor.schemas import Analysis, GpuSpec, OpRecord

ARCHITECTURES = {"Pascal", "Volta", "Turing", "Ampere-GA100", "Ampere-GA10x", "Ada", "Hopper", "Blackwell-GB100",
                 "Blackwell-GB20x"}
SPEC = GpuSpec(name="GA10x-like", memory_gib=24, memory_bandwidth_gbs=1000, fp32_tflops=20, tf32_tflops=20,
               fp16_bf16_tflops=80, bf16_supported=True, architecture="Ampere-GA10x")
FLOPS = 2e13
BYTES = 4e10
CAL = unit_calibration()


def step(cal: Calibration, precision: str, spec: GpuSpec = SPEC):
    ops = [OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(FLOPS / 2, FLOPS),
                    bytes=(1.0, 2.0), dtype="float32"),
           OpRecord(op="aten.add.Tensor", kind="elementwise", phase="forward", flops=(0.0, 0.0),
                    bytes=(BYTES / 2, BYTES), dtype="float32")]
    a = Analysis(batch_sizes=(1, 2), ops=ops, flops_per_sample=FLOPS / 2, param_count=1, trainable_param_count=1,
                 param_bytes=4, gradient_bytes=4, optimizer="SGD", optimizer_state_bytes=0)
    return predict_step(a, spec, 2, precision, cal)


def test_every_gpu_names_a_known_architecture():
    specs = load_gpu_specs()
    assert specs and {s.architecture for s in specs.values()} <= ARCHITECTURES
    assert {resolve_gpu(n, specs).architecture for n in ("RTX 3090", "RTX A6000", "A10G", "A10")} == {"Ampere-GA10x"}
    assert resolve_gpu("A100-80GB", specs).architecture == "Ampere-GA100"
    assert resolve_gpu("H100-SXM", specs).architecture == "Hopper"
    # Turing and older have no BF16; everything Ampere and newer does (the sheet's two columns agree).
    for s in specs.values():
        assert s.bf16_supported == (s.architecture not in ("Pascal", "Volta", "Turing")), s.name


def test_the_factor_scales_that_architectures_16_bit_tensor_rate_only():
    faster = Calibration(**{**CAL.__dict__, "arch_efficiency": {"Ampere-GA10x.half": 1.25}})
    base_half, fast_half = step(CAL, "fp16"), step(faster, "fp16")
    # The matmul's compute-bound time falls by the factor; the memory-bound add keeps its time.
    assert fast_half.compute_bound_seconds == pytest.approx(base_half.compute_bound_seconds / 1.25)
    assert fast_half.memory_bound_seconds == pytest.approx(base_half.memory_bound_seconds)
    assert base_half.compute_bound_seconds == pytest.approx(FLOPS / (80e12 * 0.8))
    # FP32 on the CUDA cores and TF32 have no factor here; another architecture does not take this one's.
    assert step(faster, "fp32").seconds == pytest.approx(step(CAL, "fp32").seconds)
    assert step(faster, "tf32").seconds == pytest.approx(step(CAL, "tf32").seconds)
    hopper = SPEC.model_copy(update={"architecture": "Hopper"})
    assert step(faster, "fp16", hopper).seconds == pytest.approx(step(CAL, "fp16", hopper).seconds)
    unnamed = SPEC.model_copy(update={"architecture": None})
    assert step(faster, "fp16", unnamed).seconds == pytest.approx(base_half.seconds)


def test_factors_are_parameters_of_the_fit_with_a_prior_at_one():
    assert prior("arch.Hopper.half") == ARCH_PRIOR and ARCH_PRIOR[0] == 1.0
    cal = CAL.with_values({"arch.Hopper.half": 0.9, "matmul.half": 0.7})
    assert cal.get("arch.Hopper.half") == pytest.approx(0.9) and cal.get("arch.Ada.half") == 1.0
    assert cal.arch_efficiency == {"Hopper.half": 0.9} and cal.compute_eff("matmul", "half") == pytest.approx(0.7)

    # Rows of one architecture that ran 1.3x faster than predicted at factor 1: the fit moves the factor
    # toward 1.3, held back a little by its prior (worth 1 / 0.2^2 = 25 rows at its own distance).
    rows = list(range(400))
    fitted = fit_general(rows, lambda r, c: 100.0 * c.get("arch.Ampere-GA10x.half"), lambda r: 130.0, base=CAL,
                         free=("arch.Ampere-GA10x.half",))
    value = fitted.arch_efficiency["Ampere-GA10x.half"]
    assert math.log(value) == pytest.approx(math.log(1.3) * 400 / (400 + 1 / ARCH_PRIOR[1] ** 2), rel=0.01)


def test_the_factors_travel_through_the_calibration_file(tmp_path):
    path = tmp_path / "calibration.json"
    cal = CAL.with_values({"arch.Ampere-GA10x.half": 1.1})
    path.write_text(json.dumps(cal.to_json()), encoding="utf-8")
    assert load_calibration(path).arch_efficiency == {"Ampere-GA10x.half": pytest.approx(1.1)}


def test_the_shipped_calibration_fits_the_architectures_the_rows_cover():
    shipped = load_calibration().arch_efficiency
    for arch in ("Volta", "Turing", "Ampere-GA100", "Ampere-GA10x", "Hopper"):
        assert 0.5 < shipped[f"{arch}.half"] < 2.0
    # No published row ran on Blackwell: it keeps the shared efficiency.
    assert not any(k.startswith("Blackwell") for k in shipped)
