"""Fixtures shared by the predictor's tests."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from advisor import pricing
from advisor.schemas import Offer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # predictor_helpers


@pytest.fixture(scope="session")
def sample_gpu_offers() -> list[Offer]:
    """One offer per distinct (GPU, count) of the catalog: a fixed random sample of 24, plus the largest, plus the
    first multi-GPU offer of an instance family with no peer-to-peer (whatever the sample drew: a catalog edit
    reshuffles it)."""
    from advisor.predictor.targets import offer_target

    seen: dict[tuple[str, int], Offer] = {}
    for o in pricing.load_catalog([]).filter(providers=None, regions=None):
        if o.gpu:
            seen.setdefault((o.gpu, o.gpu_count), o)
    keys = sorted(seen)
    sample = random.Random(9).sample(keys, min(24, len(keys))) + [max(keys, key=lambda k: k[1])]
    no_p2p = next(k for k in keys if offer_target(seen[k]).peer_to_peer is False)
    return [seen[k] for k in dict.fromkeys([*sample, no_p2p])]
