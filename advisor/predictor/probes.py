"""Which of a profile's probes answers for a target, and each probe's fit, computed once per estimate context.

A GPU probe also gets its ``ProbeCarry`` (``advisor.predictor.probe_carry``): how its measured steps carry to
other GPUs, precisions of the same width, and batch sizes outside its ladder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from advisor.predictor.calibration import Calibration
from advisor.predictor.caveats import OUTSIDE_MEASURED_RANGE
from advisor.schemas import DeviceProfile, GpuSpec, Profile

if TYPE_CHECKING:  # numpy is imported only when a probe is fitted
    from advisor.predictor.fit import StepTimeFit
    from advisor.predictor.probe_carry import ProbeCarry


class EstimateContext(Protocol):
    """What of ``estimate.EstimateContext`` this module reads and fills."""

    gpu_specs: dict[str, GpuSpec]
    calibration: Calibration
    fits: dict[str, StepTimeFit | None]
    memo: dict[tuple, object]


# A job at one 16-bit precision is carried from a probe at the other: the same kernels at the same tensor rate
# (fp16 adds its GradScaler, which the roofline prices). Left out, an fp16 job (or bf16 run as fp16 on a V100)
# priced from the roofline alone came out 9% cheaper than the probed bf16 job on the probed GPU itself.
_HALF_SIBLING = {"bf16": "fp16", "fp16": "bf16"}


def _scalable(dev: DeviceProfile, spec: GpuSpec) -> bool:
    """Whether the roofline can carry ``dev``'s probe: not a bf16 probe of a GPU without bfloat16 (torch emulates
    bf16 autocast there; a profile from before the probe ran such a GPU at fp16 has one)."""
    return dev.precision != "bf16" or spec.bf16_supported


def probed_gpu(profile: Profile, spec: GpuSpec, precision: str) -> DeviceProfile | None:
    """The GPU probed here that is ``spec`` at ``precision``, if any."""
    for dev in profile.devices:
        if (dev.kind == "gpu" and dev.spec_name == spec.name and dev.precision == precision and dev.measurements
                and _scalable(dev, spec)):
            return dev
    return None


def any_probed_gpu(profile: Profile, precision: str | None, specs: dict[str, GpuSpec]) -> DeviceProfile | None:
    """A GPU probed here at ``precision`` (None: at any) with a timed step, of a model ``specs`` knows (or a MIG
    slice of one)."""
    from advisor.hardware.specs import gpu_spec_named

    for dev in profile.devices:
        if (dev.kind == "gpu" and dev.spec_name and (spec := gpu_spec_named(dev.spec_name, specs)) is not None
                and precision in (None, dev.precision) and _scalable(dev, spec)
                and any(not m.oom and m.compute_seconds for m in dev.measurements)):
            return dev
    return None


def device_fit(profile: Profile, device: str, ctx: EstimateContext) -> StepTimeFit | None:
    """The step-time fit of a probed device, once per context. A GPU with a spec (and an analysis) also gets its
    ``ProbeCarry`` (``probe_carry``), and outside its ladder follows its roofline as the carry corrects it, as
    every GPU carried from it does: a line through launch-bound small batches is too shallow, and below a ladder
    that starts past them its intercept undercuts the launch floor."""
    from advisor.hardware.specs import gpu_spec_named
    from advisor.predictor.fit import fit_step_time

    if device not in ctx.fits:
        dev = profile.device(device)
        usable = [m for m in dev.measurements if not m.oom and (m.compute_seconds or m.compute_seconds_samples)] \
            if dev is not None else []
        if usable:
            from advisor.predictor.cpu_scaling import at_device_threads

            usable = at_device_threads(dev, usable).measurements
        fit = fit_step_time(usable) if usable else None
        if (fit is not None and dev.kind == "gpu" and profile.analysis is not None
                and (spec := gpu_spec_named(dev.spec_name or "", ctx.gpu_specs)) is not None and _scalable(dev, spec)):
            from advisor.predictor import roofline
            from advisor.predictor.probe_carry import GPU_PRIOR_LOG_SD, fit_carry

            model = roofline.StepModel(profile.analysis, spec, dev.precision, ctx.calibration)
            carry = ctx.memo[("probe carry", device)] = fit_carry(fit.levels, model, ctx.calibration)
            top = model(fit.max_batch)
            # A ladder that never left the launch floor did not measure the GPU's work: beyond it, that work is
            # the analysis', as uncertain as the prior on its factor.
            fit = fit.with_shape_outside(lambda b: carry.seconds(model(b)),
                                         f"the analysis' batch curve on {spec.name} from the nearest measured size",
                                         beyond_rel_sigma=GPU_PRIOR_LOG_SD if top.host_seconds >= top.gpu_seconds
                                         else 0.0)
        ctx.fits[device] = fit
    return ctx.fits[device]


def probe_carry(profile: Profile, device: str, ctx: EstimateContext) -> ProbeCarry | None:
    """How the probe of GPU ``device`` carries to other GPUs and batches (None: no analysis or no spec)."""
    device_fit(profile, device, ctx)
    return ctx.memo.get(("probe carry", device))


def carrying_probe(profile: Profile, precision: str, specs: dict[str, GpuSpec]) -> DeviceProfile | None:
    """The GPU probe a job at ``precision`` is carried from: one at that precision, else at its 16-bit sibling."""
    found = any_probed_gpu(profile, precision, specs)
    if found is None and precision in _HALF_SIBLING:
        found = any_probed_gpu(profile, _HALF_SIBLING[precision], specs)
    return found


def beyond_launch_bound_note(profile: Profile, dev: DeviceProfile, batch: int, ctx: EstimateContext) -> str | None:
    """A note when ``batch`` is beyond the GPU probe's ladder and the ladder's largest batch was still launch-bound
    (the analysis' host time at or over its GPU time there): the GPU's own work beyond it was never measured, and
    from such a ladder the extrapolation was 24-30% low in two of three leave-out checks (bench/README.md, "Every
    GPU on a probed GPU's curve")."""
    fit = device_fit(profile, dev.device, ctx)
    if fit is None or batch <= fit.max_batch or not fit.beyond_rel_sigma:  # the width a launch-bound top adds
        return None
    return (f"the probe's largest batch on {dev.device} ({fit.max_batch}) was still launch-bound (the host's kernel "
            f"launches set its pace): the GPU's own work at batch {batch} is the analysis', not measured. For a "
            f"measured figure, profile up to it (advisor profile FILE --batch-size {batch}).")


def carried_outside_notes(profile: Profile, dev: DeviceProfile, batch: int, ctx: EstimateContext,
                          own: bool | None = False) -> list[str]:
    """A note for another GPU carried from ``dev``'s probe at a per-GPU ``batch`` outside the batch sizes it timed:
    its step is extrapolated along the probe's curve and its interval widened for that (``extrapolation_rel_sigma``),
    as the probed GPU's own estimate says (``measured``; ``own``: that estimate, which needs none), which a scaled
    GPU and the ``--gpus`` rows did not."""
    fit = device_fit(profile, dev.device, ctx)
    if own or fit is None or fit.in_range(batch):
        return []
    return [f"batch size {batch} per GPU {OUTSIDE_MEASURED_RANGE} {fit.min_batch}-{fit.max_batch} of the probe on "
            f"{dev.device}: carried along its curve, extrapolated, with a wider interval."]
