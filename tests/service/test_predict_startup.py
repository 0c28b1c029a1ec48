"""``POST /v1/predictions`` of a GPU model answers with ``instance_startup_seconds`` and ``total_seconds`` as
``advisor predict --gpu ... --json`` prints them (the server's start-up, or the request's ``startup_seconds_gpu``),
and ``advisor predict --server`` shows the server's, once."""

from __future__ import annotations

import json
import warnings

import pytest
from service_helpers import PROFILE_FILE, TOKEN, auth, profile_data

from advisor.cli import remote
from advisor.service.client import Client

JOB_FLAGS = ("--dataset-size", 10_000, "--epochs", 2, "--batch-size", 64)
JOB = {"dataset_size": 10_000, "epochs": 2, "batch_size": 64}
GPU_FLAGS = ("--gpu", "A100-80GB", "--gpus", 2)
GPU_TARGET = {"kind": "gpu", "gpu": "A100-80GB", "count": 2}
SERVER = "http://127.0.0.1"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """An in-process app whose GPU start-up (120 s) is not this machine's (the default, 300 s); ``advisor.Client``
    of the CLI's ``--server`` goes to it."""
    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what it runs on here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    monkeypatch.delenv("ADVISOR_STARTUP_SECONDS_GPU", raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", startup_seconds_gpu=120.0)
    with TestClient(create_app(ServiceConfig(tokens=(TOKEN,), rate_per_minute=1000, settings=settings)),
                    base_url=SERVER) as app_client:
        monkeypatch.setattr(remote, "client", lambda server: Client(server, TOKEN, transport=app_client._transport))
        yield app_client


def _posted(app_client, **fields) -> dict:
    response = app_client.post("/v1/predictions", headers=auth(),
                               json={"profile": profile_data(), **JOB, "save": False, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_gpu_prediction_over_http_has_the_fields_of_the_clis_json(served, cli):
    for startup, flags in ((120.0, ()), (90.0, ("--startup-gpu", "90s"))):
        sent = {"startup_seconds_gpu": "90s"} if flags else {}
        there = _posted(served, target=GPU_TARGET, **sent)
        assert there["instance_startup_seconds"] == startup  # the server's default, or the request's
        assert there["total_seconds"] == pytest.approx(there["seconds"] + startup)
        # the same question of the CLI here, with the same start-up: the same object
        here = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *GPU_FLAGS, "--startup-gpu", f"{startup:g}s",
                   "--json", "--no-save")
        assert here.exit_code == 0, here.output
        assert json.loads(here.stdout) == there


def test_predict_with_server_shows_the_servers_start_up_once(served, cli):
    for flags, startup in (((), 120.0), (("--startup-gpu", "90s"), 90.0)):
        result = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *GPU_FLAGS, *flags, "--json", "--no-save",
                     "--server", SERVER)
        assert result.exit_code == 0, result.output
        shown = json.loads(result.stdout)
        sent = {"startup_seconds_gpu": "90s"} if flags else {}
        assert shown == _posted(served, target=GPU_TARGET, **sent)
        assert shown["instance_startup_seconds"] == startup
        assert shown["total_seconds"] == pytest.approx(shown["seconds"] + startup)
        text = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *GPU_FLAGS, *flags, "--no-save",
                   "--server", SERVER)
        here = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *GPU_FLAGS, "--startup-gpu", f"{startup:g}s",
                   "--no-save")
        assert text.exit_code == here.exit_code == 0, text.output
        assert text.stdout == here.stdout  # the text too, the server's start-up in it


def test_a_cpu_prediction_has_no_instance_start_up_and_refuses_one(served):
    there = _posted(served, target={"kind": "cpu", "threads": 2})
    assert "instance_startup_seconds" not in there and "total_seconds" not in there
    for target in ({"kind": "cpu"}, "cpu"):
        response = served.post("/v1/predictions", headers=auth(), json={
            "profile": profile_data(), **JOB, "save": False, "target": target, "startup_seconds_gpu": 60})
        assert response.status_code == 422, response.text
        assert [f["field"] for f in response.json()["error"]["fields"]][0] == "startup_seconds_gpu"
    bad = served.post("/v1/predictions", headers=auth(), json={
        "profile": profile_data(), **JOB, "save": False, "target": GPU_TARGET, "startup_seconds_gpu": "soon"})
    assert bad.status_code == 422 and "start-up time" in bad.json()["error"]["message"]


def test_a_prediction_the_server_saves_keeps_the_start_up_it_answered_with(served, cli, tmp_path, monkeypatch):
    # `history show pN` of the server's history, on its machine, showed it without the start-up the answer had.
    answered = [_posted(served, target=GPU_TARGET, save=True, **sent) for sent in ({}, {"startup_seconds_gpu": "90s"})]
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    for there in answered:
        shown = cli("history", "show", f"p{there['history_id']}", "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["estimate"] == there
    assert [a["instance_startup_seconds"] for a in answered] == [120.0, 90.0]
