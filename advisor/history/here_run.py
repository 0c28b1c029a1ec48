"""An outcome of a job run on the probed machine itself (``--instance here``) rather than on a rented candidate.

``recommend``'s "Here" line (``Recommendation.here``, stored with the answer) gives the job's time on each device
of the machine that was probed. A user who takes that advice records the real time with
``advisor history record ID --actual-seconds S --instance here`` (``here:cuda:0`` for one of its GPUs, where it
has several devices with an estimate). The outcome copies that device's prediction as a rented candidate's is
copied, so ``history compare`` and the learned correction judge it like any other run: a CPU run by its thread
count, a GPU by its spec. ``here_candidate`` is pure; ``stored_here_candidate`` reads the stored answer for the
repository, which writes the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from advisor.errors import HistoryError, did_you_mean
from advisor.history.tables import RecommendationTable

HERE = "here"


def is_here(instance_type: Any) -> bool:
    """Whether ``instance_type`` names the probed machine ("here", "here:cpu", "here:cuda:0")."""
    if not isinstance(instance_type, str):
        return False
    wanted = instance_type.strip().lower()
    return wanted == HERE or wanted.startswith(HERE + ":")


def here_candidate(answer: Mapping[str, Any] | None, instance_type: str, recommendation_id: int) -> dict[str, Any]:
    """The candidate-like row (``History._run_candidate``'s) of the device ``instance_type`` names in the stored
    answer's ``here`` runs: no candidate id, its estimate as ``seconds``, and the fields an outcome copies.
    HistoryError when the answer has no such device, or no estimate on it to compare with."""
    runs = [r for r in ((answer or {}).get("here") or []) if isinstance(r, Mapping) and r.get("device")]
    if not runs:
        raise HistoryError(f"Recommendation {recommendation_id} has no estimate for the machine that was probed "
                           "(it was made by an advisor before the Here line, or from a profile with no device).",
                           hint="Fix: record it against a candidate (--instance NAME), or run `advisor recommend` "
                                "again and record against the new id.")
    names = [f"{HERE}:{r['device']}" for r in runs]
    device = instance_type.strip().lower().partition(":")[2].strip()
    if device:
        run = next((r for r in runs if str(r["device"]).lower() == device), None)
        if run is None:
            raise HistoryError(f"{instance_type!r} is not a device of the machine recommendation {recommendation_id} "
                               "probed." + did_you_mean(instance_type, names),
                               hint=f"Fix: use one of {', '.join(names)}.")
    else:
        timed = [r for r in runs if r.get("seconds") is not None]
        if len(timed) > 1:
            raise HistoryError(f"The machine recommendation {recommendation_id} probed has {len(timed)} devices with "
                               "an estimate; say which one ran the job.",
                               hint=f"Fix: use one of {', '.join(HERE + ':' + str(r['device']) for r in timed)}.")
        run = timed[0] if timed else runs[0]
    if run.get("seconds") is None:
        why = str(run.get("error") or "no estimate").rstrip(".")
        raise HistoryError(f"There is no estimate of recommendation {recommendation_id}'s job on {HERE}:"
                           f"{run['device']} to compare a real time with ({why}).",
                           hint="Fix: record it against a candidate (--instance NAME) or another device here.")
    gpu = str(run["device"]).lower().startswith("cuda")
    return {
        "id": None, "instance_type": f"{HERE}:{run['device']}", "seconds": run["seconds"], "provider": None,
        "region": None, "tier": "single_gpu" if gpu else "cpu",
        "gpu": (run.get("gpu") or run.get("name")) if gpu else None,
        "gpu_count": 1 if gpu else 0, "vcpus": None if gpu else run.get("threads"), "method": run.get("method"),
        "low": run.get("low"), "high": run.get("high"), "cost_usd": None,  # the user's own machine is not priced
        "base_seconds": run.get("base_seconds"), "base_method": run.get("base_method"),
    }


def stored_here_candidate(conn: Connection, recommendation_id: int, instance_type: str) -> dict[str, Any]:
    """``here_candidate`` of the answer stored with recommendation ``recommendation_id`` (which exists)."""
    extra = conn.execute(select(RecommendationTable.extra).where(
        RecommendationTable.id == recommendation_id)).scalar() or {}
    return here_candidate(extra.get("answer"), instance_type, recommendation_id)


def probe_flags(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    """What the stored answers of recommendations ``ids`` say against their probe, for the web page's list: "busy"
    where a "Here" run was timed while other processes used the machine (``HereRun.busy_when_probed``),
    "unreliable" where a probe note calls its timings so (``advisor.probe.device_notes``). Rows with neither are
    left out. Reads each row's stored answer and notes only (``extra``), in chunks."""
    flags: dict[int, list[str]] = {}
    table = RecommendationTable
    for lo in range(0, len(ids), 500):
        for rid, extra in conn.execute(select(table.id, table.extra).where(table.id.in_(ids[lo:lo + 500]))):
            extra = extra or {}
            runs = (extra.get("answer") or {}).get("here") or []
            notes = [n for n in extra.get("notes") or [] if isinstance(n, str) and n.startswith("probe:")]
            said = (["busy"] if any(isinstance(r, Mapping) and r.get("busy_when_probed") for r in runs) else []) + (
                ["unreliable"] if any("unreliable" in n for n in notes) else [])
            if said:
                flags[rid] = said
    return flags
