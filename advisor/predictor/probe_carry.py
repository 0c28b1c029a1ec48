"""How a GPU probe's measured steps carry to other GPUs and to batch sizes it did not time.

The roofline prices a step as the GPU's work and the host's kernel launches, overlapped
(``roofline.overlapped``). A probe's steps differ from that price for two unrelated reasons:

* the GPU's kernels ran faster or slower than priced: the workload's own error, which every GPU shares
  (Habitat's premise), a factor on the GPU part;
* this host launched kernels faster or slower than the calibrated cost per launch (10-54 us measured across
  hosts), a factor on the host part.

Both factors are fitted on the probe's ladder (least squares in log time, each with a weak log-normal prior at 1:
a ladder that never left the launch-bound floor says little of the GPU part, which then stays near the
roofline's). What the two factors leave of the ladder's largest step (usually the job's own batch) is kept as one
residual on every carried step, so that at that batch another GPU is exactly the measured step times the two
GPUs' corrected ratio.

One factor on the whole step, taken batch by batch, carried the host's error, and the probe's noise at a
launch-bound batch, to GPUs where the GPU sets the pace: from an H200 whose batch-6 step was 0.78x its price, an
RTX 3060 came out at 75% MFU at batch 6, its cost per sample lowest there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from advisor.predictor.calibration import Calibration
from advisor.predictor.roofline import StepPrediction, overlapped

# Log-normal priors on the factors (log sd), against the ladder's residuals (log sd): a factor moves from 1 only as
# far as several batch sizes ask it to. The host's is wider: launch costs measured 10-54 us against the 40 priced.
GPU_PRIOR_LOG_SD = 0.3
HOST_PRIOR_LOG_SD = 0.6
RESIDUAL_LOG_SD = 0.05
# The factors searched, coarse then fine, within physical bounds: a workload's kernels at more than twice the
# calibrated efficiency would put steps past the GPU's peak (a ladder whose larger batches ran faster, warm-up in
# it, asked for x0.34 and an H200 at 134% MFU); launch costs measured 10-54 us a kernel against the 40 priced.
GPU_FACTOR_BOUNDS = (0.5, 5.0)
HOST_FACTOR_BOUNDS = (0.2, 3.0)
_LOG_SPAN, _COARSE, _FINE = 3.0, 0.05, 0.002


@dataclass(frozen=True)
class ProbeCarry:
    """A probed GPU's two factors (its GPU work and its host's launches, against the roofline's price) and the
    residual at its ladder's largest batch."""

    gpu_factor: float
    host_factor: float
    residual: float
    exponent: float
    step_overhead_seconds: float

    def seconds(self, step: StepPrediction) -> float:
        """``step`` (the roofline's, on any GPU) as this probe's workload and host run it."""
        return self.residual * self.unscaled(step)

    def unscaled(self, step: StepPrediction) -> float:
        return overlapped(self.gpu_factor * step.gpu_seconds, self.host_factor * step.host_seconds,
                          self.exponent) + self.step_overhead_seconds


def fit_carry(levels: dict[int, float], model: Callable[[int], StepPrediction], cal: Calibration) -> ProbeCarry:
    """The factors that fit the measured ``levels`` (seconds by batch size) to ``model`` (the roofline on the probed
    GPU, eager, at the probe's precision), and the residual at the largest measured batch."""
    points = [(math.log(level), model(b)) for b, level in sorted(levels.items()) if level > 0]
    if not points:
        raise ValueError("no measured level to fit")

    def carry(log_gpu: float, log_host: float, residual: float = 1.0) -> ProbeCarry:
        return ProbeCarry(math.exp(log_gpu), math.exp(log_host), residual, cal.host_overlap_exponent,
                          cal.step_overhead_seconds)

    import numpy as np  # only where a GPU was probed

    y = np.array([p[0] for p in points])
    gpu = np.array([p[1].gpu_seconds for p in points])
    host = np.array([p[1].host_seconds for p in points])
    k = cal.host_overlap_exponent

    def losses(log_gpu: np.ndarray, log_host: np.ndarray) -> np.ndarray:
        # ``overlapped`` over the grid (axis 0, 1) and the ladder (axis 2) at once
        a = np.exp(log_gpu)[:, None, None] * gpu
        b = np.exp(log_host)[None, :, None] * host
        hi, lo = np.maximum(a, b), np.minimum(a, b)
        ratio = np.divide(lo, hi, out=np.zeros_like(hi), where=hi > 0)
        step = hi * (1.0 + ratio ** k) ** (1.0 / k) + cal.step_overhead_seconds
        misfit = ((y - np.log(step)) ** 2).sum(axis=2) / RESIDUAL_LOG_SD ** 2
        return misfit + (log_gpu[:, None] / GPU_PRIOR_LOG_SD) ** 2 + (log_host[None, :] / HOST_PRIOR_LOG_SD) ** 2

    best = (0.0, 0.0)
    for step_size, span in ((_COARSE, _LOG_SPAN), (_FINE, 2 * _COARSE)):
        offsets = np.arange(-round(span / step_size), round(span / step_size) + 1) * step_size
        grid_g = np.clip(best[0] + offsets, *np.log(GPU_FACTOR_BOUNDS))
        grid_h = np.clip(best[1] + offsets, *np.log(HOST_FACTOR_BOUNDS))
        i, j = np.unravel_index(int(np.argmin(losses(grid_g, grid_h))), (grid_g.size, grid_h.size))
        best = (float(grid_g[i]), float(grid_h[j]))
    top_level, top_step = points[-1]
    return carry(*best, residual=math.exp(top_level) / carry(*best).unscaled(top_step))
