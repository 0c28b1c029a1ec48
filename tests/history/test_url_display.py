"""No piece of a database password is ever shown, however it was pasted into ADVISOR_DATABASE_URL.

Each password is made of distinct tokens (Zq7, Kx9, ...) joined by the characters that break a URL's grammar
(@ : / % # ? and a space), so that a piece of it left in a message (SQLAlchemy took "Kx9" for the host, say) is
found wherever it lands: the error on stderr, the ``--json`` error document, a ``--no-save`` note, the markdown.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import HistoryError
from advisor.history.engine import create_history_engine
from advisor.history.repository import History
from advisor.history.url_display import display_url, masked, scrubbed, shown

TOKENS = ("Zq7", "Kx9", "Wv3", "Jm5", "Ty8", "Hb2", "Pn4")
PASSWORDS = ["Zq7@Kx9", "Zq7/Kx9", "Zq7:Kx9/Wv3", "Zq7@Kx9/Wv3@Jm5", "Zq7@Kx9:Wv3/Jm5%Ty8#Hb2?Pn4", "Zq7?Kx9@Wv3",
             "Zq7#Kx9@Wv3", "Zq7 Kx9@@Wv3", "@Zq7", "Zq7@", "Zq7/", "Zq7@Kx9?a=b", "Zq7@Kx9 32"]
PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def no_token(text: str) -> None:
    found = [t for t in TOKENS if t in text]
    assert not found, (found, text)


def url_with(password: str, port: int) -> str:
    return f"postgresql+psycopg2://aud:{password}@127.0.0.1:{port}/adv?connect_timeout=2"


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_url_with_an_unencoded_password_is_never_shown_with_a_piece_of_it(password):
    port = free_port()  # nothing listens there: a URL that gets as far as connecting fails, with the driver's words
    url = url_with(password, port)
    no_token(shown(url))
    no_token(masked(url))
    with pytest.raises(HistoryError) as err:
        with History(url) as hist:
            hist.list()
    no_token(str(err.value))
    no_token(err.value.public or "")
    assert "aud:***@127.0.0.1" in err.value.message or "aud:***@" in err.value.message, err.value.message


@pytest.mark.parametrize("password", ["Zq7@Kx9/Wv3@Jm5", "Zq7@Kx9:Wv3/Jm5%Ty8#Hb2?Pn4", "Zq7/Kx9@ 32"])
def test_the_url_that_splits_is_refused_before_any_connection_and_says_to_percent_encode(password):
    with pytest.raises(HistoryError) as err:
        create_history_engine(url_with(password, 5432))
    message = err.value.message + " " + (err.value.hint or "")
    assert "percent-encoded (%40 %3A %2F %25 %23 %3F)" in message, message
    assert err.value.public is not None and "percent-encoded" in err.value.public
    no_token(str(err.value))


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql+psycopg2://aud:Zq7/Kx9@db.example:54 32/adv", "postgresql+psycopg2://aud:***@db.example:54 32/adv"),
    ("postgresql+psycopg2://aud:Zq7@Kx9/Wv3@127.0.0.1:55432/adv", "postgresql+psycopg2://aud:***@127.0.0.1:55432/adv"),
    ("postgresql+psycopg2://a/Zq7:Kx9@127.0.0.1/adv", "postgresql+psycopg2://***@127.0.0.1/adv"),  # "/" in the user
    ("postgresql://aud@127.0.0.1/adv", "postgresql://aud@127.0.0.1/adv"),  # no password: nothing hidden
    ("postgresql://aud:pw@h/adv?password=Zq7&sslmode=require", "postgresql://aud:***@h/adv?password=***&sslmode=require"),
    ("sqlite:////tmp/a@b/h.db", "sqlite:////tmp/a@b/h.db"),  # a path may hold an @
    ("sqlite:///file:/tmp/ro/h.db?mode=ro&uri=true", "sqlite:///file:/tmp/ro/h.db?mode=ro&uri=true"),  # as written
])
def test_masked_and_shown_hide_the_user_info_up_to_the_last_at(url, expected):
    assert masked(url) == expected
    assert shown(url) == expected.replace("password=***", "password=%2A%2A%2A")  # as SQLAlchemy renders a parsed one


def test_a_driver_message_is_scrubbed_of_the_password_and_any_url_it_quotes():
    url = make_url("postgresql+psycopg2://aud:" + quote("Zq7@Kx9/Wv3", safe="") + "@127.0.0.1/adv")
    assert url.password == "Zq7@Kx9/Wv3"
    for message in ['invalid dsn: user=aud password=Zq7@Kx9/Wv3 host=127.0.0.1',
                    "invalid dsn: password='Zq7 Kx9\\' Wv3' dbname=adv",
                    'could not connect to "postgresql://aud:Zq7@Kx9/Wv3@127.0.0.1/adv": refused',
                    'bad value Zq7%40Kx9%2FWv3 and "Zq7@Kx9/Wv3" here']:
        no_token(scrubbed(message, url))
    assert scrubbed('could not translate host name "db.example" to address', url) == \
        'could not translate host name "db.example" to address'  # nothing else is touched


def test_a_parsed_url_that_sqlalchemy_split_in_the_wrong_place_shows_only_its_scheme():
    url = make_url("postgresql+psycopg2://aud:Zq7@Kx9@127.0.0.1:5432/adv")
    assert url.host == "Kx9@127.0.0.1"  # how SQLAlchemy reads it
    assert display_url(url) == "postgresql+psycopg2://***"


def test_an_encoded_or_a_slash_only_password_still_works(postgres_url):
    # The shared test server trusts every connection, so any password is accepted: these are the URLs that reach it.
    for password in (quote("Zq7@Kx9:Wv3/Jm5%Ty8#Hb2?Pn4", safe=""), "Zq7/Kx9:Wv3"):
        url = postgres_url.replace("postgresql+psycopg2://postgres@", f"postgresql+psycopg2://postgres:{password}@")
        with History(url) as hist:
            assert hist.list() == []
            no_token(repr(hist))


@pytest.mark.parametrize("password", ["Zq7/Kx9@Wv3", "Zq7@Kx9/Wv3@Jm5", "Zq7@Kx9:Wv3/Jm5%Ty8#Hb2?Pn4", "Zq7:Kx9/Wv3"])
def test_the_cli_shows_no_piece_of_the_password_in_errors_json_or_markdown_notes(monkeypatch, password):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url_with(password, free_port()))
    runner = CliRunner()
    listed = runner.invoke(build_app(), ["history", "list", "--json"])
    assert listed.exit_code == 1, listed.output
    no_token(listed.output)
    error = json.loads(listed.stdout)["error"]
    assert error["type"] in ("HistoryError", "DatabaseUnavailableError") and "aud:***@" in error["message"]
    upgraded = runner.invoke(build_app(), ["db", "upgrade", "--json"])
    assert upgraded.exit_code == 1 and "aud:***@" in upgraded.output
    no_token(upgraded.output)
    answer = runner.invoke(build_app(), ["recommend", "--profile", str(PROFILE), "--dataset-size", "5000", "--epochs",
                                         "1", "--batch-size", "64", "--top", "2", "--no-save", "--format", "markdown"])
    assert answer.exit_code == 0, answer.output
    notes = [line for line in answer.stdout.splitlines() if "history correction was not applied" in line]
    assert len(notes) == 1 and re.search(r"applied: The history (database|database URL) ", notes[0]), notes
    no_token(answer.output)
