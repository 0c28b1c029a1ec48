"""A GPU probed here that ``profiles/gpus.csv`` has no row for: its own measured steps are still its estimate.

Without a datasheet row nothing can be scaled from the probe (no roofline to carry it to other GPUs, batch sizes
or precisions), but the GPU itself was timed: the job on that very GPU, at the precision it was probed at, is
the probe's measured step time, as ``predict --device cuda:N`` and recommend's "Here" line give it.
"""

from __future__ import annotations

from dataclasses import replace

from advisor.data_files import data_file
from advisor.errors import PredictionError
from advisor.predictor import input_bound, probes
from advisor.predictor.probes import EstimateContext
from advisor.schemas import DeviceProfile, Estimate, GpuSpec, JobSpec, Profile


def unspecced_probe(profile: Profile, name: str) -> DeviceProfile | None:
    """The GPU of ``profile`` that the driver called ``name`` and that matched no spec row, if it has timed steps."""
    for dev in profile.devices:
        if (dev.kind == "gpu" and not dev.spec_name and dev.name == name
                and any(not m.oom and m.compute_seconds for m in dev.measurements)):
            return dev
    return None


def _checked_precision(dev: DeviceProfile, asked: str) -> None:
    """PredictionError unless the probe ran at ``asked`` (or at fp16 for bf16: the probe runs bf16 as fp16 on a
    GPU without bfloat16, with a note in the profile): with no spec row, a probe does not carry to another."""
    if asked == dev.precision or (asked == "bf16" and dev.precision == "fp16"):
        return
    raise PredictionError(
        f"{dev.device} ({dev.name}) was probed at {dev.precision}, not {asked}, and profiles/gpus.csv has no row "
        "for it to carry the probe to another precision.",
        hint=f"Fix: probe it at {asked} (advisor profile FILE --precision {asked}), or add the GPU to "
             f"{data_file('profiles', 'gpus.csv')} (see {data_file('profiles', 'README.md')}).")


def estimate_unspecced(profile: Profile, job: JobSpec, dev: DeviceProfile, asked_precision: str,
                       ctx: EstimateContext, vcpus: int | None) -> Estimate:
    """The job on the probed GPU ``dev`` that has no spec row: its measured steps (the host side on ``vcpus``,
    this machine's), with a note that other GPUs cannot be scaled from it. PredictionError for another precision
    than probed."""
    from advisor.predictor.measured import predict_measured

    _checked_precision(dev, asked_precision)
    # No datasheet: the host link is unknown, so a DataLoader's copy to the GPU is not counted (noted by gpu_host).
    stand_in = GpuSpec(name=dev.name, memory_gib=dev.memory_gib)
    host = input_bound.gpu_host(profile.input_pipeline, stand_in, 1, vcpus)
    if profile.input_pipeline is None or profile.input_pipeline.source != "dataloader":
        host = replace(host, notes=())  # the measured make_batch + copy stands
    est = predict_measured(profile, job, device=dev.device, fit=probes.device_fit(profile, dev.device, ctx),
                           host=host)
    note = (f"{dev.name} has no row in profiles/gpus.csv: this is its own measured step time from the probe on "
            f"{dev.device}; other GPUs and precisions cannot be scaled from it without a spec row (add it to "
            f"{data_file('profiles', 'gpus.csv')}, see {data_file('profiles', 'README.md')}).")
    return est.model_copy(update={"notes": [note, *est.notes]})
