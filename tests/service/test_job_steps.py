"""How the job steps, through the service: ``compile``, ``grad_accum_steps``, ``eval_every`` and ``eval_steps`` in a
request body, ``advisor.Client`` and ``advisor recommend --server``, each as the local API and flags take them."""

from __future__ import annotations

import json

import pytest
from service_helpers import PROFILE_FILE, auth, unsent

import advisor
from advisor.errors import ConfigError
from advisor.service.client import Client

JOB = {"dataset_size": 200_000, "epochs": 1, "batch_size": 512}
STEPS = {"compile": True, "grad_accum_steps": 8, "eval_every": 10, "eval_steps": 10}
TARGET = advisor.Target.gpu("A100-80GB", 2)


def test_a_prediction_steps_the_job_as_asked_and_as_the_local_api_does(client):
    remote = client.predict(PROFILE_FILE, **JOB, target=TARGET, save=False, use_history=False, **STEPS)
    local = advisor.predict(PROFILE_FILE, **JOB, target=TARGET, use_history=False, **STEPS)
    assert (remote.grad_accum_steps, remote.compiled) == (local.grad_accum_steps, local.compiled) == (8, True)
    assert remote.eval_seconds == pytest.approx(local.eval_seconds) and remote.eval_seconds > 0
    assert remote.seconds == pytest.approx(local.seconds)
    plain = client.predict(PROFILE_FILE, **JOB, target=TARGET, save=False, use_history=False)
    assert (plain.grad_accum_steps, plain.compiled, plain.eval_seconds) == (1, False, None)
    assert plain.seconds != pytest.approx(remote.seconds)  # the steps were not dropped on the way


def test_a_recommendation_steps_the_job_as_asked(client, app_client, profile):
    big = {**JOB, "dataset_size": 500_000_000}  # long enough for a GPU to be the fastest, with its optimizer steps
    remote = client.recommend(PROFILE_FILE, **big, objective="time", save=False, grad_accum_steps=8)
    local = advisor.recommend(PROFILE_FILE, **big, objective="time", save=False, grad_accum_steps=8)
    assert remote.chosen.gpu and remote.chosen.seconds == pytest.approx(local.chosen.seconds)
    body = {"profile": profile, **big, "objective": "time", "save": False}
    plain = app_client.post("/v1/recommendations", json=body, headers=auth()).json()
    stepped = app_client.post("/v1/recommendations", json={**body, "grad_accum_steps": 8}, headers=auth()).json()
    # a ranking is cached per request: the same job with other steps is another request, not the cached answer
    assert stepped["chosen"]["seconds"] == pytest.approx(remote.chosen.seconds)
    assert stepped["chosen"]["seconds"] < plain["chosen"]["seconds"]  # an eighth of the optimizer steps


@pytest.mark.parametrize(("field", "value"), [
    ("grad_accum_steps", 0), ("grad_accum_steps", True), ("eval_every", -1), ("eval_steps", -1),
    ("eval_steps", False), ("compile", "yes"), ("compile", 1), ("grad_accum_steps", 10**13),
])
def test_a_bad_step_value_is_a_422_naming_the_field(app_client, profile, field, value):
    response = app_client.post("/v1/predictions", json={"profile": profile, **JOB, "target": "cpu", field: value},
                               headers=auth())
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


@pytest.mark.parametrize(("steps", "message"), [
    ({"grad_accum_steps": 0}, "Invalid grad_accum_steps: Input should be greater than or equal to 1 (got 0)."),
    ({"compile": "yes"}, "Invalid compile: Input should be true or false (a JSON boolean) (got 'yes')."),
    ({"eval_steps": -2}, "Invalid eval_steps: Input should be greater than or equal to 0 (got -2)."),
])
def test_the_client_refuses_a_bad_step_value_before_probing_or_sending(steps, message):
    with pytest.raises(ConfigError):  # the local API refuses it too
        advisor.predict(PROFILE_FILE, **JOB, target=TARGET, **steps)
    for call in ("predict", "recommend"):
        with Client("http://127.0.0.1", "t" * 32, transport=unsent()) as api, pytest.raises(ConfigError) as remote:
            getattr(api, call)(PROFILE_FILE, **JOB, **steps)
        assert remote.value.message == message


def test_the_cli_in_client_mode_sends_the_step_flags(server, cli):
    from advisor.cli import remote
    from advisor.service.wire import JOB_STEP_KEYS

    assert set(JOB_STEP_KEYS) <= remote._REQUEST_KEYS  # the CLI's list of what a request carries
    flags = ("--grad-accum-steps", 8, "--compile", "--eval-every", 50, "--eval-steps", 10)
    result = cli("recommend", "--profile", PROFILE_FILE, *(str(v) for v in (*JOB_FLAGS, *flags)), "--no-save",
                 "--json", "--server", server.url)
    assert result.exit_code == 0, result.output
    local = cli("recommend", "--profile", PROFILE_FILE, *(str(v) for v in (*JOB_FLAGS, *flags)), "--no-save",
                "--json")
    assert local.exit_code == 0, local.output
    remote_seconds, local_seconds = (json.loads(r.stdout)["chosen"]["seconds"] for r in (result, local))
    assert remote_seconds == pytest.approx(local_seconds)


# long enough for a GPU to be the fastest (objective time), where the steps move the time
JOB_FLAGS = ("--dataset-size", 500_000_000, "--epochs", JOB["epochs"], "--batch-size", JOB["batch_size"],
             "--objective", "time")
