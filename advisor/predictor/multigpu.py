"""Data-parallel scaling: K GPUs, each running the per-GPU batch, plus the gradient all-reduce.

The model (``data_parallel``) follows PyTorch DistributedDataParallel (DDP) with NCCL:

* Every GPU computes forward + backward + optimizer on its share of the global batch (B/K samples);
  ``compute_seconds_per_gpu`` is that time, measured or scaled from a probe of one GPU.
* Gradients are summed with a ring all-reduce. Each GPU sends and receives 2(K-1)/K x gradient_bytes
  (reduce-scatter + all-gather), at the ring's bus bandwidth:

      allreduce = 2(K-1)/K x gradient_bytes / (link_bandwidth x bus_efficiency)
                  + 2(K-1) x hop_latency x buckets

  ``link_bandwidth`` is the slowest link of the ring: NVLink or PCIe inside a machine (``GpuSpec``'s
  unidirectional per-GPU ``intra_node_bandwidth_gbs``), the network between machines (the node's NICs
  together, unidirectional). Buckets are DDP's 25 MiB gradient buckets, each its own NCCL call.
* DDP launches a bucket's all-reduce as soon as its gradients are ready, so communication overlaps the
  backward pass (``backward_fraction`` of compute). Only the last bucket, ready when backward ends, is
  always exposed. What the backward cannot hide is exposed too, and hidden traffic is not free: NCCL
  kernels take SMs and memory bandwidth from the backward kernels (``overlap_interference``):

      exposed = last_bucket + max(0, rest - overlap_fraction x backward)
                + overlap_interference x min(rest, overlap_fraction x backward)

* Every step ends in a synchronisation, so a step takes as long as the slowest of K GPUs: the straggler
  penalty is ``straggler_jitter`` x compute x E[max of K standard normals]; DDP's hooks and bucket
  bookkeeping add ``ddp_overhead_seconds``.

      step(K) = compute x (1 + straggler(K)) + ddp_overhead + exposed        (K = 1: step = compute)

The scaling efficiency is throughput(K) / (K x throughput(1)) at the same per-GPU batch, i.e.
``compute_seconds_per_gpu / step_seconds``: 1.0 is perfect linear scaling.

With gradient accumulation (``accumulated_data_parallel``) the all-reduce, the straggler wait and DDP's
per-step cost come once per optimizer step, after the last of its micro-steps (the others run under
``no_sync()``), so their share of a micro-step shrinks with the accumulation.

Sharded data parallel (FSDP FULL_SHARD, ZeRO-3; ``gather_bytes``) keeps 1/K of the weights, gradients and optimizer
state on each GPU. Each step all-gathers the weights twice (forward and backward) and reduce-scatters the gradients:
(K-1)/K x (gradient_bytes + 2 x gather_bytes) on the wire, where DDP's all-reduce moves 2(K-1)/K x gradient_bytes
(1.5x it with fp32 weights gathered: Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
Parameter Models", SC20, section 7.2.2; the same as DDP's with 16-bit weights gathered and fp32 gradients reduced,
as FSDP's ``MixedPrecision(param_dtype=bf16)`` and DeepSpeed's bf16 mode do). The next unit's all-gather is prefetched
during the forward and the backward, so the traffic overlaps both (not the backward alone), and each GPU's
optimizer updates its own 1/K of the weights.

Constants are in :class:`DataParallelParams`, with their sources; bench/accuracy_multigpu.py checks them
against published weak-scaling measurements (bench/README.md, "Multi-GPU scaling").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from statistics import NormalDist
from typing import Literal

from advisor.data_files import data_file
from advisor.errors import PredictionError
from advisor.predictor.caveats import ASSUMED_NETWORK, COMMUNICATION_BOUND, MORE_THAN_ONE_MACHINE, PEER_TO_PEER
from advisor.predictor.job import accumulated_step
from advisor.schemas import GpuSpec
from advisor.units import format_step

Link = Literal["nvlink", "pcie", "network"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class DataParallelParams:
    """Constants of the data-parallel model. Defaults and where they come from:

    * ``bucket_bytes``: DDP's ``bucket_cap_mb=25`` (MiB), the PyTorch default.
    * ``bus_efficiency_*``: the fraction of the link's unidirectional bandwidth a large NCCL ring
      all-reduce reaches as "bus bandwidth" (nccl-tests' busbw): ~230 of 300 GB/s on 8x A100 NVLink and
      ~130 of 150 GB/s on 8x V100 NVLink (0.8); PCIe P2P reaches ~11-12 of 16 GB/s (Gen3) and ~22-24 of
      32 GB/s (Gen4), less across PCIe switches (0.7); a NIC ~0.8 of its line rate.
    * ``host_staging_factor``: GPUs without PCIe peer-to-peer (GeForce/consumer cards; cloud VMs with
      pass-through GPUs) go through host memory (NCCL's SHM transport): every chunk is copied GPU->host
      and host->GPU by the copy engines, sharing host memory and the CPU's PCIe root. That at least
      halves the bandwidth; 0.3 is what the no-P2P reference rows (RTX 2080 Ti, 3080, 3090, GTX 1080 Ti,
      Quadro RTX 6000 cloud VMs) fit best (0.5 leaves their p90 error ~40% higher): ~6.7 GB/s on PCIe
      Gen4 (32 x 0.7 x 0.3), ~3.4 GB/s on Gen3.
    * ``hop_latency_seconds``: per ring step per NCCL call inside a machine (~5 us);
      ``network_hop_latency_seconds``: the same across machines (~20 us, TCP/EFA/InfiniBand mixed).
    * ``backward_fraction``: backward is ~2/3 of forward + backward compute (2x the forward FLOPs).
    * ``overlap_fraction``: share of the backward during which buckets can be reduced (the first bucket
      is ready only after the last layers' backward, and the optimizer waits for the last): 0.8.
    * ``overlap_interference``: hidden communication still costs this share of its time: NCCL kernels
      take SMs and memory bandwidth from the backward kernels, and host-staged copies share the PCIe
      links with the step's own traffic. 0.5, fitted on the reference rows (0.35-0.7 fit about as well).
    * ``straggler_jitter``: relative spread (sigma / mean) of one GPU's step time; the synchronised step
      waits for the slowest of K, E[max of K normals] x sigma (K=2: 0.56 sigma, 4: 1.03, 8: 1.42).
      0.03, fitted on the reference rows (it also absorbs per-GPU slowdowns of dense 8-GPU boxes:
      thermals, shared host CPU).
    * ``ddp_overhead_seconds``: fixed per-step cost of DDP beyond communication (autograd hooks, bucket
      bookkeeping, the extra synchronisation): 2 ms.
    * ``default_network_bandwidth_gbs``: when nodes > 1 and no network bandwidth is given: 100 Gbit/s
      Ethernet = 12.5 GB/s per node, a common cloud figure (p4d/p5 have 400-3200 Gbit/s EFA: pass it).
    * ``gradient_bucket_min_seconds``: a floor on the last bucket's exposed time (NCCL launch + sync).
    * ``fallback_pcie_bandwidth_gbs``: the link assumed for a spec without one: PCIe Gen3 x16, 16 GB/s.
    """

    bucket_bytes: float = 25 * MIB
    bus_efficiency_nvlink: float = 0.80
    bus_efficiency_pcie: float = 0.70
    bus_efficiency_network: float = 0.80
    host_staging_factor: float = 0.3
    hop_latency_seconds: float = 5e-6
    network_hop_latency_seconds: float = 20e-6
    backward_fraction: float = 2.0 / 3.0
    overlap_fraction: float = 0.8
    overlap_interference: float = 0.5
    straggler_jitter: float = 0.03
    ddp_overhead_seconds: float = 0.002
    default_network_bandwidth_gbs: float = 12.5
    gradient_bucket_min_seconds: float = 50e-6
    fallback_pcie_bandwidth_gbs: float = 16.0

    def with_(self, **changes) -> DataParallelParams:
        return replace(self, **changes)


DEFAULT_PARAMS = DataParallelParams()


@dataclass(frozen=True)
class DataParallelStep:
    """One data-parallel training step on K GPUs. Seconds are per step (every GPU runs in lockstep)."""

    gpu_count: int
    nodes: int
    step_seconds: float  # compute + straggler + DDP overhead + exposed communication
    compute_seconds: float  # per-GPU compute at the per-GPU batch (the K = 1 step time)
    allreduce_seconds: float  # the whole gradient all-reduce if nothing overlapped it
    exposed_comm_seconds: float  # communication (and its interference) the step actually waits for
    sync_overhead_seconds: float  # straggler wait + DDP's fixed per-step cost
    scaling_efficiency: float  # throughput(K) / (K x throughput(1)) at the same per-GPU batch
    link: Link | None  # the ring's bottleneck link; None for one GPU
    bandwidth_gbs: float | None  # the bottleneck link's unidirectional bandwidth, GB/s
    effective_bandwidth_gbs: float | None  # after bus efficiency and host staging, GB/s
    buckets: int
    notes: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        """Throughput relative to one GPU at the same per-GPU batch: K x efficiency."""
        return self.gpu_count * self.scaling_efficiency


# GeForce cards (xx50..xx90 numbering, GTX) have PCIe peer-to-peer disabled in the driver; professional
# (RTX A6000, Quadro RTX 8000, RTX 6000 Ada, ...) and datacenter cards have it.
_CONSUMER = re.compile(r"(?:\b|_|-)(?:rtx|gtx)[\s_-]?\d\d[5-9]0(?:\b|[\s_-]|ti|s)|titan", re.IGNORECASE)


def has_pcie_p2p(spec: GpuSpec) -> bool:
    """Whether GPUs of this model talk over PCIe directly (True) or through host memory (False).

    Inferred from the name: GeForce/consumer cards (RTX 3090, RTX 4090, RTX 2080 Ti, GTX 1080 Ti, Titan)
    have P2P disabled; everything else (datacenter, RTX A-series, Quadro) is assumed to have it. Cloud VMs
    often disable P2P even on datacenter cards: pass ``pcie_p2p=False`` to ``data_parallel`` for those.
    """
    return _p2p_by_names((spec.name, *spec.aliases))


@lru_cache(maxsize=1024)
def _p2p_by_names(names: tuple[str, ...]) -> bool:
    # memoised: the multi-GPU step of every catalog target asks it, for each batch size priced
    return not any(_CONSUMER.search(f" {n} ") for n in names)


@lru_cache(maxsize=256)
def expected_max_standard_normal(k: int) -> float:
    """E[max of k independent standard normals]: integral of x k phi(x) Phi(x)^(k-1), numerically."""
    if k <= 1:
        return 0.0
    nd = NormalDist()
    steps, lo, hi = 4000, -8.0, 8.0
    h = (hi - lo) / steps
    total = 0.0
    for i in range(steps + 1):
        x = lo + i * h
        w = 0.5 if i in (0, steps) else 1.0
        total += w * x * k * nd.pdf(x) * nd.cdf(x) ** (k - 1)
    return total * h


def ring_allreduce_seconds(gradient_bytes: float, gpu_count: int, bandwidth_gbs: float, *,
                           hop_latency_seconds: float = 0.0, buckets: int = 1) -> float:
    """Ring all-reduce time: 2(K-1)/K x bytes / bandwidth + 2(K-1) x latency x buckets.

    ``bandwidth_gbs`` is the effective (bus) bandwidth in GB/s (1e9 bytes/s). K = 1 costs nothing.
    """
    if gpu_count <= 1 or gradient_bytes <= 0:
        return 0.0
    if bandwidth_gbs <= 0:
        raise PredictionError(f"The all-reduce bandwidth must be positive, got {bandwidth_gbs} GB/s.")
    k = gpu_count
    volume = 2.0 * (k - 1) / k * gradient_bytes
    return volume / (bandwidth_gbs * 1e9) + 2 * (k - 1) * hop_latency_seconds * max(1, buckets)


def _intra_link(spec: GpuSpec, params: DataParallelParams,
                pcie_p2p: bool | None) -> tuple[Link, float, float, list[str]]:
    """(link, raw unidirectional GB/s, effective GB/s, notes) for GPUs inside one machine."""
    notes: list[str] = []
    link_kind = (spec.intra_node_link or "").strip().lower()
    bandwidth = spec.intra_node_bandwidth_gbs
    if link_kind not in ("nvlink", "pcie"):
        link_kind = "pcie"
        notes.append(f"{spec.name}: no intra-node link in its spec; assumed PCIe.")
    if not bandwidth or bandwidth <= 0:
        bandwidth = params.fallback_pcie_bandwidth_gbs
        link_kind = "pcie"
        notes.append(f"{spec.name}: no link bandwidth in its spec; assumed PCIe Gen3 x16 "
                     f"({bandwidth:g} GB/s per direction).")
    if link_kind == "nvlink":
        if pcie_p2p is not None:  # --p2p / --no-p2p: said, not silently recorded as if it had been priced
            notes.append(f"{spec.name} GPUs reach each other over NVLink: PCIe peer-to-peer "
                         f"(--{'' if pcie_p2p else 'no-'}p2p) does not apply to them.")
        return "nvlink", bandwidth, bandwidth * params.bus_efficiency_nvlink, notes
    effective = bandwidth * params.bus_efficiency_pcie
    p2p = has_pcie_p2p(spec) if pcie_p2p is None else pcie_p2p
    if pcie_p2p and not has_pcie_p2p(spec):
        notes.append(f"{spec.name} over PCIe is priced with peer-to-peer transfers, as --p2p asks; GeForce drivers "
                     "do not allow them, so a real machine of these runs without (as priced when neither flag is "
                     "given), and each step takes longer.")
    if not p2p:
        effective *= params.host_staging_factor
        why = ("the card has none" if pcie_p2p is None else
               "this machine's have none: --no-p2p, or its instance family in "
               f"{data_file('profiles', 'gpu_links.csv')}")
        notes.append(f"{spec.name} over PCIe without peer-to-peer ({why}): gradients go through host memory "
                     f"(x{params.host_staging_factor:g} bandwidth).")
    return "pcie", bandwidth, effective, notes


def data_parallel(compute_seconds_per_gpu: float, gradient_bytes: float, gpu_count: int, spec: GpuSpec, *,
                  nodes: int = 1, inter_node_bandwidth_gbs: float | None = None,
                  params: DataParallelParams | None = None, nvlink_gbs: float | None = None,
                  pcie_p2p: bool | None = None, gather_bytes: float | None = None) -> DataParallelStep:
    """One DDP step on ``gpu_count`` GPUs of ``spec`` (in total, over ``nodes`` machines); with ``gather_bytes``
    (the weights' bytes as each all-gather moves them) a sharded step (FSDP FULL_SHARD / ZeRO-3, the module
    docstring), whose ``allreduce_seconds`` are its all-gathers and reduce-scatter together.

    ``compute_seconds_per_gpu``: one GPU's forward + backward + optimizer time at the per-GPU batch
    (global batch / K). ``gradient_bytes``: bytes all-reduced per step (fp32 gradients are 4 bytes per
    trainable parameter; native AMP autocast keeps them fp32). ``inter_node_bandwidth_gbs``: each node's
    network bandwidth, unidirectional, all NICs together, GB/s (default: params'
    ``default_network_bandwidth_gbs``). ``pcie_p2p``: override the peer-to-peer guess of
    :func:`has_pcie_p2p` (e.g. False for a cloud VM). ``nvlink_gbs``: an instance family's NVLink (``_machine_link``).
    """
    p = params or DEFAULT_PARAMS
    if gpu_count < 1:
        raise PredictionError(f"The GPU count must be at least 1, got {gpu_count}.",
                              hint="Fix: pass --gpus 1 or more.")
    if nodes < 1 or nodes > gpu_count or gpu_count % nodes:
        raise PredictionError(f"{gpu_count} GPUs cannot be split evenly over {nodes} nodes.",
                              hint="Fix: use a GPU count that is a multiple of the node count.")
    if not math.isfinite(compute_seconds_per_gpu) or compute_seconds_per_gpu <= 0:
        raise PredictionError(f"The per-GPU compute time must be positive, got {compute_seconds_per_gpu}.")
    if gradient_bytes < 0 or (gather_bytes is not None and gather_bytes < 0):
        raise PredictionError(f"The gradient and weight sizes cannot be negative, got {gradient_bytes} and "
                              f"{gather_bytes} bytes.")

    compute = float(compute_seconds_per_gpu)
    k = int(gpu_count)
    if k == 1:
        return DataParallelStep(gpu_count=1, nodes=1, step_seconds=compute, compute_seconds=compute,
                                allreduce_seconds=0.0, exposed_comm_seconds=0.0, sync_overhead_seconds=0.0,
                                scaling_efficiency=1.0, link=None, bandwidth_gbs=None,
                                effective_bandwidth_gbs=None, buckets=0,
                                notes=["One GPU: no gradient communication."])

    link, raw_bw, eff_bw, notes = _machine_link(spec, p, pcie_p2p, one_per_machine=nodes == k, nvlink_gbs=nvlink_gbs)
    hop_latency = p.hop_latency_seconds
    if nodes > 1:
        net = inter_node_bandwidth_gbs
        if net is None:
            net = p.default_network_bandwidth_gbs
            notes.append(f"The network between the {nodes} {ASSUMED_NETWORK} {net:g} GB/s each ({net * 8:g} "
                         "Gbit/s, a common cloud figure; InfiniBand or EFA clusters have 4-32x that, and their "
                         "all-reduce is that much shorter).")
        if net <= 0:
            raise PredictionError(f"The network bandwidth must be positive, got {net} GB/s.")
        net_eff = net * p.bus_efficiency_network
        # A ring over nodes crosses the network; NCCL runs one ring per NIC, so the node's total NIC
        # bandwidth is the ring's bus bandwidth when it is the slowest link.
        if net_eff < eff_bw:
            link, raw_bw, eff_bw = "network", net, net_eff
        hop_latency = p.network_hop_latency_seconds

    # The bytes a ring all-reduce of the same time would move: sharded, (K-1)/K x (gradients + two gathers).
    traffic = gradient_bytes if gather_bytes is None else (gradient_bytes + 2.0 * gather_bytes) / 2.0
    allreduce, last, buckets = _collectives(traffic, k, eff_bw, hop_latency, p)
    rest = max(0.0, allreduce - last)
    # DDP's buckets overlap the backward; a sharded step's prefetched all-gathers the forward too.
    window = p.overlap_fraction * (1.0 if gather_bytes is not None else p.backward_fraction) * compute
    hidden = min(rest, window)
    exposed = last + (rest - hidden) + p.overlap_interference * hidden

    straggler = p.straggler_jitter * expected_max_standard_normal(k) * compute
    sync = straggler + p.ddp_overhead_seconds
    step = compute + sync + exposed
    efficiency = compute / step
    if rest > window:
        what, outlasts = (("the all-reduce", "outlasts the backward pass it overlaps") if gather_bytes is None else
                          ("the sharded step's all-gathers and reduce-scatter",
                           "outlast the forward and backward passes they overlap"))
        notes.append(f"{COMMUNICATION_BOUND}: {what} ({format_step(allreduce)} over {link}) {outlasts} "
                     f"({format_step(window)}).")
    return DataParallelStep(gpu_count=k, nodes=nodes, step_seconds=step, compute_seconds=compute,
                            allreduce_seconds=allreduce, exposed_comm_seconds=exposed,
                            sync_overhead_seconds=sync, scaling_efficiency=efficiency, link=link,
                            bandwidth_gbs=raw_bw, effective_bandwidth_gbs=eff_bw, buckets=buckets,
                            notes=notes)


def _collectives(traffic_bytes: float, k: int, bandwidth_gbs: float, hop_latency_seconds: float,
                 p: DataParallelParams) -> tuple[float, float, int]:
    """(the whole all-reduce of ``traffic_bytes`` in buckets, its last bucket's (always exposed), the buckets)."""
    buckets = max(1, math.ceil(traffic_bytes / p.bucket_bytes)) if traffic_bytes > 0 else 0
    whole = ring_allreduce_seconds(traffic_bytes, k, bandwidth_gbs, hop_latency_seconds=hop_latency_seconds,
                                   buckets=buckets)
    last = ring_allreduce_seconds(min(traffic_bytes, p.bucket_bytes), k, bandwidth_gbs,
                                  hop_latency_seconds=hop_latency_seconds, buckets=1)
    if traffic_bytes > 0:
        last = max(last, p.gradient_bucket_min_seconds)
    return whole, last, buckets


def _machine_link(spec: GpuSpec, p: DataParallelParams, pcie_p2p: bool | None, *, one_per_machine: bool,
                  nvlink_gbs: float | None = None):
    """(link, raw GB/s, effective GB/s, notes) inside one machine: ``_intra_link``'s, or, with one GPU per machine
    (GH200), none: every hop of the ring is the network (infinite here, so the network's figure wins).
    ``nvlink_gbs``: an NVLink (GB/s one way per GPU) in place of the card's spec link, where the machine's instance
    family's row in ``profiles/gpu_links.csv`` gives one (Azure's NC80adis_H100_v5: an H100 NVL pair over its
    bridge, 600 GB/s bidirectional, where the card's row says PCIe because most hosts do not state a bridge)."""
    if not one_per_machine and nvlink_gbs is not None:
        bridged = spec.model_copy(update={"intra_node_link": "nvlink", "intra_node_bandwidth_gbs": nvlink_gbs})
        link, raw, effective, notes = _intra_link(bridged, p, pcie_p2p)
        return link, raw, effective, [f"{spec.name} GPUs over NVLink at {nvlink_gbs:g} GB/s per direction, as "
                                      f"their instance family's row in {data_file('profiles', 'gpu_links.csv')} says "
                                      f"(the card's own spec link: {spec.intra_node_link or 'none'}).", *notes]
    if not one_per_machine:
        return _intra_link(spec, p, pcie_p2p)
    notes = [] if pcie_p2p is None else [f"{spec.name}: one GPU per machine, so PCIe peer-to-peer "
                                         f"(--{'' if pcie_p2p else 'no-'}p2p) does not apply."]
    return "network", math.inf, math.inf, notes


# The most GPUs of one model a single machine holds: an HGX/DGX baseboard and the PCIe servers clouds rent hold 8
# (no catalog machine of another GPU holds more: pricing/instances.csv); 16 where a machine with an NVSwitch plane
# of 16 is sold: NVIDIA DGX-2 (16 x V100 32GB, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/dgx-2/
# dgx-2h-datasheet-us-nvidia-955420-r2-web-new.pdf) and GCP's a2-megagpu-16g (16 x A100 40GB,
# https://cloud.google.com/compute/docs/gpus#a100-gpus).
# One where the GPU is only sold one per machine: GH200 (Lambda's gpu_1x_gh200, profiles/gpus.csv "single GPU per
# Lambda machine"; the superchip pairs one Hopper GPU with one Grace CPU over NVLink-C2C, and has no GPU-GPU link in
# its spec), so K of them are K machines whose all-reduce crosses the network, not one box over an assumed PCIe link.
GPUS_PER_NODE = 8
LARGEST_NODE = {"V100-32GB": 16, "A100-40GB": 16, "GH200": 1}


def gpus_per_node(spec: GpuSpec) -> int:
    """The most GPUs of ``spec`` one machine holds (``LARGEST_NODE``, else ``GPUS_PER_NODE``)."""
    return LARGEST_NODE.get(spec.name, GPUS_PER_NODE)


def nodes_for(spec: GpuSpec, gpu_count: int) -> int:
    """The machines ``gpu_count`` GPUs of ``spec`` take at the least: the fewest that hold them with the same
    number on each (``data_parallel`` splits them evenly), each at most ``gpus_per_node``."""
    nodes = max(1, math.ceil(gpu_count / gpus_per_node(spec)))
    while gpu_count % nodes:
        nodes += 1
    return nodes


def sharded_optimizer(step_seconds: float, optimizer_seconds: float, gpu_count: int) -> tuple[float, float]:
    """(the step, its optimizer part) of one GPU of ``gpu_count`` sharded ones: each updates 1/K of the weights."""
    shed = optimizer_seconds * (1.0 - 1.0 / gpu_count)
    return step_seconds - shed, optimizer_seconds - shed


def accumulated_data_parallel(step_seconds_per_gpu: float, optimizer_seconds_per_gpu: float,
                              gradient_bytes: float, gpu_count: int, spec: GpuSpec, accum: int,
                              **kwargs) -> tuple[DataParallelStep, float]:
    """(the synchronising step, the average micro-step) of DDP with gradient accumulation over ``accum``
    micro-steps.

    The first ``accum - 1`` micro-steps run forward + backward under DDP's ``no_sync()``: no all-reduce, no
    synchronisation, no optimizer. The last one runs forward + backward + the all-reduce (overlapped with its
    backward, as ``data_parallel`` models) + the optimizer, and waits for the slowest GPU. So the all-reduce,
    the straggler wait and DDP's per-step cost are paid once per optimizer step::

        micro_step = ((accum - 1) x (step - optimizer) + data_parallel(step).step_seconds) / accum

    Sharded (``gather_bytes`` in ``kwargs``): each GPU's optimizer updates 1/K of the weights, and every micro-step
    all-gathers the weights twice (FSDP frees them after each use) and reduce-scatters its gradients (so they stay
    sharded, as ``advisor.predictor.sharded`` sizes the memory; FSDP's ``no_sync`` would keep a full unsharded copy),
    so the other ``accum - 1`` micro-steps are ``data_parallel`` steps of their own, without the optimizer. That is
    FSDP's default: "FSDP2 offers (1) [reduce-scatter every microbatch] without any intervention", and for memory-bound
    jobs "we prefer to just proceed as normal and reduce-scatter every microbatch" (FSDP2's author, pytorch/pytorch
    PR 126166 and pytorch/torchtitan issue 292, 2024).

    ``step_seconds_per_gpu``: one GPU's plain step (forward + backward + optimizer) at the per-GPU batch;
    ``optimizer_seconds_per_gpu``: its optimizer part. ``kwargs`` go to ``data_parallel``; without ``nodes``, more
    GPUs than one machine holds are priced on the fewest machines that hold them (``nodes_for``), their all-reduce
    over the network between them.
    """
    nodes = kwargs.setdefault("nodes", nodes_for(spec, gpu_count))
    sharded = kwargs.get("gather_bytes") is not None
    if sharded:
        step_seconds_per_gpu, optimizer_seconds_per_gpu = sharded_optimizer(step_seconds_per_gpu,
                                                                            optimizer_seconds_per_gpu, gpu_count)
    dp = data_parallel(step_seconds_per_gpu, gradient_bytes, gpu_count, spec, **kwargs)
    if nodes > 1:
        # "timed", not "priced": no built-in offer holds this many (gpus_per_node is the largest machine sold), so
        # the catalog prices none; a user's own row that does (a cluster at one rate) is priced at its rate, as
        # predict --gpus and recommend do: the note said "none is priced" beside that row's cost.
        per = gpu_count // nodes
        # the collectives of the layout priced: a sharded row's note named DDP's all-reduce beside its own
        crossing = ("the sharded step's all-gathers and reduce-scatter" if sharded else "the gradients' all-reduce")
        dp.notes.insert(0, f"{gpu_count} x {spec.name} {MORE_THAN_ONE_MACHINE} ({gpus_per_node(spec)}): timed as "
                           f"{nodes} machines of {per}, {crossing} crossing the network between them; "
                           f"no machine in the built-in catalog holds them, so it prices none (renting {nodes} of the "
                           f"{per}-GPU machines costs {nodes}x one's hourly rate), and a rates row of your own "
                           f"(--pricing or ADVISOR_PRICING) that holds all {gpu_count} is priced at that row's rate.")
    accum = max(1, int(accum))
    if not sharded or accum == 1:
        return dp, accumulated_step(step_seconds_per_gpu, optimizer_seconds_per_gpu, accum, dp.step_seconds)
    forward_backward = max(step_seconds_per_gpu - optimizer_seconds_per_gpu, 1e-12)
    micro = data_parallel(forward_backward, gradient_bytes, gpu_count, spec, **kwargs).step_seconds
    return dp, ((accum - 1) * micro + dp.step_seconds) / accum


# A step this much slower without PCIe peer-to-peer is worth telling the user: below it, the choice of machine
# does not move on it.
P2P_CAVEAT_RATIO = 1.10


def peer_to_peer_caveat(spec: GpuSpec, with_p2p: DataParallelStep, step_seconds: float,
                        step_without_p2p_seconds: Callable[[], float]) -> str | None:
    """A note for a PCIe multi-GPU step priced with the card's own peer-to-peer guess (True), when the same step
    without it (``data_parallel(..., pcie_p2p=False)``) would take ``P2P_CAVEAT_RATIO`` or more as long; None
    otherwise. ``step_seconds``: the step the estimate reports (with gradient accumulation the average micro-step,
    ``accumulated_data_parallel``'s second value); ``step_without_p2p_seconds``: that step without P2P, called only
    where P2P was in play; ``with_p2p``: the synchronising step priced, whose link says whether it was. Why:
    GPUs passed through to a cloud VM often have no P2P (an AWS g6 has none; Lambda's Quadro RTX 6000 VMs scaled
    as a link without it: bench/README.md, "Each Lambda row over its machine's link"), and the catalog says so
    for a few instance families only (``profiles/gpu_links.csv``, whose targets carry ``peer_to_peer``)."""
    if with_p2p.link != "pcie" or not has_pcie_p2p(spec) or step_seconds <= 0:
        return None
    without = step_without_p2p_seconds()
    ratio = without / step_seconds
    if ratio < P2P_CAVEAT_RATIO:
        return None
    return (f"{with_p2p.gpu_count} x {spec.name} over PCIe {PEER_TO_PEER}, which the card "
            "allows; GPUs passed through to a cloud VM often have none (AWS g5 and g6 instances have none and are "
            f"priced so), and then each step takes {ratio:.2f}x as long ({format_step(step_seconds)} -> "
            f"{format_step(without)}; --no-p2p prices it so): check the instance's `nvidia-smi topo -p2p r` before "
            "renting for the multi-GPU speed.")
