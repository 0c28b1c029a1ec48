"""A busy probe takes the parallel fraction an earlier free probe of the same workload measured on the same
machine (SQLite and PostgreSQL), and the predictor scales with it and says so."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from history_helpers import profile

import advisor
from advisor.history.remembered import needs_scaling, remember_scaling
from advisor.predictor.cpu_scaling import BUSY_PARALLEL_FRACTION, amdahl_fraction, at_device_threads
from advisor.schemas import Profile, RememberedScaling, ThreadPoint

QUIET = {"others_cpu_cores": 0.02, "steal_fraction": 0.0}  # a current probe's contention fields, free machine


def free(t1: float = 0.40, t2: float = 0.26, *, minutes: int = 0, contention: dict | None = QUIET,
         **host) -> Profile:
    """A probe on a free machine: steps on its 2 threads, and the step at 1 vs 2 threads (p = 2 (1 - t2 / t1)).
    ``contention``: each step's contention fields (None: none, as an advisor before them stored)."""
    prof = profile()
    steps = [m.model_copy(update=contention or {}) for m in prof.devices[0].measurements]
    dev = prof.devices[0].model_copy(update={"measurements": steps, "thread_scaling": [
        ThreadPoint(threads=1, batch_size=32, compute_seconds=t1),
        ThreadPoint(threads=2, batch_size=32, compute_seconds=t2)]})
    update = {"devices": [dev], "created_at": prof.created_at + timedelta(minutes=minutes)}
    if host:
        update["host"] = prof.host.model_copy(update=host)
    return prof.model_copy(update=update)


def busy(**device) -> Profile:
    """A probe on a busy machine: every step timed on 1 of the CPU's 2 threads, no thread scaling."""
    prof = profile()
    dev = prof.devices[0]
    steps = [m.model_copy(update={"threads": 1, "compute_seconds": 2 * m.compute_seconds,
                                  "compute_seconds_samples": [2 * m.compute_seconds] * 3}) for m in dev.measurements]
    dev = dev.model_copy(update={"measurements": steps, **device})
    return prof.model_copy(update={"devices": [dev], "created_at": datetime(2026, 12, 1, 3, tzinfo=timezone.utc)})


def test_a_busy_probe_takes_the_newest_free_probe_of_the_same_workload_here(history):
    older = history.save_profile(free(0.40, 0.30))  # p = 0.5
    newer = history.save_profile(free(0.40, 0.26, minutes=5))  # p = 0.7
    history.save_profile(busy())  # a busy probe stored since: no thread scaling, not a source
    assert needs_scaling(busy().devices[0]) and not needs_scaling(free().devices[0])
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == newer != older
    assert got.parallel_fraction == pytest.approx(0.7, abs=1e-9)
    assert got.probed_at == free(minutes=5).created_at


def test_a_curve_from_an_advisor_before_contention_fields_is_not_taken_as_measured_free(history):
    """Old advisors timed the thread scaling on busy machines too and stored no contention fields (the audit's
    h1.db: 0.023 s on 1 thread, 0.707 s on 2, fit clipped to p = 0): such a curve is never reused, even a
    plausible one; the newest current profile's is (the old one is newer here)."""
    current = history.save_profile(free(0.40, 0.28))  # p = 0.6
    history.save_profile(free(0.0233, 0.707, minutes=5, contention=None))
    history.save_profile(free(0.40, 0.22, minutes=10, contention=None))  # plausible (p = 0.9), still unproven
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == current
    assert got.parallel_fraction == pytest.approx(0.6, abs=1e-9)


@pytest.mark.parametrize("case", ["old", "busy", "slower", "slower_at_4"])
def test_a_curve_not_measured_free_or_slower_on_more_threads_is_not_reused(history, case):
    if case == "old":  # the audit's stored busy curve, as an advisor before contention fields kept it
        prof = free(0.0233, 0.707, contention=None)
    elif case == "busy":  # a step timed while other programs used a core
        prof = free(contention={"others_cpu_cores": 0.9, "steal_fraction": 0.0})
    elif case == "slower":  # more threads, a step 2x slower: other programs, not the workload
        prof = free(0.30, 0.60)
    else:
        prof = free()
        points = [ThreadPoint(threads=t, batch_size=32, compute_seconds=s) for t, s in ((1, 0.4), (2, 0.3), (4, 0.5))]
        prof = prof.model_copy(update={"devices": [prof.devices[0].model_copy(
            update={"threads": 4, "thread_scaling": points})]})
    history.save_profile(prof)
    probe = busy(threads=prof.devices[0].threads)
    assert needs_scaling(probe.devices[0])
    assert remember_scaling(probe, history).devices[0].remembered_scaling is None


def test_a_small_slowdown_on_more_threads_measured_free_is_the_workloads_own(history):
    """A free probe whose second thread cost the step 10% (a small model's threads): that is how it scales, a
    parallel fraction of 0, and a busy probe of it uses that rather than the assumed 0.8 (which would price its two
    threads 1.67x faster than one)."""
    history.save_profile(free(0.30, 0.33))
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.parallel_fraction == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("differs", ["host", "cpu", "threads", "file"])
def test_nothing_is_remembered_from_another_machine_cpu_thread_count_or_file(history, differs):
    if differs == "host":
        history.save_profile(free(hostname="laptop"))
    elif differs == "file":
        other = free()
        history.save_profile(other.model_copy(update={"workload": other.workload.model_copy(
            update={"file_sha256": "e" * 64})}))
    else:
        prof = free()
        change = {"cpu": {"name": "EPYC"}, "threads": {"threads": 4}}[differs]
        history.save_profile(prof.model_copy(update={"devices": [prof.devices[0].model_copy(update=change)]}))
    out = remember_scaling(busy(), history)
    assert out.devices[0].remembered_scaling is None


