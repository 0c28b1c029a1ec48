"""A workload file that imports its sibling modules inside its functions and its model's ``forward``, probed in a
real child process started from another folder: the child keeps the file's folder first on the import path for
its life, as ``python FILE`` does."""

from __future__ import annotations

import pytest

from advisor.probe import run_profile

pytestmark = pytest.mark.slow

TRAIN = """\
import torch


def build_model():
    from model import Net
    return Net()


def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""
MODEL = """\
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(16, 4)

    def forward(self, x):
        from activation import act  # each call, as under python FILE
        return act(self.layer(x))
"""


def test_a_lazy_sibling_import_is_probed_with_the_right_parameter_count(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    (project / "model.py").write_text(MODEL)
    (project / "activation.py").write_text("import torch\n\n\ndef act(x):\n    return torch.relu(x)\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    profile = run_profile(project / "train.py", devices=["cpu"], batch_size=8, batch_sizes=[8],
                          probe_seconds=0.3, analyze=False, thread_scaling=False)
    assert profile.workload.param_count == 16 * 4 + 4
    device = profile.devices[0]
    # The step ran (forward, its import too): measured, or priced from its first step past the small budget.
    stepped = [m.batch_size for m in device.measurements] + [s.batch_size for s in device.skipped if s.step_seconds]
    assert stepped == [8]
