"""TF32: the workload's own switches are read and priced, and TF32 runs at the faster of the tensor-core and
the CUDA-core rate."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from predictor_helpers import unit_calibration

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import load_calibration
from advisor.predictor.roofline import predict_step, tf32_allowed
from advisor.schemas import Analysis, GpuSpec, OpRecord

REPO = Path(__file__).resolve().parents[2]
# A GeForce-like card (dense TF32 = FP32, as the GA102 whitepaper gives the RTX 3090) and an A100-like one.
GEFORCE = GpuSpec(name="GeForce-like", memory_gib=24, memory_bandwidth_gbs=1000, fp32_tflops=20, tf32_tflops=20,
                  fp16_bf16_tflops=80, bf16_supported=True)
DATACENTRE = GEFORCE.model_copy(update={"name": "Datacentre-like", "fp32_tflops": 20, "tf32_tflops": 160})
CAL = unit_calibration()
FLOPS = 2e13


def one_op(kind: str = "matmul", **switches) -> Analysis:
    op = OpRecord(op="aten.mm.default" if kind == "matmul" else "aten.convolution.default", kind=kind,
                  phase="forward", flops=(FLOPS / 2, FLOPS), bytes=(1.0, 2.0), dtype="float32")
    return Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=FLOPS / 2, param_count=1,
                    trainable_param_count=1, param_bytes=4, gradient_bytes=4, optimizer="SGD",
                    optimizer_state_bytes=0, **switches)


def seconds(a: Analysis, spec: GpuSpec, precision: str) -> float:
    return predict_step(a, spec, 2, precision, CAL).seconds


def test_allowed_follows_precision_then_the_workload_then_pytorchs_defaults():
    assert tf32_allowed(one_op(), "fp32") == (False, True)  # nothing recorded: PyTorch's defaults
    assert tf32_allowed(one_op(matmul_allow_tf32=True, cudnn_allow_tf32=True), "fp32") == (True, True)
    assert tf32_allowed(one_op(matmul_allow_tf32=False, cudnn_allow_tf32=False), "fp32") == (False, False)
    assert tf32_allowed(one_op(matmul_allow_tf32=False, cudnn_allow_tf32=False), "tf32") == (True, True)


def test_a_workload_that_allows_tf32_matmuls_is_priced_in_tf32_at_fp32():
    default, allowed = one_op(), one_op(matmul_allow_tf32=True, cudnn_allow_tf32=True)
    assert seconds(default, DATACENTRE, "fp32") == pytest.approx(FLOPS / (20e12 * 0.8))
    step = predict_step(allowed, DATACENTRE, 2, "fp32", CAL)
    assert step.seconds == pytest.approx(FLOPS / (160e12 * 0.4))
    assert step.seconds == pytest.approx(seconds(default, DATACENTRE, "tf32"))
    assert any("allows TF32" in n for n in step.notes)


def test_a_workload_that_turns_cudnn_tf32_off_runs_convolutions_on_cuda_cores():
    on, off = one_op("conv"), one_op("conv", matmul_allow_tf32=False, cudnn_allow_tf32=False)
    assert seconds(on, DATACENTRE, "fp32") == pytest.approx(FLOPS / (160e12 * 0.4))
    assert seconds(off, DATACENTRE, "fp32") == pytest.approx(FLOPS / (20e12 * 0.8))
    assert not any("TF32" in n for n in predict_step(off, DATACENTRE, 2, "fp32", CAL).notes)


@pytest.mark.parametrize("kind", ["matmul", "conv"])
def test_tf32_runs_at_the_faster_of_tensor_and_cuda_cores(kind):
    a = one_op(kind)
    # GeForce-like: TF32 tensor 20 x 0.4 < FP32 CUDA cores 20 x 0.8, so the FP32 kernels win
    assert seconds(a, GEFORCE, "tf32") == pytest.approx(FLOPS / (20e12 * 0.8))
    # data-centre-like: TF32 160 x 0.4 beats FP32 20 x 0.8
    assert seconds(a, DATACENTRE, "tf32") == pytest.approx(FLOPS / (160e12 * 0.4))


def test_shipped_constants_put_an_rtx_3090s_tf32_on_its_cuda_cores_and_an_a100s_on_tensor_cores():
    cal = load_calibration()
    big = one_op()
    for name, faster in (("RTX3090", "fp32"), ("A100-80GB", "tf32")):
        spec = resolve_gpu(name)
        tf32 = predict_step(big, spec, 2, "tf32", cal).seconds
        fp32 = predict_step(big, spec, 2, "fp32", cal).seconds
        assert (tf32 == pytest.approx(fp32)) if faster == "fp32" else (tf32 < fp32 / 3), name


WORKLOAD = """
import torch
from torch import nn
{switch}

def build_model():
    return nn.Linear(16, 4)

def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


@pytest.mark.parametrize("switch, expected", [
    ("", [False, True]),
    ("torch.set_float32_matmul_precision('high')", [True, True]),
    ("torch.backends.cudnn.allow_tf32 = False", [False, False]),
    ("torch.backends.fp32_precision = 'tf32'", [True, True]),
])
def test_the_analysis_records_the_switches_the_file_sets(tmp_path, switch, expected):
    # A fresh interpreter each: the switches are process-wide, and PyTorch refuses to read the legacy flags
    # once a file has used the new API.
    path = tmp_path / "w.py"
    path.write_text(textwrap.dedent(WORKLOAD.format(switch=switch)))
    code = ("import json, sys\nfrom advisor.probe.analysis import analyze\nfrom advisor.workload import load_workload\n"
            "a = analyze(load_workload(sys.argv[1]))\nprint(json.dumps([a.matmul_allow_tf32, a.cudnn_allow_tf32]))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected


def test_predict_says_when_the_workload_allows_tf32_and_prices_it(tmp_path):
    """Through the probe child and the API: the file's switch reaches the estimate, as a faster step and a note."""
    import advisor

    # A 4096 x 4096 matmul dominates the step, so that the host-side terms measured here (batch creation) do not.
    wide = WORKLOAD.replace("nn.Linear(16, 4)", "nn.Sequential(nn.Linear(16, 4096), nn.GELU(), nn.Linear(4096, 4096), "
                                                "nn.GELU(), nn.Linear(4096, 4))")
    steps, notes = {}, {}
    for name, switch in (("default", ""), ("high", "torch.set_float32_matmul_precision('high')")):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(wide.format(switch=switch)))
        est = advisor.predict(path, dataset_size=100_000, epochs=1, batch_size=4096, target="A100-80GB")
        steps[name], notes[name] = est.step_seconds, [n for n in est.notes if "TF32" in n]
    assert steps["high"] < 0.5 * steps["default"]
    assert notes["default"] == [] and len(notes["high"]) == 1 and "allows TF32" in notes["high"][0]
