"""A profile's workload name, path and optimizer are as long as the history keeps them (200, 4,096 and 200
characters): a 4 MB name was stored whole in the answer while the list and the workloads row kept 200, so one
name differed between two views and two names sharing 200 characters merged. A longer one is a 422 naming it;
a workload file whose name is longer is refused before it is probed."""

from __future__ import annotations

import pytest
from service_helpers import auth, profile_data

from advisor.errors import WorkloadError
from advisor.workload.loader import Workload, check_path


@pytest.mark.parametrize(("field", "chars"), [("name", 201), ("path", 4097), ("optimizer", 201)])
def test_an_overlong_workload_text_is_422_naming_it(app_client, field, chars):
    profile = profile_data()
    profile["workload"][field] = "N" * chars
    response = app_client.post("/v1/recommendations", headers=auth(),
                               json={"profile": profile, "dataset_size": 20_000, "epochs": 2})
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["fields"][0]["field"] == f"profile.workload.{field}"
    assert f"at most {chars - 1} characters" in error["fields"][0]["problem"]
    assert len(response.content) < 10_000  # the text is not echoed whole


def test_a_name_of_the_longest_length_is_stored_as_sent(app_client):
    profile = profile_data()
    profile["workload"]["name"] = "N" * 200
    created = app_client.post("/v1/recommendations", headers=auth(),
                              json={"profile": profile, "dataset_size": 20_000, "epochs": 2})
    assert created.status_code == 201, created.text[:300]
    listed = app_client.get("/v1/history", headers=auth()).json()["entries"]
    assert created.json()["workload"]["name"] == listed[0]["workload"] == "N" * 200


def test_a_workload_file_with_a_longer_name_is_refused_before_its_probe(tmp_path):
    path = tmp_path / ("m" * 201 + ".py")
    path.write_text("raise SystemExit('never run')\n")
    with pytest.raises(WorkloadError) as caught:
        check_path(path)
    assert "at most 200 characters before .py" in caught.value.message and "201" in caught.value.message
    assert caught.value.hint == "Fix: rename the file to a shorter name."


def test_a_workload_named_longer_is_refused():
    with pytest.raises(WorkloadError, match="at most 200 characters"):
        Workload(model=object(), make_batch=lambda n: None, name="w" * 201)
