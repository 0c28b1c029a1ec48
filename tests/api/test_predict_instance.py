"""``advisor.predict(..., instance_type=TYPE)``: the catalog machine as recommend prices it, as the CLI's
``--instance``; the other ways of naming a target clash with it."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor.errors import ConfigError

LLAMA = Path(__file__).resolve().parent / "data" / "llama7b_analysis_profile.json"
JOB = {"dataset_size": 5108, "batch_size": 2, "epochs": 1}


def test_instance_is_priced_on_its_nvlink():
    est = advisor.predict(LLAMA, **JOB, instance_type="Standard_NC80adis_H100_v5")
    assert est.target.nvlink_gbs == 300.0
    assert est.host_vcpus == 80
    assert est.seconds == pytest.approx(912.0, abs=1.0)
    plain = advisor.predict(LLAMA, **JOB, target=advisor.Target.gpu("H100-NVL", 2), vcpus=80)
    assert plain.seconds > 2 * est.seconds


@pytest.mark.parametrize("kwargs, named", [({"target": "H100"}, "target="), ({"vcpus": 8}, "vcpus="),
                                           ({"device": "cpu"}, "device=")])
def test_a_target_beside_the_instance_is_refused(kwargs, named):
    with pytest.raises(ConfigError, match=f"it is not taken with {named}"):
        advisor.predict(LLAMA, **JOB, instance_type="g5.24xlarge", **kwargs)


def test_an_instance_at_another_provider_is_told_which_provider_prices_it():
    # provider="gcp" for aws's g5.24xlarge was told to add a rates row for it (a name the catalog has), and a
    # provider's name after a flag was left out of the Python words ("provider= aws").
    with pytest.raises(ConfigError) as caught:
        advisor.predict(LLAMA, **JOB, instance_type="g5.24xlarge", provider="gcp")
    assert caught.value.message == ("Unknown instance type 'g5.24xlarge' at gcp (aws prices it): the price catalog "
                                    "has no such instance there.")
    assert caught.value.hint == 'Fix: provider="aws", which prices g5.24xlarge (or leave provider= out).'
    assert caught.value.cli_hint == "Fix: --provider aws, which prices g5.24xlarge (or leave --provider out)."
