"""Views of a ranking: candidates grouped by hardware ("+9 similar"), the best per tier and per provider.

A group is the candidates on the same hardware with the same predicted time (the same target: the same GPU
model and count, or the same vCPUs on the same CPU family), so its members differ only in provider, region
and price; its best-ranked member stands for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.schemas import Candidate, CandidateGroup

TIERS = ("cpu", "single_gpu", "multi_gpu")


def _group_key(c: Candidate) -> tuple:
    cpu = c.tier == "cpu"
    return (c.tier, c.gpu, c.gpu_count, c.vcpus if cpu else None, round(c.seconds, 6), c.precision, c.method)


def group_keys(cands: Sequence[Candidate]) -> list[tuple]:
    """Each candidate's group (what ``group_candidates`` compares; the ranking also counts the kinds that meet
    the constraints), worked out once."""
    return [_group_key(c) for c in cands]


def group_candidates(ranked: Sequence[Candidate], keys: Sequence[tuple] | None = None) -> list[CandidateGroup]:
    """The ranked candidates grouped by hardware, in the order of each group's best member. ``keys``: their
    ``group_keys``, when the caller has them."""
    members: dict[tuple, list[Candidate]] = {}
    for c, key in zip(ranked, keys if keys is not None else group_keys(ranked), strict=True):
        members.setdefault(key, []).append(c)
    return [CandidateGroup(label=group[0].hardware_label, tier=group[0].tier, count=len(group), best=group[0],
                           providers=sorted({c.provider for c in group}),
                           cost_usd_max=max(c.ranked_cost_usd for c in group))
            for group in members.values()]


def best_per_tier(ranked: Sequence[Candidate]) -> dict[str, Candidate]:
    best: dict[str, Candidate] = {}
    for c in ranked:
        best.setdefault(c.tier, c)
    return {t: best[t] for t in TIERS if t in best}


def best_per_provider(ranked: Sequence[Candidate]) -> dict[str, Candidate]:
    """The best-ranked candidate of each provider, in ranking order (for a user with one cloud account)."""
    best: dict[str, Candidate] = {}
    for c in ranked:
        best.setdefault(c.provider, c)
    return best
