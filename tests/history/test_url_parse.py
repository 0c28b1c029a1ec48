"""A history URL's database part means the same file on SQLAlchemy 2.0 as on 2.1 (advisor.history.url_parse).

SQLAlchemy 2.0 keeps a URL's database part as written where 2.1 percent-decodes it. These tests run under the
installed SQLAlchemy and, where that is 2.1, once more under 2.0's reading: ``sqlalchemy.engine.url._parse_url``
fed the text with each ``%`` encoded, which 2.1 then decodes back to the text as written, as 2.0 leaves it (for URLs
whose only ``%`` are in the database part, as here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy.engine.url as sa_url

from advisor.history.repository import History
from advisor.history.url_parse import decodes_database, parse_url
from advisor.settings import Settings


@pytest.fixture(params=["installed", "2.0"])
def reading(request, monkeypatch):
    """The installed SQLAlchemy's reading of a URL, or 2.0's (simulated where 2.1 is installed)."""
    if request.param == "2.0":
        if not decodes_database():
            pytest.skip("SQLAlchemy 2.0 is installed: the 'installed' case is 2.0's reading")
        real = sa_url._parse_url
        monkeypatch.setattr(sa_url, "_parse_url", lambda raw, **kw: real(raw.replace("%", "%25"), **kw))
        assert not decodes_database()
    return request.param


@pytest.mark.parametrize("folder", ["data%41b", "data?x=1"])
def test_the_default_history_is_in_the_data_folder_on_either_sqlalchemy(tmp_path, monkeypatch, reading, folder):
    """On SQLAlchemy 2.0 the default history of XDG_DATA_HOME=.../data%41b went to a new folder "data%2541b", and
    one of .../data?x=1 to "data%3Fx=1": the default URL is encoded for 2.1's reading."""
    if sys.platform != "linux":
        pytest.skip("the default history follows XDG_DATA_HOME on Linux only")
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / folder))
    with History(settings=Settings.from_env()) as hist:
        hist.create()
        assert hist.list() == []
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("history.db")] == [Path(folder, "advisor", "history.db")]


def test_a_given_url_names_one_file_on_either_sqlalchemy(tmp_path, reading):
    """``%25`` and ``%3F`` in a SQLite URL's path are "%" and "?" on 2.0 too (2.0 made files named "a%25b%3Fc")."""
    url = f"sqlite:///{tmp_path}/a%25b%3Fc/history.db"
    with History(url) as hist:
        hist.create()
        assert hist.list() == []
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("history.db")] == [Path("a%b?c", "history.db")]


def test_parse_url_decodes_the_database_part_only_once(reading):
    """A URL's database part is decoded once, as 2.1 does: "%2541" is "%41", not "A"; a server URL's too."""
    assert parse_url("sqlite:////tmp/a%2541b.db").database == "/tmp/a%41b.db"
    assert parse_url("postgresql+psycopg2://u@h/my%20db?connect_timeout=3").database == "my db"
    assert parse_url("sqlite://").database is None
