"""The interconnect of each machine in Lambda's 2020-21 GPU benchmark, read from its system name.

Lambda measured the same GPU in machines with different links: a pair joined by an NVLink bridge, a PCIe box,
a cloud VM. The datasheet row in profiles/gpus.csv describes the card, not the machine, so a multi-GPU row is
predicted with the link of the machine it ran on: ``bench/accuracy_multigpu.py`` (the data-parallel model
alone) and ``bench/gpu_rows.py`` (the whole prediction) both ask :func:`system_of`.

Cloud VMs: the GPUs are passed through to the guest, and there PCIe peer-to-peer is commonly unavailable, so a
VM's GPUs are priced without P2P. Sources: the NCCL user guide's Troubleshooting page, section "PCI Access
Control Services (ACS)" (https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/troubleshooting.html: IO
virtualization redirects PCI point-to-point traffic through the CPU root complex); NVIDIA/nccl issue #175
(2019: a GTX 1080 Ti passed through to a QEMU VM, P2P reported "chipset not supported"); and, for a cloud's own
instances, llm-d-incubation/llm-d-infra pull request #181 (2025-08-19: "AWS g6 series does not have NVLink/NVSwitch
or PCIe P2P"). Lambda's own rows agree: its Quadro RTX 6000 VMs scaled as a link without P2P predicts
(bench/README.md, "Each Lambda row over its machine's link").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.errors import HardwareError
from advisor.schemas import GpuSpec

# Unidirectional per-GPU bandwidths (GB/s) used when the spec table does not know a GPU.
PCIE_GEN3 = 16.0
PCIE_GEN4 = 32.0
NVLINK_TURING_BRIDGE = 50.0  # 2 NVLink 2.0 links (RTX 2080 Ti, Quadro RTX 6000/8000): 100 GB/s bidirectional
NVLINK_V100 = 150.0  # SXM2, 300 GB/s bidirectional
NVLINK_A100 = 300.0  # SXM4 via NVSwitch, 600 GB/s bidirectional


@dataclass
class System:
    """One benchmarked machine's GPU link."""

    link: str  # "nvlink" | "pcie"
    bandwidth_gbs: float
    p2p: bool
    gpu_spec_name: str  # what resolve_gpu is asked for (the source's GPU name)
    why: str

    @property
    def bridged(self) -> bool:
        return "bridge" in self.why


def raw_system_name(notes: str, default: str) -> str:
    """The source's own name of the machine (the CSV's ``notes``: 'raw system name "..."'), else ``default``."""
    m = re.search(r'raw system name "([^"]+)"', notes or "")
    return m.group(1) if m else default


def system_of(raw: str, gpu: str, k: int) -> System | None:
    """The interconnect of a reference system, from its raw name in the source; None for a machine not known
    here (its GPU's datasheet link stands)."""
    bridged = "NVLink" in raw
    if gpu.startswith("A100-SXM4") or raw == "p4d.24xlarge":
        return System("nvlink", NVLINK_A100, True, gpu, "A100 SXM4, NVSwitch")
    if gpu.startswith("A100-PCIe"):
        return System("pcie", PCIE_GEN4, True, gpu, "A100 PCIe Gen4, P2P")
    if gpu.startswith("V100"):
        return System("nvlink", NVLINK_V100, True, gpu, "V100 SXM2 NVLink (Lambda Hyperplane / AWS p3)")
    if gpu == "RTX A6000":
        return System("pcie", PCIE_GEN4, True, gpu, "PCIe Gen4, P2P (professional card)")
    if gpu in ("RTX 3090", "RTX 3080"):
        return System("pcie", PCIE_GEN4, False, gpu, "PCIe Gen4, no P2P (GeForce)")
    if gpu in ("RTX 2080 Ti", "Quadro RTX 8000"):
        p2p = gpu != "RTX 2080 Ti"  # GeForce: no PCIe P2P; Quadro: P2P
        if bridged and k == 2:
            return System("nvlink", NVLINK_TURING_BRIDGE, True, gpu, "NVLink bridge (pair)")
        why = "PCIe Gen3, " + ("P2P (Quadro)" if p2p else "no P2P (GeForce)")
        return System("pcie", PCIE_GEN3, p2p, gpu, why + ("; bridges join pairs only, ring crosses PCIe"
                                                         if bridged else ""))
    if gpu == "Quadro RTX 6000":  # Lambda Cloud / Linode VMs: pass-through GPUs (module docstring)
        return System("pcie", PCIE_GEN3, False, gpu, "PCIe Gen3 in a cloud VM (no P2P)")
    if gpu == "GTX 1080 Ti":
        return System("pcie", PCIE_GEN3, False, gpu, "PCIe Gen3 cloud VM, no P2P (GeForce)")
    return None


def link_spec(system: System, resolve) -> tuple[GpuSpec, str]:
    """The GpuSpec whose link to predict with and where its link came from: "profiles" when the hardware
    helper's spec table has this GPU with the system's link kind, "row" when the link is implied by the system."""
    if resolve is not None and not system.bridged:
        try:
            spec = resolve(system.gpu_spec_name)
        except HardwareError:  # a GPU profiles/gpus.csv does not list: the row's link is used
            spec = None
        if spec is not None and spec.intra_node_link == system.link and spec.intra_node_bandwidth_gbs:
            return spec, "profiles"
    return GpuSpec(name=system.gpu_spec_name, intra_node_link=system.link,
                   intra_node_bandwidth_gbs=system.bandwidth_gbs), "row"


if __name__ == "__main__":  # a module: answer --help (and a bare run) with what runs it
    import argparse

    READ_BY = ("A module, not a script: bench/gpu_rows.py and bench/accuracy_multigpu.py "
               "read each Lambda system's link from it (run `python bench/accuracy_multigpu.py --help`).")
    argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=READ_BY).parse_args()
    print(READ_BY)
