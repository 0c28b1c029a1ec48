"""A plain path's URL with SQLite URI options (``?mode=ro``) is refused with the URI-filename URL to use instead
(advisor.history.engine), and that URL, used as given, opens the same file."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest

from advisor.errors import HistoryError
from advisor.history.engine import create_history_engine
from advisor.history.repository import History


@pytest.mark.parametrize("folder", ["d%41", "d?x=1", "d#e"])
def test_the_hints_url_opens_a_history_whose_path_holds_a_percent_question_mark_or_hash(tmp_path, _migrated_sqlite,
                                                                                        folder):
    """For .../d%41/h.db?mode=ro the hint said sqlite:///file:.../d%41/h.db?mode=ro&uri=true, which SQLAlchemy reads
    as "d%41" and SQLite's URI then as "dA": "unable to open database file"; a "?" became URI options, a "#" a
    fragment."""
    path = tmp_path / folder / "h.db"
    path.parent.mkdir()
    shutil.copyfile(_migrated_sqlite, path)
    with pytest.raises(HistoryError) as caught:
        create_history_engine(f"sqlite:///{quote(str(path), safe='/')}?mode=ro")
    hint = caught.value.hint
    url = hint.split("write the path as a URI filename: ", 1)[1].split(" (or leave", 1)[0]
    assert url.startswith("sqlite:///file:/") and url.endswith("/h.db?mode=ro&uri=true"), url
    with History(url) as hist:
        assert hist.list() == []
    assert sorted(p.name for p in tmp_path.rglob("*") if not p.name.startswith("h.db-")) == sorted([folder, "h.db"])
