"""``advisor history forget --server``, ``history calibration --server`` and ``history export --server``: the undo
of ``record --server``, the server's learned-correction report and its history as one table, as the local commands
give them for a local history (``DELETE /v1/recommendations/{id}/outcomes``, ``GET /v1/calibration``,
``GET /v1/history/export``, ``advisor.Client.forget`` / ``calibration`` / ``export``)."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from service_helpers import TOKEN, auth, profile_data, unsent

from advisor.cli import remote
from advisor.errors import ConfigError, HistoryError
from advisor.history import export
from advisor.history.export import EXPORT_COLUMNS
from advisor.history.repository import History
from advisor.predictor.learned import calibration_report
from advisor.service.client import Client, ServiceError
from advisor.units import format_duration

SERVER = "http://127.0.0.1"


def _stored_with_outcomes(app_client, *seconds: float, name: str | None = None) -> int:
    created = app_client.post("/v1/recommendations", headers=auth(),
                              json={"profile": profile_data(name), "dataset_size": 20000, "epochs": 2})
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


def test_a_retried_outcome_post_is_refused_so_the_run_counts_once(app_client):
    """A client that posts an outcome again (its first answer lost in a network blip) stored the run twice, and the
    server's correction learned it twice. The second is refused, in the CLI's words; ``force`` records another."""
    rec_id = _stored_with_outcomes(app_client)
    chosen = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["recommendation"]["chosen"]
    actual = round(chosen["seconds"] * 1.1, 3)
    posts = [app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                             json={"actual_seconds": actual}) for _ in range(2)]
    assert [p.status_code for p in posts] == [201, 422], posts[1].text
    error = posts[1].json()["error"]
    assert error["type"] == "HistoryError"
    assert error["message"].startswith(f"Not recorded: recommendation {rec_id} already has this outcome, "
                                       f"{format_duration(actual)} on {chosen['instance_type']} (outcome ")
    assert "add --force" in error["hint"]
    assert _outcomes(app_client, rec_id) == [actual]
    forced = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                             json={"actual_seconds": actual, "force": True})
    assert forced.status_code == 201 and _outcomes(app_client, rec_id) == [actual, actual]


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
    # an outcome id that names nothing is an unknown id, as a recommendation's is: 404 (it was 422)
    missing = app_client.delete(f"/v1/recommendations/{rec_id}/outcomes?outcome=999999", headers=auth())
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "HistoryError"
    with pytest.raises(HistoryError, match="There is no outcome 999999"):
        client.forget(rec_id, outcome_id=999999)


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


def test_export_with_server_writes_the_servers_history_as_the_local_export_of_it_would(app_client, history_cli,
                                                                                      tmp_path, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_PAGE_ROWS", 2)  # pages of 2 rows: the second page ends it
    formula = "=HYPERLINK(\"http://x\")"  # a spreadsheet would run it: the CSV written here guards it
    first = _stored_with_outcomes(app_client, 100.0, 250.0, name=formula)
    _stored_with_outcomes(app_client, name="plain")
    with History(f"sqlite:///{tmp_path / 'app.db'}") as hist:  # the app's own history, read here
        local_csv, local_json = hist.export("csv"), hist.export("json")
        plain_only = hist.export("json", workload="plain")
    there = history_cli("export", "--server", SERVER)
    assert there.exit_code == 0, there.output
    assert there.stdout == local_csv
    rows = list(csv.DictReader(io.StringIO(there.stdout)))
    assert [(r["recommendation_id"], r["workload"]) for r in rows][:2] == [(str(first), "'" + formula)] * 2
    written = tmp_path / "out.json"
    as_json = history_cli("export", "--format", "json", "-o", written, "--server", SERVER)
    assert as_json.exit_code == 0, as_json.output
    assert written.read_text() == local_json
    assert len(json.loads(local_json)) == 3  # two outcomes of the first, the second without one
    only = history_cli("export", "--format", "json", "--workload", "plain", "--since", "1d", "--server", SERVER)
    assert only.exit_code == 0 and only.stdout == plain_only and len(json.loads(only.stdout)) == 1


def test_export_through_the_client_and_its_refusals(app_client, client, monkeypatch):
    _stored_with_outcomes(app_client, 100.0)
    assert client.export("csv").splitlines()[0] == ",".join(EXPORT_COLUMNS)
    with Client(SERVER, TOKEN, transport=unsent()) as api, pytest.raises(ConfigError, match="export format"):
        api.export("xlsx")
    def row(rec_id, outcome_id):
        values = [None] * len(EXPORT_COLUMNS)
        values[0], values[EXPORT_COLUMNS.index("outcome_id")] = rec_id, outcome_id
        return values

    for answer in ({"columns": ["id"], "rows": []}, {"columns": list(EXPORT_COLUMNS), "rows": [["x"]]},
                   {"columns": list(EXPORT_COLUMNS), "rows": [[{"a": 1}] * len(EXPORT_COLUMNS)]},
                   {"columns": list(EXPORT_COLUMNS), "rows": [row(1, 5), row(1, 3)]},  # out of order
                   {"columns": list(EXPORT_COLUMNS), "rows": [row("1", None)]}):
        odd = httpx.MockTransport(lambda request, answer=answer: httpx.Response(200, json=answer))
        with Client(SERVER, TOKEN, transport=odd) as api, pytest.raises(ServiceError, match="columns and rows"):
            api.export("csv")
    # a server that sends the same full page again would be paged for ever: refused at the second page
    monkeypatch.setattr(export, "EXPORT_PAGE_ROWS", 1)
    same = httpx.MockTransport(lambda request: httpx.Response(
        200, json={"columns": list(EXPORT_COLUMNS), "rows": [row(1, 0)]}))
    with Client(SERVER, TOKEN, transport=same) as api, pytest.raises(ServiceError, match="in order"):
        api.export("csv")
    assert app_client.get("/v1/history/export").status_code == 401  # a token is needed
    bad = app_client.get("/v1/history/export?since=yesterday-ish", headers=auth())
    assert bad.status_code == 422
    # a page key past every id SQLite stores (2**63 - 1) is a 422 naming it, not a 500
    for key in ("after_recommendation", "after_outcome"):
        past = app_client.get(f"/v1/history/export?{key}={2**64}", headers=auth())
        assert past.status_code == 422 and [f["field"] for f in past.json()["error"]["fields"]] == [f"query.{key}"]


def test_an_export_page_says_where_the_next_starts_and_following_it_gives_every_row(app_client, tmp_path):
    # 2 recommendations with 2 outcomes each and 1 without: 5 rows, read 2 a page (limit=2) as any pipeline would
    _stored_with_outcomes(app_client, 100.0, 250.0)
    _stored_with_outcomes(app_client, 120.0, 130.0)
    _stored_with_outcomes(app_client)
    with History(f"sqlite:///{tmp_path / 'app.db'}") as hist:
        local = json.loads(hist.export("json"))
    assert len(local) == 5
    whole = app_client.get("/v1/history/export", headers=auth()).json()
    assert len(whole["rows"]) == 5 and whole["next"] is None  # all of it in one page: nothing more to ask for
    rows, params, pages = [], {"limit": 2}, []
    while True:
        page = app_client.get("/v1/history/export", params=params, headers=auth())
        assert page.status_code == 200, page.text
        data = page.json()
        rows += data["rows"]
        pages.append((len(data["rows"]), data["next"]))
        if data["next"] is None:
            break
        params = {"limit": 2, **data["next"]}
    first_next = {"after_recommendation": rows[1][0], "after_outcome": rows[1][EXPORT_COLUMNS.index("outcome_id")]}
    assert pages[0] == (2, first_next)  # a cut page says so, with the last row's ids
    assert [n for n, _ in pages] == [2, 2, 1] and pages[-1][1] is None
    assert [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in rows] == local
    # a page that happens to end the table exactly says so too: no empty page to ask for
    exact = app_client.get("/v1/history/export", params={"limit": 5}, headers=auth()).json()
    assert len(exact["rows"]) == 5 and exact["next"] is None


def test_the_client_follows_next_and_asks_no_empty_page_after_the_last(app_client, monkeypatch):
    _stored_with_outcomes(app_client, 100.0, 250.0)  # 2 rows
    asked = []

    def counted(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        return app_client._transport.handle_request(request)

    monkeypatch.setattr(export, "EXPORT_PAGE_ROWS", 2)  # a full page that is also the last: its next is null
    with Client(SERVER, TOKEN, transport=httpx.MockTransport(counted)) as api:
        assert len(api.export("csv").splitlines()) == 3
    assert len(asked) == 1


def test_record_on_the_server_says_the_prediction_beside_the_run(app_client, history_cli):
    """`history record --server` said only "Recorded 39m00s (2340 s) for history id N", a mistyped duration at 19x
    its prediction included. The server's reply carries the run's prediction and interval, and the CLI says them,
    with the undo sent to the same server."""
    rec_id = _stored_with_outcomes(app_client)
    shown = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["recommendation"]["chosen"]
    predicted, low, high = shown["seconds"], shown["low"], shown["high"]
    replied = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                              json={"actual_seconds": predicted})
    assert replied.status_code == 201, replied.text
    assert (replied.json()["predicted_seconds"], replied.json()["low"], replied.json()["high"]) == (
        predicted, low, high)
    typo = history_cli("record", rec_id, "--actual-seconds", predicted * 10, "--server", SERVER)
    assert typo.exit_code == 0, typo.output
    lines = typo.output.splitlines()
    assert lines[0] == (f"Recorded {format_duration(predicted * 10)} ({predicted * 10:g} s) for history id {rec_id} "
                        f"(predicted {format_duration(predicted)}, 80% interval {format_duration(low)}–"
                        f"{format_duration(high)}: 10.0x longer, outside it).")
    assert lines[1] == (f"note: if the duration is mistyped, `advisor history forget {rec_id} --outcome 2 --server "
                        f"{SERVER}` takes it back; then record the right one.")
    as_json = json.loads(history_cli("record", rec_id, "--actual-seconds", predicted * 1.01, "--json",
                                     "--server", SERVER).stdout)
    assert as_json["predicted_seconds"] == predicted


def test_record_failed_on_the_server_stores_a_failed_run_and_a_completed_one_sends_no_new_field(app_client,
                                                                                                history_cli):
    """`history record --failed --server` stores the run as failed on the server (never learned from); a completed
    record sends no "failed" field, so a server older than it still takes it."""
    rec_id = _stored_with_outcomes(app_client)
    crashed = history_cli("record", rec_id, "--actual-seconds", "7", "--failed", "--json", "--server", SERVER)
    assert crashed.exit_code == 0, crashed.output
    assert json.loads(crashed.stdout)["status"] == "failed"
    shown = app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()
    assert [(o["actual_seconds"], o["status"]) for o in shown["outcomes"]] == [(7, "failed")]
    bodies: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"actual_seconds": 7, "recommendation_id": 1})

    with Client(SERVER, TOKEN, transport=httpx.MockTransport(answer)) as client:
        client.record_outcome(1, 7)
        client.record_outcome(1, 7, failed=True)
    assert bodies == [{"actual_seconds": 7.0, "instance_type": None, "force": False},
                      {"actual_seconds": 7.0, "instance_type": None, "force": False, "failed": True}]


# What a server older than ``failed`` (6536b86's) answers a record that sends it, as it was captured.
_OLDER_REFUSAL = {"error": {"type": "ValidationError", "message": "Invalid request: failed: Extra inputs are not "
                            "permitted.", "hint": "Fix: correct the field named (the README's \"Run the service for "
                            "a team\" lists each endpoint's).", "fields": [
                                {"field": "failed", "problem": "Extra inputs are not permitted"}]}}


def test_record_failed_on_an_older_server_says_the_server_is_older(history_cli, monkeypatch):
    """A server older than `record --failed` refuses the field: that said "correct the field named", a field the
    user cannot leave out without storing the crash as a completed run. It now says the server's advisor is older,
    and that nothing was recorded; other refusals keep the server's words."""
    def older(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=_OLDER_REFUSAL)

    with Client(SERVER, TOKEN, transport=httpx.MockTransport(older)) as client, \
            pytest.raises(ServiceError) as refused:
        client.record_outcome(1, 7, failed=True)
    assert str(refused.value) == (f"The server at {SERVER} runs an advisor older than failed=True (a crashed run): "
                                  "it refused the request, so nothing was recorded.\nFix: upgrade the server's "
                                  "advisor, then record it again.")
    assert refused.value.status == 422
    monkeypatch.setattr(remote, "client", lambda url: Client(url, TOKEN, transport=httpx.MockTransport(older)))
    said = history_cli("record", "1", "--actual-seconds", "7", "--failed", "--server", SERVER)
    assert said.exit_code == 1
    assert said.output.startswith(f"error: The server at {SERVER} runs an advisor older than --failed (a crashed "
                                  "run): it refused the request, so nothing was recorded.\n")
    other = {"error": {**_OLDER_REFUSAL["error"], "message": "Invalid request: actual_seconds: Input should be "
                       "greater than 0."}}
    with Client(SERVER, TOKEN, transport=httpx.MockTransport(lambda r: httpx.Response(422, json=other))) as client, \
            pytest.raises(ServiceError, match=r"^Invalid request: actual_seconds"):
        client.record_outcome(1, 7, failed=True)
