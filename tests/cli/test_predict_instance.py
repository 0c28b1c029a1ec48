"""``advisor predict --instance TYPE``: a catalog machine priced as ``recommend`` prices its row (its GPUs' links,
vCPUs, a CPU instance's cores and memory, its start-up), so that the figures are that row's; and the clashes and
unknown names it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run

LLAMA = Path(__file__).resolve().parents[1] / "api" / "data" / "llama7b_analysis_profile.json"


def _job(batch_size: int) -> list[str]:
    return ["--profile", LLAMA, "--dataset-size", "5108", "--batch-size", str(batch_size), "--epochs", "1"]


@pytest.fixture(scope="module")
def rows(app) -> dict[int, dict[str, dict]]:
    """recommend's rows (candidates and excluded) by instance type, for the job at batch 2 and 4."""
    found = {}
    for batch in (2, 4):
        result = run(app, "recommend", *_job(batch), "--top", "500", "--no-save", "--json")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        found[batch] = {row["instance_type"]: row for row in answer["candidates"] + answer["excluded"]}
    return found


def _predict(app, batch: int, *flags) -> dict:
    result = run(app, "predict", *_job(batch), *flags, "--no-save", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _same_figures(est: dict, row: dict) -> None:
    for key in ("seconds", "low", "high", "peak_memory_gib", "memory_capacity_gib", "total_seconds"):
        assert est[key] == pytest.approx(row[key], rel=1e-12), key
    assert est["instance_startup_seconds"] == row["startup_seconds"]


def test_azure_nvlink_pair_is_its_recommend_row(app, rows):
    """Standard_NC80adis_H100_v5: recommend priced its bridged H100 NVL pair at 912 s over NVLink 300 GB/s, and no
    flag of predict could reach it (--gpu H100-NVL --gpus 2 --vcpus 80 gives PCIe's 2026 s)."""
    row = rows[2]["Standard_NC80adis_H100_v5"]
    est = _predict(app, 2, "--instance", "Standard_NC80adis_H100_v5")
    _same_figures(est, row)
    assert est["seconds"] == pytest.approx(912.0, abs=1.0)
    assert est["target"] == {"kind": "gpu", "gpu": "H100-NVL", "count": 2, "nvlink_gbs": 300.0,
                             "instance_type": "Standard_NC80adis_H100_v5", "provider": "azure"}
    assert est["host_vcpus"] == 80
    assert ("priced as azure Standard_NC80adis_H100_v5 (2 x H100-NVL over NVLink 300 GB/s, 80 vCPUs), as "
            "`advisor recommend` prices its row.") in est["notes"]
    by_flags = _predict(app, 2, "--gpu", "H100-NVL", "--gpus", "2", "--vcpus", "80")
    assert by_flags["seconds"] > 2 * est["seconds"]  # PCIe: what the flags alone could say


def test_g5_without_peer_to_peer_is_its_recommend_row(app, rows):
    """g5.24xlarge: 4 x A10G without peer-to-peer (profiles/gpu_links.csv), which by hand needed --no-p2p."""
    est = _predict(app, 4, "--instance", "g5.24xlarge")
    _same_figures(est, rows[4]["g5.24xlarge"])
    assert est["target"]["peer_to_peer"] is False
    assert est["target"]["provider"] == "aws"
    assert est["host_vcpus"] == 96


def test_cpu_instance_is_its_recommend_row(app, rows):
    """A CPU instance: its physical cores on its CPU family (m7a: one vCPU per core, so 48 threads of 48 vCPUs),
    judged against its own memory, with a CPU instance's start-up."""
    row = rows[2]["m7a.12xlarge"]
    est = _predict(app, 2, "--instance", "m7a.12xlarge")
    _same_figures(est, row)
    assert est["target"] == {"kind": "cpu", "threads": 48, "instance_type": "m7a.12xlarge", "provider": "aws"}
    assert est["instance_startup_seconds"] == 120.0


@pytest.mark.parametrize("flags, named", [
    (["--gpu", "H100"], "--gpu"),
    (["--vcpus", "8"], "--vcpus"),
    (["--gpus", "2", "--no-p2p"], "--gpus, --no-p2p"),
    (["--device", "cpu", "--threads", "4"], "--device, --threads"),
])
def test_another_target_flag_clashes(app, flags, named):
    result = run(app, "predict", *_job(2), "--instance", "g5.24xlarge", *flags, "--no-save", "--json")
    assert result.exit_code == 1
    assert f"--instance is the whole target (its GPUs, their links, its vCPUs): it is not taken with {named}." \
        in result.output
    assert "Traceback" not in result.output


def test_unknown_instance_suggests_near_misses(app):
    result = run(app, "predict", *_job(2), "--instance", "Standard_NC80adis_H100", "--no-save")
    assert result.exit_code == 1
    assert ("Unknown instance type 'Standard_NC80adis_H100': the price catalog has no such instance. Did you mean "
            "'Standard_NC80adis_H100_v5'") in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_provider_narrows_and_is_checked(app):
    result = run(app, "predict", *_job(4), "--instance", "g5.24xlarge", "--provider", "gcp", "--no-save")
    assert result.exit_code == 1
    assert "Unknown instance type 'g5.24xlarge' at gcp (aws prices it)" in " ".join(result.output.split())
    # Its fix said to name one of the catalog's instances or add a row, of an instance the catalog has (at aws).
    assert ("Fix: --provider aws, which prices g5.24xlarge (or leave --provider out)."
            in " ".join(result.output.split()))
    assert "add its row" not in result.output
    alone = run(app, "predict", *_job(4), "--provider", "aws", "--gpu", "A10G", "--no-save")
    assert alone.exit_code == 1
    assert "--provider says whose --instance is meant: it needs --instance TYPE." in alone.output
    # A vendor's name reads as recommend's --provider reads it (pricing.catalog.provider_suggestion), not by spelling
    vendor = run(app, "predict", *_job(4), "--instance", "g5.24xlarge", "--provider", "amazon", "--no-save")
    assert vendor.exit_code == 1
    assert "Unknown provider 'amazon'. Did you mean 'aws'?" in " ".join(vendor.output.split())


@pytest.mark.parametrize("instance, flags, said", [
    ("m7a.12xlarge", ["--server", "http://127.0.0.1:9"],
     "--instance m7a.12xlarge is a CPU instance: a server is sent a target, and it has no place for the instance's "
     "CPU family and memory."),
    ("g5.24xlarge", ["--precision", "all"], "--instance prices one machine at one --precision"),
    ("m7a.12xlarge", ["--startup-gpu", "90s"], "--startup-gpu is a GPU instance's start-up: m7a.12xlarge is a CPU "
                                               "instance"),
])
def test_what_one_catalog_machine_does_not_take(app, instance, flags, said):
    result = run(app, "predict", *_job(4), "--instance", instance, *flags, "--no-save")
    assert result.exit_code == 1
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_startup_gpu_is_the_gpu_instance_start_up(app):
    est = _predict(app, 4, "--instance", "g5.24xlarge", "--startup-gpu", "90s")
    assert est["instance_startup_seconds"] == 90.0
    assert est["total_seconds"] == pytest.approx(90.0 + est["seconds"], rel=1e-12)
