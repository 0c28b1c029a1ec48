"""The view flags of ``advisor recommend`` under every output: ``--all --json`` carries every ranked candidate, as
the ``--all`` table lists them (it carried the first ``--top``, while README says ``--json`` carries the same
content); ``--show-skipped`` says so where no offer was skipped (it printed nothing, and the flag seemed unread)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
BASE = ["recommend", "--profile", str(PROFILE), "--no-save"]


def test_all_with_json_carries_every_ranked_candidate_as_the_table_lists_them(app, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    every = json.loads(run(app, *BASE, "--all", "--json").stdout)
    top = json.loads(run(app, *BASE, "--json").stdout)
    ranked = sum(g["count"] for g in every["groups"])
    assert len(top["candidates"]) == top["constraints"]["top"] < ranked
    assert len(every["candidates"]) == ranked
    assert every["candidates"][0] == every["chosen"] == top["chosen"]
    assert [c["instance_type"] for c in every["candidates"][:len(top["candidates"])]] == [
        c["instance_type"] for c in top["candidates"]]
    table = run(app, *BASE, "--all").stdout
    assert f"All {ranked} candidates" in table


def test_show_skipped_says_so_when_no_offer_was_skipped(app, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    data = json.loads(run(app, *BASE, "--json", "--top", 1).stdout)
    assert data["skipped"] == []  # this profile fits every offer of the shipped catalog
    said = "No offer was skipped: every offer considered got an estimate."
    text = run(app, *BASE, "--show-skipped", "--top", 1)
    assert text.exit_code == 0 and said in text.stdout
    assert said not in run(app, *BASE, "--top", 1).stdout
    markdown = run(app, *BASE, "--show-skipped", "--top", 1, "--format", "markdown").stdout
    assert f"- {said}" in markdown
