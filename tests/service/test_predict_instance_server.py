"""``advisor predict --instance TYPE --server URL``: it was refused ("--instance is read from this machine's price
catalog: it is not taken with --server"); a GPU instance is now predicted on the server from the target recommend's
row has (its GPUs, their links, its vCPUs, read from this machine's catalog), with the figures the same command
gives without --server. A CPU instance, whose CPU family and memory a request cannot carry, is still refused."""

from __future__ import annotations

import json

import pytest
from service_helpers import PROFILE_FILE
from test_predict_startup import served  # noqa: F401  (the fixture: an app whose GPU start-up is 120 s)

JOB_FLAGS = ("--profile", PROFILE_FILE, "--dataset-size", 10_000, "--epochs", 2, "--batch-size", 64, "--json")


def test_a_gpu_instance_on_the_server_is_the_same_answer_as_here(served, cli):  # noqa: F811
    there = cli("predict", *JOB_FLAGS, "--instance", "g5.24xlarge", "--server", "http://127.0.0.1")
    assert there.exit_code == 0, there.output
    remote = json.loads(there.stdout)
    here = cli("predict", *JOB_FLAGS, "--instance", "g5.24xlarge", "--startup-gpu", "120s", "--no-save")
    assert here.exit_code == 0, here.output
    local = json.loads(here.stdout)
    assert remote["target"] == local["target"] == {"kind": "gpu", "gpu": "A10G", "count": 4, "peer_to_peer": False,
                                                    "instance_type": "g5.24xlarge", "provider": "aws"}
    for key in ("seconds", "low", "high", "peak_memory_gib", "total_seconds", "instance_startup_seconds",
                "host_vcpus"):
        assert remote[key] == pytest.approx(local[key], rel=1e-12), key
    assert remote["instance_startup_seconds"] == 120.0  # the server's start-up
    assert remote["history_id"] is not None  # saved there
    note = ("priced as aws g5.24xlarge (4 x A10G without peer-to-peer, 96 vCPUs), as `advisor recommend` prices its "
            "row.")
    assert note in remote["notes"] and note in local["notes"]


def test_a_cpu_instance_with_a_server_is_refused_before_anything_is_probed(served, cli):  # noqa: F811
    result = cli("predict", *JOB_FLAGS, "--instance", "m7a.12xlarge", "--server", "http://127.0.0.1")
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert ("--instance m7a.12xlarge is a CPU instance: a server is sent a target, and it has no place for the "
            "instance's CPU family and memory.") in said
    assert "Fix: drop --server to predict the instance here." in said and "Traceback" not in result.output