def with_model(prof: Profile, **figures) -> Profile:
    """``prof`` of another model (or one without its FLOPs): the same file name and hash, other figures."""
    return prof.model_copy(update={"workload": prof.workload.model_copy(update=figures)})


@pytest.mark.parametrize("figures", [{"param_count": 21_004}, {"flops_per_sample": 8.8e4}, {"param_count": None}])
def test_nothing_is_remembered_from_another_model_of_the_same_file(history, figures):
    """The audit's case: train.py unchanged (one name and file hash), model.py beside it swapped for a larger Net,
    so the newest free probe is of the old model. A busy probe of the new one assumes the fraction rather than take
    the old model's; the newest free probe of its own model, older than the other, is taken."""
    own = history.save_profile(free(0.40, 0.30))  # p = 0.5
    history.save_profile(with_model(free(0.40, 0.22, minutes=5), **figures))  # p = 0.9, another model (or unknown)
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == own
    assert got.parallel_fraction == pytest.approx(0.5, abs=1e-9)
    assert remember_scaling(with_model(busy(), param_count=99), history).devices[0].remembered_scaling is None


def test_a_probe_without_flops_is_compared_by_its_parameter_count(history):
    """A probe without the shape analysis has no FLOPs per sample: its parameter count alone tells its model."""
    stored = history.save_profile(with_model(free(), flops_per_sample=None))
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == stored
    got = remember_scaling(with_model(busy(), flops_per_sample=None), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == stored


def test_a_free_probe_or_no_history_is_left_as_it_is(history):
    history.save_profile(free())
    history.save_profile(free(hostname=None))
    nameless = busy()
    nameless = nameless.model_copy(update={"host": nameless.host.model_copy(update={"hostname": None})})
    assert remember_scaling(nameless, history) is nameless  # no host name: not known to be this machine
    assert remember_scaling(free(), history) == free()
    unchanged = busy()
    assert remember_scaling(unchanged, None) is unchanged


def test_the_predictor_scales_one_thread_with_the_remembered_fraction_and_says_so():
    dev = busy().devices[0]
    remembered = RememberedScaling(parallel_fraction=0.6, profile_id=7,
                                   probed_at=datetime(2026, 12, 1, 2, 10, tzinfo=timezone.utc))
    plain = at_device_threads(dev, dev.measurements)
    kept = at_device_threads(dev.model_copy(update={"remembered_scaling": remembered}), dev.measurements)
    one_thread = dev.measurements[-1].compute_seconds
    assert kept.measurements[-1].compute_seconds == pytest.approx(one_thread * amdahl_fraction(0.6, 2))
    assert plain.measurements[-1].compute_seconds == pytest.approx(
        one_thread * amdahl_fraction(BUSY_PARALLEL_FRACTION, 2))
    assert "earlier probe of this workload" in kept.note and "history profile 7" in kept.note
    assert "assumed parallel fraction of 0.80" in plain.note
    assert kept.relative_uncertainty < plain.relative_uncertainty


def test_predict_uses_the_history_of_this_machine(db_url):
    from advisor.history.repository import History

    with History(db_url) as hist:
        profile_id = hist.save_profile(free(0.40, 0.28))  # p = 0.6
    est = advisor.predict(busy(), dataset_size=3200, epochs=1, batch_size=32)
    note = next(n for n in est.notes if "batch sizes were timed on 1 thread" in n)
    assert "the parallel fraction 0.60 that an earlier probe of this workload measured on the probed machine " \
           f"while it was free (history profile {profile_id}" in note
    step = busy().devices[0].measurements[-1].compute_seconds * amdahl_fraction(0.6, 2)
    assert est.step_seconds == pytest.approx(step + busy().devices[0].measurements[-1].batch_seconds, rel=0.05)


def test_a_raised_priority_probe_whose_own_notes_called_it_unreliable_is_not_reused_as_a_free_one(history):
    """An audit: a probe that raised its priority over a busy loop (its windows then measured quiet) warned that its
    steps varied 61-67% and its timings were unreliable, and a later busy probe reused its curve as measured "while
    it was free". Such a curve is not reused; a steady one at raised priority is, and the note says how it was
    measured, not that the machine was free."""
    from advisor.probe.device_notes import noise_notes

    raised = {**QUIET, "priority_nice": -5}
    noisy = free(contention={**raised, "spread": 0.67})
    assert any("are unreliable" in n for n in noise_notes(noisy.devices))  # what its own probe said
    history.save_profile(noisy)
    assert remember_scaling(busy(), history).devices[0].remembered_scaling is None
    steady = history.save_profile(free(minutes=-5, contention={**raised, "spread": 0.2}))
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got is not None and got.profile_id == steady and got.raised_priority is True
    dev = busy().devices[0]
    note = at_device_threads(dev.model_copy(update={"remembered_scaling": got}), dev.measurements).note
    assert ("measured on the probed machine with its priority raised over other programs then using the CPU, its "
            f"steps undisturbed (history profile {steady},") in note
    assert "while it was free" not in note
    history.save_profile(free(minutes=10))  # a free machine's, newest: said so
    got = remember_scaling(busy(), history).devices[0].remembered_scaling
    assert got.raised_priority is False
    assert "while it was free" in at_device_threads(dev.model_copy(update={"remembered_scaling": got}),
                                                    dev.measurements).note
