"""``schemas.updated``: the fast copy a ranking makes of its candidates and a kept model of its estimates."""

from __future__ import annotations

import pytest
from pydantic import PrivateAttr

from advisor.schemas import Candidate, Model, updated


def _candidate() -> Candidate:
    return Candidate(provider="aws", instance_type="g5.xlarge", region="us-east-1", tier="single_gpu", gpu="A10G",
                     gpu_count=1, vcpus=4, seconds=100.0, low=80.0, high=130.0, cost_usd=0.03, spot_cost_usd=None,
                     fits_memory=True, method="scaled", reason="", price_usd_per_hour=1.006,
                     spot_price_usd_per_hour=None, billed_seconds=160.0, startup_seconds=60.0, precision="fp32")


def test_updated_is_model_copy_with_the_update():
    first = _candidate()
    fields = {"instance_type": "g5.2xlarge", "vcpus": 8, "seconds": 90.0, "reason": "cheapest", "gpu": None}
    copied, expected = updated(first, fields), first.model_copy(update=fields)
    assert type(copied) is Candidate and copied == expected
    assert copied.model_dump_json() == expected.model_dump_json()
    assert copied.model_fields_set == expected.model_fields_set
    assert copied.total_seconds == 150.0
    # the original is untouched, and setting a field on the copy leaves it so
    copied.reason = "changed"
    assert first.instance_type == "g5.xlarge" and first.vcpus == 4 and first.reason == ""


class _WithPrivate(Model):
    value: int = 0
    _seen: list = PrivateAttr(default_factory=list)


def test_updated_falls_back_to_model_copy_for_a_model_with_private_attributes():
    first = _WithPrivate(value=1)
    first._seen.append("x")
    copied = updated(first, {"value": 2})
    assert copied.value == 2 and copied._seen == ["x"] and first.value == 1


def test_a_device_memory_size_cannot_be_negative_but_a_measured_growth_can():
    from pydantic import ValidationError

    from advisor.schemas import CpuInfo, GpuInfo, Measurement

    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        GpuInfo(index=0, name="x", memory_gib=-1)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CpuInfo(model_name="x", arch="x86_64", physical_cores=1, logical_cores=1, torch_threads=1, memory_gib=-8)
    # a CPU step's RSS growth may be negative (memory handed back during the step)
    assert Measurement(device="cpu", batch_size=8, peak_memory_gib=-0.01).peak_memory_gib == -0.01
