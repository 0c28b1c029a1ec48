"""ProbeRequest: the probe's settings, checked once; a bad value is one AdvisorError, never a pydantic traceback."""

from __future__ import annotations

import math

import pytest

from advisor.errors import AdvisorError, ConfigError, HardwareError, WorkloadError
from advisor.probe import ProbeRequest


@pytest.mark.parametrize("values, error, words", [
    ({"batch_size": 0}, WorkloadError, "batch size must be a positive whole number, got 0"),
    ({"batch_size": True}, WorkloadError, "got True"),
    ({"batch_size": 8.0}, WorkloadError, "got 8.0"),
    ({"batch_sizes": []}, ConfigError, "--batch-sizes must be positive whole numbers"),
    ({"batch_sizes": [8, -1]}, ConfigError, "got [8, -1]"),
    ({"probe_seconds": 0}, ConfigError, "--probe-seconds must be a positive number, got 0"),
    ({"probe_seconds": -1.5}, ConfigError, "got -1.5"),
    ({"probe_seconds": math.nan}, ConfigError, "got nan"),
    ({"probe_seconds": math.inf}, ConfigError, "got inf"),
    ({"probe_seconds": "60"}, ConfigError, "got '60'"),
    ({"precision": "fp8"}, ConfigError, "Unknown precision 'fp8'. Did you mean"),
    ({"threads": 0}, ConfigError, "--threads must be a positive whole number"),
    ({"devices": ["cpu", "tpu"]}, HardwareError, "unknown device 'tpu'"),
    ({"timeout_seconds": math.inf}, ConfigError, "the probe timeout must be a positive number"),
])
def test_a_bad_value_is_one_advisor_error_with_a_fix(values, error, words):
    with pytest.raises(AdvisorError) as info:
        ProbeRequest.build(**{"batch_size": 8, **values})
    assert type(info.value) is error
    assert words in info.value.message
    assert info.value.hint.startswith("Fix:")
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pydantic traceback under it


def test_devices_are_normalised_once_each():
    request = ProbeRequest.build(batch_size=8, devices=[" CPU", "cuda", "cuda:0", "cuda:1"])
    assert request.devices == ["cpu", "cuda:0", "cuda:1"]
    assert ProbeRequest.build(batch_size=8).devices == ["cpu"]


def test_the_timeout_defaults_to_three_budgets_and_a_minute():
    assert ProbeRequest.build(batch_size=8, probe_seconds=10).timeout == 90
    assert ProbeRequest.build(batch_size=8, timeout_seconds=5).timeout == 5


def test_the_request_is_frozen_and_crosses_as_json():
    request = ProbeRequest.build(batch_size=8, batch_sizes=[2, 8], precision="bf16", threads=1,
                                 workload_path="model.py")
    with pytest.raises(ValueError):
        request.batch_size = 0  # type: ignore[misc]
    assert ProbeRequest.model_validate_json(request.model_dump_json()) == request


@pytest.mark.parametrize("values, subject, flag", [
    ({"batch_size": 10**13}, "batch size 10000000000000 (--batch-size)", "--batch-size"),
    ({"batch_sizes": [8, 10**14]}, "batch size 100000000000000 (--batch-sizes)", "--batch-sizes"),
])
def test_a_batch_size_past_the_jobs_bound_is_refused_as_the_flags_are(values, subject, flag):
    # The probe had no upper bound: --batch-sizes 8,10**14 reached the child, whose schema refused it there.
    with pytest.raises(WorkloadError) as info:
        ProbeRequest.build(**{"batch_size": 8, **values})
    assert info.value.message == f"{subject} is more than 10^12, beyond any real job."
    assert info.value.hint == f"Fix: pass {flag} with the real figure (at most 1,000,000,000,000)."
    assert ProbeRequest.build(batch_size=10**12, batch_sizes=[8, 10**12]).batch_size == 10**12  # the bound is taken


def test_more_threads_than_this_machine_has_are_refused(monkeypatch):
    # libgomp could not start them, and the profile recorded 100000 threads it never used.
    monkeypatch.setattr("advisor.hardware.cpu.usable_logical_cpus", lambda: 4)
    with pytest.raises(ConfigError) as info:
        ProbeRequest.build(batch_size=8, threads=100_000)
    assert info.value.message == ("--threads 100000 is more than this machine's 4 logical CPUs: the probe times the "
                                  "model here.")
    assert info.value.hint.startswith("Fix: pass --threads 4 or fewer; to predict a CPU with more threads, use "
                                      "advisor predict --device cpu --threads 100000")
    assert ProbeRequest.build(batch_size=8, threads=4).threads == 4
