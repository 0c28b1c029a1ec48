"""A target made from an offer whose instance family bridges its GPUs with NVLink (``offer_target``: Azure's
Standard_NC80adis_H100_v5, two H100 NVL over a 300 GB/s bridge) carries ``nvlink_gbs``, which its
``json_contract`` sends: the service's ``TargetSpec`` refused the field ("Extra inputs are not permitted"), so
``advisor.Client.predict`` of such a target failed before sending. It is now taken (positive, finite, GPUs only)
and priced as the local API prices it."""

from __future__ import annotations

import pytest
from service_helpers import PROFILE_FILE, auth

import advisor
from advisor.predictor.targets import offer_target
from advisor.pricing.catalog import load_catalog

JOB = {"dataset_size": 2_000_000, "epochs": 2, "batch_size": 512}
BRIDGED = "H100-NVL GPUs over NVLink at 300 GB/s per direction"


def _bridged_target() -> advisor.Target:
    offer = next(o for o in load_catalog().offers if o.instance_type == "Standard_NC80adis_H100_v5")
    return offer_target(offer)


def test_a_target_with_an_instance_familys_nvlink_is_predicted_by_the_server_as_locally(client):
    target = _bridged_target()
    assert target.nvlink_gbs == 300 and target.json_contract()["nvlink_gbs"] == 300
    remote = client.predict(PROFILE_FILE, **JOB, target=target, save=False, use_history=False)
    local = advisor.predict(PROFILE_FILE, **JOB, target=target, use_history=False)
    assert remote.seconds == pytest.approx(local.seconds) and remote.notes == local.notes
    assert any(n.startswith(BRIDGED) for n in remote.notes)
    # The card's own link (PCIe) is priced without it: the field changed the answer, it was not dropped.
    plain = advisor.predict(PROFILE_FILE, **JOB, target=advisor.Target.gpu("H100-NVL", 2), use_history=False)
    assert not any(n.startswith(BRIDGED) for n in plain.notes)


@pytest.mark.parametrize(("target", "words"), [
    ({"kind": "gpu", "gpu": "H100-NVL", "count": 2, "nvlink_gbs": 0}, "greater than 0"),
    ({"kind": "gpu", "gpu": "H100-NVL", "count": 2, "nvlink_gbs": -300}, "greater than 0"),
    ({"kind": "gpu", "gpu": "H100-NVL", "count": 2, "nvlink_gbs": True}, "not true or false"),
    ({"kind": "cpu", "nvlink_gbs": 300}, "the NVLink joining GPUs"),
])
def test_a_bad_nvlink_gbs_is_a_422_naming_it(app_client, profile, target, words):
    response = app_client.post("/v1/predictions", headers=auth(),
                               json={"profile": profile, **JOB, "target": target, "save": False})
    assert response.status_code == 422, response.text
    field = response.json()["error"]["fields"][0]
    assert field["field"] == "target.nvlink_gbs" and words in field["problem"]


def test_a_nan_nvlink_gbs_is_refused_by_the_client_before_sending(client):
    target = _bridged_target().model_copy(update={"nvlink_gbs": float("nan")})
    with pytest.raises(advisor.ConfigError, match="target.nvlink_gbs"):
        client.predict(PROFILE_FILE, **JOB, target=target, save=False, use_history=False)
