"""How many cores' worth of work a GPU host's DataLoader workers get: one formula, which the predictor prices a
step with and the ranking's "more loader workers" what-if re-prices it with (it may not import the predictor)."""

from __future__ import annotations

# A vCPU the compute threads leave free, as loader capacity on a CPU target: a judgement, not fitted. On a cloud
# instance such a vCPU is the SMT sibling of a core that computes; a sibling adds roughly 15-30% throughput to a
# core (Intel's hyper-threading figure) while slowing its partner, so half a core is on the generous side.
FREE_VCPU_LOADER_SHARE = 0.5
SMT_THREADS_PER_CORE = 2  # vCPUs per physical core on a GPU instance's host (x86 with SMT)


def loader_cores(workers: int, vcpus: int, gpu_count: int) -> float:
    """The cores' worth ``workers`` loader processes get on a GPU host of ``vcpus`` vCPUs. A cloud vCPU is one
    hardware thread of a core (two per core on the x86 hosts of GPU instances: AWS's "each vCPU is a thread of a
    CPU core"), so workers get full cores only while cores are free of the training processes; beyond that
    they run on SMT siblings, each worth ``FREE_VCPU_LOADER_SHARE`` of a core. Counting every vCPU as a core put
    the loader ceiling 1.3-1.5x above published CPU-bound runs (bench/README.md, "Input-bound GPU training")."""
    free_cores = max(0.0, vcpus / SMT_THREADS_PER_CORE - gpu_count)
    full = min(float(workers), free_cores)
    return full + (workers - full) * FREE_VCPU_LOADER_SHARE
