"""A request field takes its JSON type alone: pydantic's lax mode read "no" or 0 as false (a spot ranking, a save),
true as 1 (a top, a thread count, a deadline of 1 s) and "12" as 12, so a raw HTTP client's wrong type changed the
answer, or was taken where the local API and ``advisor.Client`` refuse it. Each is a 422 naming the field and what
it takes; a whole number where a float is expected, and 12.0 for a count, stay accepted, as the local API takes them.
"""

from __future__ import annotations

import pytest
from service_helpers import auth

JOB = {"dataset_size": 2000, "epochs": 1}
SWITCH = "Input should be true or false (a JSON boolean)"
WHOLE_TEXT = 'Input should be a whole number, not text (send 12, not "12")'
WHOLE_BOOL = "Input should be a whole number, not true or false"
NUMBER_BOOL = "Input should be a number, not true or false"
GPU = {"kind": "gpu", "gpu": "A100-80GB"}


@pytest.mark.parametrize(("route", "fields", "field", "problem"), [
    ("/v1/recommendations", {"spot": "no"}, "spot", SWITCH),
    ("/v1/recommendations", {"spot": 1}, "spot", SWITCH),
    ("/v1/recommendations", {"save": "false"}, "save", SWITCH),
    ("/v1/recommendations", {"save": 0}, "save", SWITCH),
    ("/v1/recommendations", {"save": None}, "save", SWITCH),
    ("/v1/recommendations", {"top": True}, "top", WHOLE_BOOL),
    ("/v1/recommendations", {"top": "5"}, "top", WHOLE_TEXT),
    ("/v1/recommendations", {"dataset_size": "2000"}, "dataset_size", WHOLE_TEXT),
    ("/v1/recommendations", {"deadline": True}, "deadline", NUMBER_BOOL),
    ("/v1/recommendations", {"budget": False}, "budget", NUMBER_BOOL),
    ("/v1/recommendations", {"startup_seconds_cpu": True}, "startup_seconds_cpu", NUMBER_BOOL),
    ("/v1/recommendations", {"compile": "yes"}, "compile", SWITCH),
    ("/v1/predictions", {"use_history": "no"}, "use_history", SWITCH),
    ("/v1/predictions", {"save": "1"}, "save", SWITCH),
    ("/v1/predictions", {"vcpus": True, "target": GPU}, "vcpus", WHOLE_BOOL),
    ("/v1/recommendations", {"epochs": 1e300}, "epochs", "Input should be less than or equal to 1000000000000"),
    ("/v1/predictions", {"target": {"kind": "cpu", "threads": True}}, "target.threads", WHOLE_BOOL),
    ("/v1/predictions", {"target": {**GPU, "count": "2"}}, "target.count", WHOLE_TEXT),
    ("/v1/predictions", {"target": {**GPU, "peer_to_peer": "no"}}, "target.peer_to_peer", SWITCH),
    ("/v1/recommendations/1/outcome", {"actual_seconds": 3600, "force": "yes"}, "force", SWITCH),
    ("/v1/recommendations/1/outcome", {"actual_seconds": True}, "actual_seconds", NUMBER_BOOL),
    ("/v1/recommendations/1/outcome", {"actual_seconds": "3600"}, "actual_seconds",
     'Input should be a number of seconds, not text (send 5400, not "1h30" or "5400")'),
])
def test_a_wrong_json_type_is_422_naming_the_field(app_client, profile, route, fields, field, problem):
    body = fields if route.endswith("/outcome") else {"profile": profile, **JOB, **fields}
    response = app_client.post(route, json=body, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["fields"][0] == {"field": field, "problem": problem}
    assert error["message"].startswith(f"Invalid request: {field}: {problem}")


def test_numbers_of_the_other_json_kind_stay_accepted(app_client, profile):
    rec = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": profile, "dataset_size": 2000.0, "epochs": 1, "budget": 50, "deadline": 86400, "top": 3.0,
        "spot": True, "save": False})
    assert rec.status_code == 200, rec.text
    data = rec.json()
    assert data["constraints"]["budget_usd"] == 50.0 and data["constraints"]["spot"] is True
    assert data["dataset_size"] == 2000 and len(data["candidates"]) == 3
    est = app_client.post("/v1/predictions", headers=auth(), json={
        "profile": profile, **JOB, "target": {**GPU, "count": 2.0}, "vcpus": 8, "save": False})
    assert est.status_code == 200, est.text
    assert est.json()["target"] == {"kind": "gpu", "gpu": "A100-80GB", "count": 2}
