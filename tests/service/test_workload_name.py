"""A workload's name through the service: the client profiles here and sends the ``Profile``, whose workload carries
the name (``name=``, ``--name``), so the server's history keys the runs by it as a local one would."""

from __future__ import annotations

import pytest
from service_helpers import PROFILE_FILE, auth, profile_data

from advisor.errors import WorkloadError

JOB = {"dataset_size": 200_000, "epochs": 1, "batch_size": 512}


def test_the_name_is_what_the_servers_history_stores(client):
    rec = client.recommend(PROFILE_FILE, **JOB, name="team_model")
    assert rec.workload.name == "team_model" and rec.id is not None
    est = client.predict(PROFILE_FILE, **JOB, target="cpu", name="team_model_cpu")
    assert est.history_id is not None
    assert [e.workload for e in client.list(workload="team_model")] == ["team_model"]
    assert [p.workload for p in client.list_predictions(workload="team_model_cpu")] == ["team_model_cpu"]


def test_a_bad_name_is_refused_before_anything_is_sent(client):
    with pytest.raises(WorkloadError, match="a workload's name must not hold a control character"):
        client.recommend(PROFILE_FILE, **JOB, name="a\x1b[2Jb")
    assert client.list() == []


@pytest.mark.parametrize("name", ["a\nb", "a\x1b[2Jb", "a\tb", "   "])  # a NUL: any field's 422 (strict_fields)
def test_a_profile_sent_with_a_name_that_is_no_name_is_refused_and_nothing_is_stored(app_client, name):
    # A raw request (or a saved profile edited) carried the name past the client's checks: the server stored a
    # newline and an escape in the workload's name, which every list of the history then showed.
    profile = profile_data()
    profile["workload"]["name"] = name
    response = app_client.post("/v1/recommendations", headers=auth(),
                               json={"profile": profile, "dataset_size": 20_000, "epochs": 2})
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["type"] == "WorkloadError"
    assert error["message"].startswith("the profile: workload.name: a workload's name must not")
    assert error["hint"].startswith("Fix: give a short name")
    assert app_client.get("/v1/history", headers=auth()).json()["entries"] == []
