"""The GEMM a matrix-multiply or convolution kernel tiles: ``gemm_dims`` reads (M, N, K) off an aten call.

A GPU GEMM kernel tiles the M x N output into thread-block tiles and loops over K; how often each operand
element is reused on chip depends on the tile it can fill, min(tile, M) x min(tile, N) (see
:mod:`advisor.predictor.gemm`). Convolutions run as implicit GEMMs (cuDNN, CUTLASS): forward M = batch x
output pixels, N = output channels, K = input channels / groups x kernel area; backward is data-gradient
(M = batch x input pixels, N = input channels, K = output channels x kernel area) plus weight-gradient (M =
output channels, N = input channels x kernel area, K = batch x output pixels), recorded as the first one the
call computes. Reads shapes only: no torch import.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["gemm_dims", "winograd_share"]


def _shape(t: Any) -> tuple[int, ...] | None:
    shape = getattr(t, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else None


def _mm(a: Any, b: Any) -> tuple[float, float, float] | None:
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb or len(sa) < 2 or len(sb) < 2:
        return None
    return float(sa[-2]), float(sb[-1]), float(sa[-1])


def _conv(args: tuple, out: Any) -> tuple[float, float, float] | None:
    x, w, y = _shape(args[0]), _shape(args[1]), _shape(out)
    if not x or not w or len(x) < 3 or len(w) < 3:
        return None
    groups = int(args[8]) if len(args) > 8 and isinstance(args[8], int) else 1
    transposed = bool(args[6]) if len(args) > 6 and isinstance(args[6], bool) else False
    out_channels = w[1] * groups if transposed else w[0]
    pixels = math.prod(y[2:]) if y and len(y) == len(x) else math.prod(x[2:])
    return float(x[0] * pixels), float(out_channels / groups), float(math.prod(w[1:]))


def _conv_backward(args: tuple) -> tuple[float, float, float] | None:
    grad_out, x, w = _shape(args[0]), _shape(args[1]), _shape(args[2])
    if not grad_out or not x or not w or len(x) < 3:
        return None
    mask = args[-1] if isinstance(args[-1], (list, tuple)) else (True, True, True)
    groups = int(args[9]) if len(args) > 9 and isinstance(args[9], int) else 1
    area = math.prod(w[2:])
    if mask and mask[0]:  # data gradient
        return float(x[0] * math.prod(x[2:])), float(x[1] / groups), float(w[0] / groups * area)
    return float(w[0]), float(w[1] * area), float(grad_out[0] * math.prod(grad_out[2:]))  # weight gradient


def gemm_dims(name: str, args: tuple, out: Any = None) -> tuple[float, float, float] | None:
    """(M, N, K) of an aten matmul/convolution call by its overload-packet name, or None if not read."""
    try:
        if name in ("mm", "bmm", "matmul", "_scaled_mm", "_int_mm"):
            return _mm(args[0], args[1])
        if name in ("addmm", "baddbmm", "addbmm"):
            return _mm(args[1], args[2])
        if name == "convolution_backward":
            return _conv_backward(args)
        if "conv" in name:
            return _conv(args, out)
    except (IndexError, TypeError, ValueError):
        return None
    return None


def _ones(v: Any) -> bool:
    return all(int(x) == 1 for x in (v if isinstance(v, (list, tuple)) else [v]))


def grouped_conv(name: str, args: tuple) -> bool:
    """A forward convolution with groups > 1 and more than one input channel per group (ResNeXt's, not a
    depthwise one): what makes Inductor keep a compiled graph channels-first (``optable``'s
    ``inductor_channels_last``). False for any other call."""
    if "conv" not in name or name == "convolution_backward":
        return False
    try:
        shape = _shape(args[1])
        return bool(shape) and len(shape) > 1 and int(args[8]) > 1 and int(shape[1]) > 1
    except (IndexError, TypeError, ValueError):
        return False


def winograd_share(name: str, args: tuple) -> float:
    """Share of a convolution call's FLOPs that cuDNN can run as Winograd (Lavin & Gray 2016,
    arXiv:1509.09308): 2-D, 3x3 kernel, stride 1, dilation 1, one group, not transposed. All of the forward and
    all of ``convolution_backward``: cuDNN has Winograd algorithms for the data gradient and, non-fused, for the
    weight gradient (``CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED``), and ``cudnn.benchmark`` keeps
    whichever is fastest. 0 otherwise."""
    try:
        if name == "convolution_backward":
            w, stride, dilation, transposed, groups = args[2], args[4], args[6], args[7], args[9]
            mask = args[10] if len(args) > 10 and isinstance(args[10], (list, tuple)) else (True, True, True)
            share = 1.0 if (mask[0] or mask[1]) else 0.0
        elif "conv" in name:
            w, stride, dilation, transposed, groups = args[1], args[3], args[5], args[6], args[8]
            share = 1.0
        else:
            return 0.0
        shape = _shape(w)
        if not shape or tuple(shape[2:]) != (3, 3) or transposed or int(groups) != 1:
            return 0.0
        return share if _ones(stride) and _ones(dilation) else 0.0
    except (IndexError, TypeError, ValueError):
        return 0.0
