"""``advisor profile``'s summary of a device that timed no batch size: the ladder's points it priced and did not
time, and why, instead of an empty table (nanoGPT's GPT-2 on this 2-core VM at --probe-seconds 5)."""

from __future__ import annotations

from advisor.cli.render import profile_summary
from advisor.schemas import DeviceProfile, Profile, WorkloadInfo
from advisor.schemas.profile import SkippedPoint


def test_a_device_that_timed_nothing_lists_what_it_priced_and_says_why(capsys):
    dev = DeviceProfile(device="cpu", kind="cpu", name="Test CPU", budget_seconds=2.0, skipped=[
        SkippedPoint(batch_size=12, step_seconds=58.6, priced_from="first step"),
        SkippedPoint(batch_size=24, step_seconds=117.2, priced_from="first step")])
    profile_summary(Profile(workload=WorkloadInfo(name="gpt2"), devices=[dev]))
    text = " ".join(capsys.readouterr().out.split())  # the table and the lines as words, whatever the width
    assert "not timed: ~58.6s a step" in text and "not timed: ~1m57s a step" in text
    assert ("cpu: no batch size fitted the probe's budget of 2 s (its warm-up and two steps, priced from the first "
            "step): nothing here prices it. A longer --probe-seconds times it.") in text


def test_a_floor_under_a_microsecond_reads_without_two_comparators(capsys):
    # A tiny model's step priced from its analysis (a floor) read "not timed: ><0.001ms a step".
    dev = DeviceProfile(device="cpu", kind="cpu", name="Test CPU", budget_seconds=2.0, skipped=[
        SkippedPoint(batch_size=1, step_seconds=1.8e-10, priced_from="analysis"),
        SkippedPoint(batch_size=2, step_seconds=0.012, priced_from="analysis")])
    profile_summary(Profile(workload=WorkloadInfo(name="tiny"), devices=[dev]))
    text = " ".join(capsys.readouterr().out.split())
    assert "not timed: <0.001ms a step (its floor)" in text and "not timed: >12ms a step" in text
    assert "><" not in text
