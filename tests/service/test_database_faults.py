"""A history database that fails or does not answer is the server's problem, not the caller's: 503 (nothing
stored), and no answer (JSON error, web page, or a note of a successful prediction) names the database's
address or repeats the driver's words, which name host, port and database. The cause goes to the server's log."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from service_helpers import TOKEN, auth, free_port, in_process_app, profile_data

import advisor.history.answer_deadline as answer_deadline
from advisor.errors import DatabaseUnavailableError

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
JOB = {"dataset_size": 2000, "epochs": 1}


@contextmanager
def _tables_locked(url: str, *tables: str):
    """Another connection holds ``tables`` in ACCESS EXCLUSIVE mode: every statement on them waits, as on a
    database server that stopped answering."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def _no_address(text: str, *secrets: str) -> None:
    for secret in ("postgres", "127.0.0.1", "5432", "psycopg", *secrets):
        if secret.isdigit():
            # A port is a number of its own: its digits inside a longer number (a float such as 0.9515891 in the
            # answer's figures) name nothing.
            assert not re.search(rf"(?<![0-9.]){secret}(?![0-9])", text), (secret, text)
        else:
            assert secret not in text, (secret, text)


def test_a_port_is_found_as_a_number_of_its_own_not_inside_a_longer_one():
    _no_address('{"seconds": 0.9515891, "id": 1515890}', "51589")
    for leak in ("127.0.0.1:51589", "port 51589 refused", '{"port": 51589}'):
        with pytest.raises(AssertionError):
            _no_address(leak.replace("127.0.0.1", "host"), "51589")


def test_a_database_that_does_not_answer_in_time_is_a_503_naming_no_address(pg_url, monkeypatch, caplog):
    monkeypatch.setattr(answer_deadline, "STATEMENT_SECONDS", 1.0)  # the 30 s deadline, shortened
    # The tables' lock stands for a server that stopped answering: advisor's lock_timeout, which would end the wait
    # first as a lock (tests/history/test_answer_deadline.py), is put past the deadline.
    monkeypatch.setattr(answer_deadline, "LOCK_WAIT_SHARE", 100.0)
    schema = pg_url.rsplit("search_path%3D", 1)[-1]
    with in_process_app(pg_url) as client:
        first = client.post("/v1/recommendations", json={"profile": profile_data(), **JOB, "top": 3}, headers=auth())
        assert first.status_code == 201, first.text
        rec_id = first.json()["id"]
        with _tables_locked(pg_url, "outcomes", "recommendations"):
            answers = {
                "recommend": client.post("/v1/recommendations", json={"profile": profile_data(), **JOB, "epochs": 2},
                                         headers=auth()),
                "history": client.get("/v1/history?limit=1", headers=auth()),
                "page": client.get(f"/recommendations/{rec_id}", headers={**auth(), **BROWSER}),
                "predict": client.post("/v1/predictions", json={"profile": profile_data(), **JOB}, headers=auth()),
            }
            quiet = client.post("/v1/predictions", json={"profile": profile_data(), **JOB, "save": False},
                                headers=auth())
        for name, response in answers.items():
            assert response.status_code == 503, (name, response.text)
            assert response.headers["retry-after"] == "5"
            _no_address(response.text, schema)
        assert answers["recommend"].json()["error"]["type"] == "ServiceUnavailable"
        assert "The history is unavailable" in answers["page"].text
        # Not saved, so the database was only to correct it: 200 with a note that says why, without the address.
        assert quiet.status_code == 200, quiet.text
        # (On a loaded machine a statement may also answer just as it is cut; the next one on that connection then
        # fails as a closed connection: "unavailable" rather than "did not answer".)
        notes = [n for n in quiet.json()["notes"] if "correction was not applied" in n]
        assert notes in (["the history correction was not applied: The history database did not answer within 1 s, "
                          "so the request was given up; nothing was written."],
                         ["the history correction was not applied: The history database is unavailable."]), notes
        _no_address(quiet.text, schema)
        # The server recovered once the lock was gone, and stored nothing meanwhile.
        listed = client.get("/v1/history", headers=auth())
        assert listed.status_code == 200 and [e["id"] for e in listed.json()["entries"]] == [rec_id]
    assert "history database unavailable" in caplog.text  # the operator's log has it


def test_a_note_of_a_prediction_not_saved_names_no_address_when_the_database_is_down():
    port = free_port()
    down = f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{port}/test?connect_timeout=2"
    with in_process_app(down) as client:
        body = {"profile": profile_data(), **JOB, "save": False}
        response = client.post("/v1/predictions", json=body, headers=auth())
        assert response.status_code == 200, response.text
        notes = response.json()["notes"]
        assert f"the history correction was not applied: {_REFUSED}" in notes, notes
        _no_address(response.text, str(port), "s3cret", "test?")
        saved = client.post("/v1/predictions", json={**body, "save": True}, headers=auth())
        assert saved.status_code == 503, saved.text
        _no_address(saved.text, str(port), "s3cret")
        # a recommendation not saved answers too, as the local `recommend --no-save` does (it was a 503)
        ranked = client.post("/v1/recommendations", json={**body, "top": 3}, headers=auth())
        assert ranked.status_code == 200, ranked.text
        assert f"the history correction was not applied: {_REFUSED}" in ranked.json()["notes"]
        _no_address(ranked.text, str(port), "s3cret", "test?")
        stored = client.post("/v1/recommendations", json={**body, "top": 3, "save": True}, headers=auth())
        assert stored.status_code == 503, stored.text


