"""The predictions a server saved (``POST /v1/predictions`` with ``save``) are listed back: ``GET /v1/predictions``
(the local ``history list``'s query, a 503 when the database is down), ``advisor.Client.list_predictions`` and
``advisor history list --server``, as the local ``advisor history list`` lists its own."""

from __future__ import annotations

import json

import httpx
import pytest
from service_helpers import PROFILE_FILE, TOKEN, auth, free_port, in_process_app, profile_data, unsent

import advisor
from advisor.errors import ConfigError
from advisor.history.outcomes import list_predictions
from advisor.history.repository import History
from advisor.service.client import Client, ServiceError

GPU_JOB = {"dataset_size": 50000, "epochs": 2, "batch_size": 512}
GPU_TARGET = {"kind": "gpu", "gpu": "A100-80GB", "count": 4}



def _predict(client, name: str, *, save: bool = True, **job) -> dict:
    response = client.post("/v1/predictions", headers=auth(), json={
        "profile": profile_data(name), **{**GPU_JOB, **job}, "target": GPU_TARGET, "use_history": False,
        "save": save})
    assert response.status_code == 200, response.text
    return response.json()


def _listed(client, **params) -> list[dict]:
    response = client.get("/v1/predictions", params=params, headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"schema_version", "predictions", "total"} and body["schema_version"] == 1
    return body["predictions"]


def _local(database_url: str, **filters) -> list[dict]:
    """What ``advisor history list --json`` reads from that database, as it prints it."""
    with History(database_url) as hist:
        return [p.model_dump(mode="json", by_alias=True) for p in list_predictions(hist, **filters)]


def _lists_what_it_saved(client, database_url: str) -> None:
    """Three saved predictions (and one not saved) are listed newest first, filtered as the local list filters."""
    first = _predict(client, "tabular_mlp")
    _predict(client, "tabular_mlp", save=False, epochs=7)
    _predict(client, "other_model", epochs=3)
    _predict(client, "tabular_mlp", epochs=5)
    every = _listed(client)
    assert [(p["workload"], p["epochs"]) for p in every] == [("tabular_mlp", 5), ("other_model", 3),
                                                            ("tabular_mlp", 2)]
    assert every == _local(database_url)
    oldest = every[-1]
    assert oldest["target"] == "4 x A100-80GB" and oldest["seconds"] == pytest.approx(first["seconds"])
    assert (oldest["low"], oldest["high"], oldest["method"]) == (first["low"], first["high"], first["method"])
    assert [p["epochs"] for p in _listed(client, workload="tabular_mlp")] == [5, 2]
    assert _listed(client, workload="nosuch") == []
    assert _listed(client, limit=1) == every[:1]
    assert _listed(client, limit=1, offset=1) == every[1:2] and _listed(client, offset=3) == []
    for path, key in (("/v1/predictions", "predictions"), ("/v1/history", "entries")):
        body = client.get(path, params={"workload": "tabular_mlp", "limit": 1}, headers=auth()).json()
        assert body["total"] == (2 if key == "predictions" else 0) and len(body[key]) == (key == "predictions")
    assert _listed(client, since="7d") == every and _listed(client, since="2099-01-01") == []
    assert _listed(client, since="2000-01-01", workload="other_model", limit=5) == _local(
        database_url, workload="other_model")


# ---------------------------------------------------------------------------------------- the route


def test_saved_predictions_are_listed_newest_first_as_the_local_history_lists_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with in_process_app(url) as client:
        _lists_what_it_saved(client, url)


@pytest.mark.postgres
def test_on_postgresql_saved_predictions_are_listed(pg_url):
    with in_process_app(pg_url) as client:
        _lists_what_it_saved(client, pg_url)


@pytest.mark.parametrize(("params", "field"), [({"limit": 0}, "query.limit"), ({"limit": 10_001}, "query.limit"),
                                               ({"workload": "a\x00b"}, "query.workload"),
                                               ({"since": "yesterday-ish"}, None)])
