"""A CPU profile with thousands of measurements timed on fewer threads than the device's (a busy machine, or a
stranger's profile sent to ``advisor serve``) is scaled in time linear in their count, with the results the
value-comparing code gave."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from statistics import median

import pytest
from pydantic import ValidationError

import advisor.api as api
from advisor.predictor import cpu_scaling
from advisor.predictor.cpu_scaling import amdahl_fraction, at_device_threads, fit_amdahl
from advisor.schemas import DeviceProfile, Measurement, Profile, ThreadPoint
from advisor.schemas.profile import MAX_POINTS

PROFILE_FILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _old_at_device_threads(device: DeviceProfile, measurements: list) -> list:
    """The measurements as the code before the fix scaled them (membership by value, ``m in off``)."""
    full = device.threads
    off = [m for m in measurements if device.kind == "cpu" and full and m.threads and m.threads != full]
    if not off:
        return list(measurements)
    clean = [ThreadPoint(threads=m.threads, batch_size=m.batch_size, compute_seconds=m.compute_seconds)
             for m in measurements if m.compute_seconds and not m.oom]
    fit = fit_amdahl(list(device.thread_scaling) + clean)
    p = fit.parallel_fraction if not fit.assumed else cpu_scaling.BUSY_PARALLEL_FRACTION
    out = []
    for m in measurements:
        if m in off:
            factor = amdahl_fraction(p, full) / amdahl_fraction(p, m.threads)
            m = m.model_copy(update={
                "threads": full,
                "compute_seconds": m.compute_seconds * factor if m.compute_seconds else m.compute_seconds,
                "compute_seconds_samples": [x * factor for x in m.compute_seconds_samples]})
        out.append(m)
    return out


def _old_points_at_one_batch(points: list[ThreadPoint]) -> tuple[int, dict[int, float]]:
    valid = [p for p in points if p.threads >= 1 and p.compute_seconds and p.compute_seconds > 0]
    counts = Counter()
    for batch in {p.batch_size for p in valid}:
        counts[batch] = len({p.threads for p in valid if p.batch_size == batch})
    batch = max(counts, key=lambda b: (counts[b], b))
    by_threads: dict[int, list[float]] = defaultdict(list)
    for p in valid:
        if p.batch_size == batch:
            by_threads[p.threads].append(p.compute_seconds)
    return batch, {t: median(v) for t, v in sorted(by_threads.items())}


def _m(batch: int, threads: int | None, seconds: float) -> Measurement:
    return Measurement(device="cpu", batch_size=batch, threads=threads, compute_seconds=seconds,
                       compute_seconds_samples=[seconds, seconds * 1.1])


@pytest.mark.parametrize("scaling", [[], [ThreadPoint(threads=1, batch_size=32, compute_seconds=10.0),
                                          ThreadPoint(threads=4, batch_size=32, compute_seconds=3.25)]])
def test_busy_measurements_are_scaled_as_before(scaling):
    # Equal-valued measurements (the same one twice, at the device's threads and at fewer) are where a membership
    # test by value and one by position could differ; they must not.
    ms = [_m(32, 1, 10.0), _m(32, 4, 3.25), _m(32, 1, 10.0), _m(64, 2, 11.0), _m(64, 4, 6.4), _m(64, 4, 6.4),
          _m(128, 4, 12.0), _m(128, 2, 20.0)]
    device = DeviceProfile(device="cpu", kind="cpu", name="test cpu", threads=4, thread_scaling=scaling,
                           measurements=ms)
    scaled = at_device_threads(device, ms)
    assert scaled.measurements == _old_at_device_threads(device, ms)
    assert [m.threads for m in scaled.measurements] == [4] * 8
    assert scaled.note.startswith("cpu: 4 of 8 batch sizes were timed on 1/2 thread(s)")


def test_the_batch_with_most_thread_counts_is_chosen_as_before():
    points = [ThreadPoint(threads=t, batch_size=b, compute_seconds=s) for t, b, s in [
        (1, 32, 10.0), (2, 32, 6.0), (4, 32, 3.3), (4, 32, 3.2), (1, 64, 20.0), (2, 64, 11.0), (4, 64, 6.0),
        (8, 16, 1.0), (1, 16, 0.5), (2, 128, 40.0), (2, 128, 41.0)]]
    for subset in (points, points[:3], points[4:], points[::-1]):
        assert cpu_scaling._points_at_one_batch(subset) == _old_points_at_one_batch(subset)


def _busy_profile(n: int) -> Profile:
    """The tabular profile with ``n`` CPU measurements (batch sizes 1..n) timed on 1 thread of the device's 2."""
    data = json.loads(PROFILE_FILE.read_text())
    device = data["devices"][0]
    assert device["kind"] == "cpu" and device["threads"] == 2
    device["measurements"] = _busy_measurements(device, n)
    return Profile.model_validate(data)


def _busy_measurements(device: dict, n: int) -> list[dict]:
    one = dict(device["measurements"][-1], threads=1, compute_seconds_samples=[0.01, 0.011, 0.012])
    return [dict(one, batch_size=b, compute_seconds=0.0001 * b) for b in range(1, n + 1)]


def test_thousands_of_busy_measurements_are_scaled_without_comparing_them(monkeypatch):
    # A profile holds at most MAX_POINTS (64) since session 56; the scaling itself stays linear past that
    device = _busy_profile(MAX_POINTS).devices[0]
    many = [Measurement.model_validate(m) for m in _busy_measurements(device.model_dump(mode="json"), 3000)]
    compared = []
    monkeypatch.setattr(Measurement, "__eq__", lambda a, b: compared.append(1) or a is b)
    scaled = at_device_threads(device, many)
    # The old membership test compared each measurement with those before it: ~4.5 million comparisons here.
    assert len(compared) == 0
    assert {m.threads for m in scaled.measurements} == {2} and len(scaled.measurements) == 3000


def test_a_profile_with_more_measurements_than_a_probe_makes_is_refused_and_one_at_the_cap_is_ranked():
    # A stranger's profile of thousands held a service worker for minutes (and later, seconds): refused
    with pytest.raises(ValidationError, match=f"at most {MAX_POINTS} items"):
        _busy_profile(3000)
    started = time.monotonic()
    rec = api.recommend(_busy_profile(MAX_POINTS), dataset_size=2000, epochs=1, top=3, save=False)
    assert rec.chosen is not None and rec.candidates
    est = api.predict(_busy_profile(MAX_POINTS), dataset_size=2000, epochs=1, batch_size=64, target="cpu", save=False)
    assert any(n.startswith(f"cpu: {MAX_POINTS} of {MAX_POINTS} batch sizes were timed on 1 thread(s)")
               for n in est.notes), est.notes
    assert time.monotonic() - started < 240  # a sanity bound only
