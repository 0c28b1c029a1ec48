"""README "Python API": threads of one process may call the API at once, and each call answers as it would alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import advisor
from advisor.api import load_profile

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


def _answer(profile, i: int) -> dict:
    rec = advisor.recommend(profile, dataset_size=20_000 * (i + 1), epochs=1 + i % 2, batch_size=256,
                            deadline="6h" if i % 2 else None, save=False)
    data = rec.model_dump(mode="json", by_alias=True)
    data.pop("created_at")  # the one field that is the moment of the call
    return data


def test_a_thread_pool_of_recommendations_answers_as_one_call_after_another(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    profile = load_profile(PROFILE)
    alone = [_answer(profile, i) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda i: _answer(profile, i), range(4)))
    assert [a["chosen"]["instance_type"] for a in together] == [a["chosen"]["instance_type"] for a in alone]
    assert together == alone
