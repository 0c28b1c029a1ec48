"""A model that cannot train on one sample (BatchNorm1d over (N, C) features: "Expected more than 1 value per
channel when training"), which the job never asks it to: advisor's own batch size 1 (B/8 of a batch of 8, the
pricing step, the last-resort point) failed the whole probe with "make the workload run at every batch size up to
the one you train with". The ladder now times nothing below the workload check's batch size (2) after such a
failure; an error at the user's own sizes is still the workload's."""

from __future__ import annotations

import time

import pytest
import torch
from probe_helpers import tiny_batch

from advisor.errors import WorkloadError
from advisor.probe.ladder import Ladder
from advisor.probe.measure import DeviceProbe, ProbeOptions
from advisor.probe.startup_clock import PartTime, StartupParts
from advisor.workload import Workload


class IdleMachine:
    """A machine nobody else uses (the CPU-load seam of advisor.probe.contention)."""

    def sample(self):
        return None


def batch_norm_model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
                               torch.nn.Linear(32, 4))


class SlowStep(torch.nn.Module):
    """BatchNorm1d whose step sleeps 0.1 s: a cold check of 1 s cannot vouch for B/8, so a pricing step comes first."""

    def __init__(self) -> None:
        super().__init__()
        self.net = batch_norm_model()

    def forward(self, x):
        time.sleep(0.1)
        return self.net(x)


def probe(model, batch_size: int, **options):
    opts = ProbeOptions(batch_size=batch_size, budget_seconds=3.0, threads=1, thread_scaling=False,
                        after_ladder=False, cpu_peak=False, **options)
    return DeviceProbe(Workload(model=model, make_batch=tiny_batch), "cpu", opts, load_source=IdleMachine()).run()


def test_batch_norm_at_a_batch_of_8_is_timed_from_2():
    prof = probe(batch_norm_model, 8)  # the automatic ladder was 1, 2, 4, 8: 1 raised
    assert [m.batch_size for m in prof.measurements] == [2, 4, 8]
    assert all(m.compute_seconds > 0 and not m.oom for m in prof.measurements)


def test_a_pricing_step_at_1_that_raises_prices_at_2():
    prof = probe(SlowStep, 64, startup_parts=StartupParts(check=PartTime(1.0, 1.0)))
    assert prof.measurements and min(m.batch_size for m in prof.measurements) >= 2
    assert 64 in {m.batch_size for m in prof.measurements} | {p.batch_size for p in prof.skipped}


def test_a_batch_of_1_that_the_user_trains_at_is_still_the_workloads_error():
    with pytest.raises(WorkloadError, match="at batch size 1"):
        probe(batch_norm_model, 1)
    with pytest.raises(WorkloadError, match="at batch size 1"):  # an explicit ladder is the user's sizes
        probe(batch_norm_model, 8, batch_sizes=[1, 8])


def test_the_ladder_floor():
    ladder = Ladder(8)
    assert ladder.queue == [1, 8, 2, 4]
    assert ladder.below_check_failed(1, 2, "e") and ladder.floor == 2 and ladder.queue == [2, 8, 4]
    assert not Ladder(8).below_check_failed(2, 2, "e")  # at the check's own size: the workload's error
    assert not Ladder(2).below_check_failed(1, 2, "e")  # below the user's 2 only by being below the check's: theirs
    assert not Ladder(8, [1, 8]).below_check_failed(1, 2, "e")
    floored = Ladder(1024, check=(2, 8.8))
    floored.below_check_failed(1, 2, "e")
    # The last-resort point is 2, not 1: 4 steps of 8.8 s fit half of 80 s.
    assert floored.next([], 80.0).batch_size == 2


def raising_at_one(error: type[Exception], message: str) -> type[torch.nn.Module]:
    """A model that raises ``error(message)`` at batch size 1 alone (not a BatchNorm's error): it must not pass
    unseen."""

    class RaisingAtOne(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(16, 4)

        def forward(self, x):
            if x.shape[0] == 1:
                raise error(message)
            return self.net(x)

    return RaisingAtOne


BugAtOne = raising_at_one(IndexError, "my_gather: index 3 is out of bounds for dimension 0 with size 1")
NulAtOne = raising_at_one(ValueError, "bad\x00size one")  # a message built from raw bytes


@pytest.mark.parametrize(("model", "raised"), [
    (batch_norm_model, "the training step raised ValueError: Expected more than 1 value per channel when training"),
    (BugAtOne, "the training step raised IndexError: my_gather: index 3 is out of bounds for dimension 0 with size 1"),
])
def test_a_step_that_raised_below_the_jobs_batch_is_told(model, raised):
    # The fallback (fab3344) was silent: `advisor profile w.py --batch-size 8 --json` of a model raising at 1
    # (a BatchNorm, or a bug) timed 2, 4, 8 and said nothing in the profile or its notes, though a real epoch
    # whose last batch holds one sample raises the same.
    from advisor.probe.device_notes import small_batch_notes
    from advisor.schemas import DeviceProfile

    prof = probe(model, 8)
    assert [m.batch_size for m in prof.measurements] == [2, 4, 8]
    failed = prof.small_batch_error
    assert (failed.batch_size, failed.timed_from) == (1, 2) and failed.error.startswith(raised)
    kept = DeviceProfile.model_validate_json(prof.model_dump_json())  # it crosses from the probe's child
    (note,) = small_batch_notes([kept])
    assert note.startswith("cpu: at batch size 1, which advisor's ladder tried below the batch size it profiled, "
                           f"{raised}")
    assert "the ladder timed from batch size 2 instead. A real epoch whose last batch holds 1 sample raises " in note
    assert "DataLoader(drop_last=True)" in note
    assert probe(batch_norm_model, 8, batch_sizes=[2, 8]).small_batch_error is None  # nothing raised: no note
    assert small_batch_notes([kept.model_copy(update={"small_batch_error": None})]) == []


def test_a_nul_in_the_error_below_the_jobs_batch_crosses_to_the_parent():
    # `advisor profile w.py --batch-size 8 --device cpu` of this model failed with "the probe failed unexpectedly:
    # ValidationError: 1 validation error for DeviceFrame profile.small_batch_error.error contains a NUL
    # character" and a traceback: the kept error went into the child's frame as raised; it is now shown as \x00
    from advisor.probe.frames import DeviceFrame

    prof = probe(NulAtOne, 8)
    assert [m.batch_size for m in prof.measurements] == [2, 4, 8]
    assert prof.small_batch_error.error == "the training step raised ValueError: bad\\x00size one"
    assert DeviceFrame(profile=prof).profile.small_batch_error.error.endswith("bad\\x00size one")
