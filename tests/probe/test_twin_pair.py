"""advisor.probe.twin.TwinPair: how the user's batch size is shared between the twins (no fork here: the twins
are stand-ins that record what they were asked; tests/probe/test_twin.py runs real ones)."""

from __future__ import annotations

import pytest

from advisor.probe.twin import SECOND_TWIN_STARTUP_SECONDS, SECOND_TWIN_STARTUP_SHARE, TwinPair
from advisor.schemas import DeviceProfile, Measurement


class _Stand:
    def __init__(self, samples, startup=0.2, dies=False):
        self.samples, self.startup, self.dies = samples, startup, dies
        self.asked: list[float] = []
        self.closed = False

    def measure(self, batch_size, budget_seconds, *, precision="fp32", threads=None, report=None, part=1.0,
                raise_priority=True):
        self.asked.append(budget_seconds)
        self.part = part
        self.raise_priority = raise_priority
        if report is not None:
            report(1.0, "done")
        if self.dies:
            return None
        m = Measurement(device="cpu", batch_size=batch_size, threads=2, compute_seconds=self.samples[0],
                        compute_seconds_samples=self.samples)
        return DeviceProfile(device="cpu", kind="cpu", name="cpu", measurements=[m], startup_seconds=self.startup)

    def close(self):
        self.closed = True


def test_the_first_twin_gets_half_the_seconds_the_second_what_is_left_and_their_steps_are_pooled():
    a, b = _Stand([0.010] * 4), _Stand([0.012] * 5)
    seen = []
    profile = TwinPair([a, b]).measure(64, 6.0, report=lambda f, text: seen.append(f), raise_priority=False)
    assert a.raise_priority is b.raise_priority is False  # the user's ADVISOR_PROBE_PRIORITY=normal reaches each
    assert a.asked == [3.0] and b.asked == [pytest.approx(6.0, abs=0.1)]  # the stand-in took no time
    assert a.part == b.part == 0.5  # each times half of what a lone process would (ProbeOptions.target_part)
    assert seen == [0.5, 1.0]  # the first twin's progress is the first half of the point's
    assert profile.measurements[0].process_samples == [4, 5]
    assert a.closed and b.closed


@pytest.mark.parametrize(("step_seconds", "startup_seconds"), [
    (0.01, max(SECOND_TWIN_STARTUP_SHARE * 6.0, SECOND_TWIN_STARTUP_SECONDS) + 0.1),  # another build: too dear
    (1.6, 0.1),  # a warm-up and two timed steps (6.4 s) would not fit the 6 s
])
def test_no_second_twin_where_it_costs_too_much(step_seconds, startup_seconds):
    a, b = _Stand([step_seconds] * 3, startup=startup_seconds), _Stand([step_seconds] * 3)
    profile = TwinPair([a, b]).measure(64, 6.0)
    assert b.asked == [] and b.closed
    assert profile.measurements[0].process_samples == []


@pytest.mark.parametrize("budget_seconds", [6.0, 20.0])
def test_a_second_twin_where_it_fits(budget_seconds):
    most = max(SECOND_TWIN_STARTUP_SHARE * budget_seconds, SECOND_TWIN_STARTUP_SECONDS)
    a, b = _Stand([1.4] * 3, startup=most - 0.1), _Stand([1.4] * 3)
    assert TwinPair([a, b]).measure(64, budget_seconds).measurements[0].process_samples == [3, 3]


@pytest.mark.parametrize("which", [0, 1])
def test_a_twin_that_dies_leaves_what_was_timed(which):
    twins = [_Stand([0.01] * 3), _Stand([0.01] * 3)]
    twins[which].dies = True
    profile = TwinPair(twins).measure(64, 4.0)
    if which == 0:
        assert profile is None and twins[1].asked == []  # the child times the point itself
    else:
        assert profile.measurements[0].compute_seconds_samples == [0.01] * 3
    assert all(t.closed for t in twins)
