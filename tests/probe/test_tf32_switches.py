"""The TF32 switches around a device's probe (advisor.probe.tf32_switches). An audit: a workload that set
``torch.backends.cuda.matmul.fp32_precision = "tf32"`` (PyTorch's current TF32 API) crashed every probe as
"probably a bug in advisor", because the probe read the legacy ``allow_tf32`` flags, which PyTorch then refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from advisor.probe import tf32_switches

ROOT = Path(__file__).resolve().parents[2]
HOLDERS = {
    "generic": torch.backends,
    "matmul": torch.backends.cuda.matmul,
    "cudnn": torch.backends.cudnn,
    "conv": torch.backends.cudnn.conv,
    "rnn": torch.backends.cudnn.rnn,
}


def switches() -> dict[str, str]:
    return {name: holder.fp32_precision for name, holder in HOLDERS.items()}


@pytest.fixture
def as_found():
    """Put torch's switches back as this test process had them (parents first: a parent's set resets children)."""
    found = switches()
    yield found
    for name, holder in HOLDERS.items():
        if holder.fp32_precision != found[name]:
            holder.fp32_precision = found[name]


def test_a_workload_on_the_new_api_is_saved_and_restored_without_reading_the_legacy_flags(as_found):
    torch.backends.cuda.matmul.fp32_precision = "tf32"  # as the workload's file does: legacy reads now raise
    with pytest.raises(RuntimeError, match="mix of the legacy and new APIs"):
        _ = torch.backends.cuda.matmul.allow_tf32
    workload = switches()
    saved = tf32_switches.save_and_set(torch, allow_tf32=False)  # fp32: left as the workload set them
    assert switches() == workload
    tf32_switches.restore(torch, saved)
    assert switches() == workload


def test_precision_tf32_sets_the_new_api_and_restores_every_switch(as_found):
    torch.backends.cudnn.conv.fp32_precision = "ieee"  # the workload turned TF32 off for convolutions
    workload = switches()
    assert workload["conv"] == "ieee" and workload["matmul"] != "tf32"
    saved = tf32_switches.save_and_set(torch, allow_tf32=True)
    assert (torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision) == ("tf32", "tf32")
    tf32_switches.restore(torch, saved)
    assert switches() == workload


def test_a_torch_without_the_new_api_uses_the_legacy_flags():
    fake = SimpleNamespace(
        backends=SimpleNamespace(
            cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False)), cudnn=SimpleNamespace(allow_tf32=False)
        )
    )
    assert not tf32_switches.has_new_api(fake)
    saved = tf32_switches.save_and_set(fake, allow_tf32=True)
    assert (fake.backends.cuda.matmul.allow_tf32, fake.backends.cudnn.allow_tf32) == (True, True)
    tf32_switches.restore(fake, saved)
    assert (fake.backends.cuda.matmul.allow_tf32, fake.backends.cudnn.allow_tf32) == (False, False)


@pytest.mark.slow
def test_advisor_profile_probes_a_workload_that_uses_the_new_tf32_api(tmp_path):
    path = tmp_path / "tf32new.py"
    path.write_text(
        textwrap.dedent("""
        import torch
        from torch import nn
        torch.backends.cuda.matmul.fp32_precision = "tf32"   # PyTorch's recommended (new) TF32 API
        BATCH_SIZE = 16
        def build_model():
            return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 4))
        def make_batch(b):
            return torch.randn(b, 32), torch.randint(0, 4, (b,))
    """)
    )
    out = tmp_path / "p.json"
    env = {
        **os.environ,
        "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("ADVISOR_DEBUG", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "advisor",
            "profile",
            str(path),
            "--device",
            "cpu",
            "--probe-seconds",
            "3",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bug in advisor" not in done.stdout + done.stderr
    profile = __import__("json").loads(out.read_text())
    assert [d["device"] for d in profile["devices"]] == ["cpu"]
    assert all(m["compute_seconds"] > 0 for m in profile["devices"][0]["measurements"])
    assert profile["analysis"]["matmul_allow_tf32"] is True  # the analysis reads the same switch the job set
