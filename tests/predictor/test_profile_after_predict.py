"""A Profile that predict and recommend have used still compares, copies and pickles by its data alone: the
predictor's caches on its analyses (advisor.schemas.base.DerivedCache) are not part of it."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import advisor
from advisor.schemas import Profile

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _load() -> Profile:
    return Profile.model_validate_json(PROFILE.read_text())


def _used() -> Profile:
    prof = _load()
    advisor.predict(
        prof, dataset_size=20_000, epochs=2, batch_size=64, target=advisor.Target.gpu("A100-80GB", 2), use_history=False
    )
    advisor.recommend(prof, dataset_size=20_000, epochs=2, save=False)
    return prof


def test_a_used_profile_equals_a_fresh_load_a_deepcopy_and_a_pickle_round_trip():
    prof = _used()
    assert prof == _load()
    assert not prof != _load()
    assert prof == copy.deepcopy(prof)
    assert prof == pickle.loads(pickle.dumps(prof))
    assert prof in [_load()]
    assert prof.analysis._derived.entries["op_tables"]  # the predictor did cache its tables on it
    assert copy.deepcopy(prof).analysis._derived.entries == {}


def test_a_used_profile_pickles_to_the_size_of_its_data():
    assert len(pickle.dumps(_used())) == len(pickle.dumps(_load()))
    assert pickle.loads(pickle.dumps(_used())).analysis._derived.entries == {}
