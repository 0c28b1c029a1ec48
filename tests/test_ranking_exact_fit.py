"""The ranking's memory check agrees with the predictor's on an exact fit (``schemas.base.within_capacity``): a
peak of 8.000000000000002 GiB (0.3 + 1.1 x (4 + 30 x 0.1), float rounding) on an 8 GiB GPU fits, and the offer
is ranked, not dropped for needing "8.000 GiB" of "8.000"."""

from __future__ import annotations

from test_ranking import T4, estimates, names, run


def test_an_exact_fit_is_ranked_not_dropped():
    rec = run(ests=estimates(peak=0.3 + 1.1 * (4 + 30 * 0.1), capacity=8.0))
    assert 0.3 + 1.1 * (4 + 30 * 0.1) > 8.0
    assert T4.instance_type in names(rec.candidates)
    assert T4.instance_type not in names(rec.excluded)


def test_a_peak_past_the_tolerance_is_still_dropped():
    rec = run(ests=estimates(peak=8.1, capacity=8.0))
    assert T4.instance_type not in names(rec.candidates)
    assert [c.reason for c in rec.excluded if c.instance_type == T4.instance_type] == [
        "needs 8.1 GiB per GPU, has 8.0 usable (16 GB on the datasheet)"]