def test_the_local_message_names_the_database_but_never_its_password():
    from advisor.history.repository import History

    port = free_port()
    hist = History(f"postgresql+psycopg2://me:s3cret-pw@127.0.0.1:{port}/test?connect_timeout=2&password=s3cret-q")
    try:
        with pytest.raises(DatabaseUnavailableError) as err:
            hist.list()
    finally:
        hist.close()
    assert f"me:***@127.0.0.1:{port}/test" in err.value.message  # the user's own database, to check the URL
    assert "s3cret" not in str(err.value) and "s3cret" not in repr(hist)
    assert err.value.public == _REFUSED


# A server that is down, in public words that name no address (the note said "is unavailable." with no cause).
_REFUSED = "The history database is unavailable: its server refused the connection (is it running?)."


@pytest.mark.parametrize(("words", "cause"), [
    ('connection to server at "10.0.0.5", port 5433 failed: Connection refused', "refused the connection"),
    ('could not translate host name "db.example" to address: Name or service not known', "host name does not"),
    ('FATAL:  password authentication failed for user "bob"', "refused the login"),
    ('FATAL:  database "adv" does not exist', "has no database of that name"),
    ("server closed the connection unexpectedly", None),
])
def test_a_connection_fault_is_told_with_its_cause_and_no_address(words, cause):
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from advisor.history.connect_fault import connect_cause

    fault = OperationalError("connect", {}, Exception(words))
    said = connect_cause(create_engine("postgresql+psycopg2://bob@db.example/adv"), fault)
    assert said == "The history database is unavailable." if cause is None else cause in said, said
    assert not any(part in said for part in ("10.0.0.5", "5433", "db.example", "bob", "adv"))
    # SQLite: a file, whose faults are told as such
    assert connect_cause(create_engine("sqlite://"), fault) == "The history database is unavailable."


def test_an_unparsable_url_is_shown_without_its_password():
    from advisor.errors import HistoryError
    from advisor.history.engine import create_history_engine

    with pytest.raises(HistoryError) as err:
        create_history_engine("postgresql://me:s3cret pw@@host:notaport/db")
    assert "s3cret" not in str(err.value) and "me:***@" in err.value.message


def test_health_is_a_503_with_the_reason_while_the_database_is_down():
    from advisor.service.client import Client, ServiceError
    from advisor.service.wire import API_PREFIX

    port = free_port()
    down = f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{port}/test?connect_timeout=2"
    with in_process_app(down) as app:
        health = app.get("/healthz")  # no token: a load balancer's readiness probe
        assert health.status_code == 503 and health.headers["retry-after"] == "5"
        body = health.json()
        assert (body["status"], body["database"], body["auth"]) == ("unavailable", "unavailable", "bearer")
        assert body["error"]["type"] == "ServiceUnavailable"
        assert body["error"]["message"].startswith("The history database is unavailable: the calls that read or "
                                                   "write the history answer 503")
        assert body["error"]["hint"].startswith("Fix: wait;") and body["error"]["request_id"]
        _no_address(health.text, str(port), "s3cret")
        assert app.get(f"{API_PREFIX}/history", headers=auth()).status_code == 503  # as it says
        alive = app.get("/livez")  # a liveness probe: the process answers, so no restart for the database
        assert alive.status_code == 200 and alive.json()["status"] == "alive"
        # a load balancer's HEAD gets the same status, without the body (it was a 405, read as down)
        head = app.head("/healthz")
        assert (head.status_code, head.headers["retry-after"], head.content) == (503, "5", b"")
        assert app.head("/livez").status_code == 200
        with Client("http://127.0.0.1", transport=app._transport) as client, pytest.raises(ServiceError) as err:
            client.health()
        assert err.value.status == 503 and err.value.message == body["error"]["message"]


def test_a_503_says_what_the_call_did_not_do_read_store_or_delete():
    """Every 503 of a database that is down said "so nothing was stored", on a list, a show, the calibration and
    the web page too: calls that store nothing, whose reader was left looking for the write that was lost."""
    port = free_port()
    down = f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{port}/test?connect_timeout=2"
    read = "The history database is unavailable, so the history cannot be read."
    with in_process_app(down) as client:
        for path in ("/v1/history", "/v1/recommendations/1", "/v1/calibration", "/v1/compare"):
            response = client.get(path, headers=auth())
            assert response.status_code == 503 and response.headers["retry-after"] == "5", (path, response.text)
            assert response.json()["error"]["message"] == read, path
        stored = client.post("/v1/recommendations", json={"profile": profile_data(), **JOB}, headers=auth())
        assert stored.status_code == 503
        assert stored.json()["error"]["message"] == "The history database is unavailable, so nothing was stored."
        deleted = client.delete("/v1/recommendations/1/outcomes", headers=auth())
        assert deleted.status_code == 503
        assert deleted.json()["error"]["message"] == "The history database is unavailable, so nothing was deleted."
        login = client.post("/login", content=f"token={TOKEN}", follow_redirects=False,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert login.status_code == 303
        page = client.get("/", headers=BROWSER)
        assert page.status_code == 503 and "<h1>The history is unavailable</h1>" in page.text
        assert read in page.text and "stored" not in page.text
