"""Models that train in float64: how much of a step's matrix work is float64, the rate a GPU runs it at, the
precision an estimate of the job says, and the note a GPU estimate of one carries.

A float64 tensor's matmuls and convolutions run in float64 (``torch.set_default_dtype(torch.float64)``,
``model.double()``), and CUDA autocast leaves them so: it casts float32 tensors only (PyTorch's AMP
documentation: ops that run in float64 are not eligible and run in float64 whether or not autocast is enabled).
So a float64 model runs in float64 whatever ``--precision`` says, and its estimates say ``fp64``.

GPUs run FP64 at 1/2 of FP32 (A100, H100, H200, B200, V100), 1/32 (Turing, Pascal GP102) or 1/64 (GeForce and
workstation Ampere, Ada and Blackwell cards, A10, A40, L4, L40S: 2 FP64 results per clock per SM against 128
FP32), ``fp64_tflops`` in ``profiles/gpus.csv``; A100 and Hopper GPUs run float64 GEMMs on FP64 tensor cores at
twice that (``fp64_tensor_tflops``). ``advisor.predictor.roofline`` prices float64 matmuls and convolutions at
``fp64_peak`` as a class of their own ("fp64"), at the FP32 efficiency: no published or measured float64 step
gives an FP64 efficiency of its own, and none is fitted.
"""

from __future__ import annotations

from advisor.data_files import data_file
from advisor.errors import PredictionError
from advisor.schemas import Analysis, GpuSpec

__all__ = ["FP64_DTYPES", "FP64_SHARE", "float64_share", "fp64_note", "fp64_peak", "priced_precision"]

# The traced dtypes whose matrix work runs on the FP64 units: float64, and complex128 (two float64 parts).
FP64_DTYPES = ("float64", "complex128")
# The share of a step's matmul/convolution FLOPs in float64 at or above which the job is said to train in
# float64 (its estimates' precision "fp64"): the larger part of its matrix work decides.
FP64_SHARE = 0.5
_TENSOR_KINDS = ("matmul", "conv")


def float64_share(analysis: Analysis | None) -> float:
    """The share of ``analysis``' matmul/convolution FLOPs (at its larger traced batch size) in float64 or
    complex128; where the step has none, 1.0 when its optimizer updates float64 parameters, else 0.0."""
    if analysis is None:
        return 0.0
    total = fp64 = 0.0
    for r in analysis.ops:
        if r.kind in _TENSOR_KINDS and r.phase != "optimizer":
            flops = r.count * r.flops[1]
            total += flops
            fp64 += flops if r.dtype in FP64_DTYPES else 0.0
    if total > 0:
        return fp64 / total
    return 1.0 if any(r.phase == "optimizer" and r.dtype in FP64_DTYPES for r in analysis.ops) else 0.0


def priced_precision(analysis: Analysis | None, precision: str) -> str:
    """The precision an estimate of ``analysis`` says it priced: "fp64" for a model that trains in float64
    (``FP64_SHARE``), else ``precision``."""
    return "fp64" if float64_share(analysis) >= FP64_SHARE else precision


def fp64_peak(spec: GpuSpec, kind: str) -> float:
    """Peak FLOP/s of a float64 ``kind`` ("matmul" or "conv") op on ``spec``: a matmul's on the FP64 tensor cores
    where the GPU has faster ones (cuBLAS runs float64 GEMMs there), else, and for convolutions, the FP64 rate.
    PredictionError when ``profiles/gpus.csv`` has no FP64 figure for it."""
    if spec.fp64_tflops is None:
        raise PredictionError(f"cannot predict {spec.name}: the model trains in float64, and profiles/gpus.csv has "
                              "no FP64 figure for it.",
                              hint="Fix: add the datasheet FP64 figure with its source to "
                                   f"{data_file('profiles', 'gpus.csv')}, or train in float32.")
    tensor = spec.fp64_tensor_tflops if kind == "matmul" else None
    return max(spec.fp64_tflops, tensor or 0.0) * 1e12


def fp64_note(analysis: Analysis | None, spec: GpuSpec) -> str | None:
    """What a GPU estimate of a float64 job says about it (None for any other job)."""
    share = float64_share(analysis)
    if share < FP64_SHARE or spec.fp64_tflops is None:
        return None
    matrix = any(r.kind in _TENSOR_KINDS and r.phase != "optimizer" for r in analysis.ops)
    what = f"{share:.0%} of its matmul/convolution FLOPs" if matrix else "its parameters"
    rate = fp64_peak(spec, "matmul") / 1e12
    fp32 = spec.fp32_tflops or 0.0
    ratio = f", 1/{fp32 / rate:.0f} of its FP32 {fp32:g}" if fp32 > rate > 0 else ""
    tensor = " (its FP64 tensor cores' rate for matmuls)" if (spec.fp64_tensor_tflops or 0.0) > spec.fp64_tflops else ""
    return (f"fp64: the model trains in float64 ({what}), which the "
            f"{spec.name} runs at {rate:g} TFLOPS{tensor}{ratio}; priced at that rate with the FP32 efficiency, "
            "which no float64 run has checked. Training in float32 (or bf16 with torch.autocast) would run at the "
            "GPU's FP32 or tensor rates.")
