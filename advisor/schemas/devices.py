"""Targets to predict for, and what is known of devices: detected hardware and datasheet specs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from advisor.errors import ConfigError
from advisor.option_words import python_surface
from advisor.schemas.base import Count, DeviceName, MemoryLimit, MemorySize, Model, Seconds

# --------------------------------------------------------------------------------------------- targets

# The most threads or GPUs a target may have, locally and in a service request (advisor.service.wire.TargetSpec).
MAX_TARGET_THREADS = 4096
MAX_TARGET_GPUS = 65536


def _true_or_false(value: object) -> object:
    """Only True and False: pydantic's lax bool read "no", "off", 0 and "0" as False and "yes", 1 as True, where
    the service refuses all of them (``advisor.service.wire.Switch``)."""
    if value is not None and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Input should be True or False (None: the card's own guess)")
    return value


class Target(Model):
    """A device to predict for: a CPU with some threads, or K GPUs of one model."""

    # Frozen, so a Target is hashable: estimates are keyed by their target.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    kind: Literal["cpu", "gpu"]
    # Strict: True is no thread or GPU count, nor "2" (the rest of the API and profiles refuse them).
    threads: Annotated[int, Field(strict=True, ge=1, le=MAX_TARGET_THREADS)] | None = None  # cpu only; None: probed
    # gpu only; canonical spec name from profiles/ (e.g. "A100-80GB"). Serialised as "gpu" (the JSON
    # contract); the attribute is gpu_name so that Target.gpu(...) can be the constructor DESIGN.md shows.
    gpu_name: str | None = Field(default=None, alias="gpu")
    count: Annotated[int, Field(strict=True, ge=1, le=MAX_TARGET_GPUS)] = 1  # gpus in data parallel
    cpu_name: str | None = None  # cpu only; None = this machine's CPU
    # gpu only, K > 1 over PCIe: whether the GPUs reach each other peer-to-peer; None = the card's own guess
    # (``advisor.predictor.multigpu.has_pcie_p2p``). A cloud instance's GPUs often have none.
    peer_to_peer: Annotated[bool, BeforeValidator(_true_or_false)] | None = None
    # gpu only, K > 1: an NVLink (GB/s one way per GPU) joining GPUs whose card's spec says PCIe, where their instance
    # family's row in profiles/gpu_links.csv says so (Azure's bridged H100 NVL pair); None: the card's own link.
    nvlink_gbs: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> Target:
        # A GPU target with no name crashed later, inside predict, with an AttributeError; a CPU one with a GPU's
        # name or count predicted for the CPU and dropped them without a word. The service refuses both bodies.
        # A ConfigError, not a ValueError: pydantic passes it on as it is, so the API raises advisor's own error.
        if self.kind == "gpu" and (not isinstance(self.gpu_name, str) or not self.gpu_name.strip()):
            raise ConfigError(f"Target.gpu's name must be a GPU model's name, got {self.gpu_name!r:.80}.",
                              hint='Fix: e.g. advisor.Target.gpu("A100-80GB", 4); `advisor hardware` lists them.')
        if self.kind == "cpu" and (self.gpu_name is not None or self.count != 1 or self.peer_to_peer is not None
                                   or self.nvlink_gbs is not None):
            link = "" if self.nvlink_gbs is None else f", nvlink_gbs={self.nvlink_gbs}"
            raise ConfigError(f"A CPU target takes no GPU name, GPU count or peer_to_peer, got gpu="
                              f"{self.gpu_name!r:.80}, count={self.count}, peer_to_peer={self.peer_to_peer}{link}.",
                              hint='Fix: advisor.Target.cpu(threads) for a CPU, or advisor.Target.gpu("A100-80GB", 4) '
                                   "for GPUs.")
        return self

    @classmethod
    @python_surface
    def cpu(cls, threads: int | None = None, cpu_name: str | None = None) -> Target:
        """A CPU with ``threads`` threads (1 or more; None: the probed count) of ``cpu_name`` (None: this one's)."""
        return _made(cls, "Target.cpu", {"threads": "threads"}, kind="cpu", threads=threads, cpu_name=cpu_name)

    @classmethod
    @python_surface
    def gpu(cls, name: str, count: int = 1, peer_to_peer: bool | None = None) -> Target:
        """``count`` GPUs (1 or more) of the model ``name``, e.g. ``Target.gpu("A100-80GB", 4)``;
        ``peer_to_peer=False``: GPUs over PCIe without peer-to-peer transfers (None: the card's own guess)."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"Target.gpu's name must be a GPU model's name, got {name!r:.80}.",
                              hint='Fix: e.g. advisor.Target.gpu("A100-80GB", 4); `advisor hardware` lists them.')
        return _made(cls, "Target.gpu", {"gpu": "name", "gpu_name": "name"}, kind="gpu", gpu_name=name, count=count,
                     peer_to_peer=peer_to_peer)

    def label(self) -> str:
        if self.kind == "cpu":
            return f"cpu x{self.threads}" if self.threads else "cpu"
        return f"{self.count} x {self.gpu_name}"

    def json_contract(self) -> dict:
        """The DESIGN.md shape: {"kind": "cpu", "threads": T} or {"kind": "gpu", "gpu": NAME, "count": K}, with
        "peer_to_peer" where it was given and "nvlink_gbs" where an instance family's NVLink was priced."""
        if self.kind == "cpu":
            return {"kind": "cpu", "threads": self.threads}
        link = {} if self.peer_to_peer is None else {"peer_to_peer": self.peer_to_peer}
        if self.nvlink_gbs is not None:
            link["nvlink_gbs"] = self.nvlink_gbs
        return {"kind": "gpu", "gpu": self.gpu_name, "count": self.count, **link}


def _made(cls: type[Target], what: str, names: dict[str, str], **values: object) -> Target:
    """``cls(**values)``, or a ConfigError naming the argument of ``what`` (the API's constructor) that is wrong,
    its value and what it must be: the API's errors are AdvisorErrors, not pydantic's."""
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]) if first.get("loc") else ""
        arg = names.get(loc, loc)
        raise ConfigError(f"{what}: {arg} {first['msg'][:1].lower()}{first['msg'][1:]}, got {first.get('input')!r}.",
                          hint=_FIXES.get(arg, 'Fix: e.g. advisor.Target.gpu("A100-80GB", 4) or '
                                               "advisor.Target.cpu(8).")) from None


