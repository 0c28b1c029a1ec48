"""``advisor serve`` without tokens tells the operator that loopback is not one user: on a machine several people
use, each of them can read the history and record or forget outcomes (it said only "on this machine only")."""

from __future__ import annotations

import pytest
from service_helpers import free_port

from advisor.service.config import ServiceConfig
from advisor.service.server import check
from advisor.settings import Settings


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_without_tokens_the_note_says_every_local_user_gets_in(tmp_path, host):
    config = ServiceConfig(tokens=(), host=host, port=free_port(),
                           settings=Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    checked, notes = check(config)
    assert checked.host == "127.0.0.1"
    [note] = notes
    assert "Every user and program on this machine can read the history and record or forget outcomes" in note
    assert note.endswith("on a machine shared by several people, set ADVISOR_API_TOKENS.")
