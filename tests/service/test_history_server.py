"""``advisor history forget --server`` and ``advisor history calibration --server``: the undo of ``record --server``
and the server's learned-correction report, as the local commands give them for a local history
(``DELETE /v1/recommendations/{id}/outcomes``, ``GET /v1/calibration``, ``advisor.Client.forget`` /
``calibration``)."""

from __future__ import annotations

import json

import pytest
from service_helpers import TOKEN, auth, profile_data, unsent

from advisor.cli import remote
from advisor.errors import ConfigError, HistoryError
from advisor.history.repository import History
from advisor.predictor.learned import calibration_report
from advisor.service.client import Client

SERVER = "http://127.0.0.1"


def _stored_with_outcomes(app_client, *seconds: float) -> int:
    created = app_client.post("/v1/recommendations", headers=auth(),
                              json={"profile": profile_data(), "dataset_size": 20000, "epochs": 2})
    assert created.status_code == 201, created.text
    rec_id = created.json()["id"]
    for actual in seconds:
        recorded = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                                   json={"actual_seconds": actual, "force": True})
        assert recorded.status_code == 201, recorded.text
    return rec_id


@pytest.fixture
def history_cli(app_client, monkeypatch):
    """invoke(*args) -> typer's Result for `advisor history ARGS`, client mode going to the in-process app."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.setattr(remote, "client", lambda server: Client(server, TOKEN, transport=app_client._transport))
    app = build_app()
    return lambda *args: CliRunner().invoke(app, ["history", *(str(a) for a in args)])


def _outcomes(app_client, rec_id: int) -> list[float]:
    shown = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth())
    assert shown.status_code == 200, shown.text
    return [o["actual_seconds"] for o in shown.json()["outcomes"]]


def test_forget_with_server_deletes_the_outcomes_there(app_client, history_cli):
    rec_id = _stored_with_outcomes(app_client, 100.0, 200.0, 300.0)
    first = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"][0]["id"]
    one = history_cli("forget", rec_id, "--outcome", first, "--json", "--server", SERVER)
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout) == {"schema_version": 1, "recommendation_id": rec_id, "forgotten_outcomes": 1}
    assert sorted(_outcomes(app_client, rec_id)) == [200.0, 300.0]
    rest = history_cli("forget", rec_id, "--server", SERVER)
    assert rest.exit_code == 0, rest.output
    assert f"Forgot 2 outcomes of history id {rec_id}." in rest.output
    assert _outcomes(app_client, rec_id) == []
    again = history_cli("forget", rec_id, "--server", SERVER)
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert f"There are no outcomes for recommendation {rec_id} to forget." in again.output
    unknown = history_cli("forget", 999_999, "--server", SERVER)
    assert unknown.exit_code == 1 and "No recommendation" in unknown.output


def test_forget_through_the_client_and_its_refusals(app_client, client):
    rec_id = _stored_with_outcomes(app_client, 100.0)
    assert client.forget(rec_id) == 1
    with pytest.raises(HistoryError, match="no outcomes"):
        client.forget(rec_id)
    for bad in ({"recommendation_id": 0}, {"recommendation_id": rec_id, "outcome_id": 0},
                {"recommendation_id": rec_id, "outcome_id": True}):
        with Client(SERVER, TOKEN, transport=unsent()) as api, pytest.raises(ConfigError):
            api.forget(**bad)
    refused = app_client.delete(f"/v1/recommendations/{rec_id}/outcomes?outcome=0", headers=auth())
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["error"]["fields"]] == ["query.outcome"]
    assert app_client.delete(f"/v1/recommendations/{rec_id}/outcomes").status_code == 401  # a token is needed


def test_calibration_with_server_is_the_report_on_the_servers_outcomes(app_client, history_cli, tmp_path):
    for ratio in (1.1, 0.9, 1.3, 1.2, 0.8):
        rec_id = _stored_with_outcomes(app_client)
        predicted = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()
        chosen = predicted["recommendation"]["chosen"]["seconds"]  # its outcome: a little off the prediction
        recorded = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                                   json={"actual_seconds": chosen * ratio})
        assert recorded.status_code == 201, recorded.text
    there = history_cli("calibration", "--json", "--server", SERVER)
    assert there.exit_code == 0, there.output
    with History(f"sqlite:///{tmp_path / 'app.db'}") as hist:  # the app's own history, read here
        report = calibration_report(hist)
    assert json.loads(there.stdout) == {"schema_version": 1, **report.model_dump(mode="json", by_alias=True)}
    assert json.loads(there.stdout)["n_runs"] == 5
    text = history_cli("calibration", "--server", SERVER)
    assert text.exit_code == 0 and "Learned history correction:" in text.output
