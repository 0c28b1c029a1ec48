"""``--no-save`` stores nothing, and where no history exists yet it creates no database file either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.history.engine import sqlite_file_missing

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory) -> Path:
    from advisor import api

    prof = api.profile(EXAMPLES / "small_cnn.py", devices=[], batch_size=32)
    return api.save_profile(prof, tmp_path_factory.mktemp("profile") / "profile.json")


@pytest.mark.parametrize("command", [
    ("recommend", "--top", "2"),
    ("predict", "--gpu", "A100-80GB"),
])
def test_no_save_leaves_no_database_file_behind(profile_file, tmp_path, monkeypatch, command):
    database = tmp_path / "not-yet" / "history.db"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{database}")
    result = CliRunner().invoke(build_app(), [command[0], "--profile", str(profile_file), "--dataset-size", "5000",
                                              "--epochs", "1", "--batch-size", "32", *command[1:], "--json",
                                              "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["schema_version"] == 1
    assert not database.exists() and not database.parent.exists()


def test_saving_still_creates_the_database(profile_file, tmp_path, monkeypatch):
    database = tmp_path / "history.db"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{database}")
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(profile_file), "--dataset-size", "5000",
                                              "--epochs", "1", "--batch-size", "32", "--top", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == 1
    assert database.exists()


@pytest.mark.parametrize(("url", "missing"), [
    ("sqlite:///{tmp}/absent.db", True),
    ("sqlite:///{tmp}/present.db", False),
    ("sqlite://", False),
    ("sqlite:///:memory:", False),
    ("postgresql+psycopg2://postgres@127.0.0.1:5432/test", False),
    ("not a url", False),
])
def test_sqlite_file_missing(tmp_path, url, missing):
    (tmp_path / "present.db").write_bytes(b"")
    assert sqlite_file_missing(url.format(tmp=tmp_path)) is missing


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:",
                                 "sqlite:///file:db1?mode=memory&uri=true"])  # a URI filename with mode=memory
@pytest.mark.parametrize("command", [
    ("recommend", "--profile", "{profile}", "--dataset-size", "5000", "--epochs", "1", "--batch-size", "32",
     "--top", "2"),
    ("predict", "--profile", "{profile}", "--dataset-size", "5000", "--epochs", "1", "--batch-size", "32",
     "--gpu", "A100-80GB"),
    ("history", "list"), ("history", "show", "1"), ("history", "record", "1", "--actual-seconds", "60"),
    ("history", "export", "--format", "json"), ("db", "upgrade"),
])
def test_an_in_memory_database_is_refused_where_history_is_kept(profile_file, monkeypatch, url, command):
    """It would be gone when the command ends: "saved as history id 1", and then no such recommendation."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), [part.format(profile=profile_file) for part in command])
    assert result.exit_code == 1, result.output
    assert "is an in-memory database: it is gone when the command ends" in result.output
    assert "Fix: name a file" in result.output
    assert "saved as" not in result.output and "revision" not in result.output


def test_an_in_memory_database_is_taken_where_nothing_is_saved(profile_file, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", "sqlite://")
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(profile_file), "--dataset-size", "5000",
                                              "--epochs", "1", "--batch-size", "32", "--top", "2", "--json",
                                              "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] is None


@pytest.mark.parametrize(("url", "why"), [("postgress://postgres@127.0.0.1/advisor", "names 'postgress', which"),
                                          ("garbage", "The history database URL is not a database URL."),
                                          # a PostgreSQL server that is down: said "is unavailable." with no cause
                                          ("postgresql://postgres@127.0.0.1:1/x", "The history database is "
                                           "unavailable: its server refused the connection (is it running?).")])
@pytest.mark.parametrize("command", [
    ("recommend", "--top", "2"),
    ("predict", "--gpu", "A100-80GB"),
])
def test_no_save_with_a_mistyped_database_url_says_the_correction_was_not_applied(profile_file, monkeypatch, url,
                                                                                   why, command):
    """Without the note the learned correction vanished silently and the answer differed without a word. The note
    says why without the URL itself: it may reach a pull-request comment (--format markdown)."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), [command[0], "--profile", str(profile_file), "--dataset-size", "5000",
                                              "--epochs", "1", "--batch-size", "32", *command[1:], "--json",
                                              "--no-save"])
    assert result.exit_code == 0, result.output
    notes = [n for n in json.loads(result.output)["notes"] if n.startswith("the history correction was not applied")]
    assert len(notes) == 1, notes
    assert why in notes[0] and "127.0.0.1" not in notes[0], notes


def test_no_history_asked_for_gives_no_note_about_a_mistyped_url(profile_file, monkeypatch):
    from advisor import api

    monkeypatch.setenv("ADVISOR_DATABASE_URL", "garbage")
    est = api.predict(profile_file, dataset_size=5000, epochs=1, batch_size=32, target="A100-80GB",
                      use_history=False, save=False)
    assert not any("history correction" in n for n in est.notes)


@pytest.fixture
def no_home(monkeypatch):
    """HOME empty, no XDG_DATA_HOME and no passwd entry for this user (a container run with --user N, env -i):
    platformdirs cannot say where the default history goes."""
    import pwd

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in ("ADVISOR_DATABASE_URL", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(pwd, "getpwuid", no_entry)


@pytest.mark.parametrize("command", [
    ("recommend", "--top", "2"),
    ("predict", "--gpu", "A100-80GB"),
])
def test_no_save_needs_no_home_folder(profile_file, no_home, command):
    """It was platformdirs' RuntimeError traceback, though --no-save keeps no history."""
    result = CliRunner().invoke(build_app(), [command[0], "--profile", str(profile_file), "--dataset-size", "5000",
                                              "--epochs", "1", "--batch-size", "32", *command[1:], "--json",
                                              "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["schema_version"] == 1


@pytest.mark.parametrize("command", [
    ("recommend", "--profile", "PROFILE", "--dataset-size", "5000", "--epochs", "1", "--json"),
    ("history", "list", "--json"),
])
def test_no_home_folder_for_the_default_history_is_one_message(profile_file, no_home, command):
    args = [str(profile_file) if a == "PROFILE" else a for a in command]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "HistoryError"
    assert error["message"].startswith("The default history database has no folder: HOME is unset, empty or not an "
                                       "absolute path")
    assert "set XDG_DATA_HOME or ADVISOR_DATABASE_URL" in error["hint"] and "--no-save" in error["hint"]
