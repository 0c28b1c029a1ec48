"""A workload's own interval from the learned correction's held-out runs, and how far it carries in job size.

A workload with ``MIN_BAND_RUNS`` stored runs on one kind of device (CPU, GPU) gets, as its corrected 80%
interval, the 10th and 90th percentiles of those runs' held-out ``log(actual / corrected)`` (``bands_of``), widened
by 1/sqrt(runs): 30 runs' percentiles alone held 75% of new jobs drawn alike (bench/learned_fit.py).

That band was measured at the job sizes stored, so it is stated as measured only for a job inside them: its samples
(dataset size x epochs) between the fewest and the most of those runs (``covered_of``). A job outside gets the band
widened with its distance from them (``band_interval``): the band's log limits times ``1 + d``, ``d`` the decades
(log10) between the job's samples and the nearest stored size, and a note saying the job is outside the sizes its
history covers. Why that rule: beyond the stored sizes the corrected factor rests on a trend along the job's size
that the runs showed only within them (the per-kind factor assumes none, the ridge extends its slope), and the
error of a trend carried beyond its data grows in proportion to the distance; one decade outside doubles the band
(in log terms), at the edge it is the band itself. A prior, not a measurement: no stored run says how a workload
behaves at sizes it never ran. Before, a job 10x bigger than every stored run got the stored runs' band as if
measured.

The band was also measured on the machines those runs were on, so it is stated as measured only for a target like
them (``ran_like``): a GPU target of a model and GPU count some run had (name compared case-insensitively), a CPU
target whose thread count lies within the stored runs' (fewest to most; an instance's threads are its vCPUs over
threads per core, as ``history.training`` stores them; a CPU row records no CPU model, so the thread count is
what tells the machines apart). Why that rule: the spread of a workload's runs on one GPU
model says nothing of how far the base prediction misses on another model or on 8 of them (the multi-GPU and
thread-scaling models are where the base interval is widest), and 15 runs on 2 vCPUs gave a 64-thread target a
+-2% band where its base interval was -52%/+107%. Any other target keeps, per side, the wider of the corrected base
interval and the band, and the note says the band came from runs on other machines.

numpy is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from advisor.schemas import TrainingRow

MIN_BAND_RUNS = 12  # its 10th and 90th percentiles need this many runs to mean anything

BandKey = tuple[str, bool]  # (workload, on a GPU)
Band = tuple[int, float, float]  # (runs, 10th and 90th percentile of held-out log(actual / corrected), widened)
# The machines a band's runs were on: (GPU model as the catalog names it, lower-cased, GPU count) pairs, and the
# fewest and most threads of its CPU runs (None where no CPU run recorded them).
Machines = tuple[frozenset[tuple[str, int]], tuple[int, int] | None]


def samples_of(dataset_size: int, epochs: int) -> int:
    """A job's size as the band's range reads it: the samples it trains on, dataset size x epochs."""
    return max(int(dataset_size), 0) * max(int(epochs), 0)


def _runs_by_key(rows: Sequence[TrainingRow]) -> dict[BandKey, list[int]]:
    by_key: dict[BandKey, list[int]] = {}
    for i, r in enumerate(rows):
        by_key.setdefault((r.workload, r.tier != "cpu"), []).append(i)
    return {key: idx for key, idx in by_key.items() if len(idx) >= MIN_BAND_RUNS}


def bands_of(rows: Sequence[TrainingRow], residuals: Any, repeats: int) -> dict[BandKey, Band]:
    """(workload, on a GPU) -> (runs, 10th and 90th percentile of the held-out log residuals of its runs on that
    kind, over every repeat), for each with ``MIN_BAND_RUNS`` runs (``residuals``: repeat after repeat, in ``rows``'
    order)."""
    import numpy as np

    per_repeat = np.asarray(residuals).reshape(repeats, len(rows))
    # The percentiles of a few dozen runs understate the spread of the next job's (the factor applied to it is an
    # estimate too): 30 runs' band held 75% of new jobs drawn alike (bench/learned_fit.py). Widened by 1/sqrt(runs).
    return {key: (len(idx), *(float(np.quantile(per_repeat[:, idx], q)) * (1.0 + len(idx) ** -0.5)
                              for q in (0.10, 0.90)))
            for key, idx in _runs_by_key(rows).items()}


def kind_bounds(rows: Sequence[TrainingRow], residuals: Any, repeats: int) -> dict[bool, tuple[float, float]]:
    """On a GPU (True), a CPU -> the 10th and 90th percentile of the held-out log residuals of the runs on that kind
    (``residuals`` as ``bands_of`` takes them): the corrected interval of an estimate of that kind with no band of
    its workload's. A kind with no run is not a key."""
    import numpy as np

    on_gpu = np.tile(np.asarray([r.tier != "cpu" for r in rows], dtype=bool), repeats)
    return {kind: (float(np.quantile(of, 0.10)), float(np.quantile(of, 0.90)))
            for kind in (False, True) if (of := np.asarray(residuals)[on_gpu == kind]).size}


