"""What the learned history correction reads of a run or a target: its features.

A stored run (``TrainingRow``) and a new estimate's target are turned into the same vector, ``FEATURES`` in order:
the job's size (parameters, FLOPs per sample, batch, dataset, epochs), where it runs (CPU vCPUs, or K GPUs with the
memory, bandwidth and FP32 TFLOPs of ``profiles/gpus.csv``, the GPU's name read as the predictor reads it:
``GpuFigures``), the base method and predicted time, and the probe's fastest time per sample. NaN stands for
unknown (imputed by the model). ``advisor.predictor.learned`` fits and applies the correction on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from advisor.errors import AdvisorError
from advisor.schemas import Profile, TrainingRow, WorkloadInfo

FEATURES = (
    "log10_params", "log10_flops_per_sample", "log2_batch_size", "log10_dataset_size", "log_epochs",
    "is_gpu", "log2_gpu_count", "log2_vcpus", "log2_gpu_memory_gib", "log10_gpu_bandwidth_gbs",
    "log10_gpu_fp32_tflops", "method_scaled", "log10_predicted_seconds", "log10_measured_seconds_per_sample",
)

SpecLookup = Callable[[str], Any]  # GPU name -> object with memory_gib, memory_bandwidth_gbs, fp32_tflops

# ------------------------------------------------------------------------------------------- features


class GpuFigures:
    """GPU name -> (memory GiB, memory bandwidth GB/s, FP32 TFLOPs), the datasheet numbers the features use, with the
    name read as the predictor reads it (``advisor.hardware.specs.gpu_spec_named``, ``resolve_gpu``'s match): a
    catalog name, an alias, any spelling of one ("NVIDIA H100-SXM5-80GB"), and a MIG slice ("A100-SXM4-40GB MIG
    3g.20gb", the name a probe on one stores) as its parent's row scaled to the slice (``advisor.hardware.mig``).
    An exact-name table gave a slice, and a spelling that is no alias, no figure: the same GPU got other features
    under another name. None for a figure the row lacks, all three None for a GPU the catalog has no row for. Each
    name is resolved once (a fit reads every stored run's)."""

    MAX_NAMES = 4096  # names kept resolved before starting over: a server reads many targets' names

    def __init__(self, specs: Mapping[str, Any] | None = None) -> None:
        self._specs = dict(specs or {})
        self._found: dict[str, tuple[float | None, float | None, float | None]] = {}

    @classmethod
    def load(cls) -> GpuFigures:
        """The figures of profiles/gpus.csv; none (NaN features, imputed) where the file is missing or broken."""
        from advisor.errors import HardwareError
        from advisor.hardware.specs import load_gpu_specs

        try:
            return cls(load_gpu_specs())
        except HardwareError:
            return cls()

    def __call__(self, name: str) -> tuple[float | None, float | None, float | None]:
        found = self._found.get(name)
        if found is None:
            from advisor.hardware.specs import gpu_spec_named

            spec = gpu_spec_named(name, self._specs) if self._specs and name.strip() else None
            found = (None, None, None) if spec is None else (
                _num(spec.memory_gib), _num(spec.memory_bandwidth_gbs), _num(spec.fp32_tflops))
            if len(self._found) >= self.MAX_NAMES:
                self._found.clear()
            self._found[name] = found
        return found


def _num(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _log(value: float | int | None, base: float = math.e) -> float:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return math.nan
    return math.log(value) / math.log(base)


def _spec_numbers(gpu: str | None, lookup: SpecLookup | None, figures: GpuFigures | None) -> tuple[float | None, ...]:
    if not gpu:
        return (None, None, None)
    spec = None
    if lookup is not None:
        try:
            spec = lookup(gpu)
        except (AdvisorError, LookupError):  # an unknown GPU (resolve_gpu's HardwareError, a dict's KeyError)
            spec = None
    if spec is not None:
        return tuple(getattr(spec, k, None) for k in ("memory_gib", "memory_bandwidth_gbs", "fp32_tflops"))
    return figures(gpu) if figures is not None else (None, None, None)


def feature_vector(*, param_count: int | None, flops_per_sample: float | None, batch_size: int,
                   dataset_size: int, epochs: int, gpu: str | None, gpu_count: int, vcpus: int | None,
                   method: str, predicted_seconds: float, measured_seconds_per_sample: float | None,
                   spec_lookup: SpecLookup | None = None,
                   spec_table: GpuFigures | None = None) -> list[float]:
    """The features, in ``FEATURES`` order; NaN where unknown (imputed by the model). A GPU's figures are
    ``spec_lookup``'s where given and it knows the GPU, else ``spec_table``'s (``GpuFigures``).

    The probe's time per sample is a CPU target's feature only: it is the fastest of whatever devices were
    probed, and ``predict --gpu`` on a machine without a GPU probes none while ``recommend`` probes the CPU,
    so for a GPU target it would make the two commands' corrections differ for the same target.
    """
    is_gpu = bool(gpu) and gpu_count > 0
    mem, bw, tflops = _spec_numbers(gpu if is_gpu else None, spec_lookup, spec_table)
    if is_gpu:
        measured_seconds_per_sample = None
    features = [
        _log(param_count, 10), _log(flops_per_sample, 10), _log(batch_size, 2), math.nan, math.nan,
        1.0 if is_gpu else 0.0, _log(max(gpu_count, 1), 2) if is_gpu else 0.0,
        math.nan if is_gpu else _log(vcpus, 2),
        _log(mem, 2), _log(bw, 10), _log(tflops, 10), 1.0 if method == "scaled" else 0.0,
        math.nan, _log(measured_seconds_per_sample, 10),
    ]
    for i, value in _job_features(dataset_size, epochs, predicted_seconds):
        features[i] = value
    return features


JOB_FEATURES = (3, 4, 12)  # the indices ``_job_features`` sets


def size_features(dataset_size: int, epochs: int) -> tuple[tuple[int, float], ...]:
    """(index, value) of the features a job's size sets."""
    return ((3, _log(dataset_size, 10)), (4, _log(epochs)))


def time_feature(predicted_seconds: float) -> tuple[int, float]:
    """(index, value) of the feature the predicted time sets."""
    return 12, _log(predicted_seconds, 10)


def _job_features(dataset_size: int, epochs: int, predicted_seconds: float) -> tuple[tuple[int, float], ...]:
    """(index, value) of the features a job's size and its predicted time set; the others are the target's."""
    return (*size_features(dataset_size, epochs), time_feature(predicted_seconds))


def row_features(row: TrainingRow, spec_lookup: SpecLookup | None = None,
                 spec_table: GpuFigures | None = None) -> list[float]:
    return feature_vector(
        param_count=row.param_count, flops_per_sample=row.flops_per_sample, batch_size=row.batch_size,
        dataset_size=row.dataset_size, epochs=row.epochs, gpu=row.gpu if row.tier != "cpu" else None,
        gpu_count=row.gpu_count, vcpus=row.vcpus, method=row.method, predicted_seconds=row.predicted_seconds,
        measured_seconds_per_sample=row.measured_seconds_per_sample, spec_lookup=spec_lookup,
        spec_table=spec_table)


def context_figures(context: Profile | WorkloadInfo | Mapping[str, Any] | None) -> tuple[Any, Any, Any]:
    """(param_count, flops_per_sample, fastest measured seconds per sample) from a Profile, a WorkloadInfo or
    a Recommendation-style workload dict."""
    if context is None:
        return None, None, None
    if isinstance(context, Profile):
        per_sample = [m.compute_seconds / m.batch_size for d in context.devices for m in d.measurements
                      if m.compute_seconds and not m.oom and m.batch_size]
        w = context.workload
        params = w.param_count if w.param_count is not None else (
            context.analysis.param_count if context.analysis else None)
        flops = w.flops_per_sample if w.flops_per_sample is not None else (
            context.analysis.flops_per_sample if context.analysis else None)
        return params, flops, min(per_sample) if per_sample else None
    if isinstance(context, WorkloadInfo):
        return context.param_count, context.flops_per_sample, None
    return context.get("param_count", context.get("params")), context.get("flops_per_sample"), None


def workload_name(context: Profile | WorkloadInfo | Mapping[str, Any] | None) -> str | None:
    """The workload's name in ``context`` (a Profile, a WorkloadInfo or a workload dict), as the history stores
    it (``TrainingRow.workload``); None where it gives none. The correction moves a workload's estimates only on the
    kinds of device its own stored runs were on."""
    if isinstance(context, Profile):
        context = context.workload
    name = context.name if isinstance(context, WorkloadInfo) else (
        context.get("name") if isinstance(context, Mapping) else None)
    return name if isinstance(name, str) and name else None