_FIXES = {"peer_to_peer": 'Fix: e.g. advisor.Target.gpu("L4", 8, peer_to_peer=False) for GPUs over PCIe without '
                          "peer-to-peer transfers, or leave it out."}


# ------------------------------------------------------------------------------------------- hardware


class CpuInfo(Model):
    model_name: DeviceName
    arch: str
    physical_cores: Count
    logical_cores: Count
    torch_threads: Count
    # What this process may hold: the RAM, or a lesser limit (memory_limit); None where none could be read (no
    # /proc): the memory fit is then not checked against this machine.
    memory_gib: MemorySize | None = None
    # What bounds memory_gib below the machine's RAM: "cgroup" (a container's limit) or "address_space"
    # (ulimit -v); None: the RAM itself (advisor.hardware.process_memory).
    memory_limit: MemoryLimit | None = None


class GpuInfo(Model):
    index: Annotated[int, Field(strict=True, ge=0, le=1024)]
    name: DeviceName  # as the driver reports it, e.g. "NVIDIA H100 80GB HBM3"
    spec_name: str | None = None  # canonical name in profiles/ when recognised, e.g. "H100-SXM"
    memory_gib: MemorySize
    driver_version: str | None = None
    # Finite, as every other float of a profile: NaN or inf passed, and a PostgreSQL history refused the profile's
    # JSON ("Token NaN is invalid") with a traceback. Bounds far past any card's (a few GHz, a few kW).
    sm_clock_mhz: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    memory_clock_mhz: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    power_limit_watts: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    uuid: str | None = None
    # How it was found where NVML did not list it (torch.cuda), and why; None: through NVML.
    note: str | None = None


