"""An exact memory fit is a fit: float rounding put 0.3 GiB of context plus 1.1 x (4 + 30 x 0.1) GiB at
8.000000000000002 GiB against 8 GiB, and the fit read "Needs 8.000 GiB at batch 30 per device, 8.000 GiB
available; the largest batch per device that fits is 29"."""

from __future__ import annotations

from advisor.predictor.memory import GIB, memory_fit
from advisor.schemas.base import within_capacity


def exact(batch: int):
    return memory_fit(param_bytes=4 * GIB, gradient_bytes=0, optimizer_state_bytes=0,
                      activation_bytes_per_sample=0.1 * GIB, per_device_batch=batch, device_memory_gib=8,
                      workspace_fraction=0.1, cuda_context_gib=0.3)


def test_a_peak_equal_to_the_capacity_but_for_float_rounding_fits():
    fit = exact(30)
    assert fit.peak_memory_gib > 8.0  # the rounding the test is about: 8.000000000000002
    assert fit.fits_memory is True
    assert fit.max_batch_per_device == 30
    assert not any(n.startswith("Needs ") for n in fit.notes)


def test_one_sample_more_still_does_not_fit():
    fit = exact(31)  # 8.11 GiB
    assert fit.fits_memory is False
    assert fit.max_batch_per_device == 30
    assert "Needs 8.1 GiB at batch 31 per device, 8.0 GiB available; the largest batch per device that fits " \
           "is 30." in fit.notes


def test_the_tolerance_is_a_billionth_not_more():
    assert within_capacity(8.000000000000002, 8.0)
    assert not within_capacity(8.0 * (1 + 1e-8), 8.0)
