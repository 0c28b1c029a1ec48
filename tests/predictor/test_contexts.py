"""A ContextCache reused across calls changes no figure, and is reused for the same profile only."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.predictor.contexts import ContextCache, profile_key
from advisor.settings import Settings

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture()
def settings(tmp_path):
    return Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'h.db'}")


def _figures(rec):
    return [(c.provider, c.instance_type, c.region, c.seconds, c.low, c.high, c.cost_usd) for c in rec.candidates]


def test_reused_contexts_give_the_same_ranking(settings):
    cache = ContextCache(entries=4)
    for dataset_size in (50_000, 80_000, 50_000):
        fresh = api.recommend(str(PROFILE), dataset_size=dataset_size, epochs=2, save=False, settings=settings)
        reused = api.recommend(str(PROFILE), dataset_size=dataset_size, epochs=2, save=False, settings=settings,
                               contexts=cache)
        assert _figures(reused) == _figures(fresh)
        assert reused.advice == fresh.advice
    assert (cache.misses, cache.hits) == (1, 2)  # one profile: one context, reused by the later jobs


def test_one_context_per_profile_and_the_oldest_dropped():
    prof = api.load_profile(PROFILE)
    other = prof.model_copy(update={"notes": [*prof.notes, "another probe"]})
    assert profile_key(prof) != profile_key(other)
    cache = ContextCache(entries=1)
    first = cache.for_profile(prof)
    assert cache.for_profile(prof) is first
    assert cache.for_profile(other) is not first
    assert cache.for_profile(prof) is not first  # dropped when the other one came in
    assert (cache.misses, cache.hits) == (3, 1)
