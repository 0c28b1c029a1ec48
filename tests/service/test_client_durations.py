"""``advisor.Client.record_outcome`` takes a duration as ``advisor.api.record_outcome`` does ("1h30", "30m" or
seconds), sends the server seconds, and refuses a bad one with the api's own error before anything is sent; so
does ``advisor history record --server``."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from service_helpers import PROFILE_FILE, TOKEN, auth, profile_data, unsent

from advisor import api as local_api
from advisor.cli import remote
from advisor.errors import HistoryError
from advisor.service.client import Client


def _stored_recommendation(app_client) -> int:
    created = app_client.post("/v1/recommendations", headers=auth(),
                              json={"profile": profile_data(), "dataset_size": 20000, "epochs": 2})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_the_client_records_a_duration_string_as_seconds(client, app_client):
    rec_id = _stored_recommendation(app_client)
    outcome = client.record_outcome(rec_id, "1h30", force=True)
    assert outcome.actual_seconds == 5400.0 and outcome.recommendation_id == rec_id
    stored = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"]
    assert [o["actual_seconds"] for o in stored] == [5400.0]


def test_the_client_sends_seconds():
    sent = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"id": 1, "recommendation_id": 3, "actual_seconds": 1800.0,
                                         "instance_type": "m5.large", "recorded_at": "2026-01-01T00:00:00Z"})

    with Client("http://127.0.0.1", TOKEN, transport=httpx.MockTransport(answer)) as api:
        api.record_outcome(3, " 30m ")
        api.record_outcome(3, 90)
    assert [body["actual_seconds"] for body in sent] == [1800.0, 90.0]


@pytest.mark.parametrize("value", ["1h30x", "abc", "", "0m", 0, -5, float("nan"), float("inf"), None, True])
def test_a_bad_duration_is_the_apis_error_before_anything_is_sent(value):
    with pytest.raises(HistoryError) as local:
        local_api.record_outcome(1, value)
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as api, pytest.raises(HistoryError) as remote_error:
        api.record_outcome(1, value)
    assert type(remote_error.value) is type(local.value) is HistoryError
    assert (remote_error.value.message, remote_error.value.hint) == (local.value.message, local.value.hint)
    # Both Python APIs name the parameter (the CLI names --actual-seconds).
    if value == float("inf"):  # too large to be a job, not a negative one
        assert remote_error.value.message == "actual_seconds= inf is more than 31 years (1e9 s), beyond any real job."
    elif value in ("1h30x", "abc", ""):  # not read at all, rather than read and not positive
        assert remote_error.value.message == f"Cannot read actual_seconds={value!r} as a duration."
    elif value in (0, "0m"):  # 0 s is a duration only a failed run has
        assert remote_error.value.message == (f"actual_seconds= must be a positive duration, got {value!r} (0 only "
                                              "for a run recorded as failed, failed=True).")
    else:
        assert remote_error.value.message == f"actual_seconds= must be a positive duration, got {value!r}."


def test_history_record_with_server_takes_a_duration_and_refuses_a_bad_one_as_locally(app_client, monkeypatch):
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.setattr(remote, "client", lambda server: Client(server, TOKEN, transport=app_client._transport))
    app, rec_id = build_app(), _stored_recommendation(app_client)

    def cli(*args):
        return CliRunner().invoke(app, ["history", "record", str(rec_id), *args])

    recorded = cli("--actual-seconds", "1h30", "--force", "--json", "--server", "http://127.0.0.1")
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.stdout)["actual_seconds"] == 5400.0
    there, here = cli("--actual-seconds", "1h30x", "--server", "http://127.0.0.1"), cli("--actual-seconds", "1h30x")
    assert there.exit_code == here.exit_code == 1
    assert "Cannot read --actual-seconds '1h30x' as a duration." in there.output
    assert there.output == here.output


def test_recommend_with_server_tells_the_record_command_for_that_server(app_client, monkeypatch, tmp_path):
    """The id a server stored a recommendation under is the server's: the printed advice must send the outcome
    there (``--server URL``), not to this machine's history, where that id is another run or none."""
    import os
    from pathlib import Path

    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.setattr(remote, "client", lambda server: Client(server, TOKEN, transport=app_client._transport))
    app, url = build_app(), "http://advisor.internal:8000"
    shown = CliRunner().invoke(app, ["recommend", "--profile", str(PROFILE_FILE), "--dataset-size", "20000",
                                     "--epochs", "2", "--server", url])
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    found = re.search(r"saved as history id (\d+) on the server \(record the real time: (advisor history record "
                      r"[^;)]*)(; run here: add --instance here)?\)", said)
    assert found and found.group(3), said  # the profile's CPU has an estimate: a run there is recorded too
    rec_id = int(found.group(1))
    placeholder = re.fullmatch(r"advisor history record (\d+) --actual-seconds <real time, e\.g\. (\S+)> "
                               r"--server (\S+)", found.group(2))
    assert placeholder and placeholder.group(1) == str(rec_id) and placeholder.group(3) == url, found.group(2)
    command = ["advisor", "history", "record", str(rec_id), "--actual-seconds", "1h30m", "--server", url]
    # The advice, its placeholder filled in, records the outcome on the server; the local history is never opened.
    recorded = CliRunner().invoke(app, [*command[1:], "--force"])
    assert recorded.exit_code == 0, recorded.output
    stored = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"]
    assert [o["actual_seconds"] for o in stored] == [5400.0]
    # ... and so does its second half, for a run on the machine that was probed
    here = CliRunner().invoke(app, [*command[1:], "--instance", "here", "--force"])
    assert here.exit_code == 0, here.output
    stored = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"]
    assert len(stored) == 2 and [o["instance_type"] for o in stored].count("here:cpu") == 1
    assert not Path(os.environ["ADVISOR_DATABASE_URL"].removeprefix("sqlite:///")).exists()


def test_recommend_here_tells_the_local_record_command(monkeypatch):
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    shown = CliRunner().invoke(build_app(), ["recommend", "--profile", str(PROFILE_FILE), "--dataset-size", "20000",
                                             "--epochs", "2"])
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    assert re.search(r"saved as history id \d+ \(record the real time: advisor history record \d+ "
                     r"--actual-seconds <real time, e\.g\. [0-9.]+[smhd][0-9smhd]*>; run here: add --instance here\)",
                     said), said


def test_a_timedelta_deadline_is_taken_by_the_api_and_crosses_to_a_server_as_seconds(client):
    """The API refused deadline=datetime.timedelta(hours=2) ("Cannot read the deadline '2:00:00'")."""
    from datetime import timedelta

    job = {"dataset_size": 20000, "epochs": 2, "deadline": timedelta(hours=2), "save": False}
    here = local_api.recommend(str(PROFILE_FILE), **job)
    there = client.recommend(str(PROFILE_FILE), **job)
    assert here.constraints.deadline_seconds == there.constraints.deadline_seconds == 7200.0


def test_a_run_that_failed_at_once_crosses_to_a_server_at_0_s(client, app_client):
    # The service refused 0 s (its field took 1 ms and up) for a failed run, which the history itself takes.
    rec_id = _stored_recommendation(app_client)
    assert client.record_outcome(rec_id, 0, failed=True).actual_seconds == 0
    refused = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(), json={"actual_seconds": 0})
    assert refused.status_code == 422, refused.text
    assert "less than a millisecond" in refused.text and "actual_seconds" in refused.text
    with pytest.raises(HistoryError, match="0 only for a run recorded as failed"):
        client.record_outcome(rec_id, 0)
    stored = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"]
    assert [(o["actual_seconds"], o["status"]) for o in stored] == [(0, "failed")]
