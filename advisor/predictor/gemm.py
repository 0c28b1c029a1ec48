"""How fast a GPU runs one GEMM of a given shape: operand reuse per tile and the K loop's fill, vectorised.

A cuBLAS/cuDNN/CUTLASS GEMM of M x N x K splits the M x N output into thread-block tiles of Tm x Tn and
loops over K, staging a Tm x Tk slice of A and a Tk x Tn slice of B into shared memory per iteration. Each
staged element then serves ``2 tm tn / (tm + tn)`` FLOPs (``tile_reuse``), with ``tm = min(M, Tm)`` and
``tn = min(N, Tn)``: a GEMM whose output is narrower than the tile (attention's head size, a 64-channel
convolution, a small batch) reuses its operands less and needs more bytes per FLOP from L2 and DRAM.
Arithmetic intensity therefore grows with the smaller of M and N up to the tile size, which is why large
LLM GEMMs reach 60-75% of the dense peak while narrow ones stay memory-fed (NVIDIA, "Matrix Multiplication
Background User's Guide", sections 2.1 "GPU Implementation" and 2.3 "Typical Tile Dimensions In cuBLAS And
Performance": cuBLAS picks among 256x128, 128x256, 128x128 ... 64x64 tiles, larger tiles having more data
reuse; docs.nvidia.com/deeplearning/performance/dl-performance-matrix-multiplication, retrieved 2026-11-30).

Tile sizes (fixed, not fitted): 16-bit tensor-core GEMMs 256 x 128 (the largest cuBLAS tile of the guide;
CUTLASS's Ampere/Hopper 16-bit kernels, e.g. ``cutlass_tensorop_*_f16_256x128_*``), TF32/FP32 128 x 128
(CUTLASS's default SIMT and TF32 threadblock shape), the larger tile edge on the larger output dimension.

Per thread-block tile the K loop has a fill and a drain (the multistage pipeline's prologue, the epilogue
writing C) worth ``k_fill`` elements of K: a GEMM with a short reduction (K of a few hundred) spends a
visible share of its time there; the compute term is scaled by ``1 + k_fill / K``, with ``k_fill`` per op
(``optable.k_fill_share``: the same SM clocks of fill on every GPU, fewer elements of K where an SM does fewer
tensor FLOPs a clock).
"""

from __future__ import annotations

import numpy as np

# (larger edge, smaller edge) of the thread-block tile, in elements.
TILE_HALF = (256.0, 128.0)
TILE_FULL = (128.0, 128.0)
# A GEMM without recorded dimensions (an older profile) is priced as a large one.
LARGE = 1e9


def tile_reuse(m: np.ndarray, n: np.ndarray, half: np.ndarray) -> np.ndarray:
    """FLOPs each operand element staged into shared memory serves, ``2 tm tn / (tm + tn)`` (vectorised)."""
    big = np.where(half, TILE_HALF[0], TILE_FULL[0])
    small = np.where(half, TILE_HALF[1], TILE_FULL[1])
    hi = np.maximum(m, n)
    lo = np.minimum(m, n)
    tm = np.minimum(hi, big)
    tn = np.minimum(lo, small)
    tn = np.maximum(tn, 1.0)
    tm = np.maximum(tm, 1.0)
    return 2.0 * tm * tn / (tm + tn)


def k_fill_factor(k: np.ndarray, k_fill: np.ndarray | float) -> np.ndarray:
    """``1 + k_fill / K``: the K loop's fill and drain per output tile, as a share of its main loop."""
    return 1.0 + k_fill / np.maximum(k, 1.0)