def test_a_bad_filter_is_422(app_client, params, field):
    response = app_client.get("/v1/predictions", params=params, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["hint"].startswith("Fix:") and "Traceback" not in response.text
    if field is not None:
        assert error["fields"][0]["field"] == field
    else:
        assert error["type"] == "ConfigError" and "yesterday-ish" in error["message"]


def test_the_route_needs_a_token_and_is_documented_like_history(app_client):
    assert app_client.get("/v1/predictions").status_code == 401
    paths = app_client.get("/openapi.json").json()["paths"]
    listed, history = paths["/v1/predictions"]["get"], paths["/v1/history"]["get"]
    assert set(listed["responses"]) == set(history["responses"]) == {"200", "401", "413", "422", "429", "503"}
    assert [p["name"] for p in listed["parameters"]] == [p["name"] for p in history["parameters"]] == [
        "workload", "since", "limit", "offset"]
    assert "post" in paths["/v1/predictions"]  # the prediction itself is still POSTed there


def test_a_database_that_is_down_is_503(tmp_path):
    down = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    with in_process_app(down) as client:
        for path in ("/v1/predictions", "/v1/history"):
            response = client.get(path, headers=auth())
            assert response.status_code == 503, response.text
            assert response.json()["error"]["type"] == "ServiceUnavailable" and response.headers["retry-after"]


# ---------------------------------------------------------------------------------------- the client




def test_the_client_lists_the_predictions_it_saved_there(client, tmp_path):
    target = advisor.Target.gpu("A100-80GB", 2)
    est = client.predict(PROFILE_FILE, **GPU_JOB, target=target, use_history=False)
    client.predict(PROFILE_FILE, **GPU_JOB, target=target, use_history=False, save=False)
    listed = client.list_predictions()
    assert [p.model_dump(mode="json") for p in listed] == _local(f"sqlite:///{tmp_path / 'app.db'}")
    assert len(listed) == 1 and listed[0].seconds == pytest.approx(est.seconds) and listed[0].target == "2 x A100-80GB"
    assert client.list_predictions(workload="tabular_mlp", since="1d", limit=1) == listed
    assert client.list_predictions(workload="nosuch") == []


@pytest.mark.parametrize("limit", [0, -1, 10_001, True, 2.5, None])
def test_a_bad_limit_is_a_config_error_before_anything_is_sent(limit):
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as api, pytest.raises(ConfigError) as caught:
        api.list_predictions(limit=limit)
    assert caught.value.message == f"limit must be a whole number from 1 to 10,000, got {limit!r}."


@pytest.mark.parametrize("answer", [{"predictions": "none"}, {"entries": []}, {"predictions": [{"id": "x"}]}])
def test_an_answer_that_is_not_a_list_of_predictions_is_a_service_error(answer):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    with Client("http://127.0.0.1", TOKEN, transport=transport) as api, pytest.raises(ServiceError) as caught:
        api.list_predictions()
    assert "http://127.0.0.1" in caught.value.message and caught.value.hint.startswith("Fix:")


# ---------------------------------------------------------------------------------------- the CLI



def test_history_list_with_server_shows_the_servers_predictions_as_the_local_one_shows_its_own(server, cli):
    target = advisor.Target.gpu("H100", 2)
    with Client(server.url, TOKEN) as client:
        client.predict(PROFILE_FILE, **GPU_JOB, target=target, use_history=False)
    remote = cli("history", "list", "--json", "--server", server.url)
    assert remote.exit_code == 0, remote.output
    there = json.loads(remote.stdout)
    assert there["entries"] == [] and len(there["predictions"]) == 1
    assert there["predictions"][0]["target"] == "2 x H100-SXM" and there["predictions"][0]["workload"] == "tabular_mlp"

    advisor.predict(PROFILE_FILE, **GPU_JOB, target=target, use_history=False, save=True)  # the same, kept here
    local = cli("history", "list", "--json")
    assert local.exit_code == 0, local.output
    here = json.loads(local.stdout)
    assert set(here) == set(there) and set(here["predictions"][0]) == set(there["predictions"][0])
    mine = {k: v for k, v in here["predictions"][0].items() if k not in ("id", "created_at")}
    assert mine == {k: v for k, v in there["predictions"][0].items() if k not in ("id", "created_at")}

    table = cli("history", "list", "--server", server.url)
    assert table.exit_code == 0, table.output
    assert "Predictions (1, newest first" in table.stdout and "2 x H100-SXM" in table.stdout
    filtered = json.loads(cli("history", "list", "--json", "--workload", "nosuch", "--server",
                              server.url).stdout)
    assert filtered == {"schema_version": 1, "entries": [], "predictions": [], "total_entries": 0,
                        "total_predictions": 0}



def test_a_limit_over_the_servers_maximum_names_limit_before_anything_is_sent(cli):
    """It was the server's pydantic wording: "Invalid request: query.limit: Input should be less than or equal to
    10000"."""
    result = cli("history", "list", "--server", "http://127.0.0.1:9", "--limit", "20000")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert " ".join(result.output.split()) == (
        "error: --limit 20,000 is over a server's maximum of 10,000 a call. Fix: --limit 10000 or less, and "
        "--offset 10000 for the next page; or narrow with --workload / --since.")


def test_the_server_pages_its_lists_and_says_how_many_match(server, cli):
    target = advisor.Target.gpu("H100", 1)
    with Client(server.url, TOKEN) as client:
        for epochs in (1, 2, 3):
            client.predict(PROFILE_FILE, **{**GPU_JOB, "epochs": epochs}, target=target, use_history=False)
        assert [p.epochs for p in client.list_predictions(limit=1, offset=1, workload="tabular_mlp")] == [2]
        assert client.totals(workload="tabular_mlp")[1] >= 3 and client.totals(workload="nosuch") == (0, 0)
    page = json.loads(cli("history", "list", "--json", "--workload", "tabular_mlp", "--since", "1h", "--limit", "1",
                          "--offset", "2", "--server", server.url).stdout)
    assert [p["epochs"] for p in page["predictions"]] == [1] and page["total_predictions"] >= 3


def test_an_offset_to_a_server_that_does_not_page_is_a_service_error_not_the_newest_rows():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"predictions": [], "entries": []}))
    with Client("http://127.0.0.1", TOKEN, transport=transport) as api:
        assert api.list_predictions() == [] and api.totals() == (None, None)
        with pytest.raises(ServiceError, match="does not page"):
            api.list(offset=50)
