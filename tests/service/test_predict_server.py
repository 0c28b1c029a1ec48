"""``advisor predict --server URL``: one target predicted by an ``advisor serve`` server as the local command
predicts it, saved there and not here; and ``vcpus`` (``--vcpus``) through the request body and ``advisor.Client``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from service_helpers import PROFILE_FILE, TOKEN, auth, unsent

import advisor
from advisor.errors import ConfigError
from advisor.service.client import Client

JOB_FLAGS = ("--dataset-size", 2_000_000, "--epochs", 2, "--batch-size", 512)
JOB = {"dataset_size": 2_000_000, "epochs": 2, "batch_size": 512}


def _listed(url: str) -> list:
    """The predictions saved in the history at ``url`` (none where its file was never made)."""
    from advisor.history.engine import sqlite_file_missing
    from advisor.history.outcomes import list_predictions

    if sqlite_file_missing(url):  # a read of it is refused, rather than making an empty one
        return []
    with advisor.History(url) as hist:
        return list_predictions(hist, workload=None, since=None, limit=100)


@pytest.mark.parametrize("target", [("--gpu", "A100-80GB", "--gpus", 2, "--vcpus", 12, "--grad-accum-steps", 4),
                                    ("--device", "cpu", "--threads", 1)])
def test_predict_with_server_answers_as_the_local_command_and_saves_there_only(server, cli, target):
    with Client(server.url, TOKEN) as api:
        before = len(api.list_predictions(limit=10_000))
    remote = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *target, "--json", "--server", server.url)
    assert remote.exit_code == 0, remote.output
    assert _listed(os.environ["ADVISOR_DATABASE_URL"]) == []  # nothing written here
    local = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, *target, "--json", "--no-save")
    assert local.exit_code == 0, local.output
    there, here = json.loads(remote.stdout), json.loads(local.stdout)
    saved_as = there.pop("history_id")  # the server's id for it; the local one was not saved
    assert here.pop("history_id") is None and there == here
    with Client(server.url, TOKEN) as api:
        saved = api.list_predictions(limit=10_000)
    assert len(saved) == before + 1 and saved[0].seconds == pytest.approx(there["seconds"])
    assert saved[0].id == saved_as


def test_predict_with_server_and_no_save_stores_nothing_there(server, cli):
    with Client(server.url, TOKEN) as api:
        before = len(api.list_predictions(limit=10_000))
    result = cli("predict", "--profile", PROFILE_FILE, *JOB_FLAGS, "--gpu", "L4", "--json", "--no-save",
                 "--server", server.url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target"]["gpu"] == "L4"
    with Client(server.url, TOKEN) as api:
        assert len(api.list_predictions(limit=10_000)) == before


@pytest.mark.parametrize(("flags", "message"), [
    (("--gpu", "A100-80GB", "--gpus", "1,2,4"), "--server predicts one target at a time"),
    (("--gpu", "A100-80GB", "--precision", "all"), "--server predicts one target at a time"),
    (("--device", "cpu", "--vcpus", 8), "--vcpus applies to GPU targets"),
])
def test_predict_with_server_refuses_what_it_cannot_send_before_probing(cli, flags, message):
    # nothing listens there: a refusal that came after sending would be "Cannot reach ..."
    result = cli("predict", "examples/tabular_mlp.py", *JOB_FLAGS, *flags, "--server", "http://127.0.0.1:9")
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_vcpus_in_a_prediction_request_sizes_the_input_pipeline_as_the_local_api(client):
    target = advisor.Target.gpu("H100", 8)
    given = client.predict(PROFILE_FILE, **JOB, target=target, vcpus=8, save=False, use_history=False)
    local = advisor.predict(PROFILE_FILE, **JOB, target=target, vcpus=8, use_history=False)
    default = client.predict(PROFILE_FILE, **JOB, target=target, save=False, use_history=False)
    assert given.seconds == pytest.approx(local.seconds) and given.notes == local.notes
    assert given.host_vcpus == 8
    assert default.host_vcpus == 16 * 8  # input_bound.DEFAULT_VCPUS_PER_GPU each: the value was not dropped


@pytest.mark.parametrize("value", [0, True, 100_001, "8"])
def test_a_bad_vcpus_in_a_prediction_request_is_a_422_naming_it(app_client, profile, value):
    body = {"profile": profile, **JOB, "target": {"kind": "gpu", "gpu": "H100", "count": 8}, "vcpus": value}
    response = app_client.post("/v1/predictions", json=body, headers=auth())
    if value == "8":  # JSON text of a number is read as the number, as for the job's counts
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["vcpus"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target": "cpu", "vcpus": 8}, "vcpus= applies to GPU targets"),  # a Python caller's words: vcpus=, not --vcpus
    ({"target": advisor.Target.gpu("H100", 8), "vcpus": 0}, "vcpus= must be a whole number of vCPUs"),
])
def test_the_client_refuses_vcpus_as_the_local_api_does_before_sending(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        advisor.predict(PROFILE_FILE, **JOB, **kwargs)
    with Client("http://127.0.0.1", "t" * 32, transport=unsent()) as api, pytest.raises(ConfigError) as remote:
        api.predict(PROFILE_FILE, **JOB, **kwargs)
    assert message in remote.value.message


BF16_LM = Path(__file__).resolve().parents[1] / "api" / "data" / "bf16_lm.py"  # declares PRECISION = "bf16"


def test_a_workload_that_declares_its_precision_is_profiled_for_the_server_as_the_local_call_profiles_it(client):
    # The client used to probe and analyse at fp32 whatever the file declared; the server then priced bf16 from an
    # fp32 analysis: this file's A100 time came out 26% under the local command's, and a nanoGPT recommendation
    # chose another instance.
    path = BF16_LM
    target = advisor.Target.gpu("A100-80GB", 1)
    remote = client.predict(path, target=target, save=False, use_history=False, probe_seconds=5)
    local = advisor.predict(path, target=target, use_history=False, probe_seconds=5)
    assert remote.precision == local.precision == "bf16"
    assert remote.seconds == pytest.approx(local.seconds, rel=0.05)
    there = client.recommend(path, objective="time", save=False, probe_seconds=5, top=1000)
    here = advisor.recommend(path, objective="time", save=False, probe_seconds=5, top=1000)
    # The same A100 offer in both, priced at bf16 from a bf16 analysis (26% apart before). Not the chosen one: on
    # this tiny model a 128-vCPU CPU and the GPUs are within the time objective's 2% tie of each other, and two
    # independent probes of this machine's CPU decide that tie either way.
    def a100(rec):
        return next(c for c in rec.candidates if c.gpu == "A100-80GB" and c.gpu_count == 1)
    assert a100(there).instance_type == a100(here).instance_type
    assert a100(there).seconds == pytest.approx(a100(here).seconds, rel=0.05)
    assert a100(there).precision == a100(here).precision == "bf16"


@pytest.mark.parametrize(("target", "field", "words"), [
    ({"kind": "cpu", "gpu": "H100", "count": 4}, "target.gpu", "names a GPU model"),
    ({"kind": "cpu", "count": 4}, "target.count", "counts GPUs"),
    ({"kind": "cpu", "peer_to_peer": True}, "target.peer_to_peer", "how GPUs reach each other"),
    ({"kind": "gpu", "gpu": "H100", "threads": 1}, "target.threads", "a CPU's thread count"),
    ({"kind": "gpu", "gpu": "H100", "threads": 8}, "target.threads", "a CPU's thread count"),
    ({"kind": "gpu", "count": 2}, "target.gpu", "the GPU model's name"),
])
def test_a_target_with_a_field_of_the_other_kind_is_a_422_naming_it_and_nothing_is_saved(app_client, profile,
                                                                                        target, field, words):
    before = app_client.get("/v1/predictions", headers=auth()).json()["total"]
    response = app_client.post("/v1/predictions", headers=auth(), json={"profile": profile, **JOB, "target": target})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["fields"][0]["field"] == field and words in error["fields"][0]["problem"]
    assert error["message"].startswith(f"Invalid request: {field}: ")
    assert app_client.get("/v1/predictions", headers=auth()).json()["total"] == before


@pytest.mark.parametrize("target", [{"kind": "cpu", "threads": 4}, {"kind": "cpu"}, {"kind": "cpu", "count": 1},
                                    {"kind": "gpu", "gpu": "H100", "count": 2, "peer_to_peer": False}])
def test_a_target_of_one_kind_is_predicted_for_it(app_client, profile, target):
    response = app_client.post("/v1/predictions", headers=auth(),
                               json={"profile": profile, **JOB, "target": target, "save": False})
    assert response.status_code == 200, response.text
    assert response.json()["target"]["kind"] == target["kind"]
