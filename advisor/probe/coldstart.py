"""What a real job pays once, in a fresh process, before its steady steps: the probe's start-up figure.

A fresh training process pays, besides building the model and its first (slower) step, the first-use imports
of PyTorch: the first optimizer constructed imports ``torch._dynamo`` (about 1 s on the 2-core development VM,
3-6.5 s on a 16-core H200 host with torch 2.11, measured 2026-11-30; bench/README.md "GPU against real
runs"). The probe child pays that import in the model's analysis, which traces the optimizer before anything
is timed, so the workload check's cold build + step no longer contains it. ``first_use_seconds`` times it
first, on a throwaway optimizer, and ``startup_seconds`` adds it back.

On a GPU the check's cold step (which ran on the CPU, at batch 2) is not what the job pays: the GPU's own
build (CUDA's context, the model moved to the device) plus the first-use imports is.

Before all of that a training script starts Python and imports torch, which no job estimate counts (on a rented
machine it is part of the instance's start-up). ``startup_clock.timed_process_start`` times it in the probe's
fresh child, for the answer that compares the job on the user's own machine (``advisor.ranking.here``).

Each part is timed beside whatever else runs on the machine: ``advisor.probe.startup_clock`` measures the others'
load over it and, where they used the CPU, counts the process's CPU time instead of the wall clock.
"""

from __future__ import annotations

import time


def first_use_seconds() -> float:
    """Wall time of this process's first optimizer construction and step (0 once something has paid it)."""
    import torch

    started = time.perf_counter()
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.0)
    param.sum().backward()
    optimizer.step()
    return time.perf_counter() - started


def startup_seconds(on_gpu: bool, build_seconds: float, cold_seconds: float, first_use: float,
                    first_excess_seconds: float = 0.0) -> float:
    """The job's start-up: the build (on a CPU, the larger of the device's build and the check's cold build +
    step, which overlap), the first-use imports, and the first timed step's excess over a steady one.

    Args:
        on_gpu: the device is a GPU (the CPU check's step is then not the job's).
        build_seconds: the device's model build (on a GPU, CUDA's context and the move included).
        cold_seconds: the workload check's build + step at batch 2 on the CPU (imports already paid).
        first_use: ``first_use_seconds`` as measured before the analysis.
        first_excess_seconds: the first timed step's time over a steady step's.
    """
    base = build_seconds if on_gpu else max(build_seconds, cold_seconds)
    return base + first_use + max(0.0, first_excess_seconds)
