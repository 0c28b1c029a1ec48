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
    """One offer per distinct (GPU, count) of the catalog: a fixed random sample of 24, plus the largest."""
    seen: dict[tuple[str, int], Offer] = {}
    for o in pricing.load_catalog([]).filter(providers=None, regions=None):
        if o.gpu:
            seen.setdefault((o.gpu, o.gpu_count), o)
    keys = sorted(seen)
    sample = random.Random(9).sample(keys, min(24, len(keys))) + [max(keys, key=lambda k: k[1])]
    return [seen[k] for k in sample]
