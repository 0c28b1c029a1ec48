"""The workers' shared load (advisor.service.balance): slots in one file, and the connection a busier worker
hands back."""

from __future__ import annotations

import subprocess
import sys

import pytest
from service_helpers import TOKEN, auth

from advisor.service import balance


@pytest.fixture
def loads_file(tmp_path):
    path = tmp_path / "loads"
    balance.create(path)
    return path


def test_each_worker_has_its_slot_and_sees_the_others(loads_file):
    a, b = balance.Loads(loads_file), balance.Loads(loads_file)
    assert a.slot != b.slot
    a.add(3)
    b.add(1)
    assert a.busier_than_another() and not b.busier_than_another()
    b.add(1)  # 3 against 2: within the margin
    assert not a.busier_than_another()
    a.add(-3)
    assert b.busier_than_another() and a.load == 0  # 2 against 0


def test_a_dead_workers_slot_is_ignored_and_taken_again(loads_file):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    raw = bytearray(loads_file.read_bytes())
    balance._SLOT.pack_into(raw, 0, pid, 0)  # slot 0: a worker that is gone, with nothing in hand
    loads_file.write_bytes(bytes(raw))
    alive = balance.Loads(loads_file)
    assert alive.slot == 0  # taken again
    alive.add(5)
    assert not alive.busier_than_another()  # no other live worker to compare with


def test_a_busier_worker_answers_with_connection_close(loads_file, monkeypatch, tmp_path, profile):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    monkeypatch.setenv(balance.LOADS_ENV, str(loads_file))
    other = balance.Loads(loads_file)  # the other worker
    config = ServiceConfig(tokens=(TOKEN,), rate_per_minute=1000,
                           settings=Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    body = {"profile": profile, "dataset_size": 20_000, "epochs": 1}
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        mine = client.app.state.loads
        assert mine is not None and mine.slot != other.slot
        other.add(4)  # the other worker is the busier one: keep the connection
        first = client.post("/v1/recommendations", json=body, headers=auth())
        assert first.status_code == 201 and "connection" not in first.headers
        assert first.headers["location"] == f"/v1/recommendations/{first.json()['id']}"
        other.add(-4)
        mine.add(2)  # two more requests in hand here than there, once this one is answered
        second = client.post("/v1/recommendations", json=body, headers=auth())
        assert second.status_code == 201 and second.headers["connection"] == "close"
        assert second.headers["location"] == f"/v1/recommendations/{second.json()['id']}"
        assert mine.load == 2  # this request counted while in hand, not after
        predicted = client.post("/v1/predictions", json={**body, "target": "cpu"}, headers=auth())
        assert predicted.status_code == 200 and predicted.headers["connection"] == "close"
    assert balance.Loads(loads_file).slot == mine.slot  # closed with the app: its slot is free again


def test_a_missing_or_broken_file_means_no_balancing_not_a_failed_worker(tmp_path):
    assert balance.open_loads(None) is None
    assert balance.open_loads(str(tmp_path / "gone")) is None
    short = tmp_path / "short"
    short.write_bytes(b"\0" * 8)  # not a loads file: too small to map
    assert balance.open_loads(str(short)) is None
    good = tmp_path / "good"
    balance.create(good)
    assert balance.open_loads(str(good)).slot == 0
