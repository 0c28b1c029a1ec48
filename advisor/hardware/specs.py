"""Device spec sheets from ``profiles/``: GPUs (``gpus.csv``), CPU families (``cpus.csv``), which cloud
instance family runs which CPU (``cpu_families.csv``); whose GPUs' link is not their card's: ``gpu_links``.

Loaders are pure functions of a path (cached per path with ``lru_cache``; a fresh dict is returned each call),
so callers load once and pass the specs around. Empty cells are ``None``: a figure nobody published is never
guessed. See ``profiles/README.md`` for the sources and conventions (dense tensor FLOPS, unidirectional
per-GPU link bandwidth, all-core turbo clocks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from advisor.data_files import data_dir, data_file
from advisor.errors import HardwareError, PredictionError, did_you_mean
from advisor.hardware.cells import aliases as _aliases
from advisor.hardware.cells import boolean as _bool
from advisor.hardware.cells import date as _date
from advisor.hardware.cells import number as _float
from advisor.hardware.cells import read_rows as _rows
from advisor.hardware.cells import text as _text
from advisor.hardware.mig import mig_spec
from advisor.schemas import CpuSpec, GpuSpec

GPU_FILE = "gpus.csv"
CPU_FILE = "cpus.csv"
CPU_FAMILIES_FILE = "cpu_families.csv"
# An instance-family row: provider + instance_family (``CpuFamilyRow``, ``advisor.hardware.gpu_links.GpuLinkRow``).
_R = TypeVar("_R")

# Which datasheet figure bounds a precision's matmul throughput.
PRECISION_FIELDS = {"fp32": "fp32_tflops", "tf32": "tf32_tflops", "bf16": "fp16_bf16_tflops",
                    "fp16": "fp16_bf16_tflops"}
_FIELD_LABELS = {"memory_bandwidth_gbs": "memory bandwidth", "memory_gib": "memory size", "fp32_tflops": "FP32",
                 "tf32_tflops": "TF32", "fp16_bf16_tflops": "FP16/BF16 tensor", "fp64_tflops": "FP64"}
# Vendor words drivers put in front of a model name ("NVIDIA GeForce RTX 4090", "Tesla T4").
_VENDOR_PREFIXES = ("nvidia", "tesla", "geforce")
# Form-factor words that make a different product of the same chip (an H200 NVL is not an H200 SXM).
_FORM_WORDS = ("pcie", "nvl", "sxm")
# Product-line words that NVIDIA reuses a model number under: "RTX 6000" is the Turing Quadro, the Ada
# generation and the Blackwell PRO, three cards 24-96 GB apart.
_LINE_WORDS = frozenset({"quadro", "ada", "pro", "blackwell", "generation", "server", "workstation", "edition"})
_MEMORY_TOLERANCE = 0.25  # relative: a driver's 79.6 GiB is the datasheet's 80 GB

def _unknown_gpu_hint() -> str:
    """The fix for an unknown GPU, naming the spec file this installation reads (a wheel's is in site-packages)."""
    return (f"Fix: run `advisor hardware` to list known devices, or add the GPU to {data_file('profiles', 'gpus.csv')} "
            f"(see {data_file('profiles', 'README.md')}).")


# ----------------------------------------------------------------------------------------------- parsing


def _profiles_path(path: str | Path | None, filename: str) -> Path:
    return Path(path) if path is not None else data_dir("profiles") / filename


@lru_cache(maxsize=8)
def _gpu_specs_cached(path: str) -> tuple[GpuSpec, ...]:
    specs = []
    for line, row in enumerate(_rows(Path(path)), start=2):
        name = (row.get("gpu_model") or row.get("name") or "").strip()
        if not name:
            continue
        where = f"{path} line {line} ({name})"
        num = {field: _float(row.get(field), where=f"{where} column {field}")
               for field in ("memory_gib", "memory_bandwidth_gbs", "fp32_tflops", "tf32_tflops",
                             "fp16_bf16_tflops", "fp64_tflops", "fp64_tensor_tflops", "intra_node_bandwidth_gbs",
                             "host_link_gbs", "tdp_watts")}
        specs.append(GpuSpec(
            name=name, aliases=_aliases(row.get("aliases")), **num,
            bf16_supported=_bool(row.get("bf16_supported"), default=True, where=f"{where} column bf16_supported"),
            architecture=(row.get("architecture") or "").strip() or None,
            intra_node_link=(row.get("intra_node_link") or "").strip().lower() or None,
            source=_text(row, "source") or _text(row, "source_url"), notes=_text(row, "notes"),
            retrieved=_date(row.get("retrieved"), where=f"{where} column retrieved"),
        ))
    return tuple(specs)


@lru_cache(maxsize=8)
def _cpu_specs_cached(path: str) -> tuple[CpuSpec, ...]:
    specs = []
    for line, row in enumerate(_rows(Path(path)), start=2):
        name = (row.get("name") or "").strip()
        if not name:
            continue
        where = f"{path} line {line} ({name})"
        specs.append(CpuSpec(
            name=name, aliases=_aliases(row.get("aliases")),
            vendor=(row.get("vendor") or "").strip() or None,
            microarchitecture=(row.get("microarchitecture") or "").strip() or None,
            base_ghz=_float(row.get("base_ghz"), where=f"{where} column base_ghz"),
            turbo_ghz=_float(row.get("turbo_ghz"), where=f"{where} column turbo_ghz"),
            fp32_flops_per_cycle_per_core=_float(row.get("fp32_flops_per_cycle_per_core"),
                                                 where=f"{where} column fp32_flops_per_cycle_per_core"),
            source=_text(row, "source"), notes=_text(row, "notes"),
            retrieved=_date(row.get("retrieved"), where=f"{where} column retrieved"),
        ))
    return tuple(specs)


@dataclass(frozen=True)
class CpuFamilyRow:
    """One line of ``cpu_families.csv``: which CPU family an instance family runs on."""

    provider: str
    instance_family: str
    cpu_family: str
    threads_per_core: int | None  # 2 = SMT (two vCPUs per physical core); None = not published
    source: str | None = None
    notes: str | None = None
    retrieved: str | None = None  # YYYY-MM-DD


@lru_cache(maxsize=8)
def _cpu_families_cached(path: str) -> tuple[CpuFamilyRow, ...]:
    rows = []
    for line, row in enumerate(_rows(Path(path)), start=2):
        provider = (row.get("provider") or "").strip().lower()
        family = (row.get("instance_family") or "").strip()
        if not provider or not family:
            continue
        tpc = _float(row.get("threads_per_core"), where=f"{path} line {line} column threads_per_core")
        rows.append(CpuFamilyRow(provider=provider, instance_family=family,
                                 cpu_family=(row.get("cpu_family") or "").strip(),
                                 threads_per_core=int(tpc) if tpc else None,
                                 source=_text(row, "source"), notes=_text(row, "notes"),
                                 retrieved=_date(row.get("retrieved"), where=f"{path} line {line} column retrieved")))
    return tuple(rows)


def load_gpu_specs(path: str | Path | None = None) -> dict[str, GpuSpec]:
    """{canonical name: GpuSpec} from ``profiles/gpus.csv`` (or ``path``), in file order."""
    return {s.name: s for s in _gpu_specs_cached(str(_profiles_path(path, GPU_FILE).resolve()))}


def load_cpu_specs(path: str | Path | None = None) -> dict[str, CpuSpec]:
    """{family name: CpuSpec} from ``profiles/cpus.csv`` (or ``path``)."""
    return {s.name: s for s in _cpu_specs_cached(str(_profiles_path(path, CPU_FILE).resolve()))}


def load_cpu_families(path: str | Path | None = None) -> list[CpuFamilyRow]:
    """The instance-family -> CPU-family rows of ``profiles/cpu_families.csv`` (or ``path``)."""
    return list(_cpu_families_cached(str(_profiles_path(path, CPU_FAMILIES_FILE).resolve())))


# ---------------------------------------------------------------------------------------------- names


def normalize_name(name: str) -> str:
    """Lower case, only letters and digits: 'H100-SXM5 80GB' -> 'h100sxm580gb'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _without_vendor(normalized: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _VENDOR_PREFIXES:
            if normalized.startswith(prefix) and len(normalized) > len(prefix):
                normalized, changed = normalized[len(prefix):], True
    return normalized


def _lookup(name: str, specs: dict) -> object | None:
    """Exact, then case-insensitive canonical, then alias, then ignoring '-', '_', spaces and vendor words."""
    if name in specs:
        return specs[name]
    lowered = name.strip().lower()
    for spec in specs.values():
        if spec.name.lower() == lowered:
            return spec
    for spec in specs.values():
        if any(alias.lower() == lowered for alias in spec.aliases):
            return spec
    index: dict[str, object] = {}
    # Canonical names win over aliases, and both over names with the vendor words taken off.
    for spec in specs.values():
        index.setdefault(normalize_name(spec.name), spec)
    for spec in specs.values():
        for alias in spec.aliases:
            index.setdefault(normalize_name(alias), spec)
    for spec in specs.values():
        for key in (spec.name, *spec.aliases):
            index.setdefault(_without_vendor(normalize_name(key)), spec)
    norm = normalize_name(name)
    return index.get(norm) or index.get(_without_vendor(norm))


def _unknown(kind: str, name: str, specs: dict, hint: str) -> HardwareError:
    # Names and one-word aliases together, so a family name is among the choices: "H10" -> H100 (an alias of
    # H100-SXM), not only the spec names that happen to be spelled closer (A10, H200).
    short = [a for s in specs.values() for a in s.aliases if " " not in a and len(a) <= 8]
    suggestion = (did_you_mean(name, [*specs, *short])
                  or did_you_mean(name, [a for s in specs.values() for a in s.aliases]))
    return HardwareError(f"Unknown {kind} {name!r}.{suggestion}", hint=hint)


def resolve_gpu(name: str, specs: dict[str, GpuSpec] | None = None) -> GpuSpec:
    """The spec a user's GPU name means ('h100', 'A100-SXM4-80GB', 'RTX 3090'); HardwareError if unknown.

    Plain family names pick one variant: 'A100' -> A100-40GB, 'V100' -> V100-16GB, 'H100' -> H100-SXM
    (see profiles/README.md for why).
    """
    specs = load_gpu_specs() if specs is None else specs
    found = gpu_spec_named(name, specs) if name and name.strip() else None
    if found is None:
        raise _unknown("GPU", name, specs, _unknown_gpu_hint())
    return found


def gpu_spec_named(name: str, specs: dict[str, GpuSpec]) -> GpuSpec | None:
    """The spec ``name`` means among ``specs`` (``_lookup``), or a MIG slice of one of them ("A100-40GB MIG 1g.5gb",
    ``advisor.hardware.mig``: its parent's row scaled to the slice); None if neither."""
    return _lookup(name, specs) or mig_spec(name, lambda parent: _lookup(parent, specs)  # type: ignore[return-value]
                                            or specs.get(match_reported_gpu(parent, None, specs) or ""))


def other_variants(name: str, specs: dict[str, GpuSpec] | None = None) -> list[str]:
    """The catalog's other variants of a plain family name that ``resolve_gpu`` read as one of them ('A100' ->
    ['A100-40GB-PCIe', 'A100-80GB', 'A100-80GB-PCIe'] beside A100-40GB); [] where the name says which (a
    memory size or a form factor, or a spec's own name) or the family has one model."""
    specs = load_gpu_specs() if specs is None else specs
    if not name or name in specs:
        return []
    tokens = _tokens(name)
    if any(_GENERIC_TOKENS.match(t) for t in tokens):
        return []
    key = _model_key(tokens)
    chosen = _lookup(name, specs)
    if chosen is None or not key:
        return []
    # A name without a product-line word is of every line that reuses its model number ("RTX 6000").
    same = _specs_of_model(key, specs, frozenset() if _LINE_WORDS.intersection(tokens) else _LINE_WORDS)
    return sorted({s.name for s in same} - {chosen.name})


def _specs_of_model(model: str, specs: dict[str, GpuSpec], drop: frozenset[str] = frozenset()) -> list[GpuSpec]:
    """The specs whose name or an alias is of ``model`` (``_model_key``: 'a100' for every A100), once the words
    in ``drop`` are taken off it ('rtx6000' for the Quadro RTX 6000, the RTX 6000 Ada and the RTX PRO 6000)."""
    def key(name: str) -> str:
        return _model_key([t for t in _tokens(name) if t not in drop])
    return [s for s in specs.values() if any(key(k) == model for k in (s.name, *s.aliases))]


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


def _forms(tokens: list[str]) -> set[str]:
    return {w for w in _FORM_WORDS for t in tokens if t.startswith(w)}


_GENERIC_TOKENS = re.compile(r"^(\d+gb|hbm\d*e?|pcie\w*|sxm\d*|nvl)$")


def _model_key(tokens: list[str]) -> str:
    """The model part of a name, without vendor, memory and form-factor words: 'a100' for 'NVIDIA
    A100-SXM4-80GB', 'rtx4090' for 'GeForce RTX 4090', 'rtx3060ti' for 'RTX 3060 Ti'."""
    return "".join(t for t in tokens if t not in _VENDOR_PREFIXES and not _GENERIC_TOKENS.match(t))


def match_reported_gpu(driver_name: str, memory_gib: float | None,
                       specs: dict[str, GpuSpec] | None = None) -> str | None:
    """Canonical spec name for a GPU as the driver reports it ('NVIDIA A100-SXM4-80GB', 79.2), else None.

    First the names and aliases (driver names are listed as aliases), kept when the memory agrees; then the
    model ('a100' in 'NVIDIA A100-SXM4-64GB') narrowed by form factor (a PCIe or NVL board only matches a
    PCIe or NVL spec) and by the memory size closest to what the driver reports. A GPU that matches nothing
    gets no spec rather than a wrong one ('RTX 3060 Laptop GPU', 'H200 NVL', 'V100-PCIE-32GB' -> None).
    """
    specs = load_gpu_specs() if specs is None else specs
    if not driver_name or not driver_name.strip():
        return None
    if " mig " in f" {driver_name.lower()} ":  # a MIG slice: its parent's row, scaled (``advisor.hardware.mig``)
        return (found := gpu_spec_named(driver_name, specs)) and found.name
    exact = _lookup(driver_name, specs)
    if exact is not None and not (memory_gib and exact.memory_gib  # type: ignore[union-attr]
                                  and abs(exact.memory_gib - memory_gib)  # type: ignore[union-attr]
                                  > _MEMORY_TOLERANCE * exact.memory_gib):  # type: ignore[union-attr]
        return exact.name  # type: ignore[union-attr]
    tokens = _tokens(driver_name)
    model = _model_key(tokens)
    if not model:
        return None
    candidates = _specs_of_model(model, specs)
    if not candidates:
        return None
    wanted = _forms(tokens) - {"sxm"}
    if wanted:  # a PCIe or NVL board: only a spec of that form factor will do
        candidates = [s for s in candidates if _forms(_tokens(s.name)) & wanted]
    else:  # no form word, or SXM: the default (SXM or only) variant, never a PCIe/NVL one
        candidates = [s for s in candidates if not _forms(_tokens(s.name)) & {"pcie", "nvl"}]
    if not candidates:
        return None
    if memory_gib:
        sized = [s for s in candidates if s.memory_gib]
        if sized:
            best = min(sized, key=lambda s: abs(s.memory_gib - memory_gib))
            if abs(best.memory_gib - memory_gib) <= _MEMORY_TOLERANCE * best.memory_gib:
                return best.name
            unsized = [s for s in candidates if not s.memory_gib]
            return unsized[0].name if len(unsized) == 1 else None
    return candidates[0].name if len(candidates) == 1 else None


# ------------------------------------------------------------------------------------------ scalability


def peak_tflops(spec: GpuSpec, precision: str) -> float | None:
    """The datasheet peak for a precision (dense): fp32 -> FP32, tf32 -> TF32, bf16/fp16 -> tensor FP16/BF16."""
    field = PRECISION_FIELDS.get(precision)
    if field is None:
        raise PredictionError(f"Unknown precision {precision!r}.",
                              hint="Fix: use one of " + ", ".join(PRECISION_FIELDS) + ".")
    return getattr(spec, field)


def require_scalable(spec: GpuSpec, precision: str) -> None:
    """PredictionError unless ``spec`` has what scaling a probe to it at ``precision`` needs: memory size,
    memory bandwidth and the peak FLOPS of that precision (and bfloat16 support for bf16: the one bf16 check)."""
    if precision == "bf16" and not spec.bf16_supported:
        raise PredictionError(f"{spec.name} has no bfloat16 support (it predates Ampere).",
                              hint="Fix: use --precision fp16 (or fp32) for this GPU.")
    field = PRECISION_FIELDS.get(precision)
    if field is None:
        peak_tflops(spec, precision)  # raises the unknown-precision error
    needed = ("memory_gib", "memory_bandwidth_gbs", field)
    missing = [_FIELD_LABELS[f] for f in needed if getattr(spec, f) is None]
    if missing:
        raise PredictionError(
            f"cannot scale to {spec.name}: profiles/gpus.csv has no {'/'.join(missing)} figure for it.",
            hint=f"Fix: give a --profile measured on that GPU (run `advisor profile` on a {spec.name} machine), "
                 f"or add the missing datasheet figure to profiles/gpus.csv with its source.")


def missing_figures(spec: GpuSpec, *, multi_gpu: bool = False) -> list[str]:
    """The columns of ``profiles/gpus.csv`` that predicting ``spec`` needs and its row leaves empty: memory size
    and bandwidth, FP32 (non-tensor operators and operand staging), the FP16/BF16 tensor rate (mixed
    precision), FP64 (a model that trains in float64), TF32 on Ampere and newer (PyTorch runs convolutions in
    TF32 there by default) and, for several GPUs in one machine (``multi_gpu``), the link between them. [] when
    the row is complete."""
    needed = ["memory_gib", "memory_bandwidth_gbs", "fp32_tflops", "fp16_bf16_tflops", "fp64_tflops"]
    if spec.bf16_supported:
        needed.append("tf32_tflops")
    if multi_gpu:
        needed += ["intra_node_link", "intra_node_bandwidth_gbs"]
    return [name for name in needed if getattr(spec, name) in (None, "")]


# ------------------------------------------------------------------------------------------------- CPUs


def resolve_cpu(name: str, specs: dict[str, CpuSpec] | None = None) -> CpuSpec:
    """The CPU family a name means (family name, or an alias such as 'Intel(R) Xeon(R) Platinum 8488C')."""
    specs = load_cpu_specs() if specs is None else specs
    found = _lookup(name, specs) if name and name.strip() else None
    if found is None:
        raise _unknown("CPU family", name, specs,
                       "Fix: run `advisor hardware` to list known CPU families, or add it to "
                       f"{data_file('profiles', 'cpus.csv')}.")
    return found  # type: ignore[return-value]


def match_reported_cpu(model_name: str, specs: dict[str, CpuSpec] | None = None) -> str | None:
    """The CPU family whose alias appears in a reported model name ('Intel(R) Xeon(R) Platinum 8488C CPU @
    2.4GHz' -> 'aws-xeon-8488c'), the longest alias winning; None for CPUs the profiles do not list."""
    specs = load_cpu_specs() if specs is None else specs
    text = (model_name or "").lower()
    best: tuple[int, str] | None = None
    for spec in specs.values():
        for alias in spec.aliases:
            pattern = r"(?<![a-z0-9])" + re.escape(alias.lower()) + r"(?![a-z0-9])"
            if re.search(pattern, text) and (best is None or len(alias) > best[0]):
                best = (len(alias), spec.name)
    return best[1] if best else None


def instance_family(provider: str, instance_type: str) -> str:
    """The family part of an instance type: aws 'c7i-flex.xlarge' -> 'c7i-flex', gcp 'n2d-standard-8' ->
    'n2d', azure 'Standard_D16as_v5' -> 'Dasv5' and 'Standard_NC80adis_H100_v5' -> 'NCadisH100v5', lambda
    'cpu_4x_general' -> 'cpu_general'."""
    provider = provider.lower()
    if provider == "aws":
        return instance_type.split(".", 1)[0]
    if provider == "gcp":
        return instance_type.split("-", 1)[0]
    if provider == "azure":
        # A GPU size names its accelerator before the version (NC80adis_H100_v5): part of its family.
        m = re.match(r"^(?:Standard_|Basic_)?([A-Za-z]+?)(\d+)([a-z]*)(?:_([A-Z][A-Za-z0-9]*))?_v(\d+)$",
                     instance_type)
        if m:
            return f"{m.group(1).upper()}{m.group(3)}{m.group(4) or ''}v{m.group(5)}"
        return instance_type
    if provider == "lambda":
        return re.sub(r"_\d+x_", "_", instance_type)
    return instance_type


def instance_row(provider: str, instance_type: str, rows: Sequence[_R]) -> _R | None:
    """The row of ``rows`` (``cpu_families.csv``'s or ``gpu_links.csv``'s) for an instance type's family."""
    fam = instance_family(provider, instance_type).lower()
    for row in rows:
        if row.provider == provider.lower() and row.instance_family.lower() == fam:
            return row
    return None


def _family_row(provider: str, instance_type: str, families: list[CpuFamilyRow] | None) -> CpuFamilyRow | None:
    return instance_row(provider, instance_type, load_cpu_families() if families is None else families)


def cpu_family_for_instance(provider: str, instance_type: str,
                            families: list[CpuFamilyRow] | None = None) -> str | None:
    """The CPU family name (a key of ``load_cpu_specs()``) an instance type runs on, or None if unknown."""
    row = _family_row(provider, instance_type, families)
    return row.cpu_family or None if row else None


def threads_per_core_for_instance(provider: str, instance_type: str,
                                  families: list[CpuFamilyRow] | None = None) -> int | None:
    """vCPUs per physical core of an instance type (2 with SMT, 1 on e.g. AWS m7a); None if not published."""
    row = _family_row(provider, instance_type, families)
    return row.threads_per_core if row else None


# ----------------------------------------------------------------------------------------------- listing


def list_known_devices(gpu_specs: dict[str, GpuSpec] | None = None,
                       cpu_specs: dict[str, CpuSpec] | None = None) -> dict:
    """For ``advisor hardware``: {"gpus": [GpuSpec], "cpus": [CpuSpec], "cpu_families": [dict]}."""
    gpu_specs = load_gpu_specs() if gpu_specs is None else gpu_specs
    cpu_specs = load_cpu_specs() if cpu_specs is None else cpu_specs
    return {
        "gpus": list(gpu_specs.values()),
        "cpus": list(cpu_specs.values()),
        "cpu_families": [{"provider": r.provider, "instance_family": r.instance_family,
                          "cpu_family": r.cpu_family, "threads_per_core": r.threads_per_core,
                          "source": r.source, "retrieved": r.retrieved}
                         for r in load_cpu_families()],
    }
