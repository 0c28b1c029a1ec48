"""Probes: real training steps of a workload on each requested device, run in a child process.

``run_profile(source, devices=[...], batch_size=B)`` returns a ``schemas.Profile``: per device, timed steps
at a ladder of batch sizes (median, spread, batch-creation time apart from compute, peak memory, GPU
utilisation and power through NVML, the out-of-memory limit), plus the parameter count and the shape-level
analysis. ``save_profile`` / ``load_profile`` keep it as JSON. ``ProbeRequest`` is the checked set of settings
(``advisor.probe.request``); ``Progress`` the type of the progress callback. Importing this package does not
import torch.
"""

from __future__ import annotations

from advisor.probe.request import ProbeRequest
from advisor.probe.runner import Progress, run_profile
from advisor.probe.storage import load_profile, save_profile

__all__ = ["ProbeRequest", "Progress", "load_profile", "run_profile", "save_profile"]
