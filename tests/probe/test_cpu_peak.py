"""This machine's CPU op rates (advisor.probe.cpu_peak): real, and a fraction of a second."""

from __future__ import annotations

import time

import torch

from advisor.probe.cpu_peak import measure_cpu_peak
from advisor.schemas import DeviceProfile


def test_the_op_mix_records_plausible_rates_in_under_a_second():
    threads = torch.get_num_threads()
    started = time.perf_counter()
    peak = measure_cpu_peak(torch)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0 and 0 < peak.seconds <= elapsed
    assert peak.threads == 1
    # One core of any CPU this runs on: between a slow laptop core and an AVX-512 server core, with room.
    assert 1e9 < peak.matmul_flops_per_second < 1e13
    assert 1e9 < peak.memory_bytes_per_second < 1e13
    assert torch.get_num_threads() == threads  # restored
    # It travels in the device profile (the child sends it to the parent as JSON).
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", cpu_peak=peak)
    assert DeviceProfile.model_validate_json(dev.model_dump_json()).cpu_peak == peak
