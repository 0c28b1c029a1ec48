"""A workload's name through the service: the client profiles here and sends the ``Profile``, whose workload carries
the name (``name=``, ``--name``), so the server's history keys the runs by it as a local one would."""

from __future__ import annotations

import pytest
from service_helpers import PROFILE_FILE

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
