"""Which kinds of device (CPU, GPU) the learned correction corrects, and what the notes say of a kind it does not.

A kind is corrected only where at least ``min_runs`` of the stored runs, from ``MIN_RECOMMENDATIONS``
recommendations, ran on it: the minimum the whole correction needs, and the one a GPU without datasheet figures
needs for a factor of its own. Before, one kind's runs made the minimum for both: one GPU run recorded at 10x its
prediction beside 14 CPU runs gave every GPU target of that workload x5.00 (the clip), A100, H100 and T4 alike,
with a note that it was "learned from 15 stored runs (held-out median error 51% -> 3%)"; the cross-validation had
never corrected a held-out GPU run (holding that one out left none to learn from), and the per-kind factor is the
median of that kind's runs alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from advisor.schemas import TrainingRow
from advisor.schemas.history import MIN_RECOMMENDATIONS

KindRuns = Mapping[bool, tuple[int, int]]  # on a GPU (True) or a CPU -> (stored runs, recommendations they are of)


def workload_kinds(rows: Sequence[TrainingRow]) -> dict[str, frozenset[bool]]:
    """Each workload's kinds of device (GPU True) in ``rows``."""
    kinds: dict[str, set[bool]] = {}
    for r in rows:
        kinds.setdefault(r.workload, set()).add(r.tier != "cpu")
    return {w: frozenset(k) for w, k in kinds.items()}


def kind_runs(rows: Sequence[TrainingRow]) -> dict[bool, tuple[int, int]]:
    """Each kind of device's (runs, recommendations) in ``rows``; a kind with no run is not a key."""
    runs: dict[bool, list[TrainingRow]] = {}
    for r in rows:
        runs.setdefault(r.tier != "cpu", []).append(r)
    return {kind: (len(of), len({r.recommendation_id for r in of})) for kind, of in runs.items()}


def trusted_kinds(counts: KindRuns, min_runs: int) -> frozenset[bool]:
    """The kinds with ``min_runs`` runs from ``MIN_RECOMMENDATIONS`` recommendations: those corrected."""
    return frozenset(kind for kind, (runs, recs) in counts.items() if runs >= min_runs and recs >= MIN_RECOMMENDATIONS)


def too_few(counts: KindRuns, on_gpu: bool, min_runs: int) -> str:
    """"only 1 stored run, from 1 recommendation, was on a GPU (a kind of device needs 8, from 3)"."""
    runs, recs = counts.get(on_gpu, (0, 0))
    return (f"only {runs} stored run{'s' if runs != 1 else ''}, from {recs} recommendation{'s' if recs != 1 else ''}, "
            f"{'were' if runs != 1 else 'was'} on a {'GPU' if on_gpu else 'CPU'} (a kind of device needs {min_runs}, "
            f"from {MIN_RECOMMENDATIONS})")


def no_kind_reason(counts: KindRuns, min_runs: int) -> str:
    """Why nothing is corrected where the history holds enough runs but no kind of device enough of its own: "no kind
    of device has enough runs of its own: only 5 stored runs, from 2 recommendations, were on a CPU (...); ..."."""
    kinds = "; ".join(too_few(counts, kind, min_runs) for kind in (False, True) if kind in counts)
    return f"no kind of device has enough runs of its own: {kinds}"