def covered_of(rows: Sequence[TrainingRow]) -> dict[BandKey, tuple[int, int]]:
    """(workload, on a GPU) -> the fewest and the most samples (``samples_of``) of its runs on that kind, for each
    key ``bands_of`` gives a band: the job sizes its band was measured at."""
    return {key: (min(sizes), max(sizes))
            for key, idx in _runs_by_key(rows).items()
            for sizes in ([samples_of(rows[i].dataset_size, rows[i].epochs) for i in idx],)}


def machines_of(rows: Sequence[TrainingRow]) -> dict[BandKey, Machines]:
    """(workload, on a GPU) -> the machines its band's runs were on (``Machines``), for each key ``bands_of``
    gives a band."""
    out: dict[BandKey, Machines] = {}
    for key, idx in _runs_by_key(rows).items():
        gpus = frozenset((_gpu_model(rows[i].gpu), rows[i].gpu_count) for i in idx if rows[i].tier != "cpu")
        threads = [rows[i].vcpus for i in idx if rows[i].tier == "cpu" and rows[i].vcpus]
        out[key] = (gpus, (min(threads), max(threads)) if threads else None)
    return out


def _gpu_model(name: str | None) -> str:
    """The model a GPU name means, as the predictor reads it (a driver spelling is its catalog row's), lower-cased;
    the name itself where the catalog has none."""
    from advisor.hardware.specs import gpu_spec_named, load_gpu_specs

    spec = gpu_spec_named(name, load_gpu_specs()) if name and name.strip() else None
    return (spec.name if spec is not None else name or "").strip().lower()


def ran_like(target: Any, machines: Machines | None) -> bool:
    """Whether ``target`` is like a machine the band's runs were on (module docstring); True where the machines
    are unknown (a band stored without them)."""
    if machines is None:
        return True
    gpus, threads = machines
    if target.kind == "gpu":
        return (_gpu_model(target.gpu_name), target.count) in gpus
    return threads is not None and target.threads is not None and threads[0] <= target.threads <= threads[1]


def _machines_words(machines: Machines) -> str:
    gpus, threads = machines
    if gpus:
        return ", ".join(f"{count} x {name or 'an unnamed GPU'}" for name, count in sorted(gpus))
    if threads is None:
        return "CPUs of unrecorded threads"
    return f"CPUs of {threads[0]} thread{'s' if threads[1] > 1 else ''}" if threads[0] == threads[1] else \
        f"CPUs of {threads[0]} to {threads[1]} threads"


def decades_outside(samples: int, covered: tuple[int, int] | None) -> float:
    """How many decades (log10) ``samples`` lies outside ``covered`` (fewest, most); 0 inside it or where either is
    unknown (no range stored, a size of 0)."""
    if covered is None or samples <= 0 or min(covered) <= 0:
        return 0.0
    fewest, most = covered
    if samples > most:
        return math.log10(samples / most)
    if samples < fewest:
        return math.log10(fewest / samples)
    return 0.0


def band_interval(seconds: float, band: Band, covered: tuple[int, int] | None, samples: int,
                  machines: Machines | None = None, target: Any = None,
                  base: tuple[float, float] | None = None) -> tuple[float, float, str]:
    """(low, high, the note's words) of a corrected time of ``seconds`` for a job of ``samples`` samples, from its
    workload's ``band`` measured on runs of ``covered`` sizes: the band, widened outside them; for a ``target``
    unlike the ``machines`` the runs were on, per side the wider of that and ``base`` (the corrected base
    interval's low and high), module docstring."""
    low, high, said = _sized_interval(seconds, band, covered, samples)
    if target is None or base is None or ran_like(target, machines):
        return low, high, said
    low, high = min(low, base[0]), max(high, base[1])
    return low, high, (f"; its 80% interval ({low / seconds - 1:+.0%} to {high / seconds - 1:+.0%}) is, per side, "
                       f"the wider of the base prediction's and the held-out band of {band[0]} stored runs of this "
                       f"workload, which were on other machines ({_machines_words(machines)}), not on this one")


def _sized_interval(seconds: float, band: Band, covered: tuple[int, int] | None,
                    samples: int) -> tuple[float, float, str]:
    runs, band_low, band_high = band
    outside = decades_outside(samples, covered)
    widen = 1.0 + outside
    low, high = seconds * min(math.exp(band_low * widen), 1.0), seconds * max(math.exp(band_high * widen), 1.0)
    interval = f"its 80% interval ({low / seconds - 1:+.0%} to {high / seconds - 1:+.0%})"
    if outside == 0.0:
        return low, high, (f"; {interval} is what {runs} stored runs of this workload, each held out, took against "
                           "their corrected prediction")
    fewest, most = covered or (0, 0)
    beyond = f"{samples / most:.3g}x the most" if samples > most else f"1/{fewest / samples:.3g} of the fewest"
    return low, high, (f"; the job ({samples:,} samples, dataset x epochs) is outside the sizes its history covers "
                       f"({fewest:,} to {most:,} samples in {runs} stored runs of this workload; it is {beyond}): "
                       f"{interval} is their held-out band widened x{widen:.2f} for the distance, not measured at "
                       "this size")
