"""A what-if under a deadline or budget ("Could be better") whose best is at risk at the slow end of its estimate:
the safe best under the same flag where it beats the choice too, else the line carries the risk, as Best value does.
It used to name the riskier machine with no mark, beside an at-risk choice the verdict warned of."""

from __future__ import annotations

import pytest

from advisor.errors import NoFeasibleCandidateError
from advisor.schemas import Constraints
from tests.test_ranking import estimates, run

DEADLINE = Constraints(deadline_seconds=4000.0)  # the choice, the A100: 3300 s total, at most 3900 s


def _line(rec):
    return next(a for a in rec.advice if a.startswith("with --batch-size 64: "))


def test_the_safe_best_of_the_flag_is_named_where_the_cheapest_is_at_risk():
    # the T4: 3300 s total, $0.67, but 4800 s at the slow end; the A100: 2300 s, $1.27, at most 2700 s
    alt = estimates(t4=3000.0, a100=2000.0, spread=0.5)
    rec = run(DEADLINE, alternatives={"--batch-size 64": alt})
    assert rec.chosen.instance_type == "gpu_1x_a100" and rec.status == "ok"
    assert _line(rec) == ("with --batch-size 64: 1 x A100-40GB (lambda gpu_1x_a100), 38m20s total, $1.27 instead of "
                          "55m00s, $1.82; safe even at its slow end (at most 45m00s)")


def test_the_slow_end_that_decides_safe_includes_the_start_up():
    # the T4: 3,750 s at the slow end of its job, under the 4,000 s deadline alone, but 4,050 s with its 300 s
    # start-up: at risk, so the A100 is the safe best of the flag (not the T4 "safe ... at most 1h08m")
    alt = estimates(t4=3000.0, a100=2000.0, spread=0.25)
    rec = run(DEADLINE, alternatives={"--batch-size 64": alt})
    assert _line(rec) == ("with --batch-size 64: 1 x A100-40GB (lambda gpu_1x_a100), 38m20s total, $1.27 instead of "
                          "55m00s, $1.82; safe even at its slow end (at most 45m00s)")


def test_an_at_risk_what_if_says_so_where_no_safe_one_beats_the_choice():
    alt = estimates(t4=3000.0, spread=0.5)  # the A100 as under no flag: not 10% better
    rec = run(DEADLINE, alternatives={"--batch-size 64": alt})
    line = _line(rec)
    assert line.startswith("with --batch-size 64: 1 x T4 (gcp n1-standard-8+1xT4), 55m00s total, $0.67 instead of")
    assert line.endswith("; at risk: at the slow end of its estimate it misses the 1h06m40s deadline by 13m20s")


def test_a_budget_at_risk_is_said_with_the_slow_ends_cost():
    """Nothing meets a $0.90 budget; with the flag the T4 does ($0.67), but costs $0.97 at its slow end."""
    alt = estimates(t4=3000.0, a100=2000.0, spread=0.5)
    with pytest.raises(NoFeasibleCandidateError) as caught:
        run(Constraints(budget_usd=0.9), alternatives={"--batch-size 64": alt})
    assert _line(caught.value.recommendation) == (
        "with --batch-size 64: 1 x T4 (gcp n1-standard-8+1xT4), 55m00s total, $0.67 meets the constraints; at risk: "
        "at the slow end of its estimate it costs $0.97, over the $0.90 budget")


def test_without_a_deadline_or_budget_nothing_is_added():
    alt = estimates(t4=3000.0, spread=0.5)
    rec = run(Constraints(), alternatives={"--batch-size 64": alt})
    assert _line(rec).endswith("instead of 55m00s, $1.82")
