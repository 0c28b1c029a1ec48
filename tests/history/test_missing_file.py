"""A SQLite history file that is named but does not exist: a read is refused (a mistyped path is not an empty
history, and leaves no file or folder behind); a write creates it, and ``advisor.recommend`` saves on first use."""

from __future__ import annotations

from pathlib import Path

import pytest
from history_helpers import recommendation

import advisor
from advisor import api
from advisor.errors import HistoryError
from advisor.history.outcomes import forget
from advisor.history.repository import History
from advisor.settings import Settings

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.mark.parametrize("read", [lambda h: h.list(), lambda h: h.show(1), lambda h: h.compare(),
                                  lambda h: h.export("json")])
def test_a_read_of_a_named_file_that_does_not_exist_is_refused_and_creates_nothing(tmp_path, read):
    url = f"sqlite:///{tmp_path}/typo/dir/x.db"
    with History(url) as hist, pytest.raises(HistoryError) as err:
        read(hist)
    assert err.value.message == f"No history at {url}: the file does not exist, so nothing was ever stored there."
    assert "a first save creates the file" in err.value.hint
    assert not (tmp_path / "typo").exists()  # neither the file nor its folders


def test_the_setting_names_a_file_too(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path}/missing.db")
    with History() as hist, pytest.raises(HistoryError, match="No history at"):
        hist.list()
    assert list(tmp_path.iterdir()) == []


def test_a_write_creates_the_file_and_its_folders_then_reads_find_it(tmp_path):
    url = f"sqlite:///{tmp_path}/new/dir/h.db"
    with History(url) as hist:
        rec_id = hist.save_recommendation(recommendation("resnet", chosen=0))
        assert [e.id for e in hist.list()] == [rec_id]
    assert (tmp_path / "new" / "dir" / "h.db").is_file()
    with History(url) as again:
        assert again.show(rec_id).recommendation.id == rec_id


def test_recommend_saves_to_a_named_file_on_first_use(tmp_path):
    # recommend reads the stored runs (the learned correction) before it saves: that read must not be refused.
    settings = Settings(database_url=f"sqlite:///{tmp_path}/first/h.db")
    rec = advisor.recommend(str(PROFILE), dataset_size=20000, epochs=1, settings=settings)
    assert rec.id == 1
    with History(settings=settings) as hist:
        assert [e.id for e in hist.list()] == [1]


@pytest.mark.parametrize("args", [["record", "1", "--actual-seconds", "3"], ["forget", "1"],
                                  ["record", "1", "--actual-seconds", "3", "--json"]])
def test_record_and_forget_of_a_named_file_that_does_not_exist_create_nothing(tmp_path, monkeypatch, args):
    """They made the folder and an empty history, said "No recommendation 1", and `history list` then answered
    "nothing stored yet" (exit 0) instead of "No history at URL"."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    url = f"sqlite:///{tmp_path}/typo/hist.db"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    result = CliRunner().invoke(build_app(), ["history", *args])
    assert result.exit_code == 1, result.output
    assert f"No history at {url}: the file does not exist" in result.output
    assert "No recommendation" not in result.output and "Traceback" not in result.output
    if "--json" in args:
        assert '"type": "HistoryError"' in result.stdout
    assert not (tmp_path / "typo").exists()  # neither the file nor its folder
    listed = CliRunner().invoke(build_app(), ["history", "list"])
    assert listed.exit_code == 1 and "No history at" in listed.output


@pytest.mark.parametrize("write", [lambda h: h.record_outcome(1, 5.0),
                                   lambda h: h.record_outcome(1, 5.0, status="failed"),
                                   lambda h: forget(h, 1)])
def test_an_outcome_written_to_a_named_file_that_does_not_exist_is_refused(tmp_path, write):
    url = f"sqlite:///{tmp_path}/typo/x.db"
    with History(url) as hist, pytest.raises(HistoryError) as err:
        write(hist)
    assert err.value.message == f"No history at {url}: the file does not exist, so nothing was ever stored there."
    assert not (tmp_path / "typo").exists()


def test_the_api_record_outcome_creates_nothing(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/typo/x.db")
    with pytest.raises(HistoryError, match="No history at"):
        api.record_outcome(1, "1h30", settings=settings)
    assert list(tmp_path.iterdir()) == []
