"""The notes that tell a user how far to trust a GPU time from the datasheet: ``kind_bias_note``.

The validation rows' known lean for a kind of job on a kind of GPU (bench/README.md, "GPU accuracy"), and the
threshold below which neither it nor the host's launch-cost spread (``roofline.host_sigma``) is worth a word.
"""

from __future__ import annotations

import math

from advisor.predictor.calibration import TENSOR_HEAVY_RATIO, Calibration, split_architecture
from advisor.schemas import HALF_PRECISIONS, Analysis, GpuSpec

__all__ = ["HOST_NOTE_SIGMA", "KIND_BIAS_NOTE_LOG", "host_launch_note", "kind_bias_note", "unseen_arch_note"]

# Below this |median log error| a kind of job's validation bias is within the interval's noise: no note. The same
# for the host's launch cost (``roofline.host_sigma``): below it, neither a note nor a wider interval.
KIND_BIAS_NOTE_LOG = HOST_NOTE_SIGMA = 0.10


def host_launch_note(spread: float) -> str:
    """The note for a from-specs GPU step that is mostly the host's kernel launches, ``spread`` the log half-width
    their cost adds (``roofline.host_sigma``). It says what the judge measured rather than claiming the interval
    covers the launch cost: on the CS336 students' host-bound rows (bench/README.md, "CS336 students' tables";
    judged, never fitted) the centre ran +68-71% long and the widened 80% intervals held 65-75 of 132 rows,
    in-sample for the spread. Nothing is refitted on them (the launch constant's refit needs cloud hosts' figures)."""
    return (f"much of this step is the host's kernel launches, whose cost varies by machine (10-54 us each, "
            f"measured): the interval is widened for it (x{math.exp(spread):.1f} either way alone), but on "
            f"published host-bound rows such estimates ran about 1.7x long and this kind of interval held only "
            f"about half of them (README, \"How the time is predicted\"): on a host that launches faster "
            f"than the calibrated 40 us, expect less time than predicted.")


def kind_bias_note(cal: Calibration, analysis: Analysis | None, spec: GpuSpec,
                   precision: str | None = None) -> list[str]:
    """The validation rows' median error for this kind of job at ``precision`` on this kind of GPU, when large:
    the predictor's known lean (bench/README.md, "GPU accuracy"); the architecture's own where it has one."""
    unseen = unseen_arch_note(cal, analysis, spec, precision)
    found = cal.kind_bias(analysis, spec, precision)
    if found is None or abs(found[1]) < KIND_BIAS_NOTE_LOG:
        return unseen
    kind, bias = found
    split, arch = split_architecture(kind)  # an architecture's own figure: that architecture's rows alone
    parts = split.split("/")
    what = {"conv": "convolution-heavy", "matmul": "matmul-heavy"}[parts[0]] + " jobs"
    if parts[-1].endswith("-bit"):  # the calibration's figure for this precision class (calibration._per_kind)
        what += f" in {parts[-1]} precision"
    ratio = f"16-bit tensor rate {'>=' if 'tensor-heavy' in parts else '<'} {TENSOR_HEAVY_RATIO:g}x FP32"
    where = f"{arch} GPUs like the {spec.name}" if arch else f"GPUs like the {spec.name} ({ratio})"
    # bias is log(predicted / measured throughput), so a job's real time is exp(bias) x the predicted one.
    way = "longer" if bias > 0 else "less time"
    return [*unseen, f"{what} on {where} took a median {100 * abs(math.expm1(bias)):.0f}% {way} than this "
            f"model predicts, on validation rows it was not fitted on; the interval is this kind's "
            f"(README, \"How the time is predicted\"). A probe of this GPU gives a measured time."]


# What published rows say of an architecture the calibration has none of, at 16 bits (judged, never fitted): the
# way its estimates lean, for the note. Blackwell-GB100: HPC-AI's batched square GEMM grid ran 1,420 TFLOP/s on a
# B200 against 801 priced (H200: 652 against 651), and NVIDIA's Megatron-Bridge tables put dense Llama 3 8B at
# 2.1x an H100 per GPU where the model's large bf16 GEMM gives 1.39x (bench/README.md, "Blackwell: published rows").
PUBLISHED_16BIT_LEAN = {
    "Blackwell-GB100": "a published B200 GEMM grid ran about 1.8x the TFLOP/s this model prices (README, "
                       "\"How the time is predicted\"), so large 16-bit matrix work here likely takes less time "
                       "than predicted",
}


def unseen_arch_note(cal: Calibration, analysis: Analysis | None, spec: GpuSpec,
                     precision: str | None = None) -> list[str]:
    """Where the calibration has no rows of ``spec``'s architecture (``Calibration.has_rows``): that no row
    judged this GPU, and the interval it gets instead (``Calibration.unseen_arch_sigma``)."""
    if cal.has_rows(spec):
        return []
    wide = cal.sigma(analysis, spec, precision=precision)
    return [f"no published or measured rows of {spec.architecture} GPUs in the calibration: the {spec.name}'s "
            f"time is its datasheet priced with constants fitted on other architectures, never checked on one "
            f"of its own, so its interval is widened (x/\u00f7 {math.exp(wide):.2f} from the datasheet; README, "
            f"\"How the time is predicted\")"
            + (f"; {lean}" if (lean := PUBLISHED_16BIT_LEAN.get(spec.architecture or "")) and precision
               in HALF_PRECISIONS else "")
            + ". A probe of this GPU gives a measured time."]
