"""The fixes printed in client mode (``--server URL``) name that server's history: followed as written, a plain
``advisor history list`` or ``history record`` reads or changes this machine's history instead, where the id is
another run or none (``history record``/``forget`` of an unknown id, an empty ``history compare``, ``predict``'s
saved-as line, which printed the word URL)."""

from __future__ import annotations

import pytest
from service_helpers import PROFILE_FILE, TOKEN, auth, profile_data

from advisor.cli import remote
from advisor.service.client import Client

SERVER = "http://127.0.0.1"


@pytest.fixture
def remote_cli(app_client, monkeypatch, tmp_path):
    """invoke(*args) -> typer's Result for `advisor ARGS`, client mode going to the in-process app."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'local.db'}")
    monkeypatch.setenv("COLUMNS", "400")  # one line per sentence
    monkeypatch.setattr(remote, "client", lambda server: Client(server, TOKEN, transport=app_client._transport))
    app = build_app()
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


def _one_stored(app_client) -> None:
    """The server's history made, with one recommendation in it (a read of a history never saved to is refused)."""
    created = app_client.post("/v1/recommendations", headers=auth(),
                              json={"profile": profile_data(), "dataset_size": 20000, "epochs": 2})
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("command", [("record", 999_999, "--actual-seconds", "1h30"), ("forget", 999_999)])
def test_an_unknown_id_on_a_server_points_at_that_servers_list(app_client, remote_cli, command):
    _one_stored(app_client)
    result = remote_cli("history", *command, "--server", SERVER)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Fix: `advisor history list --server {SERVER}` shows the stored ids." in " ".join(result.output.split())


def test_an_empty_compare_on_a_server_says_to_record_there(app_client, remote_cli):
    _one_stored(app_client)
    result = remote_cli("history", "compare", "--server", SERVER)
    assert result.exit_code == 0, result.output
    assert (f"`advisor history record ID --actual-seconds S --server {SERVER}`"
            in " ".join(result.output.split()))


def test_a_prediction_saved_on_a_server_names_its_url(remote_cli):
    result = remote_cli("predict", "--profile", PROFILE_FILE, "--dataset-size", 20_000, "--epochs", 2,
                        "--gpu", "A100-80GB", "--server", SERVER)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"the server's history (`advisor history list --server {SERVER}`)" in flat
    assert "--server URL" not in flat


def test_a_hint_keeps_a_server_already_named_and_quotes_the_url_for_a_shell():
    from advisor.service.call_hints import on_server

    url = "http://host:8000/a b"
    assert on_server("Fix: `advisor history show 3 --server X` or `advisor history list`.", url) == (
        "Fix: `advisor history show 3 --server X` or `advisor history list --server 'http://host:8000/a b'`.")
    assert on_server(None, url) is None


@pytest.mark.parametrize(("command", "fixes"), [
    (("record", "p2", "--actual-seconds", "30"), ["`advisor history list --server {url}`'s recommendations"]),
    (("record", "abc", "--actual-seconds", "30"), ["`advisor history list --server {url}`'s recommendations"]),
    (("forget", "p2"), ["`advisor history list --server {url}`'s recommendations",
                        "`advisor history show ID --server {url}` lists its outcomes"]),
    (("forget", "abc"), ["`advisor history list --server {url}`'s recommendations"]),
    (("show", "abc"), ["`advisor history list --server {url}`, e.g. 12 or p3"])])
def test_a_bad_id_given_with_a_server_points_at_that_servers_list(remote_cli, command, fixes):
    """The fix for a pN or a word given to record/forget/show named the plain `advisor history list`, which lists
    this machine's history, whose ids are other runs."""
    url = "http://host:8000/a b"  # quoted for a shell, as the other fixes quote it
    result = remote_cli("history", *command, "--server", url)
    flat = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    for fix in fixes:
        assert fix.format(url="'http://host:8000/a b'") in flat, flat
    assert "`advisor history list`" not in flat and "`advisor history show ID`" not in flat