# The probe's note on a start-up figure taken from the CPU time because others used the CPU over its parts
# (``advisor.probe.startup_clock.startup_notes``): a caveat (``advisor.predictor.caveats``), as that figure is part
# of a CPU's whole-job time and of recommend's Here line. ``PROCESS_START`` names the interpreter's start.
BUSY_STARTUP = "timed beside other processes"
PROCESS_START = "starting Python and importing torch"


class StartupClock(Model):
    """How a start-up figure was timed (``advisor.probe.startup_clock``): its parts on the wall clock and by the
    process's own CPU time, and what other processes used over them, as a timed window records it."""

    wall_seconds: Seconds
    cpu_seconds: Seconds  # the same with each part timed by the process's CPU time (at most its wall time)
    # None: not read (neither /proc/stat nor psutil's CPU times; steal and run queue: psutil's, which has none),
    # unknown rather than an idle machine's 0. Older profiles have numbers here.
    others_cpu_cores: Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False)] | None = 0.0
    steal_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = 0.0
    run_queue: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = 0.0
    # The figure used: "wall" where nothing else used the CPU over the parts; "process_cpu" where others did
    # (their time on the cores is not the start-up's on an idle machine).
    clock: Literal["wall", "process_cpu"] = "wall"


class HostInfo(Model):
    cpu: CpuInfo
    gpus: list[GpuInfo] = Field(default_factory=list)
    torch_version: str | None = None
    cuda_available: bool = False
    python_version: str | None = None
    hostname: DeviceName | None = None
    # Seconds from the probe's fresh interpreter starting to torch imported (Python's start, advisor's probe
    # modules, ``import torch``): what a training script pays before its model is built, which a job's estimate
    # leaves out (a whole-job figure on a rented machine has it in the instance's start-up). None where the probe
    # forked the caller (torch was imported already) or it was not measured.
    process_start_seconds: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] | None = None
    process_start_clock: StartupClock | None = None  # how it was timed; None in older profiles
    # The OS the probe ran on, as platform.system() names it ("Linux", "Darwin", "Windows"): the notes whose advice
    # is one OS's (glibc, LD_PRELOAD, /proc/stat: advisor.os_words) are worded for it. None in older profiles.
    os_name: DeviceName | None = None


class GpuSpec(Model):
    """A datasheet row from profiles/: what the cross-device predictor scales with. None = not published."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    memory_gib: float | None = None
    memory_bandwidth_gbs: float | None = None
    fp32_tflops: float | None = None
    tf32_tflops: float | None = None
    fp16_bf16_tflops: float | None = None
    fp64_tflops: float | None = None  # peak FP64 on CUDA cores (non-tensor): a float64 model's rate
    fp64_tensor_tflops: float | None = None  # peak FP64 tensor (dense), where faster: float64 matmuls (cuBLAS DMMA)
    bf16_supported: bool = True
    architecture: str | None = None  # GPU die family ("Ampere-GA10x", "Hopper" ...): calibration.arch_efficiency
    intra_node_link: str | None = None  # "nvlink" | "pcie"
    intra_node_bandwidth_gbs: float | None = None  # unidirectional, per GPU
    host_link_gbs: float | None = None  # host-to-device link (PCIe, NVLink-C2C), per direction, theoretical
    tdp_watts: float | None = None
    source: str | None = None
    notes: str | None = None
    retrieved: str | None = None  # YYYY-MM-DD the row's figures were retrieved (the latest fill's date)


class CpuSpec(Model):
    """A CPU family from profiles/ (cloud instance families), for scaling the local CPU probe."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    vendor: str | None = None
    microarchitecture: str | None = None
    base_ghz: float | None = None
    turbo_ghz: float | None = None
    fp32_flops_per_cycle_per_core: float | None = None  # e.g. 64 with 2x AVX-512 FMA
    source: str | None = None
    notes: str | None = None
    retrieved: str | None = None  # YYYY-MM-DD the row's figures were retrieved
