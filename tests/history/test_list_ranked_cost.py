"""``advisor history list`` shows the cost a recommendation was ranked and chosen on: one ranked under --spot gave
its on-demand cost ($58.01) where the answer and its page said "$22.02 spot", 2.6x apart. ``--json`` keeps
``cost_usd`` (on demand) and adds ``spot_cost_usd``, ``interruptible`` and ``ranked_cost_usd``. The predicted job
has its 80% interval beside it, ``low`` and ``high`` in ``--json`` (the list gave the point alone)."""

from __future__ import annotations

import json

from history_helpers import candidate, recommendation
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.schemas import Constraints


def _saved(history, spot: bool) -> int:
    """A stored answer whose chosen 8 x A100 costs $58.01 on demand and $22.02 at its spot price, ranked on the
    spot one under ``spot``."""
    cands = [candidate(2, cost_usd=58.01, spot_cost_usd=22.02, interruptible=spot), candidate(4)]
    rec = recommendation("llama").model_copy(update={
        "chosen": cands[0], "candidates": cands, "constraints": Constraints(objective="cost", spot=spot)})
    return history.save_recommendation(rec)


def _listed() -> tuple[dict, str]:
    app = build_app()
    data = CliRunner().invoke(app, ["history", "list", "--json"])
    text = CliRunner().invoke(app, ["history", "list"], env={"COLUMNS": "200"})
    assert data.exit_code == 0 and text.exit_code == 0, (data.output, text.output)
    return json.loads(data.stdout)["entries"][0], text.stdout


def test_a_spot_ranked_answer_is_listed_at_its_spot_cost(history):
    _saved(history, spot=True)
    entry, text = _listed()
    assert entry["cost_usd"] == 58.01 and entry["spot_cost_usd"] == 22.02  # the on-demand field keeps its meaning
    assert entry["interruptible"] is True and entry["ranked_cost_usd"] == 22.02
    assert "$22.02 spot" in text and "$58.01" not in text


def test_an_on_demand_answer_is_listed_at_its_on_demand_cost(history):
    _saved(history, spot=False)
    entry, text = _listed()
    assert entry["interruptible"] is False and entry["ranked_cost_usd"] == 58.01 == entry["cost_usd"]
    assert "$58.01" in text and "spot" not in text


def test_the_predicted_job_is_listed_with_its_80_percent_interval(history):
    _saved(history, spot=False)  # the chosen job: 1200 s, 960-1500 s
    entry, text = _listed()
    assert (entry["predicted_seconds"], entry["low"], entry["high"]) == (1200.0, 960.0, 1500.0)
    assert "predicted job (80%)" in text and "20m00s (16m00s–25m00s)" in text
